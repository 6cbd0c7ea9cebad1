"""GPU layers "auto" through the real engine: the tiny Qwen3 GGUF loaded by llama.cpp.

On this CPU build "auto" means the CPU, and says so. With a GPU pretended (llama.cpp's
build check and the memory probe replaced), "auto" picks every layer; when loading then runs
out of memory (llama-cpp-python's ValueError, with llama.cpp's allocation failure in its
log), the engine retries with fewer layers, loads, and says what happened.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from model_support import config

from twin.core.llm import llama as llama_mod
from twin.core.llm.errors import OutOfMemoryError
from twin.core.llm.fit import GIB, Memory
from twin.core.llm.llama import LlamaEngine, import_llama_cpp
from twin.core.llm.llama_native import install_native_log

pytestmark = pytest.mark.slow


def test_auto_on_a_cpu_build_runs_on_the_cpu_and_says_why(qwen_path: Path) -> None:
    L = import_llama_cpp()
    if L.llama_supports_gpu_offload():
        pytest.skip("this llama-cpp-python build has GPU support")
    engine = LlamaEngine.open(config(qwen_path, n_gpu_layers="auto"))
    try:
        off = engine.info.offload
        assert off is not None and off.offloaded_layers == 0 and off.requested_layers == 0
        assert off.auto_reason.startswith("auto:") and "no GPU support" in off.auto_reason
        assert engine.count_tokens("hello") > 0  # it really works
    finally:
        engine.close()


@pytest.fixture
def pretend_gpu(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """llama.cpp claims GPU support, the probe a 24 GB card; Llama() fails with llama.cpp's
    out-of-memory log line above ``state['fits']`` layers."""
    L = import_llama_cpp()
    hook = install_native_log(L)
    real = L.Llama
    state: dict[str, Any] = {"fits": 1, "calls": []}

    def fake_llama(**kw: Any) -> Any:
        state["calls"].append(kw["n_gpu_layers"])
        if kw["n_gpu_layers"] > state["fits"]:
            hook._on_log(4, b"ggml_backend_cuda_buffer_type_alloc_buffer: allocating 812.00 MiB on device 0: "
                            b"cudaMalloc failed: out of memory\n", None)
            raise ValueError(f"Failed to load model from file: {kw['model_path']}")
        return real(**{**kw, "n_gpu_layers": 0})

    monkeypatch.setattr(L, "Llama", fake_llama)
    monkeypatch.setattr(L, "llama_supports_gpu_offload", lambda: True)
    monkeypatch.setattr(llama_mod, "probe_memory",
                        lambda: Memory(vram_free=23 * GIB, vram_total=24 * GIB, gpu_name="Fake 24 GB",
                                       ram_total=64 * GIB))
    monkeypatch.setattr(llama_mod.hardware, "query_vram", lambda: [])
    return state


def test_auto_with_a_gpu_then_out_of_memory_is_retried(qwen_path: Path, pretend_gpu: dict[str, Any]) -> None:
    engine = LlamaEngine.open(config(qwen_path, n_gpu_layers="auto", validate=False))
    try:
        off = engine.info.offload
        assert off is not None
        total = engine.info.n_layer + 1
        assert pretend_gpu["calls"][0] == total  # the tiny model fits whole in 23 GB
        assert "all" in off.auto_reason and "Fake 24 GB" in off.auto_reason
        assert pretend_gpu["calls"][-1] <= 1 and len(pretend_gpu["calls"]) >= 2
        assert any("ran out of memory" in w and "Close other programs" in w for w in off.warnings)
        assert engine.count_tokens("hello") > 0
    finally:
        engine.close()


def test_out_of_memory_even_on_the_cpu_is_a_clear_error(qwen_path: Path, pretend_gpu: dict[str, Any]) -> None:
    pretend_gpu["fits"] = -1
    with pytest.raises(OutOfMemoryError, match="Not enough memory"):
        LlamaEngine.open(config(qwen_path, n_gpu_layers=-1, validate=False))
    assert pretend_gpu["calls"][-1] == 0 and len(pretend_gpu["calls"]) >= 3
    assert pretend_gpu["calls"] == sorted(pretend_gpu["calls"], reverse=True)
