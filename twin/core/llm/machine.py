"""Measure this machine's memory for :mod:`twin.core.llm.fit`: free VRAM and total RAM.

VRAM: NVML through ``pynvml`` when it is installed (no dependency is added for it), else
``nvidia-smi``; none of them → no GPU (the model runs on the CPU). The GPU with the most free
memory is the one counted (llama.cpp puts everything on one card unless told to split).
RAM: ``psutil`` when installed, else ``/proc/meminfo``, else ``os.sysconf``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from twin.core.llm import hardware
from twin.core.llm.fit import Memory

log = logging.getLogger("twin.llm")


def _nvml() -> tuple[str, int, int] | None:
    """(name, total, free) of the GPU with the most free memory, via NVML; None if unavailable."""
    try:
        import pynvml  # optional NVIDIA bindings, absent on most machines
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
    except Exception as e:  # noqa: BLE001 - no driver: an NVMLError subclass
        log.debug("NVML not available: %s", e)
        return None
    try:
        best: tuple[str, int, int] | None = None
        for i in range(pynvml.nvmlDeviceGetCount()):
            h = pynvml.nvmlDeviceGetHandleByIndex(i)
            mem = pynvml.nvmlDeviceGetMemoryInfo(h)
            name = pynvml.nvmlDeviceGetName(h)
            name = name.decode() if isinstance(name, bytes) else str(name)
            if best is None or mem.free > best[2]:
                best = (name, int(mem.total), int(mem.free))
        return best
    except Exception as e:  # noqa: BLE001
        log.debug("NVML query failed: %s", e)
        return None
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception:  # noqa: BLE001
            pass


def gpu_memory() -> tuple[str, int, int, str] | None:
    """(name, total bytes, free bytes, source) of the GPU to use, or None without one."""
    found = _nvml()
    if found is not None:
        return (*found, "nvml")
    gpus = hardware.query_vram()
    if not gpus:
        return None
    g = max(gpus, key=lambda g: g.total_mib - g.used_mib)
    return g.name, g.total_mib << 20, (g.total_mib - g.used_mib) << 20, "nvidia-smi"


def parse_meminfo(text: str) -> tuple[int | None, int | None]:
    """(MemTotal, MemAvailable) in bytes from ``/proc/meminfo``'s text."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[key.strip()] = int(parts[0]) * (1024 if parts[1:2] == ["kB"] else 1)
    return values.get("MemTotal"), values.get("MemAvailable")


def ram() -> tuple[int | None, int | None]:
    """(total, available) RAM in bytes; None where it cannot be known."""
    try:
        import psutil

        vm = psutil.virtual_memory()
        return int(vm.total), int(vm.available)
    except ImportError:
        pass
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        try:
            total, avail = parse_meminfo(meminfo.read_text())
            if total:
                return total, avail
        except OSError:
            pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"), None
    except (ValueError, OSError, AttributeError):
        return None, None


def probe_memory(*, gpu: bool = True) -> Memory:
    """This machine's memory now (``gpu=False``: skip the GPU, e.g. a CPU-only llama.cpp)."""
    total, available = ram()
    found = gpu_memory() if gpu else None
    if found is None:
        return Memory(ram_total=total, ram_available=available)
    name, vram_total, vram_free, source = found
    return Memory(vram_free=vram_free, vram_total=vram_total, gpu_name=name, ram_total=total,
                  ram_available=available, source=source)
