"""MemoryOfferBar: a small, non-modal "Remember this?" bar under the answer.

When the user states a fact about themselves ("my sister's name is Anna"), the turn ends
with offers (``TurnDone.offers``); the bar shows them one at a time with *Remember* and
*Dismiss*. It never blocks typing; switching conversations clears it.

Signals:
    remember_requested(str): the user accepted this statement.
    dismissed(str): the user declined it (not offered again in this conversation).
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget


class MemoryOfferBar(QFrame):
    remember_requested = Signal(str)
    dismissed = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, objectName="SourceCard")
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 8, 6)
        self.label = QLabel(wordWrap=True)
        self.remember_button = QPushButton(self.tr("Remember"), objectName="SendButton")
        self.remember_button.setToolTip(self.tr("Save it as a note in twin's memories folder (you can edit or delete it there)"))
        self.dismiss_button = QPushButton(self.tr("Dismiss"))
        self.remember_button.clicked.connect(self._remember)
        self.dismiss_button.clicked.connect(self._dismiss)
        row.addWidget(self.label, 1)
        row.addWidget(self.remember_button)
        row.addWidget(self.dismiss_button)
        self._queue: list[str] = []
        self.hide()

    @property
    def current(self) -> str | None:
        """The statement shown now, if any."""
        return self._queue[0] if self._queue else None

    def offer(self, statements: Iterable[str]) -> None:
        """Queue statements (duplicates ignored) and show the first."""
        for s in statements:
            if s not in self._queue:
                self._queue.append(s)
        self._show_next()

    def clear(self) -> None:
        self._queue.clear()
        self.hide()

    def _show_next(self) -> None:
        if not self._queue:
            self.hide()
            return
        more = "  " + self.tr("(%n more)", "", len(self._queue) - 1) if len(self._queue) > 1 else ""
        self.label.setText(self.tr("Remember this? “{statement}”").format(statement=self._queue[0]) + more)
        self.show()

    def _remember(self) -> None:
        if self._queue:
            self.remember_requested.emit(self._queue.pop(0))
        self._show_next()

    def _dismiss(self) -> None:
        if self._queue:
            self.dismissed.emit(self._queue.pop(0))
        self._show_next()
