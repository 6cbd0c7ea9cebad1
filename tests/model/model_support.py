"""Helpers shared by the real-model tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "qwen3"))
from tiny_qwen3 import write_tiny_qwen3  # noqa: E402

from twin.core.llm.llama import LlamaConfig  # noqa: E402

__all__ = ["THREADS", "config", "write_tiny_qwen3"]

THREADS = 1


def config(path: Path, **kw: object) -> LlamaConfig:
    """A test LlamaConfig: one thread, a small context, no CPU weight repacking."""
    base: dict[str, object] = dict(n_threads=THREADS, n_threads_batch=THREADS, cpu_repack=False, n_ctx=2048)
    base.update(kw)
    return LlamaConfig(str(path), **base)  # type: ignore[arg-type]
