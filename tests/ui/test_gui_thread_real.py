"""The real window path logs nothing from the GUI-thread guard (twin.threads): startup (the
conversations database opened, the list read, the last conversation reopened), opening a
conversation, sending a question to the real Gemma 3 270M and its answer, a rename. The guard
runs as the product runs it (not strict: it logs a warning per call site), with the GUI thread
marked by TwinApp itself; a deliberate GUI-thread read at the end shows that it would log."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from tests.ui.gui_thread import elsewhere
from twin.settings import Settings

pytestmark = pytest.mark.slow


def _seed(paths: Any) -> str:
    """An earlier session's conversation (the app is not running yet)."""
    from twin.core.conversation.store import ConversationStore

    store = ConversationStore(paths.conversations_db)
    try:
        cid = store.create("Holiday").id
        store.add_user_message(cid, "Where did we go with Kim?")
        answer = store.begin_assistant_message(cid, model="gemma")
        store.finish_assistant_message(answer, content="To the sea.", thinking="", citations=(), complete=True,
                                       finish_reason="stop")
        return cid
    finally:
        store.close()


def test_a_window_session_runs_no_sqlite_or_decryption_on_the_gui_thread(
        qapp: Any, qloop: Any, run_until: Any, paths: Any, ui_settings: Settings, memory_factory: Any,
        gemma_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
        thread_guard: None) -> None:
    from twin import threads
    from twin.ui.app_shell import TwinApp
    from twin.ui.ui_state import UiState

    monkeypatch.delenv("TWIN_STRICT_THREADS")  # as shipped: the guard reports, it does not raise
    threads.reset()  # unmark: TwinApp marks its GUI thread itself; every site may report again
    caplog.set_level(logging.INFO, logger="twin.threads")
    old = elsewhere(_seed, paths)
    state = UiState(paths.config_dir)
    state.last_conversation = old
    state.sync()
    s = ui_settings
    s.llm.model_path = str(gemma_path)
    s.llm.n_ctx = 2048
    s.llm.n_threads = 1
    s.llm.cpu_repack = False  # the installed wheel's repacked kernels SIGILL on some CPUs
    s.chat.max_answer_tokens = 16
    s.chat.temperature = 0.0
    app = TwinApp(qapp, paths, s, memory_factory=memory_factory, watch=False, hotkey=False, first_run=False)
    app.start()
    w, pane = app.window, app.window.pane
    try:
        run_until(lambda: w.conversations.settled and not pane.loading, 30, "the list and the last conversation")
        assert w.conversations.ids() == [old] and pane.conversation_id == old
        assert [b.text for b in pane.view.bubbles()] == ["Where did we go with Kim?", "To the sea."]
        run_until(lambda: app.controller.model.is_ready and app.controller.memory.is_ready
                  and not app.controller.memory.busy, 120, "the model and the index")
        pane.new_chat()
        pane.open_conversation(old)  # opened from the list
        run_until(lambda: not pane.loading, 30, "the conversation")
        pane.send("What did we have for dinner at the pier?")
        turn = pane.turn
        assert turn is not None
        run_until(lambda: turn.is_finished and pane.turn is None, 120, "the answer")
        assert not turn.error and len(pane.view.bubbles()) == 4
        app.controller.rename(old, "Holiday at the sea")
        run_until(lambda: w.conversations.settled and w.conversations.list.item(0).text() == "Holiday at the sea",
                  30, "the rename")
        reports = [r.getMessage() for r in caplog.records if r.name == "twin.threads"]
        assert reports == []
        # the guard was live all along: the same read on the GUI thread is reported
        app.controller.conversations.list_conversations()
        reports = [r.getMessage() for r in caplog.records if r.name == "twin.threads"]
        assert len(reports) == 1 and "conversations database on the GUI thread" in reports[0]
    finally:
        qloop.run_until_complete(app.aclose())
