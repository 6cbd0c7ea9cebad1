"""``twin doctor``: what twin finds on this machine, and plain advice where something is off.

It looks without side effects by default: the Python, the llama-cpp-python build and
whether it can offload to a GPU, NVIDIA GPUs (``nvidia-smi``), the model file's header, the
memory a full GPU offload needs against the card's, the embedding model's availability
offline and the index's health. Only ``load=True`` loads the model (seconds; it reports the
layers really offloaded). The embedding model is never loaded (no torch import).

Memory for a full offload is estimated as weights (the file) + KV cache
(``n_ctx × kv_bytes_per_token``) + compute buffers (``COMPUTE_BASE`` + about the KV size
again). That matches what was measured for Qwen3-30B-A3B Q6_K on an H200 (shared/gpu/
README.md: 24.2 GB weights + 96 KiB a token; 25.5 GB in use at 8k context, 30.7 GB peak at
32k) and errs on the safe side for small contexts.
"""

from __future__ import annotations

import math
import platform
import sys
import time
from pathlib import Path
from typing import Any

from twin.app.model_files import KV_BYTES, describe
from twin.core.llm import fit, hardware
from twin.core.llm.gguf_meta import read_gguf_header
from twin.core.llm.machine import probe_memory
from twin.llm_settings import AUTO
from twin.core.llm.errors import CUDA_REINSTALL, LlmError
from twin.paths import Paths
from twin.settings import Settings

COMPUTE_BASE = 512 << 20
GB = 1e9


def offload_estimate(weights: int, n_layer: int, kv_per_token: float, n_ctx: int,
                     vram_free: int | None) -> dict[str, Any]:
    """Bytes of GPU memory a full offload needs, and the layers that fit in ``vram_free``."""
    kv = int(kv_per_token * n_ctx)
    compute = COMPUTE_BASE + kv
    total = weights + kv + compute
    fits = None if vram_free is None else total <= vram_free
    suggested = None
    if vram_free is not None and not fits and n_layer > 0:
        per_layer = weights / (n_layer + 1) + kv / n_layer  # the output layer counts as one
        suggested = max(0, min(n_layer, math.floor((vram_free - compute) / per_layer)))
    return {"weights_bytes": weights, "kv_bytes_per_token": int(kv_per_token), "n_ctx": n_ctx,
            "kv_bytes": kv, "compute_bytes": compute, "total_bytes": total,
            "vram_free_bytes": vram_free, "fits": fits, "suggested_n_gpu_layers": suggested}


def auto_gpu_layers(settings: Settings, gpu_build: bool,
                    memory: "fit.Memory | None" = None) -> dict[str, Any]:
    """What ``n_gpu_layers = "auto"`` chooses for the configured model on this machine now, and
    why (the same computation as at load: :func:`twin.core.llm.fit.choose_gpu_layers`)."""
    llm = settings.llm
    out: dict[str, Any] = {"setting": llm.n_gpu_layers}
    try:
        header = read_gguf_header(Path(llm.model_path).expanduser())
        layout = fit.ModelLayout.from_header(header, fit.model_bytes(header.path))
    except (LlmError, OSError) as e:
        return {**out, "error": str(e)}
    mem = memory if memory is not None else probe_memory(gpu=gpu_build)
    kv = llm.kv_cache_type if llm.kv_cache_type in fit.KV_TYPE_BYTES else "f16"
    f = fit.choose_gpu_layers(layout, mem, n_ctx=llm.n_ctx, kv_type=kv, n_ubatch=min(llm.n_ubatch, llm.n_batch),
                              flash_attn=llm.flash_attn, gpu_supported=gpu_build)
    chosen = f.n_gpu_layers if llm.n_gpu_layers == AUTO else llm.n_gpu_layers
    return {**out, "auto": f.n_gpu_layers, "chosen": chosen, "total": f.total_layers, "verdict": f.verdict,
            "reason": f.reason, "gpu_bytes": f.gpu_bytes, "full_gpu_bytes": f.full_gpu_bytes,
            "cpu_bytes": f.cpu_bytes, "vram_free_bytes": mem.vram_free, "ram_total_bytes": mem.ram_total,
            "n_ctx": f.n_ctx, "kv_type": kv}


def _gb(n: float) -> str:
    return f"{n / GB:.1f} GB"


