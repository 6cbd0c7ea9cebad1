"""Pure helpers of the LLM layer: stop strings, log parsing, kind detection, GGUF header."""

from __future__ import annotations

import builtins
import sys
from pathlib import Path

import pytest

from twin.core.llm import hardware
from twin.core.llm.errors import BackendMissingError, ModelFileError
from twin.core.llm.gguf_meta import read_gguf_header
from twin.core.llm.llama import detect_kind, import_llama_cpp
from twin.core.llm.stops import StopMatcher

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures" / "qwen3"))
from tiny_qwen3 import write_tiny_qwen3  # noqa: E402


def feed_all(m: StopMatcher, pieces: list[str]) -> str:
    out = "".join(m.feed(p) for p in pieces)
    return out + m.flush()


def test_stop_split_across_pieces() -> None:
    m = StopMatcher(["\nUser:"])
    assert feed_all(m, ["Hello", " there\n", "Us", "er: next"]) == "Hello there"
    assert m.stopped


def test_stop_prefix_that_is_not_a_stop_is_released() -> None:
    m = StopMatcher(["\nUser:"])
    assert m.feed("a\nUs") == "a"
    assert m.feed("ually") == "\nUsually"
    assert feed_all(StopMatcher(["\nUser:"]), ["line\n"]) == "line\n"
    assert not m.stopped


def test_no_stops_passes_through() -> None:
    m = StopMatcher([])
    assert m.feed("abc") == "abc" and m.flush() == ""


def test_earliest_stop_wins() -> None:
    m = StopMatcher(["\nTwin:", "\nUser:"])
    assert feed_all(m, ["x\nUser: y\nTwin: z"]) == "x"


def test_parse_offload_and_failures() -> None:
    log = "load_tensors: offloading 48 repeating layers to GPU\nload_tensors: offloaded 49/49 layers to GPU\n"
    assert hardware.parse_offloaded(log) == (49, 49)
    assert hardware.parse_offloaded("CPU_Mapped model buffer") is None
    assert hardware.expected_offload(-1, 48, True) == 49
    assert hardware.expected_offload(20, 48, True) == 20
    assert hardware.expected_offload(-1, 48, False) == 0
    assert hardware.looks_out_of_memory("ggml_backend_cuda_buffer_type_alloc_buffer: allocating 24000 MiB on "
                                        "device 0: cudaMalloc failed: out of memory")
    assert not hardware.looks_out_of_memory("all good")
    assert hardware.unknown_architecture("error loading model: unknown model architecture: 'foo'") == "foo"
    assert hardware.load_error_line("x\nllama_model_load: error loading model: bad tensor\n") == "bad tensor"
    assert hardware.assert_line("llama-model.cpp:1362: GGML_ASSERT(n > 0) failed") == "GGML_ASSERT(n > 0) failed"
    advice = hardware.fits_advice(-1, 32768)
    assert "fewer GPU layers" in advice and "16384" in advice and "q8_0" in advice


def test_parse_nvidia_smi() -> None:
    gpus = hardware.parse_nvidia_smi("NVIDIA H200, 143771, 1024\nbroken line\n")
    assert gpus == [hardware.Vram("NVIDIA H200", 143771, 1024)]


def test_detect_kind() -> None:
    assert detect_kind("Qwen3 30B A3B", "{{ messages }}") == "instruct"
    assert detect_kind("Qwen3-30B-A3B-Base", "{{ messages }}") == "base"
    assert detect_kind("Qwen3 30B A3B Base", "{{ messages }}") == "base"
    assert detect_kind("Database helper", "{{ messages }}") == "instruct"  # 'base' inside a word
    assert detect_kind("Gemma 3 270m", None) == "base"
    assert detect_kind("Gemma 3 270m", None, "instruct") == "instruct"


def test_missing_llama_cpp_explains_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def fake_import(name: str, *args: object, **kwargs: object) -> object:
        if name == "llama_cpp":
            raise ImportError("no llama_cpp")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.delitem(sys.modules, "llama_cpp", raising=False)
    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(BackendMissingError, match="DGGML_CUDA=on"):
        import_llama_cpp()


def test_gguf_header_of_the_tiny_model(tmp_path: Path) -> None:
    path = write_tiny_qwen3(tmp_path / "tiny.gguf")
    h = read_gguf_header(path)
    assert h.architecture == "qwen3moe"
    assert h.name == "tiny-Qwen3-MoE-Instruct"
    assert h.context_length == 4096 and h.block_count == 2
    assert h.chat_template and "<|im_start|>" in h.chat_template
    assert h.data_end == h.file_size


def test_gguf_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="not found"):
        read_gguf_header(tmp_path / "missing.gguf")
    notgguf = tmp_path / "model.bin"
    notgguf.write_bytes(b"PK\x03\x04 not a gguf")
    with pytest.raises(ModelFileError, match="not a GGUF"):
        read_gguf_header(notgguf)
    good = write_tiny_qwen3(tmp_path / "tiny.gguf")
    data = good.read_bytes()
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(data[: len(data) - 1000])
    with pytest.raises(ModelFileError, match="truncated"):
        read_gguf_header(cut)
    header_cut = tmp_path / "header_cut.gguf"
    header_cut.write_bytes(data[:300])
    with pytest.raises(ModelFileError, match="truncated"):
        read_gguf_header(header_cut)


def test_load_failures_are_explained() -> None:
    from twin.core.llm.errors import EngineNotReadyError, OutOfMemoryError, UnsupportedModelError
    from twin.core.llm.llama import LlamaConfig, LlamaEngine

    engine = LlamaEngine(LlamaConfig("/m/q.gguf", n_gpu_layers=-1))
    try:
        oom = engine._load_failure(ValueError("Failed to create llama_context"),
                                   "cudaMalloc failed: out of memory", "/m/q.gguf", 32768)
        assert isinstance(oom, OutOfMemoryError) and "fewer GPU layers" in str(oom) and "16384" in str(oom)
        arch = engine._load_failure(ValueError("x"), "unknown model architecture: 'mamba9'", "/m/q.gguf", 4096)
        assert isinstance(arch, UnsupportedModelError) and "mamba9" in str(arch)
        other = engine._load_failure(ValueError("x"), "llama_model_load: error loading model: bad magic", "/m/q.gguf", 4096)
        assert isinstance(other, ModelFileError) and "bad magic" in str(other)
        with pytest.raises(EngineNotReadyError):
            engine.info
        with pytest.raises(EngineNotReadyError):
            engine.generate(None)  # type: ignore[arg-type]
    finally:
        engine.close()
