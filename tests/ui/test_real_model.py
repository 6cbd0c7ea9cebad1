"""The window over the real Gemma 3 270M GGUF and the real index: load in the background, stream, cite."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from tests.ui.gui_thread import elsewhere
from twin.settings import Settings

pytestmark = pytest.mark.slow


def test_real_model_streams_an_answer_with_sources(qapp: Any, qloop: Any, qtbot: Any, run_until: Any, paths: Any,
                                                   ui_settings: Settings, memory_factory: Any, gemma_path: Path,
                                                   thread_guard: None) -> None:
    from twin.ui.app_shell import TwinApp

    s = ui_settings
    s.llm.model_path = str(gemma_path)
    s.llm.n_ctx = 2048
    s.llm.n_threads = 1
    s.llm.cpu_repack = False  # the installed wheel's repacked kernels SIGILL on some CPUs
    s.chat.max_answer_tokens = 24
    s.chat.temperature = 0.0
    app = TwinApp(qapp, paths, s, memory_factory=memory_factory, watch=False, hotkey=False, first_run=False)
    app.start()
    w = app.window
    assert w.isVisible()  # up before the model is loaded
    progress: list[float] = []
    app.controller.model.progress.connect(progress.append)
    run_until(lambda: app.controller.model.is_ready, 120, "the model to load")
    assert progress and progress[-1] == 1.0
    status = w.model_status.text()
    assert "CPU" in status and "ctx 2,048" in status
    run_until(lambda: app.controller.memory.is_ready and not app.controller.memory.busy, 60, "the index")

    tokens: list[str] = []
    edit = w.pane.composer.edit
    edit.setPlainText("What did we have for dinner at the pier?")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    turn = w.pane.turn
    turn.token.connect(tokens.append)
    run_until(lambda: turn.is_finished, 120, "the answer")
    assert turn.result is not None and not turn.error
    assert len(tokens) >= 3  # streamed piece by piece
    answer = w.pane.view.last_answer()
    assert answer.text == turn.result.answer and answer.text.strip()
    paths_cited = [c.path for c in answer.citations]
    assert any(p.endswith("2024-05-01.md") for p in paths_cited)
    assert w.sources.cards and "grilled fish" in " ".join(c.snippet.text() for c in w.sources.cards)
    messages = elsewhere(lambda: app.controller.conversations.messages(w.pane.conversation_id))
    assert messages[-1].model and messages[-1].complete
    qloop.run_until_complete(app.aclose())
