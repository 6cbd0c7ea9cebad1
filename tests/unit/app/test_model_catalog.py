"""The model catalog (resources/models/catalog.toml): it loads, its sizes agree with the shapes,
and the fit and recommendation follow the card."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.app.model_catalog import CatalogError, assess, catalog_file, load_catalog, parse_catalog
from twin.core.llm.fit import GIB, MIB, Memory


def card(total_mib: int) -> Memory:
    return Memory(vram_free=(total_mib - 400) * MIB, vram_total=total_mib * MIB, gpu_name="card", ram_total=64 * GIB)


def test_the_shipped_catalog_loads_and_covers_the_issue() -> None:
    c = load_catalog()
    assert catalog_file().name == "catalog.toml"
    ids = {m.id for m in c.models}
    for quant in ("q4_k_m", "q5_k_m", "q6_k", "q8_0"):
        assert f"qwen3-30b-a3b-instruct-2507-{quant}" in ids and f"qwen3-30b-a3b-base-{quant}" in ids
    assert {"qwen3-8b-q4_k_m", "qwen3-4b-q4_k_m", "qwen3-1.7b-q8_0"} <= ids
    assert {e.id for e in c.embedders} >= {"intfloat/multilingual-e5-base", "BAAI/bge-m3"}
    for m in c.models:
        assert m.repo.count("/") == 1 and all(f.endswith(".gguf") for f in m.files)
        assert m.quant.replace("_", "").lower() in m.first_file.replace("_", "").lower()
        # the published size is what the shapes give at the quant's bits per weight (±12 %)
        bpw = {"Q4_K_M": 4.85, "Q5_K_M": 5.7, "Q6_K": 6.56, "Q8_0": 8.5}[m.quant]
        expected = m.family.params * bpw / 8
        assert abs(m.size - expected) / expected < 0.12, (m.id, m.size, expected)
    assert c.find("Qwen3-8B-Q4_K_M.gguf") is c.get("qwen3-8b-q4_k_m")


@pytest.mark.parametrize("total_mib,expected", [
    (24564, "qwen3-30b-a3b-instruct-2507-q4_k_m"),  # 24 GB: the 30B at Q4_K_M fits whole
    (49140, "qwen3-30b-a3b-instruct-2507-q8_0"),  # 48 GB: the best quant
    (97887, "qwen3-30b-a3b-instruct-2507-q8_0"),
    (12288, "qwen3-8b-q4_k_m"),  # 12 GB: the 8B whole (Q8_0 + a 32k f16 cache: 14 GB) beats the 30B in part
])
def test_recommendation_follows_the_card(total_mib: int, expected: str) -> None:
    found = assess(load_catalog(), card(total_mib), n_ctx=32768)
    rec = [a for a in found if a.recommended]
    assert len(rec) == 1 and rec[0].model.id == expected and rec[0].fit.verdict == "gpu"
    q6 = next(a for a in found if a.model.id == "qwen3-30b-a3b-instruct-2507-q6_k")
    assert q6.fit.verdict == ("partial" if total_mib < 30000 else "gpu")


def test_without_a_gpu_the_fast_one_and_nothing_too_big() -> None:
    found = assess(load_catalog(), Memory(ram_total=64 * GIB), n_ctx=8192)
    rec = next(a for a in found if a.recommended)
    assert rec.model.id == "qwen3-30b-a3b-instruct-2507-q4_k_m" and rec.fit.verdict == "cpu"
    small = assess(load_catalog(), Memory(ram_total=8 * GIB), n_ctx=8192)
    rec = next(a for a in small if a.recommended)
    assert rec.model.family.id in ("qwen3-4b", "qwen3-1_7b") and rec.fit.fits
    assert all(not a.fit.fits for a in small if a.model.family.id.startswith("qwen3-30b"))


def test_a_broken_catalog_is_a_clear_error(tmp_path: Path) -> None:
    for text, message in (("not toml [", "not valid TOML"),
                          ('[[models]]\nid = "x"\nfamily = "nope"\n', "unknown family"),
                          ("[families.f]\nn_layer = 2\n", "lacks")):
        with pytest.raises(CatalogError, match=message):
            parse_catalog(text)
    with pytest.raises(CatalogError, match="cannot be read"):
        load_catalog(tmp_path / "missing.toml")


def test_a_split_model_is_listed_whole() -> None:
    text = load_catalog().families and catalog_file().read_text()
    text += '''
[[models]]
id = "split-q8"
family = "qwen3-30b-a3b"
kind = "instruct"
quant = "Q8_0"
repo = "someone/Qwen3-30B-A3B-GGUF"
files = ["Q8_0/Qwen3-30B-A3B-Q8_0-00001-of-00002.gguf", "Q8_0/Qwen3-30B-A3B-Q8_0-00002-of-00002.gguf"]
size = 32_500_000_000
'''
    m = parse_catalog(text).get("split-q8")
    assert m is not None and len(m.files) == 2 and m.layout().file_bytes == 32_500_000_000
