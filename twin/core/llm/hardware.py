"""What the machine and llama.cpp's log say about where a model runs (pure helpers).

llama.cpp reports the truth about offload and memory failures only in its log, e.g.
``load_tensors: offloaded 49/49 layers to GPU`` or ``cudaMalloc failed: out of memory``; the
helpers here read those lines. VRAM comes from ``nvidia-smi`` when it exists (no pynvml
dependency); elsewhere it is unknown and reported as such.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from dataclasses import dataclass

log = logging.getLogger("twin.llm")

_OFFLOADED = re.compile(r"offloaded (\d+)/(\d+) layers to GPU")
_OOM = re.compile(
    r"out of memory|failed to allocate|unable to allocate|cudaMalloc failed|"
    r"ErrorOutOfDeviceMemory|not enough memory|std::bad_alloc|failed to create context",
    re.IGNORECASE,
)
_UNKNOWN_ARCH = re.compile(r"unknown model architecture: '([^']*)'")
_ASSERT = re.compile(r"GGML_ASSERT\((.*)\) failed")
_LOAD_ERROR = re.compile(r"error loading model: (.*)")


@dataclass(frozen=True)
class Vram:
    """One GPU's memory in MiB."""

    name: str
    total_mib: int
    used_mib: int


def parse_offloaded(log_text: str) -> tuple[int, int] | None:
    """``(offloaded, total)`` from llama.cpp's load log, or None when it did not say."""
    found = _OFFLOADED.findall(log_text)
    if not found:
        return None
    done, total = found[-1]
    return int(done), int(total)


def expected_offload(n_gpu_layers: int, n_layer: int, gpu_supported: bool) -> int:
    """Layers llama.cpp offloads for a request: it counts the output layer as one more."""
    if not gpu_supported or n_gpu_layers == 0:
        return 0
    total = n_layer + 1
    return total if n_gpu_layers < 0 else min(n_gpu_layers, total)


def unknown_architecture(log_text: str) -> str | None:
    """The architecture llama.cpp did not recognise, if that is why loading failed."""
    m = _UNKNOWN_ARCH.search(log_text)
    return m.group(1) if m else None


def load_error_line(log_text: str) -> str | None:
    """llama.cpp's own one-line reason for a failed load (``error loading model: …``)."""
    found = _LOAD_ERROR.findall(log_text)
    return found[-1].strip() if found else None


def assert_line(log_text: str) -> str | None:
    """The failed check when llama.cpp aborted (``GGML_ASSERT(…) failed``)."""
    found = _ASSERT.findall(log_text)
    return f"GGML_ASSERT({found[-1]}) failed" if found else None


def looks_out_of_memory(log_text: str) -> bool:
    return bool(_OOM.search(log_text))


def query_vram(timeout_s: float = 3.0) -> list[Vram]:
    """Memory of each NVIDIA GPU via ``nvidia-smi``; empty when there is none or it fails."""
    exe = shutil.which("nvidia-smi")
    if not exe:
        return []
    try:
        out = subprocess.run(
            [exe, "--query-gpu=name,memory.total,memory.used", "--format=csv,noheader,nounits"],
            capture_output=True, text=True, timeout=timeout_s, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError) as e:
        log.debug("nvidia-smi failed: %s", e)
        return []
    return parse_nvidia_smi(out)


def parse_nvidia_smi(out: str) -> list[Vram]:
    gpus = []
    for line in out.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 3:
            continue
        try:
            gpus.append(Vram(parts[0], int(float(parts[1])), int(float(parts[2]))))
        except ValueError:
            continue
    return gpus


def fits_advice(n_gpu_layers: int, n_ctx: int) -> str:
    """What to try after an out-of-memory failure."""
    from twin.messages import msg

    values = {"n_ctx": str(n_ctx), "half": str(max(2048, n_ctx // 2))}  # settings values: as typed
    return msg("oom.advice_gpu" if n_gpu_layers != 0 else "oom.advice_cpu", **values)
