"""The "Remember this?" bar: a stated fact is offered under the answer; Remember writes the
note into the memories folder; Dismiss is remembered for the conversation; questions and
other conversations behave (real window, FakeEngine, real memory)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from twin.core.llm.fake import FakeEngine
from twin.ui.memory_offer_bar import MemoryOfferBar


def send(qtbot: Any, window: Any, text: str) -> None:
    edit = window.pane.composer.edit
    edit.setPlainText(text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


def answered(window: Any) -> bool:
    return window.pane.turn is None and window.pane.view.last_answer() is not None


def test_offer_remember_and_dismiss(shell: Any, qtbot: Any, run_until: Any, fake_engine: FakeEngine) -> None:
    w, memories = shell.window, shell.controller.paths.memories_dir
    bar = w.pane.offer_bar
    fake_engine.enqueue("Nice!", "Noted.", "Ok.", "Hm.")
    send(qtbot, w, "By the way, my sister's name is Anna. I live in Berlin.")
    run_until(lambda: answered(w) and bar.isVisible(), what="the offer")
    assert bar.current == "My sister's name is Anna." and "(1 more)" in bar.label.text()
    assert w.pane.composer.edit.isEnabled()  # non-modal: typing goes on
    qtbot.mouseClick(bar.remember_button, Qt.MouseButton.LeftButton)
    assert bar.current == "I live in Berlin." and bar.isVisible()
    run_until(lambda: len(list(memories.glob("*.md"))) == 1, what="the note")
    (note,) = memories.glob("*.md")
    text = note.read_text(encoding="utf-8")
    assert text.endswith("---\nMy sister's name is Anna.\n") and f"conversation: {w.pane.conversation_id}" in text
    qtbot.mouseClick(bar.dismiss_button, Qt.MouseButton.LeftButton)
    assert not bar.isVisible() and bar.current is None
    # said again in this conversation: the note exists, the other was dismissed: no offer
    send(qtbot, w, "My sister's name is Anna. I live in Berlin.")
    run_until(lambda: answered(w) and len(fake_engine.requests) == 2, what="the second answer")
    assert not bar.isVisible()
    # a new conversation: the dismissed one may be offered again, the remembered one never
    w.pane.new_chat()
    send(qtbot, w, "I live in Berlin.")
    run_until(lambda: answered(w) and bar.isVisible(), what="the offer in a new chat")
    assert bar.current == "I live in Berlin."
    w.pane.new_chat()  # switching conversations clears it
    assert not bar.isVisible() and len(list(memories.glob("*.md"))) == 1


def test_offer_bar_queue(qtbot: Any) -> None:
    bar = MemoryOfferBar()
    qtbot.addWidget(bar)
    got: list[tuple[str, str]] = []
    bar.remember_requested.connect(lambda s: got.append(("remember", s)))
    bar.dismissed.connect(lambda s: got.append(("dismiss", s)))
    bar.offer(["A.", "B."])
    bar.offer(["B.", "C."])
    assert bar.current == "A." and "(2 more)" in bar.label.text()
    bar.remember_button.click()
    bar.dismiss_button.click()
    bar.remember_button.click()
    assert got == [("remember", "A."), ("dismiss", "B."), ("remember", "C.")] and bar.current is None
    assert bar.isHidden()


def test_on_this_day_in_the_memory_panel(shell: Any, qtbot: Any, run_until: Any, qloop: Any) -> None:
    import datetime as dt

    panel = shell.window.memory_panel
    got: list[Any] = []
    panel.hit_activated.connect(got.append)
    qloop.run_until_complete(panel.run_on_this_day(dt.date(2026, 5, 1)))
    items = [panel.results.item(i) for i in range(panel.results.count())]
    assert len(items) == 1 and items[0].text().startswith("1 May 2024 · 2024-05-01.md\n")  # the date in the locale
    assert "sea with Kim" in items[0].text() and "grilled fish" in items[0].data(Qt.ItemDataRole.UserRole).text
    panel.results.itemClicked.emit(items[0])
    assert got and got[0].path.endswith("2024-05-01.md") and got[0].date == dt.date(2024, 5, 1)
    qloop.run_until_complete(panel.run_on_this_day(dt.date(2026, 7, 14)))
    assert panel.results.item(0).text() == "Nothing from 14 July in earlier years."
    panel.on_this_day_button.click()  # today
    today = dt.date.today()
    run_until(lambda: panel.results.count() == 1 and not panel.results.item(0).text().startswith("On this day"),
              what="today's listing")
    if (today.month, today.day) not in ((5, 1), (5, 2)):
        assert panel.results.item(0).text() == f"Nothing from {today.day} {today.strftime('%B')} in earlier years."
