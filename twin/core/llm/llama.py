"""LlamaEngine: a GGUF model run in-process by llama-cpp-python.

This is the only module that imports ``llama_cpp``, and only inside functions, so twin starts,
and its CLI and tests run, without it. Invariants:

- One thread owns the model: everything that touches it (load, tokenize, generate, close)
  runs on this engine's :class:`~twin.core.llm.engine.OwnerThread` ``twin-llm`` (llama.cpp
  contexts are not thread-safe: abetlen/llama-cpp-python#471). A job submitted
  there (a whole chat turn) tokenizes, counts and generates inline: no round trips. (Tokenizing
  from another thread is not documented as safe by llama.cpp: ggml-org/llama.cpp#9274, #9369.)
- A model file is checked in a subprocess before it is loaded here (see ``llama_native``).
- ``n_ctx`` never exceeds the model's trained context; flash attention and a large
  ``n_ubatch`` are on by default (measured worth 16-80% on a GPU: shared/gpu/README.md).
- Untrusted prompt text is tokenized so that it never yields a control token nor a
  user-defined token such as ``<think>`` (:mod:`twin.core.llm.llama_tokens`, the tokenizer half
  of what this module once held; the model check's child is :mod:`twin.core.llm.llama_probe`).
- ``n_gpu_layers = "auto"`` is chosen from the GGUF's tensor table and the free VRAM
  (:mod:`twin.core.llm.fit`); running out of memory while loading retries with fewer layers.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from twin.core.llm import fit, hardware
from twin.core.llm.engine import (
    Generation,
    GenerationRequest,
    LoraInfo,
    ModelInfo,
    OffloadInfo,
    OwnerThread,
    Segment,
)
from twin.core.llm.errors import (
    CUDA_REINSTALL,
    BackendMissingError,
    EngineNotReadyError,
    LlmError,
    ModelFileError,
    OutOfMemoryError,
    UnsupportedModelError,
)
from twin.core.llm.gguf_meta import GgufHeader, check_model_header, detect_kind, read_gguf_header
from twin.core.llm.llama_decode import DecodeLoop
from twin.core.llm.llama_native import ModelParamsHook, NativeLog, install_native_log, probe_model
from twin.core.llm.llama_probe import probe_main
from twin.core.llm.llama_tokens import PromptTokenizer, vocab_token_counter
from twin.core.llm.lora import LoraError, check_adapter, check_scale
from twin.core.llm.machine import probe_memory
from twin.messages import message_of, msg

log = logging.getLogger("twin.llm")
T = TypeVar("T")

CPU_MAX_UBATCH = 512
KV_CACHE_TYPES = {"f32": 0, "f16": 1, "q4_0": 2, "q8_0": 8, "bf16": 30}
__all__ = ["LlamaConfig", "LlamaEngine", "check_model_header", "detect_kind", "gpu_offload_supported",
           "import_llama_cpp", "probe_main", "vocab_token_counter"]


@dataclass(frozen=True)
class LlamaConfig:
    """How to load a GGUF (see ``twin.llm_settings.LlmSettings`` for each field's meaning)."""

    model_path: str
    n_gpu_layers: int | str = -1  # "auto": as many as fit (twin.core.llm.fit)
    n_ctx: int = 32768
    n_batch: int = 2048
    n_ubatch: int = 2048
    flash_attn: bool = True
    kv_cache_type: str = "f16"
    n_threads: int = 0
    n_threads_batch: int = 0
    use_mmap: bool = True
    use_mlock: bool = False
    model_kind: str = "auto"  # "auto" | "instruct" | "base"
    cpu_repack: bool = True  # llama.cpp's CPU weight repacking (off: --no-repack)
    validate: bool = True
    lora_path: str = ""  # a LoRA adapter GGUF applied on top ("" = none)
    lora_scale: float = 1.0


def import_llama_cpp() -> ModuleType:
    """Import llama-cpp-python or explain how to install it."""
    try:
        import llama_cpp
    except ImportError as e:
        raise BackendMissingError(
            "llama-cpp-python is not installed. Install it with: pip install llama-cpp-python "
            f"(for an NVIDIA GPU: {CUDA_REINSTALL})"
        ) from e
    return llama_cpp


def gpu_offload_supported() -> bool:
    """Whether this llama-cpp-python build can offload layers to a GPU."""
    return bool(import_llama_cpp().llama_supports_gpu_offload())


class LlamaEngine:
    """A llama-cpp-python model behind the :class:`~twin.core.llm.engine.Engine` protocol.

    Create it, call :meth:`start_loading` (background; ``on_progress(fraction)`` is called
    from the loading thread) or :meth:`open` (blocking), then :meth:`generate`.
    """

    def __init__(self, config: LlamaConfig, *, on_progress: Callable[[float], None] | None = None):
        self.config = config
        self._on_progress = on_progress
        self._thread = OwnerThread("twin-llm")
        self._closing = threading.Event()
        self._closed = False
        self._load_future: Future[ModelInfo] | None = None
        self._L: ModuleType | None = None
        self._llm: Any = None
        self._info: ModelInfo | None = None
        self._loop: DecodeLoop | None = None
        self._current: Generation | None = None
        self._tok: PromptTokenizer | None = None

    @classmethod
    def open(cls, config: LlamaConfig, *, on_progress: Callable[[float], None] | None = None) -> "LlamaEngine":
        """Load ``config``'s model and return the ready engine (blocking)."""
        engine = cls(config, on_progress=on_progress)
        try:
            engine.start_loading().result()
        except BaseException:
            engine.close()
            raise
        return engine

    # -- lifecycle ------------------------------------------------------------------------

    def start_loading(self) -> "Future[ModelInfo]":
        """Load the model on the engine's thread; the future ends with its ModelInfo."""
        if self._load_future is None:
            self._load_future = self._thread.submit(self._load)
        return self._load_future

    @property
    def ready(self) -> bool:
        return self._info is not None

    @property
    def info(self) -> ModelInfo:
        if self._info is None:
            raise EngineNotReadyError("The model is not loaded yet.")
        return self._info

    def close(self) -> None:
        """Stop loading or generating, free the model on its own thread, end the thread."""
        self._closing.set()
        current = self._current
        if current is not None:
            current.cancel()
        if self._closed:
            return
        self._closed = True
        if self._thread.on_owner():
            self._free()
        else:
            self._thread.submit(self._free)  # runs after a load or generation in progress
        self._thread.shutdown(cancel_futures=False)

    # -- the Engine protocol ----------------------------------------------------------------

    def count_tokens(self, text: str, *, trusted: bool = False) -> int:
        return len(self.tokenize(text, trusted=trusted))

    def tokenize(self, text: str, *, trusted: bool = False) -> list[int]:
        """Token ids of prompt text (no BOS). Untrusted text never yields special tokens."""
        return list(self._on_thread(lambda: self._tokenizer().tokenize(text, trusted)))

    def detokenize(self, tokens: Sequence[int]) -> str:
        return self._on_thread(lambda: self._tokenizer().detokenize(tokens))

    def token_id(self, text: str) -> int | None:
        """The id of a token whose text is exactly ``text`` (e.g. "<|im_end|>"), if any."""
        return self._on_thread(lambda: self._tokenizer().token_id(text))

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        return self._thread.submit(fn)

    def generate(self, request: GenerationRequest, *, should_stop: Callable[[], bool] | None = None,
                 on_piece: Callable[[str], None] | None = None) -> Generation:
        if self._loop is None or self._closing.is_set():
            raise EngineNotReadyError("The model is not loaded (or the engine is closed).")
        gen = Generation(should_stop, on_piece=on_piece)
        loop = self._loop

        def run() -> None:
            try:
                if self._closing.is_set():
                    raise EngineNotReadyError("The engine was closed.")
                self._current = gen
                tokens = self._prompt_tokens(request.segments)
                gen.finish(loop.run(tokens, request.params, gen))
            except BaseException as e:  # noqa: BLE001 - thread boundary: relayed to the consumer
                if not isinstance(e, LlmError):
                    log.exception("generation failed")
                gen.fail(e)
            finally:
                self._current = None

        self._thread.start(run)  # inline when called on the engine's thread (a submitted turn)
        return gen

    # -- on the engine thread ---------------------------------------------------------------

    def _on_thread(self, fn: Callable[..., T], *args: Any) -> T:
        if self._llm is None:
            raise EngineNotReadyError("The model is not loaded yet.")
        return self._thread.call(fn, *args)

    def _progress(self, fraction: float) -> bool:
        if self._on_progress is not None:
            self._on_progress(fraction)
        return not self._closing.is_set()

    def _load(self) -> ModelInfo:
        L = self._L = import_llama_cpp()
        hook = install_native_log(L)
        cfg = self.config
        if not cfg.model_path:
            raise ModelFileError(msg("model.none_set"))
        path = str(Path(cfg.model_path).expanduser())
        header = read_gguf_header(path)
        check_model_header(header)
        self._progress(0.0)
        probe = probe_model(path) if cfg.validate else {}
        n_ctx_train = header.context_length or int(probe.get("n_ctx_train", 0)) or cfg.n_ctx
        n_ctx = min(cfg.n_ctx, n_ctx_train) if cfg.n_ctx > 0 else n_ctx_train
        if n_ctx < cfg.n_ctx:
            log.info("context %d clamped to the model's trained context %d", cfg.n_ctx, n_ctx)
        gpu = bool(L.llama_supports_gpu_offload())
        warnings: list[str] = []
        n_gpu_layers, auto_reason = self._gpu_layers(header, path, n_ctx, gpu)
        if cfg.n_gpu_layers != 0 and not gpu:
            warnings.append(
                "llama-cpp-python was built without GPU support, so the model runs on the CPU "
                f"(slowly). For an NVIDIA GPU, reinstall it with CUDA:\n  {CUDA_REINSTALL}"
            )
            log.warning("%s", warnings[-1])
        kv = KV_CACHE_TYPES.get(cfg.kv_cache_type.lower())
        if kv is None:
            raise LlmError(f"Unknown KV cache type '{cfg.kv_cache_type}' (use one of {', '.join(KV_CACHE_TYPES)}).")
        n_batch = max(1, min(cfg.n_batch, n_ctx))
        n_ubatch = max(1, min(cfg.n_ubatch, n_batch))
        if (not gpu or n_gpu_layers == 0) and n_ubatch > CPU_MAX_UBATCH:
            # the compute buffer grows with n_ubatch x vocabulary (2 GB for Gemma 3 at 2048);
            # the large ubatch only pays off on a GPU
            n_ubatch = CPU_MAX_UBATCH
        kwargs: dict[str, Any] = dict(
            model_path=path, n_gpu_layers=n_gpu_layers if gpu else 0, n_ctx=n_ctx,
            n_batch=n_batch, n_ubatch=n_ubatch, flash_attn=cfg.flash_attn,
            type_k=kv, type_v=kv, use_mmap=cfg.use_mmap, use_mlock=cfg.use_mlock,
            n_threads=cfg.n_threads or None, n_threads_batch=cfg.n_threads_batch or cfg.n_threads or None,
            verbose=False,
        )
        load_log = ""

        def attempt(k: int) -> Any:
            nonlocal load_log
            kwargs["n_gpu_layers"] = k
            with hook.capture() as lines, ModelParamsHook(L, self._progress, repack=cfg.cpu_repack):
                try:
                    return L.Llama(**kwargs)
                except (ValueError, RuntimeError) as e:
                    raise self._load_failure(e, "\n".join(lines), path, n_ctx, k) from e
                finally:
                    load_log = "\n".join(lines)

        first = kwargs["n_gpu_layers"]
        self._llm, _, attempts = fit.load_with_fewer_layers(
            attempt, header.block_count + 1 if first < 0 and header.block_count else first,
            lambda e: isinstance(e, OutOfMemoryError) and not self._closing.is_set())
        retried = fit.retry_message(attempts, header.block_count + 1)
        if retried:
            warnings.append(retried)
            log.warning("%s", retried)
        llm = self._llm
        architecture = llm.metadata.get("general.architecture", header.architecture)
        lora = self._apply_lora(L, hook, architecture) if cfg.lora_path.strip() else None
        self._progress(1.0)
        n_layer = int(L.llama_model_n_layer(llm._model.model))
        offloaded = hardware.parse_offloaded(load_log) or (
            hardware.expected_offload(kwargs["n_gpu_layers"], n_layer, gpu), n_layer + 1)
        vram = hardware.query_vram() if gpu else []
        meta = llm.metadata
        template = meta.get("tokenizer.chat_template") or header.chat_template
        name = meta.get("general.name") or header.name
        self._tok = PromptTokenizer(L, llm)
        control = self._tok.control
        bos, eos = llm.token_bos(), llm.token_eos()
        self._info = ModelInfo(
            path=path, name=name, architecture=architecture,
            kind=detect_kind(name, template, cfg.model_kind), chat_template=template,
            n_ctx_train=n_ctx_train, n_ctx=llm.n_ctx(), n_layer=n_layer,
            n_params=int(llm._model.n_params()), size_bytes=int(llm._model.size()),
            bos_token=llm._model.token_get_text(bos) if bos >= 0 else "",
            eos_token=llm._model.token_get_text(eos) if eos >= 0 else "",
            offload=OffloadInfo(
                gpu_supported=gpu, requested_layers=n_gpu_layers, offloaded_layers=offloaded[0],
                total_layers=offloaded[1], flash_attn=cfg.flash_attn,
                vram_total_mib=vram[0].total_mib if vram else None,
                vram_used_mib=vram[0].used_mib if vram else None, warnings=tuple(warnings),
                auto_reason=auto_reason),
            lora=lora,
        )
        self._loop = DecodeLoop(L, llm, end_tokens=control, overlap=offloaded[0] > 0)
        log.info("loaded %s (%s, %s, n_ctx %d): %s%s", name, self._info.architecture, self._info.kind,
                 self._info.n_ctx, self._info.offload.summary if self._info.offload else "",
                 f"; {lora.summary}" if lora else "")
        return self._info

    def _apply_lora(self, L: ModuleType, hook: NativeLog, architecture: str) -> LoraInfo:
        """Apply the configured LoRA adapter to the context (at compute time; the base weights
        stay memory-mapped, unlike ``Llama(lora_path=...)``, which turns mmap off).

        A bad adapter never stops the model: the result carries the reason and the base model
        runs alone. llama.cpp reports its own refusals (wrong tensor shapes: an adapter for
        another base model) by returning NULL with a log line; nothing in its adapter loader
        aborts the process, so no subprocess check is needed here.
        """
        cfg = self.config
        path = str(Path(cfg.lora_path).expanduser())
        try:
            check_scale(cfg.lora_scale)
            head = check_adapter(path, architecture)
            with hook.capture() as lines:
                adapter = L.llama_adapter_lora_init(self._llm._model.model, path.encode("utf-8"))
            if not adapter:  # a NULL pointer (not None)
                reason = next((ln.split("failed to apply lora adapter:", 1)[1].strip() for ln in lines
                               if "failed to apply lora adapter:" in ln), "") or hardware.load_error_line("\n".join(lines))
                raise LoraError(msg("lora.cannot_apply_reason", name=Path(path).name, reason=reason) if reason else
                                msg("lora.cannot_apply", name=Path(path).name))
            self._llm._stack.callback(lambda: L.llama_adapter_lora_free(adapter))
            adapters = (L.llama_adapter_lora_p_ctypes * 1)(adapter)
            scales = (ctypes.c_float * 1)(cfg.lora_scale)
            if L.llama_set_adapters_lora(self._llm._ctx.ctx, adapters, 1, scales) != 0:
                raise LoraError(msg("lora.cannot_set", name=Path(path).name))
        except LoraError as e:
            log.warning("LoRA adapter not applied, the base model runs alone: %s", e)
            return LoraInfo(path=path, scale=cfg.lora_scale, error=message_of(e) or str(e))
        log.info("LoRA adapter %s applied (alpha %g, scale %g)", head.name, head.alpha, cfg.lora_scale)
        return LoraInfo(path=path, scale=cfg.lora_scale, name=head.name, alpha=head.alpha)

    def _gpu_layers(self, header: GgufHeader, path: str, n_ctx: int, gpu: bool) -> tuple[int, str]:
        """The ``n_gpu_layers`` to load with, and why when it was chosen ("auto")."""
        wanted = self.config.n_gpu_layers
        if not isinstance(wanted, str):
            return wanted, ""
        if not gpu:
            return 0, msg("fit.auto_no_gpu_build")
        layout = fit.ModelLayout.from_header(header, fit.model_bytes(path))
        cfg = self.config
        kv = cfg.kv_cache_type.lower()
        chosen = fit.choose_gpu_layers(layout, probe_memory(), n_ctx=n_ctx,
                                       kv_type=kv if kv in fit.KV_TYPE_BYTES else "f16",
                                       n_ubatch=min(cfg.n_ubatch, cfg.n_batch), flash_attn=cfg.flash_attn)
        log.info("n_gpu_layers auto: %d (%s)", chosen.n_gpu_layers, chosen.reason)
        return chosen.n_gpu_layers, msg("fit.auto", reason=chosen.reason)

    def _load_failure(self, error: Exception, load_log: str, path: str, n_ctx: int,
                      n_gpu_layers: int = -1) -> LlmError:
        if self._closing.is_set():
            return EngineNotReadyError(msg("load.cancelled"))
        arch = hardware.unknown_architecture(load_log)
        if arch:
            return UnsupportedModelError(msg("load.unsupported_arch", path=path, arch=arch))
        if hardware.looks_out_of_memory(load_log):
            return OutOfMemoryError(msg("load.oom", name=Path(path).name, n_ctx=str(n_ctx),
                                        advice=hardware.fits_advice(n_gpu_layers, n_ctx)))
        reason = hardware.load_error_line(load_log) or str(error)
        return ModelFileError(msg("load.failed", path=path, reason=reason))

    def _tokenizer(self) -> PromptTokenizer:
        if self._tok is None:
            raise EngineNotReadyError("The model is not loaded yet.")
        return self._tok

    def _prompt_tokens(self, segments: Sequence[Segment]) -> list[int]:
        """The prompt's tokens (on the engine's thread; see :class:`PromptTokenizer`)."""
        return self._tokenizer().prompt_tokens(segments)

    def _free(self) -> None:
        self._loop = None
        self._tok = None
        if self._llm is not None:
            self._llm.close()
            self._llm = None
