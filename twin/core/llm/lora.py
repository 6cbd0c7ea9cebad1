"""Check a LoRA adapter GGUF before llama.cpp reads it: pure Python, header only.

llama.cpp applies a LoRA adapter at compute time (``llama_adapter_lora_init`` +
``llama_set_adapters_lora``; the base weights stay memory-mapped and untouched). It refuses
a wrong file by returning NULL with a log line, but the reasons it gives are terse; this check
runs first and names the problem in the user's terms: not a GGUF, a model instead of an
adapter, an adapter of another kind, or one trained for another architecture.

What llama.cpp expects (``src/llama-adapter.cpp``): ``general.type = "adapter"``,
``adapter.type = "lora"``, ``general.architecture`` equal to the base model's,
``adapter.lora.alpha`` (float; 0 means "scale only"), and tensor pairs
``<base tensor name>.lora_a`` / ``.lora_b`` (as ``convert_lora_to_gguf.py`` writes them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from twin.core.llm.errors import ModelFileError
from twin.core.llm.gguf_meta import read_gguf_header
from twin.messages import message_of, msg

MAX_SCALE = 4.0


class LoraError(ModelFileError):
    """The adapter file cannot be used with this model (the model still runs without it)."""


@dataclass(frozen=True)
class AdapterHeader:
    """What an adapter file's header says."""

    path: str
    name: str
    architecture: str
    alpha: float
    n_tensors: int


def check_adapter(path: str | Path, base_architecture: str | None = None) -> AdapterHeader:
    """Read ``path``'s header and check that it is a LoRA adapter for ``base_architecture``.

    Raises:
        LoraError: missing file, not a GGUF, not a LoRA adapter, or another architecture.
    """
    p = Path(path).expanduser()
    if not p.is_file():
        raise LoraError(msg("lora.missing", path=p))
    try:
        header = read_gguf_header(p)
    except ModelFileError as e:
        raise LoraError(msg("lora.bad_file", error=message_of(e) or str(e))) from e
    meta = header.metadata
    gtype = str(meta.get("general.type", ""))
    if gtype != "adapter":
        raise LoraError(msg("lora.is_model", name=p.name) if gtype in ("", "model") else
                        msg("lora.other_type", name=p.name, type=gtype))
    atype = str(meta.get("adapter.type", ""))
    if atype != "lora":
        raise LoraError(msg("lora.not_lora", name=p.name, type=atype or "unknown"))
    arch = header.architecture
    if base_architecture and arch != base_architecture:
        raise LoraError(msg("lora.other_arch", name=p.name, arch=arch, base=base_architecture))
    lora_tensors = header.tensor_count
    if lora_tensors == 0:
        raise LoraError(msg("lora.empty", name=p.name))
    alpha = meta.get("adapter.lora.alpha", 0.0)
    return AdapterHeader(
        path=str(p), name=str(meta.get("general.name", "") or p.stem), architecture=arch,
        alpha=float(alpha) if isinstance(alpha, (int, float)) else 0.0, n_tensors=lora_tensors,
    )


def check_scale(scale: float) -> None:
    """Raise LoraError unless ``scale`` is a sensible adapter strength."""
    if not 0.0 <= scale <= MAX_SCALE:
        raise LoraError(f"The LoRA scale must be between 0 and {MAX_SCALE:g} (got {scale:g}).")
