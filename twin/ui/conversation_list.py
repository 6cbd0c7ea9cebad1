"""ConversationList: past conversations, newest first, with search, rename and delete.

Search runs the conversation store's full-text search over every message (prefix-matched
words), so a conversation is found by anything said in it, not only its title.

The list is read on the app's pool (:class:`~twin.ui.conversation_jobs.ConversationJobs`),
never on the GUI thread; each :meth:`ConversationList.refresh` has a generation number, and
a listing that a newer refresh replaced is dropped when it arrives.

Signals:
    conversation_selected(str): the user opened a conversation (its id).
    new_requested(): "New chat".
    rename_requested(str, str): a conversation was renamed inline (id, new title).
    delete_requested(str): delete was confirmed (id).
    refreshed(): the newest listing is shown.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from concurrent.futures import Future

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from twin.ui.conversation_jobs import ConversationJobs, Listed
from twin.ui.i18n import date_text, time_text, weekday_text
from twin.ui.jobs import Delivery

log = logging.getLogger("twin.ui")
ID_ROLE = Qt.ItemDataRole.UserRole


def _when(ts: float) -> str:
    """When a conversation was last active, in the locale: a time today, a day name this week."""
    d = dt.datetime.fromtimestamp(ts)
    today = dt.date.today()
    if d.date() == today:
        return time_text(d)
    if (today - d.date()).days < 7:
        return weekday_text(d.date())
    return date_text(d.date(), "d MMM yyyy")


class ConversationList(QWidget):
    conversation_selected = Signal(str)
    new_requested = Signal()
    rename_requested = Signal(str, str)
    delete_requested = Signal(str)
    refreshed = Signal()

    def __init__(self, history: ConversationJobs, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("ConversationList")
        self.history = history
        self._delivery = Delivery(self)
        self.generation = 0  # of the newest refresh; the listing of an older one is dropped
        self.shown = -1  # the generation whose listing is shown
        self.current_id: str | None = None
        self.confirm: Callable[[str], bool] = self._confirm_dialog
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 10, 8, 8)
        layout.setSpacing(6)
        top = QHBoxLayout()
        title = QLabel(self.tr("Conversations"), objectName="SectionTitle")
        self.new_button = QPushButton(self.tr("+ New"))
        self.new_button.setToolTip(self.tr("New chat (Ctrl+N)"))
        self.new_button.clicked.connect(self.new_requested)
        top.addWidget(title, 1)
        top.addWidget(self.new_button)
        layout.addLayout(top)
        self.search = QLineEdit(placeholderText=self.tr("Search conversations (Ctrl+F)"))
        self.search.setClearButtonEnabled(True)
        self._search_timer = QTimer(self, singleShot=True, interval=200, timeout=self.refresh)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        layout.addWidget(self.search)
        self.list = QListWidget()
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setUniformItemSizes(False)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        self.list.itemClicked.connect(self._clicked)
        self.list.itemActivated.connect(self._clicked)
        self.list.itemChanged.connect(self._renamed)
        layout.addWidget(self.list, 1)
        self._filling = False
        self.active = True  # False once the app shuts down (the store is closing)

    # -- content ----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the list again (the search box's query) on the pool; it shows when it lands."""
        if not self.active:
            return
        self.generation += 1
        generation = self.generation
        try:
            job = self.history.listing(self.search.text().strip())
        except RuntimeError:  # the app's pool is closed: shutting down
            return
        self._delivery.deliver(job, lambda done: self._fill(generation, done))

    @property
    def settled(self) -> bool:
        """Whether the newest refresh's listing is shown."""
        return self.shown == self.generation

    def _fill(self, generation: int, job: Future[list[Listed]]) -> None:
        if generation != self.generation or not self.active:
            return  # a newer refresh is on its way (or the app is closing)
        try:
            rows = job.result()
        except Exception:  # noqa: BLE001 - the list stays as it was; the log says why
            log.exception("cannot list the conversations")
            return
        self._filling = True
        self.list.clear()
        for row in rows:
            if row.snippet is not None:
                item = QListWidgetItem(f"{row.title or self.tr('Untitled')}\n{row.snippet}")
                item.setToolTip(row.snippet)
            else:
                item = QListWidgetItem(row.title or self.tr("Untitled"))
                item.setToolTip(row.title + "\n" + self.tr("last active {when}").format(when=_when(row.updated_at)))
            self._add(item, row.id, row.title)
        self._filling = False
        self.shown = generation
        self.refreshed.emit()

    def _add(self, item: QListWidgetItem, cid: str, title: str) -> None:
        item.setData(ID_ROLE, cid)
        item.setData(Qt.ItemDataRole.UserRole + 1, title)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
        self.list.addItem(item)
        if cid == self.current_id:
            item.setSelected(True)
            self.list.setCurrentItem(item)

    def set_current(self, cid: str | None) -> None:
        self.current_id = cid
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(ID_ROLE) == cid:
                self.list.setCurrentItem(item)
                return
        self.list.clearSelection()

    def ids(self) -> list[str]:
        return [self.list.item(i).data(ID_ROLE) for i in range(self.list.count())]

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    # -- actions ----------------------------------------------------------------------------

    def _clicked(self, item: QListWidgetItem) -> None:
        cid = item.data(ID_ROLE)
        if cid and cid != self.current_id:
            self.current_id = cid
            self.conversation_selected.emit(cid)

    def _renamed(self, item: QListWidgetItem) -> None:
        if self._filling:
            return
        cid, old = item.data(ID_ROLE), item.data(Qt.ItemDataRole.UserRole + 1)
        title = item.text().split("\n", 1)[0].strip()
        if cid and title and title != old:
            item.setData(Qt.ItemDataRole.UserRole + 1, title)
            self.rename_requested.emit(cid, title)

    def start_rename(self, cid: str) -> None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(ID_ROLE) == cid:
                self.list.editItem(item)

    def request_delete(self, cid: str) -> None:
        title = next((self.list.item(i).data(Qt.ItemDataRole.UserRole + 1) for i in range(self.list.count())
                      if self.list.item(i).data(ID_ROLE) == cid), self.tr("this conversation"))
        if self.confirm(title or self.tr("Untitled")):
            self.delete_requested.emit(cid)

    def _confirm_dialog(self, title: str) -> bool:
        answer = QMessageBox.question(
            self, self.tr("Delete conversation"),
            self.tr("Delete “{title}” for good? Its messages are erased from disk and cannot be recovered.")
            .format(title=title))
        return answer == QMessageBox.StandardButton.Yes

    def _menu(self, pos) -> None:
        item = self.list.itemAt(pos)
        if item is None:
            return
        cid = item.data(ID_ROLE)
        menu = QMenu(self)
        rename = QAction(self.tr("Rename"), menu, triggered=lambda _=False: self.list.editItem(item))
        delete = QAction(self.tr("Delete…"), menu, triggered=lambda _=False: self.request_delete(cid))
        menu.addActions([rename, delete])
        menu.popup(self.list.viewport().mapToGlobal(pos))
