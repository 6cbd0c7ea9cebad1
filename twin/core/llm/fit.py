"""How much of a GGUF model fits on this machine's GPU and RAM: pure arithmetic, no llama.cpp.

llama.cpp places layers like this (``llama-model.cpp``, ``n_gpu_layers = k``): the input layer
(``token_embd``) always stays on the CPU; the *last* ``k`` repeating layers (``blk.N``) go to
the GPU, each with its share of the KV cache; the output layer (``output.weight`` and
``output_norm``; a copy of ``token_embd`` when the embeddings are tied) goes to the GPU only
when ``k > n_layer`` (it reports ``offloaded k/n_layer+1 layers``). The GPU also holds the
compute buffers, estimated here as::

    COMPUTE_BASE + attention scratch + FFN scratch + logits (when the output layer is there)

where attention scratch is the f16 mask ``n_ctx × n_ubatch`` with flash attention and the f32
score matrix ``n_ctx × n_ubatch × n_head`` without. For Qwen3-30B-A3B Q6_K at 32k context,
flash attention off, this gives 30.7 GB for a full offload: the peak measured on an H200
(shared/gpu/README.md). ``GPU_RESERVE`` is kept free for the CUDA context and cuBLAS.

Layer sizes come from the GGUF's tensor table (exact, see :mod:`gguf_meta`) or, when that is
not at hand (a catalog entry not downloaded yet, a split file whose first part lists only its
own tensors), from the parameter count implied by the shapes, scaled to the file's size.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from twin.core.llm.gguf_meta import GgufHeader
from twin.messages import msg

T = TypeVar("T")

MIB = 1 << 20
GIB = 1 << 30
GB = 1e9
#: Bytes per cached value of each KV cache type (quantized types: block bytes / 32 values).
KV_TYPE_BYTES = {"f32": 4.0, "f16": 2.0, "bf16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32}
COMPUTE_BASE = 256 * MIB
#: Left free on the GPU: the CUDA context, cuBLAS workspace, fragmentation.
GPU_RESERVE = 768 * MIB
#: Left free in RAM: the system, the window, the embedding model.
RAM_RESERVE = 3 * GIB
_SPLIT = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$")


@dataclass(frozen=True)
class ModelLayout:
    """The shapes and byte sizes that decide where a model fits."""

    name: str
    n_layer: int
    n_embd: int
    n_head: int
    n_head_kv: int
    key_length: int
    value_length: int
    n_vocab: int
    context_length: int
    file_bytes: int
    layer_bytes: tuple[int, ...]  # each repeating layer's weights (len == n_layer)
    input_bytes: int  # token_embd: always on the CPU
    output_bytes: int  # the output layer: on the GPU only with every repeating layer
    n_ff: int = 0  # the width of the FFN that runs per token (dense, or experts used × expert width)
    exact: bool = False  # sizes read from the tensor table (else estimated from the shapes)

    @property
    def total_layers(self) -> int:
        """Layers as llama.cpp counts them for offload: the repeating ones + the output."""
        return self.n_layer + 1

    def kv_bytes_per_token(self, kv_type: str = "f16", layers: int | None = None) -> float:
        per_layer = self.n_head_kv * (self.key_length + self.value_length) * KV_TYPE_BYTES[kv_type]
        return per_layer * (self.n_layer if layers is None else layers)

    # -- construction -----------------------------------------------------------------------

    @classmethod
    def from_shape(cls, *, name: str, n_layer: int, n_embd: int, n_head: int, n_head_kv: int,
                   head_dim: int, n_vocab: int, context_length: int, file_bytes: int, n_ff: int = 0,
                   n_expert: int = 0, n_expert_used: int = 0, n_ff_exp: int = 0,
                   tied_embeddings: bool = False) -> "ModelLayout":
        """A layout estimated from the shapes: the file's bytes shared out in proportion to
        each part's parameters (a quantized file keeps roughly one bit width throughout)."""
        attn = n_embd * head_dim * (2 * n_head + 2 * n_head_kv)  # q, o, k, v
        if n_expert:
            ffn = 3 * n_embd * n_ff_exp * n_expert + n_embd * n_expert  # experts + router
            ff_used = n_ff_exp * max(1, n_expert_used)
        else:
            ffn = 3 * n_embd * n_ff
            ff_used = n_ff
        per_layer = attn + ffn
        embd = n_vocab * n_embd
        params = n_layer * per_layer + embd * (1 if tied_embeddings else 2)
        bpp = file_bytes / params if params else 0.0
        layer = int(per_layer * bpp)
        input_bytes = int(embd * bpp)
        return cls(name=name, n_layer=n_layer, n_embd=n_embd, n_head=n_head, n_head_kv=n_head_kv,
                   key_length=head_dim, value_length=head_dim, n_vocab=n_vocab,
                   context_length=context_length, file_bytes=file_bytes, layer_bytes=(layer,) * n_layer,
                   input_bytes=input_bytes, output_bytes=input_bytes, n_ff=ff_used)

    @classmethod
    def from_header(cls, header: GgufHeader, file_bytes: int | None = None) -> "ModelLayout":
        """The layout a GGUF's header describes; ``file_bytes`` is the whole model (all parts of
        a split file, see :func:`model_bytes`). Exact when the tensor table lists every layer."""
        a = header.arch_value
        n_layer = header.block_count
        n_embd = a("embedding_length")
        n_head = a("attention.head_count")
        n_head_kv = a("attention.head_count_kv", n_head)
        head_dim = n_embd // n_head if n_head else 0
        k_len = a("attention.key_length", head_dim)
        v_len = a("attention.value_length", head_dim)
        n_vocab = a("vocab_size") or _int(header.metadata.get("tokenizer.ggml.tokens"))
        n_expert = a("expert_count")
        n_used = a("expert_used_count")
        n_ff_exp = a("expert_feed_forward_length")
        n_ff = a("feed_forward_length")
        size = file_bytes if file_bytes is not None else header.file_size
        others = header.other_bytes
        if len(header.layer_bytes) == n_layer and n_layer and all(header.layer_bytes) \
                and "token_embd.weight" in others and sum(header.layer_bytes) + sum(others.values()) <= size:
            input_bytes = others["token_embd.weight"]
            output_bytes = others.get("output.weight", input_bytes) + others.get("output_norm.weight", 0)
            return cls(name=header.name, n_layer=n_layer, n_embd=n_embd, n_head=n_head, n_head_kv=n_head_kv,
                       key_length=k_len, value_length=v_len, n_vocab=n_vocab,
                       context_length=header.context_length, file_bytes=size,
                       layer_bytes=tuple(header.layer_bytes), input_bytes=input_bytes,
                       output_bytes=output_bytes, n_ff=n_ff_exp * n_used if n_expert else n_ff, exact=True)
        est = cls.from_shape(name=header.name, n_layer=n_layer, n_embd=n_embd, n_head=n_head,
                             n_head_kv=n_head_kv, head_dim=head_dim, n_vocab=n_vocab,
                             context_length=header.context_length, file_bytes=size, n_ff=n_ff,
                             n_expert=n_expert, n_expert_used=n_used, n_ff_exp=n_ff_exp,
                             tied_embeddings="output.weight" not in others and bool(others))
        return ModelLayout(**{**est.__dict__, "key_length": k_len, "value_length": v_len})


