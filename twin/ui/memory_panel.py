"""MemoryPanel: the memory's status and controls (the view of :class:`MemoryHost`).

Watched folders (add, remove), indexing progress with counts, pause/resume, per-file
problems with their reasons, and a memory search that works even while no language model
is loaded.

Signals:
    hit_activated(object): a search result (:class:`Hit`) was clicked: show it.
    add_folder_requested(): "Add folder…" (the window asks for the folder).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from twin.app.index_service import Indexed
from twin.core.types import IndexProgress
from twin.ui.controller import Controller
from twin.ui.i18n import date_text, num, shown
from twin.ui.memory_host import MemorySnapshot
from twin.ui.sources_panel import short

if TYPE_CHECKING:
    from twin.core.memory.watcher import WatchLimit

log = logging.getLogger("twin.ui")
HIT_ROLE = Qt.ItemDataRole.UserRole


class MemoryPanel(QWidget):
    hit_activated = Signal(object)
    add_folder_requested = Signal()

    def __init__(self, controller: Controller, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.memory = controller.memory
        self.snapshot: MemorySnapshot | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)

        layout.addWidget(QLabel(self.tr("Search memories"), objectName="SectionTitle"))
        self.search = QLineEdit(placeholderText=self.tr("Words, a person, “in May 2023”…"))
        self.search.setClearButtonEnabled(True)
        self.search.returnPressed.connect(self._search)
        search_row = QHBoxLayout()
        search_row.addWidget(self.search, 1)
        self.on_this_day_button = QPushButton(self.tr("On this day"))
        self.on_this_day_button.setToolTip(self.tr("Your entries from today's date in earlier years"))
        self.on_this_day_button.clicked.connect(
            lambda: self.controller.tasks.spawn(self.run_on_this_day(), name="memory-search"))
        search_row.addWidget(self.on_this_day_button)
        layout.addLayout(search_row)
        self.results = QListWidget(objectName="MemoryResults")
        self.results.setWordWrap(True)
        self.results.setSpacing(2)
        self.results.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.results.itemActivated.connect(self._hit)
        self.results.itemClicked.connect(self._hit)
        self.results.hide()
        layout.addWidget(self.results, 2)

        layout.addWidget(QLabel(self.tr("Indexing"), objectName="SectionTitle"))
        self.status = QLabel(self.tr("Opening memory…"), objectName="Muted", wordWrap=True)
        layout.addWidget(self.status)
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.bar.setRange(0, 0)
        layout.addWidget(self.bar)
        row = QHBoxLayout()
        self.pause_button = QPushButton(self.tr("Pause"))
        self.pause_button.clicked.connect(self._toggle_pause)
        self.rescan_button = QPushButton(self.tr("Rescan"))
        self.rescan_button.clicked.connect(self.memory.rescan)
        row.addWidget(self.pause_button)
        row.addWidget(self.rescan_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.counts = QLabel(objectName="Muted")
        layout.addWidget(self.counts)
        self.watch_warning = QLabel(objectName="Banner", wordWrap=True)  # inotify limit: polling
        self.watch_warning.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.watch_warning.hide()
        layout.addWidget(self.watch_warning)

        layout.addWidget(QLabel(self.tr("Watched folders"), objectName="SectionTitle"))
        self.folders = QListWidget()
        self.folders.setMaximumHeight(110)
        layout.addWidget(self.folders)
        row = QHBoxLayout()
        add = QPushButton(self.tr("Add folder…"))
        add.clicked.connect(self.add_folder_requested)
        self.remove_button = QPushButton(self.tr("Remove"))
        self.remove_button.clicked.connect(self._remove_folder)
        row.addWidget(add)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        layout.addLayout(row)

        self.problems_title = QLabel(self.tr("Problems"), objectName="SectionTitle")
        layout.addWidget(self.problems_title)
        self.problems = QTreeWidget()
        self.problems.setHeaderLabels([self.tr("File"), self.tr("State"), self.tr("Reason")])
        self.problems.setRootIsDecorated(False)
        layout.addWidget(self.problems, 1)

        self.memory.progress.connect(self._on_progress)
        self.memory.indexed.connect(self._on_indexed)
        self.memory.ready.connect(self.refresh)
        self.memory.failed.connect(self._on_failed)
        self.memory.sources_changed.connect(lambda _s: self.refresh())
        self.memory.writer_changed.connect(lambda _w: self.refresh())
        self.controller.status_changed.connect(self._update_pause)
        self._show_folders(list(controller.settings.memory.sources))

    # -- updates ----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read counts, problems and folders (off the GUI thread)."""
        self.controller.tasks.spawn(self._refresh(), name="memory-panel-refresh")

    async def _refresh(self) -> None:
        snap = await asyncio.wrap_future(self.memory.snapshot())
        self.apply_snapshot(snap)

    def apply_snapshot(self, snap: MemorySnapshot) -> None:
        self.snapshot = snap
        c = snap.counts
        problems = c.get("error", 0) + c.get("skipped", 0) + c.get("partial", 0)
        self.counts.setText(self.tr("%Ln file(s)", "", c.get("files", 0)) + " · "
                            + self.tr("%Ln passage(s)", "", c.get("chunks", 0))
                            + (" · " + self.tr("%Ln with problems", "", problems) if problems else ""))
        self._show_folders(snap.sources)
        self._show_watch_limit(snap.watch)
        self.problems.clear()
        for rec in snap.problems:
            item = QTreeWidgetItem([Path(rec.path).name, self._state_name(rec.state), shown(rec.reason)])
            item.setToolTip(0, rec.path)
            item.setToolTip(2, shown(rec.reason))
            self.problems.addTopLevelItem(item)
        self.problems_title.setText(self.tr("Problems ({n})").format(n=len(snap.problems)) if snap.problems
                                    else self.tr("Problems (none)"))
        if not self.memory.busy and self.memory.is_ready:
            self.bar.setRange(0, 1)
            self.bar.setValue(1)
            writer = shown(snap.writer)  # a keyed message: in the window's language
            self.status.setText(writer[:1].upper() + writer[1:] if writer
                                else self.tr("Paused") if snap.paused else self.tr("Up to date"))
        self._update_pause()

    def _show_watch_limit(self, limit: WatchLimit | None) -> None:
        if limit is None:
            self.watch_warning.hide()
            return
        self.watch_warning.setText(self.tr(
            "Too many folders for the system's file watcher ({sysctl}): {folders} checked for changes every "
            "{seconds} s instead of at once. To watch them at once, raise the limit:\n{command}\n"
            "and to keep it after a restart:\n{persist}").format(
                sysctl=limit.sysctl, folders=", ".join(limit.folders), seconds=f"{limit.interval_s:g}",
                command=limit.command, persist=limit.persist))
        self.watch_warning.show()

    def _state_name(self, state: str) -> str:
        names = {"indexed": self.tr("indexed"), "partial": self.tr("partial"), "skipped": self.tr("skipped"),
                 "error": self.tr("error")}
        return names.get(state, state)

    def _show_folders(self, sources: list[str]) -> None:
        self.folders.clear()
        for s in sources:
            item = QListWidgetItem(s)
            item.setToolTip(s)
            self.folders.addItem(item)
        if not sources:
            self.folders.addItem(QListWidgetItem(self.tr("(no folders yet: add your diary folder)")))

    def _on_progress(self, p: IndexProgress) -> None:
        if p.phase == "scan":
            self.bar.setRange(0, 0)
            self.status.setText(self.tr("Scanning… %Ln file(s) found", "", p.total))
        elif p.phase == "done":
            self.bar.setRange(0, 1)
            self.bar.setValue(1)
            self.status.setText(self.tr("Up to date"))
        else:
            self.bar.setRange(0, max(1, p.total))
            self.bar.setValue(p.done)
            current = f" — {Path(p.current).name}" if p.current else ""
            self.status.setText(self.tr("Indexing {done}/{total}").format(done=num(p.done), total=num(p.total)) + current
                                + (" · " + self.tr("%Ln problem(s)", "", p.errors) if p.errors else ""))

    def _on_indexed(self, event: Indexed) -> None:
        self.refresh()

    def _on_failed(self, message: str) -> None:
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.status.setText(self.tr("Memory unavailable: {error}").format(error=message))

    def _update_pause(self) -> None:
        self.pause_button.setText(self.tr("Resume") if self.memory.paused else self.tr("Pause"))
        if self.memory.paused:
            self.status.setText(self.tr("Paused: new and changed notes wait until you resume"))

    # -- actions ----------------------------------------------------------------------------

    def _toggle_pause(self) -> None:
        self.controller.toggle_pause()

    def _remove_folder(self) -> None:
        item = self.folders.currentItem()
        sources = list(self.controller.settings.memory.sources)
        if item is None or item.text() not in sources:
            return
        sources.remove(item.text())
        self.controller.tasks.spawn(self.controller.set_sources(sources), name="memory-sources")

    def add_folder(self, folder: str) -> None:
        sources = list(self.controller.settings.memory.sources)
        if folder and folder not in sources:
            sources.append(folder)
            self.controller.tasks.spawn(self.controller.set_sources(sources), name="memory-sources")

    def _search(self) -> None:
        query = self.search.text().strip()
        if query:
            self.controller.tasks.spawn(self.run_search(query), name="memory-search")
        else:
            self.results.hide()

    async def run_search(self, query: str) -> None:
        self.results.show()
        self.results.clear()
        self.results.addItem(self.tr("Searching…"))
        try:
            hits = await asyncio.wrap_future(self.memory.search_async(query, self.controller.settings.search.k))
        except Exception as e:  # noqa: BLE001 - shown in the list; KnownError or not, the user sees why
            self.results.clear()
            self.results.addItem(self.tr("Search failed: {error}").format(error=shown(e)))
            return
        self.results.clear()
        for hit in hits:
            where = Path(hit.path).name + (f" › {hit.heading.split(' › ')[-1]}" if hit.heading else "")
            when = f" · {date_text(hit.date)}" if hit.date else ""
            item = QListWidgetItem(f"{where}{when}\n{short(hit.text, 200)}")
            item.setData(HIT_ROLE, hit)
            item.setToolTip(hit.path)
            self.results.addItem(item)
        if not hits:
            self.results.addItem(self.tr("No memories found."))

    async def run_on_this_day(self, day: dt.date | None = None) -> None:
        """List the entries from this day (``day``, default today) in earlier years."""
        day = day or dt.date.today()
        self.results.show()
        self.results.clear()
        self.results.addItem(self.tr("On this day, {date}…").format(date=date_text(day, "d MMMM")))
        try:
            hits = await asyncio.wrap_future(self.memory.on_this_day_async(day))
        except Exception as e:  # noqa: BLE001 - shown in the list; KnownError or not, the user sees why
            self.results.clear()
            self.results.addItem(self.tr("On this day failed: {error}").format(error=shown(e)))
            return
        self.results.clear()
        for hit in hits:
            when = date_text(hit.date) if hit.date else ""
            item = QListWidgetItem(f"{when} · {Path(hit.path).name}\n{short(hit.text, 200)}")
            item.setData(HIT_ROLE, hit)
            item.setToolTip(hit.path)
            self.results.addItem(item)
        if not hits:
            self.results.addItem(self.tr("Nothing from {date} in earlier years.").format(date=date_text(day, "d MMMM")))

    def _hit(self, item: QListWidgetItem) -> None:
        hit = item.data(HIT_ROLE)
        if hit is not None:
            self.hit_activated.emit(hit)
