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
    report = doctor.diagnose(settings, resolve_paths({"TWIN_HOME": str(tmp_path)}))
    text = "\n".join(report["warnings"])
    assert (CUDA_REINSTALL in text) is not gpu_build
    assert "RTX 4090 is too small for a full offload" in text
    k = report["memory_estimate"]["suggested_n_gpu_layers"]
    assert f"llm.n_gpu_layers = {k} ({k} of 48 layers" in text and 30 <= k <= 42
    assert report["model"]["quant"] == "Q6_K" and report["index"]["rows"] is None and not report["ok"]