def _int(value: object) -> int:
    return int(value) if isinstance(value, int) else 0


def model_bytes(path: str | Path) -> int:
    """The size of the model at ``path``: all its parts when it is split (``-00001-of-0000N``)."""
    p = Path(path)
    m = _SPLIT.search(p.name)
    if not m:
        return p.stat().st_size
    n = int(m.group(2))
    total = 0
    for i in range(1, n + 1):
        part = p.with_name(_SPLIT.sub(f"-{i:05d}-of-{n:05d}.gguf", p.name))
        total += part.stat().st_size if part.is_file() else 0
    return total


# -- the arithmetic ------------------------------------------------------------------------


def compute_bytes(layout: ModelLayout, n_ctx: int, *, n_ubatch: int = 512, flash_attn: bool = True,
                  output_on_gpu: bool = True) -> int:
    """The GPU's compute buffers (an estimate; see the module doc)."""
    attn = n_ctx * n_ubatch * 2 if flash_attn else n_ctx * n_ubatch * layout.n_head * 4
    ffn = n_ubatch * max(layout.n_ff, layout.n_embd) * 4 * 3
    logits = n_ubatch * layout.n_vocab * 4 if output_on_gpu else 0
    return COMPUTE_BASE + attn + ffn + logits


def gpu_bytes(layout: ModelLayout, k: int, n_ctx: int, *, kv_type: str = "f16", n_ubatch: int = 512,
              flash_attn: bool = True) -> int:
    """GPU memory for ``n_gpu_layers = k`` (0 … n_layer + 1) at ``n_ctx`` tokens of context."""
    k = max(0, min(k, layout.total_layers))
    if k == 0:
        return 0
    layers = min(k, layout.n_layer)
    weights = sum(layout.layer_bytes[layout.n_layer - layers:])
    output = k > layout.n_layer
    if output:
        weights += layout.output_bytes
    kv = layout.kv_bytes_per_token(kv_type, layers) * n_ctx
    return int(weights + kv) + compute_bytes(layout, n_ctx, n_ubatch=n_ubatch, flash_attn=flash_attn,
                                             output_on_gpu=output)


