"""Finding, describing and (refusing to) download GGUF files; no network, no native code."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.app import model_files as mf
from twin.errors import KnownError

pytest.importorskip("gguf")


def write_gguf(path: Path, name: str = "Tiny-Instruct", template: bool = True) -> Path:
    import gguf
    import numpy as np

    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name(name)
    w.add_block_count(2)
    w.add_context_length(4096)
    w.add_embedding_length(64)
    w.add_head_count(4)
    w.add_head_count_kv(2)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0)
    if template:
        w.add_chat_template("{% for m in messages %}{{ m.content }}{% endfor %}")
    w.add_tensor("token_embd.weight", np.zeros((8, 64), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def test_find_and_describe(tmp_path: Path) -> None:
    write_gguf(tmp_path / "a.gguf")
    (tmp_path / "sub").mkdir()
    write_gguf(tmp_path / "sub" / "Tiny-Base.gguf", name="Tiny Base", template=False)
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "partial.gguf").write_bytes(b"GGUF")
    (tmp_path / "m-00002-of-00002.gguf").write_bytes(b"")
    found = mf.find_models([tmp_path, tmp_path / "a.gguf"])
    assert [f.name for f in found] == ["a.gguf", "Tiny-Base.gguf"]
    a, b = (mf.describe(f) for f in found)
    assert (a.kind, a.chat_template, a.quant, a.n_layer, a.context_length) == ("instruct", True, "Q8_0", 2, 4096)
    assert a.kv_bytes_per_token == 2 * 2 * 2 * 16 * 2  # layers x KV heads x (k + v) x head dim x f16
    assert b.kind == "base" and not b.error
    broken = mf.describe(tmp_path / ".cache" / "partial.gguf")
    assert broken.error and "truncated" in broken.error


def test_pull_refuses_before_any_network(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(KnownError, match="repository id"):
        mf.pull_gguf("no repo", "x.gguf", tmp_path)
    with pytest.raises(KnownError, match="GGUF file name"):
        mf.pull_gguf("org/repo", "../x.gguf", tmp_path)
    monkeypatch.setenv(mf.OFFLINE_ENV, "1")
    with pytest.raises(mf.DownloadRefused, match="TWIN_OFFLINE"):
        mf.pull_gguf("org/repo", "x.gguf", tmp_path)
    # a complete copy already there is used as is (offline or not)
    write_gguf(tmp_path / "x.gguf")
    assert mf.pull_gguf("org/repo", "x.gguf", tmp_path) == tmp_path / "x.gguf"
