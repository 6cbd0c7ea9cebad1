"""What ``twin models list`` and the window's model page show: this machine's memory, each
catalog model's size and fit with one recommendation, and the GGUF files already on disk
(twin's models folder, the configured model, other programs' folders), each described from
its header and matched to its catalog entry when it is one.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from twin.app.local_models import LocalModel, find_local_models
from twin.app.model_catalog import Assessment, Catalog, CatalogModel, assess, load_catalog
from twin.app.model_files import describe, find_models
from twin.core.llm.fit import Memory
from twin.errors import KnownError
from twin.paths import Paths
from twin.settings import Settings

log = logging.getLogger("twin.models")


def gpu_build() -> bool:
    """Whether the installed llama-cpp-python can offload to a GPU (False when missing)."""
    try:
        from twin.core.llm.llama import gpu_offload_supported

        return gpu_offload_supported()
    except Exception as e:  # noqa: BLE001 - not installed, or a broken build: the CPU then
        log.debug("llama-cpp-python GPU check failed: %s", e)
        return False


def measure(gpu: bool | None = None) -> tuple[Memory, bool]:
    """(this machine's memory, whether llama.cpp can use its GPU)."""
    from twin.core.llm.machine import probe_memory

    built = gpu_build() if gpu is None else gpu
    return probe_memory(gpu=True), built


def machine_summary(memory: Memory, gpu_supported: bool) -> str:
    ram = f"{memory.ram_total / 1e9:.1f} GB RAM" if memory.ram_total else "RAM unknown"
    if memory.vram_free is None:
        return f"no GPU found (models run on the CPU); {ram}"
    gpu = f"{memory.gpu_name}: {memory.vram_free / 1e9:.1f} of {(memory.vram_total or 0) / 1e9:.1f} GB VRAM free"
    if not gpu_supported:
        gpu += " (this llama.cpp build cannot use it)"
    return f"{gpu}; {ram}"


def assessments(settings: Settings, catalog: Catalog | None = None, memory: Memory | None = None,
                gpu_supported: bool | None = None) -> tuple[list[Assessment], Memory, bool]:
    """Every catalog model fitted to this machine with the configured context and KV cache."""
    if memory is None:
        memory, built = measure(gpu_supported)
    else:
        built = bool(gpu_supported) if gpu_supported is not None else memory.vram_free is not None
    llm = settings.llm
    kv = llm.kv_cache_type if llm.kv_cache_type in ("f16", "q8_0", "q4_0", "bf16", "f32") else "f16"
    found = assess(catalog or load_catalog(), memory, n_ctx=llm.n_ctx, kv_type=kv,
                   n_ubatch=min(llm.n_ubatch, llm.n_batch), flash_attn=llm.flash_attn, gpu_supported=built)
    return found, memory, built


def local_files(settings: Settings, paths: Paths, *, extra_dirs: list[Path] | None = None, scan: bool = True,
                home: Path | None = None) -> list[LocalModel]:
    """GGUFs on disk: twin's models folder and ``extra_dirs`` first, the configured model, then
    (``scan``) other programs' folders under ``home``."""
    out: list[LocalModel] = []
    seen: set[Path] = set()

    def add(m: LocalModel) -> None:
        key = m.path.expanduser().resolve()
        if key not in seen:
            seen.add(key)
            out.append(m)

    for f in find_models([paths.models_dir, *(extra_dirs or [])]):
        add(LocalModel(f, "twin" if paths.models_dir in f.parents else "folder", f.name))
    configured = settings.llm.model_path.strip()
    if configured:
        add(LocalModel(Path(configured).expanduser(), "configured", Path(configured).name))
    if scan:
        for m in find_local_models(home):
            add(m)
    return out


def list_models(settings: Settings, paths: Paths, *, extra_dirs: list[Path] | None = None, scan: bool = True,
                home: Path | None = None, memory: Memory | None = None,
                gpu_supported: bool | None = None) -> dict[str, Any]:
    """The whole listing as JSON-ready data (``machine``, ``catalog``, ``files``)."""
    catalog = load_catalog()
    found, mem, built = assessments(settings, catalog, memory, gpu_supported)
    configured = settings.llm.model_path.strip()
    current = Path(configured).expanduser().resolve() if configured else None
    files = []
    for m in local_files(settings, paths, extra_dirs=extra_dirs, scan=scan, home=home):
        info = describe(m.path).to_json()
        entry = catalog.find(m.path.name)
        files.append(dict(info, source=m.source, label=m.label, catalog_id=entry.id if entry else None,
                          configured=m.path.expanduser().resolve() == current))
    on_disk = {f["catalog_id"] for f in files if f["catalog_id"]}
    return {
        "machine": {"summary": machine_summary(mem, built), "vram_free_bytes": mem.vram_free,
                    "vram_total_bytes": mem.vram_total, "gpu": mem.gpu_name, "ram_total_bytes": mem.ram_total,
                    "gpu_supported": built, "n_ctx": settings.llm.n_ctx, "kv_cache_type": settings.llm.kv_cache_type},
        "catalog": [{"id": a.model.id, "label": a.model.label, "kind": a.model.kind, "quant": a.model.quant,
                     "repo": a.model.repo, "files": list(a.model.files), "size_bytes": a.model.size,
                     "fit": a.fit.verdict, "fit_summary": a.summary, "n_gpu_layers": a.fit.n_gpu_layers,
                     "total_layers": a.fit.total_layers, "reason": a.fit.reason, "recommended": a.recommended,
                     "downloaded": a.model.id in on_disk}
                    for a in found],
        "files": files,
    }


def pick_catalog_model(name: str | None, settings: Settings) -> CatalogModel:
    """The catalog model ``name`` (id or file name), or the one recommended for this machine.

    Raises:
        KnownError: no such model (the message lists some), or nothing fits this machine.
    """
    catalog = load_catalog()
    if name:
        model = catalog.find(name)
        if model is None:
            ids = ", ".join(m.id for m in catalog.models[:6])
            raise KnownError(f"'{name}' is not in twin's model list (e.g. {ids}; see twin models list), "
                             "or give a repository and a file: twin models pull REPO FILE")
        return model
    found, _, _ = assessments(settings, catalog)
    best = next((a.model for a in found if a.recommended), None)
    if best is None:
        raise KnownError("none of twin's models fits this machine's memory (see twin models list); "
                         "pick a file yourself: twin models pull REPO FILE")
    return best