def cpu_bytes(layout: ModelLayout, k: int, n_ctx: int, *, kv_type: str = "f16") -> int:
    """RAM for what stays on the CPU with ``n_gpu_layers = k`` (weights, their KV cache, and
    the CPU's compute buffer)."""
    k = max(0, min(k, layout.total_layers))
    cpu_layers = layout.n_layer - min(k, layout.n_layer)
    weights = layout.input_bytes + sum(layout.layer_bytes[:cpu_layers])
    if k <= layout.n_layer:
        weights += layout.output_bytes
    kv = layout.kv_bytes_per_token(kv_type, cpu_layers) * n_ctx
    return int(weights + kv) + COMPUTE_BASE


@dataclass(frozen=True)
class Memory:
    """What the machine has: free VRAM of the GPU to use (None: no usable GPU) and RAM."""

    vram_free: int | None = None
    vram_total: int | None = None
    gpu_name: str = ""
    ram_total: int | None = None
    ram_available: int | None = None
    source: str = ""  # how the GPU was measured ("nvml", "nvidia-smi", "" = no GPU found)


@dataclass(frozen=True)
class Fit:
    """Where a model goes on this machine, and why."""

    n_gpu_layers: int  # for llama.cpp: 0 … n_layer + 1
    total_layers: int
    verdict: str  # "gpu" (all on the GPU) | "partial" | "cpu" | "too-big"
    reason: str
    n_ctx: int
    kv_type: str
    kv_bytes: int  # the whole KV cache at n_ctx
    layer_bytes: int  # an average repeating layer (weights + its KV cache)
    gpu_bytes: int  # GPU memory with the chosen layers
    full_gpu_bytes: int  # GPU memory with every layer
    cpu_bytes: int  # RAM for the rest
    vram_free: int | None = None
    ram_total: int | None = None
    details: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def fits(self) -> bool:
        return self.verdict != "too-big"


def _gb(n: float) -> str:
    return f"{n / GB:.1f} GB"


