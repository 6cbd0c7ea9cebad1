"""Composer: where the user types. Enter sends, Shift+Enter starts a new line, Esc stops.

Above the text box, a chip picks which memories the chat uses (:class:`ScopeChip`). It
also holds documents attached to the next question (dropped while typing: "summarize
this"), shown as removable chips, and an "editing" state for edit-and-resend.

Signals:
    submitted(str): the text to send (attachments are fetched with :meth:`take_attachments`).
    stop_requested(): Esc or the Stop button while an answer streams.
    cancel_edit(): the user left edit mode.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from twin.ui.scope_chip import ScopeChip


@dataclass(frozen=True)
class Attachment:
    """A dropped document's text, attached to the next question only."""

    name: str
    text: str


class ComposerEdit(QPlainTextEdit):
    """The text box: Enter → submit, Shift+Enter → newline, Esc → stop."""

    submit = Signal()
    escape = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, mods = event.key(), event.modifiers()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (mods & Qt.KeyboardModifier.ShiftModifier):
            self.submit.emit()
            return
        if key == Qt.Key.Key_Escape:
            self.escape.emit()
            return
        super().keyPressEvent(event)


class Composer(QFrame):
    submitted = Signal(str)
    stop_requested = Signal()
    cancel_edit = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("Composer")
        self.attachments: list[Attachment] = []
        self.editing_id: int | None = None
        self._busy = False
        outer = QVBoxLayout(self)
        outer.setContentsMargins(10, 6, 10, 6)
        outer.setSpacing(4)
        self.edit_banner = QLabel(objectName="Muted")
        self.edit_banner.hide()
        outer.addWidget(self.edit_banner)
        top = QHBoxLayout()
        self.scope = ScopeChip()  # which memories this chat uses
        top.addWidget(self.scope)
        top.addStretch(1)
        outer.addLayout(top)
        self.chips = QHBoxLayout()
        self.chips.setSpacing(6)
        self.chips.addStretch(1)
        outer.addLayout(self.chips)
        row = QHBoxLayout()
        self.edit = ComposerEdit()
        self.edit.setPlaceholderText(self.tr("Ask your twin…  (Enter sends · Shift+Enter new line · drop a file to attach)"))
        self.edit.setTabChangesFocus(True)
        self.edit.setFixedHeight(64)
        self.edit.submit.connect(self._submit)
        self.edit.escape.connect(self._escape)
        row.addWidget(self.edit, 1)
        side = QVBoxLayout()
        self.send = QPushButton(self.tr("Send"), objectName="SendButton")
        self.send.setCursor(Qt.CursorShape.PointingHandCursor)
        self.send.clicked.connect(self._button)
        self.think = QCheckBox(self.tr("Think"))
        self.think.setToolTip(self.tr("Let a reasoning model (Qwen3) think before answering: slower, sometimes better"))
        side.addWidget(self.send)
        side.addWidget(self.think)
        row.addLayout(side)
        outer.addLayout(row)

    # -- state ------------------------------------------------------------------------------

    def text(self) -> str:
        return self.edit.toPlainText()

    def set_busy(self, busy: bool) -> None:
        """While an answer streams the button stops it (Enter still sends a new question)."""
        self._busy = busy
        self.send.setText(self.tr("Stop") if busy else self.tr("Send"))
        self.send.setObjectName("StopButton" if busy else "SendButton")
        self.send.style().unpolish(self.send)
        self.send.style().polish(self.send)

    def begin_edit(self, message_id: int, text: str) -> None:
        self.editing_id = message_id
        self.edit.setPlainText(text)
        self.edit_banner.setText(self.tr("Editing a question: sending replaces it and everything after it (Esc cancels)"))
        self.edit_banner.show()
        self.edit.setFocus()

    def end_edit(self) -> None:
        self.editing_id = None
        self.edit_banner.hide()

    # -- attachments ------------------------------------------------------------------------

    def attach(self, attachment: Attachment) -> None:
        self.attachments.append(attachment)
        chip = QToolButton(text=f"📎 {attachment.name}  ✕", objectName="BubbleAction")
        chip.setToolTip(self.tr("%Ln character(s); attached to the next question only. Click to remove.", "",
                                 len(attachment.text)))
        chip.clicked.connect(lambda _=False, a=attachment, c=chip: self._detach(a, c))
        self.chips.insertWidget(self.chips.count() - 1, chip)

    def _detach(self, attachment: Attachment, chip: QToolButton) -> None:
        if attachment in self.attachments:
            self.attachments.remove(attachment)
        chip.deleteLater()

    def take_attachments(self) -> list[Attachment]:
        taken, self.attachments = self.attachments, []
        for i in reversed(range(self.chips.count() - 1)):
            item = self.chips.itemAt(i)
            if item is not None and item.widget() is not None:
                item.widget().deleteLater()
        return taken

    # -- actions ----------------------------------------------------------------------------

    def _submit(self) -> None:
        text = self.text().strip()
        if not text and not self.attachments:
            return
        self.edit.clear()
        self.submitted.emit(text)

    def _button(self) -> None:
        if self._busy:
            self.stop_requested.emit()
        else:
            self._submit()

    def _escape(self) -> None:
        if self.editing_id is not None:
            self.end_edit()
            self.edit.clear()
            self.cancel_edit.emit()
        elif self._busy:
            self.stop_requested.emit()
