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
from twin.ui.controller import Controller, in_thread
from twin.ui.drop_zone import DropModeDialog
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
        controller.memory.documents_indexed.connect(self._indexed)

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

    # -- attach -----------------------------------------------------------------------------

    async def _attach(self, files: list[Path]) -> None:
        names, problems = [], []
        for f in files:
            try:
                doc = await in_thread(read_document, f, ATTACH_MAX_BYTES, name="twin-attach-read")
            except KnownError as e:
                problems.append((str(f), str(e)))
                continue
            if not doc.text.strip():
                problems.append((str(f), "the document has no text"))
                continue
            self.composer.attach(Attachment(f.name, doc.text))
            names.append(f.name)
        if names:
            self._status(f"Attached {', '.join(names)} to your question (this question only).")
            self.attached.emit(names)
        if problems:
            self._report_rejected(problems, "could not be attached")

    # -- ingest -----------------------------------------------------------------------------

    def _ingest(self, paths: list[Path], mode: str) -> None:
        n = len(paths)
        self._status(f"Adding {n} item{'s' if n != 1 else ''} to your memory…", 0)
        self.controller.tasks.spawn(self._run_ingest(paths, mode), name=f"ingest:{id(paths)}")

    async def _run_ingest(self, paths: list[Path], mode: str) -> None:
        try:
            outcome: DropOutcome = await self.controller.add_documents(paths, mode)
        except KnownError as e:
            self._report_rejected([(", ".join(p.name for p in paths), str(e))], "could not be added")
            return
        rejected = [(str(r.path), r.reason) for r in outcome.result.rejected]
        if rejected:
            self._report_rejected(rejected, "were not added")
        queued = len(outcome.result.queued) + len(outcome.result.new_sources)
        if queued:
            self._status(f"Indexing {queued} document{'s' if queued != 1 else ''}…", 0)

    def _indexed(self, outcome: DropOutcome) -> None:
        ok = len(outcome.result.queued) - len({e.path for e in outcome.errors if e.state == "error"})
        folders = len(outcome.result.new_sources)
        parts = []
        if ok > 0:
            parts.append(f"{ok} document{'s' if ok != 1 else ''}")
        if folders:
            parts.append(f"{folders} folder{'s' if folders != 1 else ''}")
        if parts:
            self._status(f"Added {' and '.join(parts)} to your memory — available to your next question.")
        if outcome.errors:
            self._report_rejected([(e.path, e.reason) for e in outcome.errors], "had problems")
        self.ingested.emit(outcome)

    # -- messages ---------------------------------------------------------------------------

    def _status(self, text: str, timeout_ms: int = 8000) -> None:
        self.window.statusBar().showMessage(text, timeout_ms)

    def _report_rejected(self, items: list[tuple[str, str]], what: str) -> None:
        log.info("documents %s: %s", what, items)
        self.rejected.emit(items)
        if not self.show_messages:
            return
        lines = "".join(f"<li><b>{Path(p).name}</b>: {reason}</li>" for p, reason in items[:12])
        more = f"<p>…and {len(items) - 12} more.</p>" if len(items) > 12 else ""
        box = QMessageBox(QMessageBox.Icon.Warning, "Documents",
                          f"<p>{len(items)} item{'s' if len(items) != 1 else ''} {what}:</p><ul>{lines}</ul>{more}",
                          QMessageBox.StandardButton.Ok, self.window)
        box.open()