def _llama_cpp() -> dict[str, Any]:
    from twin.core.llm.llama import import_llama_cpp

    try:
        L = import_llama_cpp()
    except LlmError as e:
        return {"installed": False, "version": None, "gpu_offload": False, "error": str(e)}
    return {"installed": True, "version": getattr(L, "__version__", "?"),
            "gpu_offload": bool(L.llama_supports_gpu_offload()), "error": None}


def _embedding(settings: Settings, paths: Paths) -> dict[str, Any]:
    from twin.app.downloads import embedding_available

    ref = settings.embedding.model
    return {"model": ref, "local_folder": Path(ref).expanduser().is_dir(),
            "available_offline": embedding_available(ref, paths.cache_dir)}


def _index(status: dict[str, Any] | None) -> dict[str, Any]:
    if status is None:
        return {"rows": None, "files": None, "indexed": None, "errors": None, "sources": []}
    files = status.get("files") or {}
    return {"rows": status.get("index", {}).get("rows", 0), "files": files.get("files", 0),
            "indexed": files.get("indexed", 0), "errors": files.get("error", 0) + files.get("partial", 0),
            "sources": status.get("sources", [])}


def _load(settings: Settings) -> dict[str, Any]:
    """Load the model as ``twin ask`` would and report where its layers went."""
    from twin.app.chat_service import make_engine

    t0 = time.perf_counter()
    engine = make_engine(settings.llm)
    try:
        loading = getattr(engine, "start_loading", None)
        info = loading().result() if loading is not None else engine.info
    except LlmError as e:
        return {"loaded": False, "error": str(e)}
    finally:
        engine.close()
    off = info.offload
    return {"loaded": True, "error": None, "load_s": round(time.perf_counter() - t0, 2),
            "actual": off.offloaded_layers if off else None, "total": off.total_layers if off else None,
            "summary": off.summary if off else "", "n_ctx": info.n_ctx,
            "auto_reason": off.auto_reason if off else "", "load_warnings": list(off.warnings) if off else [],
            "lora": info.lora.summary if info.lora is not None else None}


def _lora(settings: Settings, model: dict[str, Any] | None) -> dict[str, Any] | None:
    """The configured LoRA adapter checked against the model's architecture (header only)."""
    from twin.core.llm.lora import check_adapter

    llm = settings.llm
    if llm.backend != "llama" or not llm.lora_path.strip():
        return None
    info: dict[str, Any] = {"path": llm.lora_path, "scale": llm.lora_scale, "enabled": llm.lora_enabled,
                            "name": None, "alpha": None, "error": None}
    if not llm.lora_enabled:
        return info
    arch = (model or {}).get("architecture") or None
    try:
        head = check_adapter(llm.lora_path, arch)
    except LlmError as e:
        info["error"] = str(e)
        return info
    info.update(name=head.name, alpha=head.alpha)
    return info


