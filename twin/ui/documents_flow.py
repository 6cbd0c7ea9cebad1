"""What happens to files dropped on the window (or picked with File › Add documents).

- While a question is being typed, dropped *files* are attached to that question: their text
  is read (the indexer's own reader) and sent with it for that turn only ("summarize this").
- Otherwise they are added to the memory: copied into the inbox or indexed in place (the user
  chooses once; :class:`DropModeDialog`), through the memory host, with progress in the status
  bar and a message when they are searchable — or why not (unsupported, unreadable…).

Signals:
    attached(list): names of the documents attached to the next question.
    ingested(object): a :class:`DropOutcome` once the dropped documents are indexed.
    rejected(list): ``(path, reason)`` pairs of files that could not be taken.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMainWindow, QMessageBox

from twin.core.memory.documents import read_document
from twin.errors import KnownError
from twin.ui.composer import Attachment, Composer
from twin.ui.controller import Controller
from twin.ui.drop_zone import DropModeDialog
from twin.ui.i18n import shown
from twin.ui.memory_host import DropOutcome
from twin.ui.ui_state import UiState

log = logging.getLogger("twin.ui")
ATTACH_MAX_BYTES = 4 * 1024 * 1024


class DocumentsFlow(QObject):
    attached = Signal(list)
    ingested = Signal(object)
    rejected = Signal(list)

    def __init__(self, window: QMainWindow, controller: Controller, ui_state: UiState, composer: Composer):
        super().__init__(window)
        self.window = window
        self.controller = controller
        self.ui_state = ui_state
        self.composer = composer
        self.show_messages = True  # tests turn the message boxes off
        # the "indexed" event of a drop can arrive before the drop's reply: pair them up
        self._indexed_early: list[object] = []
        self._awaiting: list[object] = []
        controller.memory.documents_indexed.connect(self._indexed)
        # a drop that adds a folder (in place) or the inbox (copies) changes the watched folders:
        # keep them in settings.toml, or they are forgotten at the next start
        controller.memory.sources_changed.connect(self._sources_changed)

    def dropped(self, paths: list[Path]) -> None:
        files = [p for p in paths if p.is_file()]
        if self.composer.text().strip() and files and len(files) == len(paths):
            self.controller.tasks.spawn(self._attach(files), name="attach")
            return
        mode = self.ui_state.drop_mode
        if mode:
            self._ingest(paths, mode)
            return
        dialog = DropModeDialog(self.window)

        def chosen() -> None:
            if dialog.remember.isChecked():
                self.ui_state.drop_mode = dialog.mode
            self._ingest(paths, dialog.mode)
        dialog.accepted.connect(chosen)
        dialog.open()

    def _sources_changed(self, sources: list[str]) -> None:
        self.controller.settings.memory.sources = list(sources)
        self.controller.save_settings()
        log.info("watched folders saved: %s", ", ".join(sources))

    # -- attach -----------------------------------------------------------------------------

    async def _attach(self, files: list[Path]) -> None:
        names, problems = [], []
        for f in files:
            try:
                doc = await self.controller.run(read_document, f, ATTACH_MAX_BYTES)
            except KnownError as e:
                problems.append((str(f), shown(e)))
                continue
            if not doc.text.strip():
                problems.append((str(f), self.tr("the document has no text")))
                continue
            self.composer.attach(Attachment(f.name, doc.text))
            names.append(f.name)
        if names:
            self._status(self.tr("Attached {names} to your question (this question only).").format(
                names=", ".join(names)))
            self.attached.emit(names)
        if problems:
            self._report_rejected(problems, self.tr("%n document(s) could not be attached:", "", len(problems)))

    # -- ingest -----------------------------------------------------------------------------

    def _ingest(self, paths: list[Path], mode: str) -> None:
        n = len(paths)
        self._status(self.tr("Adding %n item(s) to your memory…", "", n), 0)
        self.controller.tasks.spawn(self._run_ingest(paths, mode), name=f"ingest:{id(paths)}")

    async def _run_ingest(self, paths: list[Path], mode: str) -> None:
        try:
            outcome: DropOutcome = await self.controller.add_documents(paths, mode)
        except KnownError as e:
            self._report_rejected([(", ".join(p.name for p in paths), shown(e))],
                                  self.tr("%n item(s) could not be added:", "", len(paths)))
            return
        rejected = [(str(r.path), r.reason) for r in outcome.result.rejected]
        if rejected:
            self._report_rejected(rejected, self.tr("%n item(s) were not added:", "", len(rejected)))
        queued = len(outcome.result.queued) + len(outcome.result.new_sources)
        if outcome.result in self._indexed_early:  # already indexed: "Added…" is showing
            self._indexed_early.remove(outcome.result)
            return
        self._awaiting.append(outcome.result)
        if queued:
            self._status(self.tr("Indexing %n document(s)…", "", queued), 0)

    def _indexed(self, outcome: DropOutcome) -> None:
        if outcome.result in self._awaiting:
            self._awaiting.remove(outcome.result)
        else:
            self._indexed_early.append(outcome.result)
        ok = len(outcome.result.queued) - len({e.path for e in outcome.errors if e.state == "error"})
        folders = len(outcome.result.new_sources)
        docs = self.tr("%n document(s)", "", ok) if ok > 0 else ""
        dirs = self.tr("%n folder(s)", "", folders) if folders else ""
        what = self.tr("{documents} and {folders}").format(documents=docs, folders=dirs) if docs and dirs else docs or dirs
        if what:
            self._status(self.tr("Added {what} to your memory — available to your next question.").format(what=what))
        if outcome.errors:
            self._report_rejected([(e.path, e.reason) for e in outcome.errors],
                                  self.tr("%n document(s) had problems:", "", len(outcome.errors)))
        self.ingested.emit(outcome)

    # -- messages ---------------------------------------------------------------------------

    def _status(self, text: str, timeout_ms: int = 8000) -> None:
        self.window.statusBar().showMessage(text, timeout_ms)

    def report_missing(self, names: list[str]) -> None:
        """Files named on the command line that do not exist."""
        self._report_rejected([(n, self.tr("no such file or folder")) for n in names],
                              self.tr("%n item(s) could not be opened:", "", len(names)))

    def _report_rejected(self, items: list[tuple[str, str]], headline: str) -> None:
        """A message box: ``headline`` ("3 items were not added:"), then each file and why."""
        log.info("documents: %s %s", headline, items)
        self.rejected.emit(items)
        if not self.show_messages:
            return
        lines = "".join(f"<li><b>{Path(p).name}</b>: {shown(reason)}</li>" for p, reason in items[:12])
        more = "<p>" + self.tr("…and %n more.", "", len(items) - 12) + "</p>" if len(items) > 12 else ""
        box = QMessageBox(QMessageBox.Icon.Warning, self.tr("Documents"),
                          f"<p>{headline}</p><ul>{lines}</ul>{more}",
                          QMessageBox.StandardButton.Ok, self.window)
        box.open()

