"""The main window over a scripted FakeEngine and a real memory: ask, stream, stop, regenerate, edit."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from tests.ui.gui_thread import stored
from twin.core.llm.fake import FakeEngine


def send(qtbot: Any, window: Any, text: str) -> None:
    edit = window.pane.composer.edit
    edit.setPlainText(text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


def test_window_shows_at_once_with_status(shell: Any) -> None:
    w = shell.window
    assert w.isVisible()
    assert "fake" in w.model_status.text() and "ctx 8,192" in w.model_status.text()
    assert not w.pane.banner.isVisible()


def test_a_message_streams_an_answer_with_sources(shell: Any, qtbot: Any, run_until: Any,
                                                  fake_engine: FakeEngine) -> None:
    fake_engine.enqueue("We went to the **sea** with Kim [1].")
    w = shell.window
    send(qtbot, w, "Where did we go with Kim?")
    run_until(lambda: w.pane.turn is None and w.pane.view.last_answer() is not None, what="the answer")
    answer = w.pane.view.last_answer()
    assert answer.text == "We went to the **sea** with Kim [1]."
    html = answer.body.toHtml()
    assert "cite:1" in html and "sea" in answer.body.toPlainText()
    assert answer.citations and any("2024-05-01.md" in c.path for c in answer.citations)
    # the sources panel follows the selected (new) answer, with the snippet the model saw
    cards = w.sources.cards
    assert cards and any("sea with Kim" in c.snippet.text() for c in cards)
    # the conversation is listed and selected
    assert w.pane.conversation_id in w.conversations.ids()
    # Shift+Enter is a newline, not a send
    edit = w.pane.composer.edit
    edit.setPlainText("line one")
    qtbot.keyClick(edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert "\n" in edit.toPlainText() and w.pane.turn is None


def test_stop_keeps_the_partial_answer(shell: Any, qtbot: Any, run_until: Any, fake_engine: FakeEngine) -> None:
    fake_engine.delay_s = 0.05
    fake_engine.enqueue([f"word{i} " for i in range(200)])
    w = shell.window
    send(qtbot, w, "Tell me a long story")
    run_until(lambda: "word5" in (w.pane._answer.text if w.pane._answer else ""), what="some tokens")
    assert w.pane.composer.send.text() == "Stop"
    qtbot.keyClick(w.pane.composer.edit, Qt.Key.Key_Escape)
    run_until(lambda: w.pane.turn is None, what="the stop")
    answer = w.pane.view.last_answer()
    assert 5 <= len(answer.text.split()) < 200
    assert "stopped" in answer.meta.text()
    last = stored(shell).messages(w.pane.conversation_id)[-1]
    assert not last.complete and last.finish_reason == "cancelled"
    assert w.pane.composer.send.text() == "Send"


def test_regenerate_replaces_the_last_answer(shell: Any, qtbot: Any, run_until: Any,
                                             fake_engine: FakeEngine) -> None:
    fake_engine.enqueue("First answer.", "Second answer.")
    w = shell.window
    send(qtbot, w, "What did we have for dinner at the pier?")
    run_until(lambda: w.pane.turn is None and w.pane.view.last_answer() is not None, what="first answer")
    old_cid = w.pane.conversation_id
    w.pane.view.last_answer().actions["Regenerate"].click()
    run_until(lambda: w.pane.turn is None and w.pane.view.last_answer().text == "Second answer.",
              what="regenerated answer")
    roles = [b.role for b in w.pane.view.bubbles()]
    assert roles == ["user", "assistant"]
    msgs = stored(shell).messages(w.pane.conversation_id)
    assert [m.content for m in msgs] == ["What did we have for dinner at the pier?", "Second answer."]
    assert w.pane.conversation_id != old_cid and old_cid not in w.conversations.ids()


def test_edit_and_resend(shell: Any, qtbot: Any, run_until: Any, fake_engine: FakeEngine) -> None:
    fake_engine.enqueue("About the sea.", "About chess.", "About chess again.")
    w = shell.window
    send(qtbot, w, "Tell me about the sea")
    run_until(lambda: w.pane.turn is None and w.pane.view.last_answer() is not None)
    send(qtbot, w, "And the rain?")
    run_until(lambda: w.pane.turn is None and len(w.pane.view.bubbles()) == 4)
    second_question = w.pane.view.bubbles()[2]
    second_question.actions["Edit"].click()
    assert w.pane.composer.editing_id == second_question.message_id
    assert w.pane.composer.text() == "And the rain?"
    send(qtbot, w, "And chess?")
    run_until(lambda: w.pane.turn is None and w.pane.view.last_answer().text == "About chess again.")
    msgs = stored(shell).messages(w.pane.conversation_id)
    assert [m.content for m in msgs] == ["Tell me about the sea", "About the sea.", "And chess?", "About chess again."]


def test_thinking_is_collapsed_and_expandable(shell: Any, qtbot: Any, run_until: Any,
                                              fake_engine: FakeEngine) -> None:
    fake_engine.enqueue(["<think>", "Kim, the sea, May.", "</think>", "The sea [1]."])
    w = shell.window
    send(qtbot, w, "Where?")
    run_until(lambda: w.pane.turn is None and w.pane.view.last_answer() is not None)
    answer = w.pane.view.last_answer()
    assert answer.text == "The sea [1]."
    assert answer.think_toggle.isVisible() and not answer.think_label.isVisible()
    answer.think_toggle.click()
    assert answer.think_label.isVisible() and "Kim, the sea" in answer.think_label.text()


def test_citation_opens_the_viewer_at_the_lines(shell: Any, qtbot: Any, run_until: Any,
                                                fake_engine: FakeEngine) -> None:
    fake_engine.enqueue("Chess in the rain [1].")
    w = shell.window
    send(qtbot, w, "When did we play chess?")
    run_until(lambda: w.pane.turn is None and w.pane.view.last_answer() is not None)
    answer = w.pane.view.last_answer()
    first = answer.citations[0]
    answer.citation_clicked.emit(first.n)
    run_until(lambda: w.viewer is not None and "Loading" not in w.viewer.editor.toPlainText(), what="the viewer")
    assert w.viewer.path == first.path
    lo, hi = w.viewer.visible_lines()
    assert lo <= first.start_line <= hi
    assert w.viewer.editor.extraSelections()


def test_keyboard_shortcuts(shell: Any, qtbot: Any, run_until: Any, fake_engine: FakeEngine) -> None:
    w = shell.window
    fake_engine.enqueue("Hello.")
    send(qtbot, w, "Hi")
    run_until(lambda: w.pane.turn is None and w.pane.conversation_id is not None)
    assert w.new_action.shortcut().toString() == "Ctrl+N"
    w.new_action.trigger()
    assert w.pane.conversation_id is None and not w.pane.view.bubbles()
    assert w.find_action.shortcut().toString() == "Ctrl+F"
    assert w.settings_action.shortcut().toString() == "Ctrl+,"
    w.settings_action.trigger()
    assert shell.settings_dialog is not None and shell.settings_dialog.isVisible()
    shell.settings_dialog.reject()


def test_last_conversation_reopens_and_geometry_is_remembered(shell: Any, qtbot: Any, run_until: Any,
                                                              fake_engine: FakeEngine, paths: Any) -> None:
    from twin.ui.ui_state import UiState

    fake_engine.enqueue("Remember me.")
    w = shell.window
    send(qtbot, w, "A question to remember")
    run_until(lambda: w.pane.turn is None and w.pane.conversation_id is not None)
    w.resize(1111, 777)
    w.save_layout()
    state = UiState(paths.config_dir)
    assert state.path.parent == paths.config_dir  # under TWIN_HOME, not ~/.config
    assert state.last_conversation == w.pane.conversation_id
    assert state.geometry() is not None
