"""ScopeChip: the small chip above the composer that says which memories this chat uses.

A menu picks the scope: all memory, no memory, one folder, one document or a date range
(stored with the conversation, see :class:`twin.core.types.Scope`), and whether this chat is
kept as memory (later chats can find and cite it).

Signals:
    changed(str, bool): the scope in its stored form ("" = all memory) and "keep as memory".
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate, QSize, Qt, Signal
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import (
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QMenu,
    QToolButton,
    QWidget,
)

from twin.assets import resource_path
from twin.core.types import Scope
from twin.ui.i18n import date_text


class DateRangeDialog(QDialog):
    """Two dates, first and last day (inclusive)."""

    def __init__(self, since: dt.date | None, until: dt.date | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Memories from a date range"))
        form = QFormLayout(self)
        today = dt.date.today()
        self.since = QDateEdit(calendarPopup=True, displayFormat="yyyy-MM-dd")
        self.until = QDateEdit(calendarPopup=True, displayFormat="yyyy-MM-dd")
        s, u = since or today.replace(month=1, day=1), until or today
        self.since.setDate(QDate(s.year, s.month, s.day))
        self.until.setDate(QDate(u.year, u.month, u.day))
        form.addRow(self.tr("From"), self.since)
        form.addRow(self.tr("To"), self.until)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def scope(self) -> Scope:
        a, b = self.since.date().toPython(), self.until.date().toPython()
        return Scope.dates(min(a, b), max(a, b))


class ScopeChip(QToolButton):
    changed = Signal(str, bool)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("BubbleAction")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)  # its own menu arrow
        icon = resource_path("icons", "scope.svg")  # an icon, not an emoji: not every font has one
        if icon is not None:
            self.setIcon(QIcon(str(icon)))
            self.setIconSize(QSize(14, 14))
            self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.scope = Scope.all()
        self.as_memory = False
        menu = QMenu(self)
        self.all_action = menu.addAction(self.tr("All memory"), lambda: self._pick(Scope.all()))
        self.none_action = menu.addAction(self.tr("No memory (the model alone)"), lambda: self._pick(Scope.none()))
        self.folder_action = menu.addAction(self.tr("One folder…"), self._pick_folder)
        self.document_action = menu.addAction(self.tr("One document…"), self._pick_document)
        self.dates_action = menu.addAction(self.tr("A date range…"), self._pick_dates)
        menu.addSeparator()
        self.memory_action = QAction(self.tr("Keep this chat as memory"), self, checkable=True)
        self.memory_action.setToolTip(self.tr("Later chats can find and cite what was said here"))
        self.memory_action.toggled.connect(self._toggle_memory)
        menu.addAction(self.memory_action)
        self.setMenu(menu)
        self._refresh()

    # -- state ------------------------------------------------------------------------------

    def set_state(self, scope: str, as_memory: bool) -> None:
        """Show a conversation's stored scope and flag (no ``changed`` signal)."""
        try:
            self.scope = Scope.parse(scope)
        except ValueError:
            self.scope = Scope.all()
        self.as_memory = as_memory
        self.memory_action.blockSignals(True)
        self.memory_action.setChecked(as_memory)
        self.memory_action.blockSignals(False)
        self._refresh()

    def stored(self) -> str:
        return "" if self.scope.kind == "all" else str(self.scope)

    def label(self) -> str:
        s = self.scope
        if s.kind == "all":
            text = self.tr("All memory")
        elif s.kind == "none":
            text = self.tr("No memory")
        elif s.kind == "dates":
            text = self.tr("Dates: {since} – {until}").format(
                since=date_text(s.since) if s.since else "…", until=date_text(s.until) if s.until else "…")
        elif s.kind == "folder":
            text = self.tr("Folder: {name}").format(name=s.label())
        else:
            text = self.tr("Document: {name}").format(name=s.label())
        return text + (" · " + self.tr("kept as memory") if self.as_memory else "")

    def _refresh(self) -> None:
        self.setText(self.label())
        where = self.scope.path if self.scope.kind in ("folder", "document") else ""
        self.setToolTip(self.tr("Which memories this chat uses. {where}").format(where=where).strip())

    # -- picking ----------------------------------------------------------------------------

    def _pick(self, scope: Scope) -> None:
        self.scope = scope
        self._refresh()
        self.changed.emit(self.stored(), self.as_memory)

    def _toggle_memory(self, on: bool) -> None:
        self.as_memory = on
        self._refresh()
        self.changed.emit(self.stored(), self.as_memory)

    def _pick_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, self.tr("Use memories from this folder only"))
        if path:
            self._pick(Scope.folder(path))

    def _pick_document(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Use memories from this document only"))
        if path:
            self._pick(Scope.document(path))

    def _pick_dates(self) -> None:
        dlg = DateRangeDialog(self.scope.since, self.scope.until, self)
        if dlg.exec() == QDialog.DialogCode.Accepted:
            self._pick(dlg.scope())
