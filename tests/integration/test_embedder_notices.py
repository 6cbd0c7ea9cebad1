"""sentence-transformers' own "`cache_dir` argument is deprecated" notice is not printed when
twin loads a model (it was, on every CLI start), while the library itself still emits it for
the same load: the real MiniLM, in a hub-style cache folder of a tmp dir, loaded by name."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

NOTICE = "The Transformer `cache_dir` argument is deprecated"


def hub_cache(root: Path, minilm_path: str) -> Path:
    """A hub cache holding MiniLM as a plain transformers model (no modules.json): the load
    path on which sentence-transformers passes ``cache_dir`` to its Transformer module."""
    snap = root / "models--acme--plain-minilm" / "snapshots" / ("0" * 40)
    snap.mkdir(parents=True)
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "vocab.txt",
                 "special_tokens_map.json"):
        (snap / name).symlink_to(Path(minilm_path) / name)
    (root / "models--acme--plain-minilm" / "refs").mkdir()
    (root / "models--acme--plain-minilm" / "refs" / "main").write_text("0" * 40)
    return root


def forget_once_cache() -> None:
    """transformers' ``warning_once`` remembers what it said; clear it so each load may speak."""
    from transformers.utils import logging as tlog

    tlog.warning_once.cache_clear()


def test_the_cache_dir_notice_is_filtered_at_the_embedder(tmp_path: Path, minilm_path: str,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    from sentence_transformers import SentenceTransformer

    from twin.core.memory.embedder import SentenceTransformerEmbedder

    cache = hub_cache(tmp_path / "hub", minilm_path)
    caplog.set_level(logging.WARNING)

    forget_once_cache()  # the control: the library says it for this very load
    SentenceTransformer("acme/plain-minilm", device="cpu", local_files_only=True, cache_folder=str(cache))
    assert NOTICE in caplog.text
    caplog.clear()

    forget_once_cache()
    emb = SentenceTransformerEmbedder("acme/plain-minilm", device="cpu", cache_folder=cache)
    assert emb.dim == 384 and emb.embed_query("fire in the city").shape == (384,)
    assert NOTICE not in caplog.text
    # the filter is gone after the load: other sentence-transformers records still get through
    logging.getLogger("sentence_transformers.util.decorators").warning("another notice")
    assert "another notice" in caplog.text
    assert not logging.getLogger("sentence_transformers.util.decorators").filters
