"""LoRA adapters on the tiny qwen3moe model: a tiny adapter GGUF written on the fly
(tests/fixtures/qwen3/tiny_lora.py) changes greedy output at scale 1, changes nothing at
scale 0, and a wrong adapter leaves a clear reason while the base model keeps working."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from model_support import config

from twin.app.chat_service import make_engine
from twin.core.llm.engine import GenerationRequest, SamplingParams, Segment
from twin.core.llm.llama import LlamaEngine
from twin.core.llm.lora import LoraError, check_adapter
from twin.llm_settings import LlmSettings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "qwen3"))
from tiny_lora import write_tiny_lora

pytestmark = pytest.mark.slow

PROMPT = "Today I went to the market and"


def greedy(engine: LlamaEngine, n: int = 16) -> list[str]:
    request = GenerationRequest(segments=(Segment(PROMPT),), chat=False,
                                params=SamplingParams(max_tokens=n, temperature=0.0))
    return list(engine.generate(request))


@pytest.fixture(scope="module")
def lora_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_lora(tmp_path_factory.mktemp("lora") / "tiny-lora.gguf")


@pytest.fixture(scope="module")
def base_answer(qwen_path: Path) -> list[str]:
    engine = LlamaEngine.open(config(qwen_path, validate=False))
    try:
        assert engine.info.lora is None
        return greedy(engine)
    finally:
        engine.close()


def answer_with(qwen_path: Path, lora: Path, scale: float) -> tuple[list[str], object]:
    engine = LlamaEngine.open(config(qwen_path, validate=False, lora_path=str(lora), lora_scale=scale))
    try:
        return greedy(engine), engine.info
    finally:
        engine.close()


def test_adapter_changes_the_output_at_scale_1(qwen_path: Path, lora_path: Path, base_answer: list[str]) -> None:
    answer, info = answer_with(qwen_path, lora_path, 1.0)
    assert info.lora is not None and info.lora.applied, info.lora  # type: ignore[attr-defined]
    assert info.lora.name == "tiny-qwen3-lora" and info.lora.alpha == 8.0  # type: ignore[attr-defined]
    assert "+tiny-qwen3-lora@1" in info.model_id  # type: ignore[attr-defined]
    assert len(base_answer) > 3 and answer != base_answer


def test_adapter_at_scale_0_is_the_base_model(qwen_path: Path, lora_path: Path, base_answer: list[str]) -> None:
    answer, info = answer_with(qwen_path, lora_path, 0.0)
    assert info.lora.applied  # type: ignore[attr-defined]
    assert answer == base_answer


@pytest.mark.parametrize("kind, expect", [
    ("shape", "incorrect shape"),
    ("arch", "'llama' architecture but the model is 'qwen3moe'"),
    ("model", "a model, not an adapter"),
    ("garbage", "not a GGUF"),
    ("missing", "does not exist"),
])
def test_a_wrong_adapter_is_reported_and_the_base_model_still_runs(
        qwen_path: Path, tmp_path: Path, base_answer: list[str], kind: str, expect: str) -> None:
    bad = tmp_path / f"{kind}.gguf"
    if kind == "shape":
        write_tiny_lora(bad, wrong_shape=True)
    elif kind == "arch":
        write_tiny_lora(bad, architecture="llama")
    elif kind == "model":
        write_tiny_lora(bad, general_type="model")
    elif kind == "garbage":
        bad.write_bytes(b"not a gguf at all" * 10)
    answer, info = answer_with(qwen_path, bad, 1.0)
    lora = info.lora  # type: ignore[attr-defined]
    assert lora is not None and not lora.applied and expect in lora.error, lora
    assert "LoRA not applied" in lora.summary
    assert info.model_id == info.name  # type: ignore[attr-defined]
    assert answer == base_answer


def test_check_adapter_reads_the_header(lora_path: Path, qwen_path: Path) -> None:
    head = check_adapter(lora_path, "qwen3moe")
    assert head.architecture == "qwen3moe" and head.alpha == 8.0 and head.n_tensors == 16
    with pytest.raises(LoraError, match="not an adapter"):
        check_adapter(qwen_path)


def test_settings_switch_the_adapter_on_and_off(qwen_path: Path, lora_path: Path, base_answer: list[str]) -> None:
    llm = LlmSettings(model_path=str(qwen_path), n_ctx=2048, n_threads=1, cpu_repack=False,
                      validate_model=False, lora_path=str(lora_path), lora_scale=1.0)
    for enabled in (True, False):
        llm.lora_enabled = enabled
        engine = make_engine(llm)
        try:
            info = engine.start_loading().result()  # type: ignore[attr-defined]
            assert (info.lora is not None) is enabled
            assert (greedy(engine) == base_answer) is not enabled  # type: ignore[arg-type]
        finally:
            engine.close()


def test_doctor_reports_the_adapter(qwen_path: Path, lora_path: Path, tmp_path: Path) -> None:
    from twin.app.doctor import diagnose
    from twin.paths import resolve_paths
    from twin.settings import Settings

    s = Settings()
    s.llm.model_path, s.llm.lora_path = str(qwen_path), str(lora_path)
    s.llm.cpu_repack, s.llm.n_threads, s.llm.n_ctx, s.llm.n_gpu_layers = False, 1, 2048, 0
    paths = resolve_paths({"TWIN_HOME": str(tmp_path)})
    r = diagnose(s, paths, load=True)
    assert r["lora"]["name"] == "tiny-qwen3-lora" and r["lora"]["error"] is None
    assert r["offload"]["lora"] == "LoRA tiny-qwen3-lora ×1"
    s.llm.lora_path = str(write_tiny_lora(tmp_path / "llama.gguf", architecture="llama"))
    r = diagnose(s, paths)
    assert any("'llama' architecture" in w and "runs without the adapter" in w for w in r["warnings"])
    s.llm.lora_enabled = False
    assert diagnose(s, paths)["lora"]["enabled"] is False