def choose_gpu_layers(layout: ModelLayout, memory: Memory, *, n_ctx: int, kv_type: str = "f16",
                      n_ubatch: int = 512, flash_attn: bool = True, gpu_supported: bool = True) -> Fit:
    """The largest ``n_gpu_layers`` whose weights, KV cache and compute buffers fit the free
    VRAM (less ``GPU_RESERVE``), with a reason a person can read."""
    if kv_type not in KV_TYPE_BYTES:
        raise ValueError(f"unknown KV cache type {kv_type!r}")
    if layout.context_length:
        n_ctx = min(n_ctx, layout.context_length)
    total = layout.total_layers
    kv_all = int(layout.kv_bytes_per_token(kv_type) * n_ctx)
    full = gpu_bytes(layout, total, n_ctx, kv_type=kv_type, n_ubatch=n_ubatch, flash_attn=flash_attn)
    avg_layer = int((sum(layout.layer_bytes) + kv_all) / max(1, layout.n_layer))
    ctx = msg("fit.ctx", n=n_ctx, kv=kv_type)
    k = 0
    if gpu_supported and memory.vram_free is not None:
        budget = memory.vram_free - GPU_RESERVE
        for k in range(total, -1, -1):
            if gpu_bytes(layout, k, n_ctx, kv_type=kv_type, n_ubatch=n_ubatch, flash_attn=flash_attn) <= budget:
                break
    used = gpu_bytes(layout, k, n_ctx, kv_type=kv_type, n_ubatch=n_ubatch, flash_attn=flash_attn)
    rest = cpu_bytes(layout, k, n_ctx, kv_type=kv_type)
    ram_room = None if memory.ram_total is None else memory.ram_total - RAM_RESERVE
    ram_ok = ram_room is None or rest <= ram_room
    gpu = memory.gpu_name or msg("fit.the_gpu")
    free = _gb(memory.vram_free) if memory.vram_free is not None else ""
    needs = msg("fit.needs", total=total, ctx=ctx, full=_gb(full))
    if not ram_ok:
        verdict = "too-big"
        reason = msg("fit.too_big", k=k, total=total, gpu=gpu, rest=_gb(rest), ram=_gb(memory.ram_total or 0))
    elif k == total:
        verdict = "gpu"
        reason = msg("fit.all_on_gpu", total=total, gpu=gpu, full=_gb(full), free=free, ctx=ctx)
    elif k > 0:
        verdict = "partial"
        reason = msg("fit.partial", k=k, total=total, gpu=gpu, used=_gb(used), free=free, needs=needs,
                     other=total - k)
    elif not gpu_supported:
        verdict = "cpu"
        reason = msg("fit.no_gpu_build")
    elif memory.vram_free is None:
        verdict = "cpu"
        reason = msg("fit.no_gpu")
    else:
        verdict = "cpu"
        reason = msg("fit.none_fits", free=free, gpu=gpu, needs=needs)
    return Fit(n_gpu_layers=k, total_layers=total, verdict=verdict, reason=reason, n_ctx=n_ctx,
               kv_type=kv_type, kv_bytes=kv_all, layer_bytes=avg_layer, gpu_bytes=used, full_gpu_bytes=full,
               cpu_bytes=rest, vram_free=memory.vram_free, ram_total=memory.ram_total,
               details={"input_bytes": layout.input_bytes, "output_bytes": layout.output_bytes,
                        "compute_bytes": compute_bytes(layout, n_ctx, n_ubatch=n_ubatch, flash_attn=flash_attn)})


# -- out of memory while loading ---------------------------------------------------------------


def fewer_layers(k: int) -> int:
    """The next, smaller offload to try after running out of memory with ``k`` layers:
    a quarter fewer (at least one), down to 0 (the CPU)."""
    return max(0, k - max(1, math.ceil(k / 4)))


@dataclass(frozen=True)
class Attempt:
    n_gpu_layers: int
    error: str = ""  # empty: it loaded


def load_with_fewer_layers(load: Callable[[int], T], first: int, is_out_of_memory: Callable[[BaseException], bool],
                           *, max_attempts: int = 8) -> tuple[T, int, list[Attempt]]:
    """Call ``load(k)`` with ``k = first``; when it fails for lack of memory, again with
    :func:`fewer_layers` until it loads, ``k`` reaches 0 or ``max_attempts`` ran out.

    Returns (the result, the layers it loaded with, every attempt). Re-raises the last error
    when nothing loaded, and any error that is not out of memory at once.
    """
    attempts: list[Attempt] = []
    k = first
    while True:
        try:
            result = load(k)
        except Exception as e:
            if not is_out_of_memory(e) or k <= 0 or len(attempts) + 1 >= max_attempts:
                raise
            attempts.append(Attempt(k, str(e) or e.__class__.__name__))
            k = fewer_layers(k)
            continue
        attempts.append(Attempt(k))
        return result, k, attempts


def retry_message(attempts: list[Attempt], total_layers: int) -> str:
    """What the user is told when loading needed fewer layers than first chosen."""
    failed = [a.n_gpu_layers for a in attempts if a.error]
    if not failed:
        return ""
    done = attempts[-1].n_gpu_layers
    tried = ", ".join(str(k) for k in failed)
    if done:
        return msg("oom.retried_gpu", tried=tried, done=done, total=total_layers)
    return msg("oom.retried_cpu", tried=tried)