def diagnose(settings: Settings, paths: Paths, *, load: bool = False,
             index_status: dict[str, Any] | None = None) -> dict[str, Any]:
    """The whole report as a JSON-ready dict (see the module doc); ``warnings`` holds advice."""
    warnings: list[str] = []
    llm = settings.llm
    lcpp = _llama_cpp()
    gpus = [{"name": g.name, "total_mib": g.total_mib, "used_mib": g.used_mib} for g in hardware.query_vram()]

    if not lcpp["installed"]:
        warnings.append(str(lcpp["error"]))
    elif llm.n_gpu_layers != 0 and not lcpp["gpu_offload"]:
        where = f" although {gpus[0]['name']} is present" if gpus else ""
        warnings.append(
            f"llama-cpp-python is a CPU-only build, so the model runs on the CPU{where} (slowly). "
            f"For an NVIDIA GPU, reinstall it with CUDA (needs the CUDA toolkit's nvcc):\n  {CUDA_REINSTALL}"
            + ("" if gpus else "\n(No NVIDIA GPU was found; set llm.n_gpu_layers = 0 to run on the CPU on purpose.)"))

    model: dict[str, Any] | None = None
    estimate: dict[str, Any] | None = None
    gpu_layers: dict[str, Any] = {"setting": llm.n_gpu_layers}
    source = "TWIN_MODEL" if "llm.model_path" in settings.env_overrides else "settings"
    if llm.backend == "openai":
        model = {"backend": "openai", "endpoint": llm.endpoint_url}
    elif not llm.model_path.strip():
        warnings.append("No language model is set: twin ask/chat need one. Set llm.model_path in "
                        f"{paths.settings_file} or TWIN_MODEL=/path/to/model.gguf "
                        "(download one with: twin models pull REPO FILE --use).")
    else:
        m = describe(llm.model_path)
        model = {"configured_by": source, **m.to_json()}
        if m.error:
            warnings.append(m.error)
        else:
            if m.kind == "base":
                warnings.append(f"{m.name} looks like a base model (no chat template): answers follow a "
                                "plain transcript and are weaker. Prefer an instruct GGUF.")
            n_ctx = min(llm.n_ctx, m.context_length) if m.context_length else llm.n_ctx
            kv_token = m.kv_bytes_per_token / 2 * KV_BYTES.get(llm.kv_cache_type, 2.0)
            free = None
            if gpus:
                free = (gpus[0]["total_mib"] - gpus[0]["used_mib"]) << 20
            estimate = offload_estimate(m.size_bytes, m.n_layer, kv_token, n_ctx, free)
            gpu_layers = auto_gpu_layers(settings, bool(lcpp["gpu_offload"]))
            if gpu_layers.get("verdict") == "partial" and llm.n_gpu_layers == AUTO:
                warnings.append(
                    f"{gpus[0]['name'] if gpus else 'The GPU'} is too small for a full offload of {m.name}: "
                    f"'auto' puts {gpu_layers['chosen']} of {gpu_layers['total']} layers on the GPU and runs the "
                    f"rest on the CPU (slower; all of it needs {_gb(gpu_layers['full_gpu_bytes'])}). For all of it "
                    "on the GPU: a smaller quantization, a shorter llm.n_ctx or llm.kv_cache_type = 'q8_0'.")
            if gpu_layers.get("verdict") == "too-big":
                warnings.append(f"{m.name} is {gpu_layers['reason']}: pick a smaller model or quantization "
                                "(twin models list shows what fits).")
            if estimate["fits"] is False and isinstance(llm.n_gpu_layers, int) and llm.n_gpu_layers != 0:
                k = estimate["suggested_n_gpu_layers"]
                warnings.append(
                    f"{gpus[0]['name']} is too small for a full offload: {m.name} needs about "
                    f"{_gb(estimate['total_bytes'])} (weights {_gb(m.size_bytes)} + KV cache "
                    f"{_gb(estimate['kv_bytes'])} for {n_ctx} tokens + compute buffers) and "
                    f"{_gb(free or 0)} is free. Set llm.n_gpu_layers = {k} ({k} of {m.n_layer} layers "
                    "on the GPU, the rest on the CPU), or lower llm.n_ctx, or set llm.kv_cache_type = 'q8_0'.")

    lora = _lora(settings, model)
    if lora is not None and lora["error"]:
        warnings.append(f"{lora['error']} The model runs without the adapter.")

    offload: dict[str, Any] = {"requested": gpu_layers.get("chosen", llm.n_gpu_layers), "actual": None, "total": None, "loaded": False}
    if load and model is not None and not (model.get("error")):
        offload.update(_load(settings))
        if offload.get("error"):
            warnings.append(f"loading the model failed: {offload['error']}")
        elif llm.n_gpu_layers != 0 and lcpp["gpu_offload"] and offload["total"]:
            req = offload["requested"] if isinstance(offload["requested"], int) else -1
            expected = offload["total"] if req < 0 else min(req, offload["total"])
            if (offload["actual"] or 0) < expected:
                warnings.append(f"Only {offload['actual']}/{offload['total']} layers went to the GPU "
                                f"({expected} asked for): see the log ({paths.log_file}).")

    embedding = _embedding(settings, paths)
    if not embedding["available_offline"]:
        warnings.append(f"The embedding model '{embedding['model']}' is not available offline: "
                        f"twin models pull-embedding {embedding['model']}")
    index = _index(index_status)
    if index_status is not None:
        if not index["sources"]:
            warnings.append("No source folders: twin sources add FOLDER (then twin index).")
        elif not index["rows"]:
            warnings.append("The memory index is empty: run twin index.")
        if index["errors"]:
            warnings.append(f"{index['errors']} file(s) could not be indexed fully: see twin status.")

    return {
        "python": {"version": platform.python_version(), "executable": sys.executable,
                   "platform": platform.platform()},
        "llama_cpp": lcpp, "gpus": gpus, "model": model, "memory_estimate": estimate,
        "offload": offload, "gpu_layers": gpu_layers, "embedding": embedding, "index": index, "lora": lora,
        "warnings": warnings, "ok": not warnings,
    }
