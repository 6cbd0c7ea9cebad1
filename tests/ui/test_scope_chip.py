"""The scope chip above the composer: picking a scope and "keep as memory", stored per
conversation, and used by the next answer (FakeEngine, real memory, real SQLite)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QDialog, QFileDialog

from tests.ui.gui_thread import stored
from twin.core.llm.fake import FakeEngine
from twin.ui import scope_chip
from twin.ui.composer import Composer
from twin.ui.i18n import date_text
from twin.ui.scope_chip import DateRangeDialog, ScopeChip


def test_the_chip_picks_scopes_and_the_memory_flag(qtbot: Any, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    composer = Composer()
    qtbot.addWidget(composer)
    chip = composer.scope
    assert isinstance(chip, ScopeChip) and "All memory" in chip.text()
    seen: list[tuple[str, bool]] = []
    chip.changed.connect(lambda s, m: seen.append((s, m)))
    chip.none_action.trigger()
    assert seen[-1] == ("none", False) and "No memory" in chip.text()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path))
    chip.folder_action.trigger()
    assert seen[-1] == (f"folder:{tmp_path}", False) and f"{tmp_path.name}/" in chip.text()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: ("", ""))  # cancelled: nothing changes
    chip.document_action.trigger()
    assert len(seen) == 2

    def accept_dates(self: DateRangeDialog) -> int:
        self.since.setDate(QDate(2019, 6, 30))
        self.until.setDate(QDate(2019, 1, 1))  # backwards: put in order
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(scope_chip.DateRangeDialog, "exec", accept_dates)
    chip.dates_action.trigger()
    assert seen[-1] == ("dates:2019-01-01..2019-06-30", False)
    assert f"{date_text(dt.date(2019, 1, 1))} – {date_text(dt.date(2019, 6, 30))}" in chip.text()
    chip.memory_action.trigger()
    assert seen[-1] == ("dates:2019-01-01..2019-06-30", True) and "kept as memory" in chip.text()
    chip.all_action.trigger()
    assert seen[-1] == ("", True)
    # showing a stored conversation does not signal; a bad stored value shows "all"
    n = len(seen)
    chip.set_state("doc:/notes/trip.md", False)
    assert "trip.md" in chip.text() and not chip.memory_action.isChecked() and len(seen) == n
    chip.set_state("nonsense:x", True)
    assert chip.stored() == "" and chip.memory_action.isChecked() and len(seen) == n


def send(qtbot: Any, window: Any, text: str) -> None:
    edit = window.pane.composer.edit
    edit.setPlainText(text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


def test_the_window_stores_the_scope_with_the_conversation(shell: Any, qtbot: Any, run_until: Any,
                                                          fake_engine: FakeEngine) -> None:
    w = shell.window
    store = stored(shell)  # read off the GUI thread
    chip = w.pane.composer.scope
    chip.none_action.trigger()  # a new chat without memory
    fake_engine.enqueue("Just me, no notes.")
    send(qtbot, w, "Where did we go with Kim?")
    run_until(lambda: w.pane.turn is None and w.pane.view.last_answer() is not None, what="the answer")
    cid = w.pane.conversation_id
    conv = store.get(cid)
    assert conv.scope == "none" and not conv.as_memory
    assert w.pane.view.last_answer().citations == ()  # no memory was searched
    chip.memory_action.trigger()  # now kept as memory, and back to all memory
    chip.all_action.trigger()
    run_until(lambda: (store.get(cid).scope, store.get(cid).as_memory) == ("", True), what="the scope stored")
    fake_engine.enqueue("We went to the sea [1].")
    send(qtbot, w, "Where did we go with Kim?")
    run_until(lambda: w.pane.turn is None and len(store.messages(cid)) == 4, what="the second answer")
    assert store.messages(cid)[-1].citations  # all memory again: the diary is cited
    # opening another (new) chat and coming back shows the stored choice
    w.pane.new_chat()
    w.pane.open_conversation(cid)
    run_until(lambda: not w.pane.loading, what="the conversation")
    assert chip.memory_action.isChecked() and "All memory" in chip.text()


def test_the_chip_shows_an_icon_and_text_without_glyphs_a_font_may_lack(qtbot):
    """The chip's magnifier is an SVG icon (an emoji renders as a box where no emoji font is
    installed) and the menu arrow is the button's own, not a "▾" in the text."""
    chip = ScopeChip()
    qtbot.addWidget(chip)
    assert chip.text() == "All memory"
    assert not chip.icon().isNull() and not chip.icon().pixmap(14, 14).isNull()
