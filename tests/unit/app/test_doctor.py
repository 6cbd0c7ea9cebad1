"""twin doctor's arithmetic and advice, on Qwen3-30B-A3B Q6_K's real numbers (no model file)."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.app import doctor
from twin.app.model_files import ModelFile, kv_values_per_token, quant_name
from twin.core.llm.errors import CUDA_REINSTALL
from twin.core.llm.gguf_meta import GgufHeader
from twin.core.llm.hardware import Vram
from twin.paths import resolve_paths
from twin.settings import Settings

QWEN_META: dict[str, object] = {
    "general.architecture": "qwen3moe", "general.name": "Qwen3-30B-A3B", "general.file_type": 18,
    "qwen3moe.block_count": 48, "qwen3moe.embedding_length": 2048, "qwen3moe.attention.head_count": 32,
    "qwen3moe.attention.head_count_kv": 4, "qwen3moe.attention.key_length": 128,
    "qwen3moe.attention.value_length": 128, "qwen3moe.context_length": 40960,
}
QWEN_FILE = 25_088_000_000  # the Q6_K GGUF's size in bytes (23.36 GiB)
QWEN = ModelFile("/m/Qwen3-30B-A3B-Q6_K.gguf", "Qwen3-30B-A3B", "qwen3moe", "instruct", True, 40960, 48,
                 QWEN_FILE, "Q6_K", 96 * 1024)


def test_kv_cache_per_token_and_quant_from_the_header() -> None:
    header = GgufHeader("/m/x.gguf", 3, 0, QWEN_META, 0, QWEN_FILE)
    assert kv_values_per_token(header) * 2 == 96 * 1024  # f16: 96 KiB a token (shared/gpu/README.md)
    assert quant_name(header) == "Q6_K"
    no_type = GgufHeader("/m/Qwen3-8B-Q4_K_M.gguf", 3, 0, {"general.architecture": "qwen3"}, 0, 1)
    assert quant_name(no_type) == "Q4_K_M"  # from the file name


def test_offload_estimate_matches_the_h200_measurements() -> None:
    e = doctor.offload_estimate(QWEN_FILE, 48, 96 * 1024, 32768, vram_free=141 << 30)
    # measured: 25.5 "GB" in use at 8k and 30.7 at 32k (the README leaves GB or GiB open: both fit)
    assert e["fits"] and 30.0e9 < e["total_bytes"] < 34.0e9
    e8 = doctor.offload_estimate(QWEN_FILE, 48, 96 * 1024, 8192, None)
    assert e8["fits"] is None and 25.0e9 < e8["total_bytes"] < 28.0e9
    small = doctor.offload_estimate(QWEN_FILE, 48, 96 * 1024, 32768, vram_free=24 << 30)
    assert small["fits"] is False and 34 <= small["suggested_n_gpu_layers"] <= 42  # "about 40 of 49"
    assert doctor.offload_estimate(QWEN_FILE, 48, 96 * 1024, 32768, vram_free=32 << 30)["fits"]


@pytest.mark.parametrize("gpu_build", [False, True])
def test_advice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, gpu_build: bool) -> None:
    monkeypatch.setattr(doctor, "describe", lambda path: QWEN)
    monkeypatch.setattr(doctor.hardware, "query_vram", lambda: [Vram("NVIDIA GeForce RTX 4090", 24564, 500)])
    monkeypatch.setattr(doctor, "_llama_cpp", lambda: {"installed": True, "version": "0.3.36",
                                                       "gpu_offload": gpu_build, "error": None})
    settings = Settings()
    settings.llm.model_path = QWEN.path
    settings.llm.n_gpu_layers = -1  # a number: the advice names one
    report = doctor.diagnose(settings, resolve_paths({"TWIN_HOME": str(tmp_path)}))
    text = "\n".join(report["warnings"])
    assert (CUDA_REINSTALL in text) is not gpu_build
    assert "RTX 4090 is too small for a full offload" in text
    k = report["memory_estimate"]["suggested_n_gpu_layers"]
    assert f"llm.n_gpu_layers = {k} ({k} of 48 layers" in text and 30 <= k <= 42
    assert report["model"]["quant"] == "Q6_K" and report["index"]["rows"] is None and not report["ok"]


def test_auto_says_what_it_chose_and_why(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """n_gpu_layers = "auto" (the default) on a header-only Qwen3-30B-A3B Q6_K and a 24 GB card."""
    from tests.fixtures.synthetic_layout import QWEN3_30B_A3B, write_layout
    from twin.cli.doctor_commands import print_report
    from twin.core.llm.fit import GIB, MIB, Memory

    path = write_layout(tmp_path / "Qwen3-30B-A3B-Q6_K.gguf", QWEN3_30B_A3B, "Q6_K")
    monkeypatch.setattr(doctor.hardware, "query_vram", lambda: [Vram("NVIDIA GeForce RTX 4090", 24564, 400)])
    monkeypatch.setattr(doctor, "probe_memory", lambda gpu=True: Memory(
        vram_free=24164 * MIB, vram_total=24564 * MIB, gpu_name="NVIDIA GeForce RTX 4090", ram_total=64 * GIB))
    monkeypatch.setattr(doctor, "_llama_cpp", lambda: {"installed": True, "version": "0.3.36",
                                                       "gpu_offload": True, "error": None})
    settings = Settings()
    settings.llm.model_path = str(path)
    report = doctor.diagnose(settings, resolve_paths({"TWIN_HOME": str(tmp_path)}))
    g = report["gpu_layers"]
    assert g["setting"] == "auto" and g["verdict"] == "partial" and 30 <= g["chosen"] <= 44 and g["total"] == 49
    assert report["offload"]["requested"] == g["chosen"]
    assert f"{g['chosen']} of 49 layers on NVIDIA GeForce RTX 4090" in g["reason"]
    assert any("'auto' puts" in w and "too small for a full offload" in w for w in report["warnings"])
    print_report(report)  # the CLI prints the choice and the reason
    settings.llm.n_gpu_layers = 0
    assert doctor.diagnose(settings, resolve_paths({"TWIN_HOME": str(tmp_path)}))["gpu_layers"]["chosen"] == 0
    settings.llm.model_path = str(tmp_path / "missing.gguf")
    assert "error" in doctor.auto_gpu_layers(settings, True)


def test_doctor_cli_prints_the_gpu_layers_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from tests.fixtures.synthetic_layout import QWEN3_8B, write_layout
    from twin.cli.doctor_commands import print_report
    from twin.core.llm.fit import GIB, Memory

    path = write_layout(tmp_path / "Qwen3-8B-Q8_0.gguf", QWEN3_8B, "Q8_0")
    monkeypatch.setattr(doctor.hardware, "query_vram", lambda: [])
    monkeypatch.setattr(doctor, "probe_memory", lambda gpu=True: Memory(ram_total=32 * GIB))
    monkeypatch.setattr(doctor, "_llama_cpp", lambda: {"installed": True, "version": "0.3.36",
                                                       "gpu_offload": False, "error": None})
    settings = Settings()
    settings.llm.model_path = str(path)
    print_report(doctor.diagnose(settings, resolve_paths({"TWIN_HOME": str(tmp_path)})))
    out = capsys.readouterr().out
    assert "gpu layers    0 of 37 (auto): this llama.cpp build has no GPU support" in out
