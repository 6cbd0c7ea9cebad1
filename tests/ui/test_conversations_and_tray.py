"""Conversation list (new, rename, delete, search), tray menu and the quick-ask round trip."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from tests.ui.gui_thread import stored
from twin.core.llm.fake import FakeEngine


def ask(shell: Any, run_until: Any, text: str) -> str:
    w = shell.window
    w.pane.composer.edit.setPlainText(text)
    w.pane.composer.submitted.emit(w.pane.composer.text())
    run_until(lambda: w.pane.turn is None and w.pane.conversation_id is not None, what="an answer")
    return w.pane.conversation_id


def test_conversation_list_new_rename_delete_search(shell: Any, run_until: Any, fake_engine: FakeEngine) -> None:
    fake_engine.enqueue("About the sea.", "About books.")
    w = shell.window
    first = ask(shell, run_until, "Tell me about the sea")
    w.new_chat()
    second = ask(shell, run_until, "Which books did I read?")
    lst = w.conversations
    run_until(lambda: lst.settled and lst.ids() == [second, first], what="the list")  # newest first
    assert lst.list.currentItem().data(Qt.ItemDataRole.UserRole) == second

    def item(cid: str) -> Any:
        return next(lst.list.item(i) for i in range(lst.list.count()) if lst.list.item(i).data(Qt.ItemDataRole.UserRole) == cid)

    # rename inline
    item(first).setText("Holiday at the sea")
    run_until(lambda: item(first).text() == "Holiday at the sea" and lst.ids()[0] == first, what="the list refresh")
    assert stored(shell).get(first).title == "Holiday at the sea"

    # open the other conversation from the list
    lst._clicked(item(first))
    assert w.pane.conversation_id == first
    run_until(lambda: not w.pane.loading, what="the conversation")
    assert [b.text for b in w.pane.view.bubbles()] == ["Tell me about the sea", "About the sea."]

    # search finds it by a word said in it, not only by title
    lst.search.setText("books")
    lst.refresh()
    run_until(lambda: lst.settled, what="the search")
    assert lst.ids() == [second]
    lst.search.setText("")
    lst.refresh()
    run_until(lambda: lst.settled and len(lst.ids()) == 2, what="the whole list again")

    # delete (confirmed) the open conversation: the pane goes to a new chat
    lst.confirm = lambda title: title == "Holiday at the sea"
    lst.request_delete(first)
    run_until(lambda: first not in lst.ids(), what="the delete")
    assert w.pane.conversation_id is None
    assert [c.id for c in stored(shell).list_conversations()] == [second]

    # a refused confirmation deletes nothing
    lst.confirm = lambda title: False
    lst.request_delete(second)
    assert lst.ids() == [second]


def test_tray_menu_actions(shell: Any, run_until: Any) -> None:
    tray = shell.tray
    assert tray is not None
    actions = tray.actions()
    assert [a.text() for a in tray.menu.actions() if a.text()] == \
        ["Open twin", "Quick Ask…", "Pause indexing", "Quit"]
    shell.window.hide()
    actions["open"].trigger()
    assert shell.window.isVisible()
    actions["quick_ask"].trigger()
    assert shell.quick_ask.isVisible()
    shell.quick_ask.hide()
    actions["pause"].trigger()
    assert shell.controller.memory.paused and actions["pause"].text() == "Resume indexing"
    actions["pause"].trigger()
    assert not shell.controller.memory.paused and actions["pause"].text() == "Pause indexing"
    assert "fake" in tray.toolTip() and "Memory" in tray.toolTip()
    # the busy icon follows generation
    shell.controller.busy_changed.emit(True)
    assert tray.busy
    shell.controller.busy_changed.emit(False)
    actions["quit"].trigger()
    assert shell.quit_event.is_set()


def test_quick_ask_round_trip(shell: Any, qtbot: Any, run_until: Any, fake_engine: FakeEngine) -> None:
    fake_engine.enqueue("The sea, with Kim [1].", "It was cold.")
    popup = shell.quick_ask
    shell.show_quick_ask()
    assert popup.isVisible()
    qtbot.keyClicks(popup.input, "Where did we go?")
    qtbot.keyClick(popup.input, Qt.Key.Key_Return)
    run_until(lambda: popup.turn is not None and popup.turn.is_finished, what="the quick answer")
    assert popup.answer.text == "The sea, with Kim [1]."
    assert "Sources:" in popup.sources.text() and "2024-05-01.md" in popup.sources.text()
    cid = popup.conversation_id
    # a follow-up stays in the same conversation
    popup.input.setText("Was it warm?")
    popup.ask()
    run_until(lambda: popup.turn.is_finished, what="the follow-up")
    assert popup.conversation_id == cid
    assert len(stored(shell).messages(cid)) == 4
    # "open in main window" shows that conversation there
    popup.open_button.click()
    assert not popup.isVisible()
    assert shell.window.pane.conversation_id == cid
    # Esc closes
    shell.show_quick_ask()
    qtbot.keyClick(popup, Qt.Key.Key_Escape)
    assert not popup.isVisible()
    run_until(lambda: len(shell.window.pane.view.bubbles()) == 4, what="the conversation in the window")


def test_close_hides_to_tray_when_configured(shell: Any) -> None:
    w = shell.window
    w.tray_available = True
    shell.ui_state.close_to_tray = True
    w.close()
    assert not w.isVisible() and not shell.quit_event.is_set()
    w.bring_up()
    shell.ui_state.close_to_tray = False
    w.close()
    assert shell.quit_event.is_set()
