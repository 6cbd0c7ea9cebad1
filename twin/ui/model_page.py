"""The model page: which models fit this machine, the files already on disk, and downloads.

Shown in the first-run wizard and from Settings → Model. It lists every catalog model with
its size and whether it fits this machine's measured VRAM and RAM (the same fit as loading
uses), marks the recommended one, lists the GGUFs already on disk (twin's folder, LM Studio,
Ollama, GPT4All, llama.cpp's cache, ``~/models``: used where they are, never copied), and
downloads a model after the user confirms the connection, with progress, speed and Cancel.
:class:`EmbeddingDownload` does the same for the embedding model. Downloads run as a helper
process (:mod:`twin.app.model_download`): the window itself stays offline; cancelling ends
the process and the next download resumes where it stopped.

Signals of :class:`ModelPage`:
    model_chosen(str): a GGUF path to use (downloaded, or found on disk).
Signals of :class:`DownloadRunner`:
    progress(object): ``{"done", "total", "speed", "file"}``; done(str): the path; failed(str);
    stopped(): ended without a result (cancelled).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QProcess, QProcessEnvironment, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from twin.app.background import Background
from twin.app.downloads import embedding_available, hub_host
from twin.helpers import helper_command
from twin.offline import record_download_process
from twin.paths import Paths
from twin.settings import Settings
from twin.messages import from_json
from twin.ui.i18n import num, shown
from twin.ui.jobs import Delivery, submit_off_gui

log = logging.getLogger("twin.ui")

Lister = Callable[[], dict[str, Any]]


def _list(settings: Settings, paths: Paths) -> dict[str, Any]:
    from twin.app.model_listing import list_models

    return list_models(settings, paths)


class DownloadRunner(QObject):
    """One download helper process and its JSON-lines protocol."""

    progress = Signal(object)
    done = Signal(str)
    failed = Signal(str)
    stopped = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.process: QProcess | None = None
        self._result = False
        self._buffer = b""

    @property
    def running(self) -> bool:
        return self.process is not None

    def start(self, argv: list[str]) -> None:
        if self.process is not None:
            return
        proc = QProcess(self)
        proc.setProcessEnvironment(QProcessEnvironment.systemEnvironment())
        proc.readyReadStandardOutput.connect(self._output)
        proc.finished.connect(self._finished)
        self.process, self._result, self._buffer = proc, False, b""
        record_download_process(hub_host())  # the settings' network line says so
        proc.start(argv[0], argv[1:])

    def cancel(self) -> None:
        if self.process is not None:
            self.process.kill()

    def _output(self) -> None:
        assert self.process is not None
        self._buffer += bytes(self.process.readAllStandardOutput().data())
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            try:
                msg = json.loads(line.decode("utf-8", "replace"))
            except ValueError:
                continue
            if "path" in msg:
                self._result = True
                self.done.emit(str(msg["path"]))
            elif "error" in msg:
                self._result = True
                self.failed.emit(shown(from_json(msg.get("message")) or str(msg["error"])))
            elif "done" in msg:
                self.progress.emit(msg)

    def _finished(self, _code: int, _status: object) -> None:
        if self.process is not None:
            self._output()
            self.process.deleteLater()
        self.process = None
        if not self._result:
            self.stopped.emit()


class _Progress(QWidget):
    """A progress bar with a status line: "3.1 of 18.6 GB · 42 MB/s"."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.bar = QProgressBar()
        self.bar.hide()
        self.status = QLabel(objectName="Muted", wordWrap=True)
        lay.addWidget(self.bar)
        lay.addWidget(self.status)

    def started(self, text: str) -> None:
        self.bar.setRange(0, 0)
        self.bar.show()
        self.status.setText(text)

    def update_from(self, msg: dict[str, Any]) -> None:
        total = int(msg.get("total") or 0)
        if total:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * int(msg.get("done", 0)) / total))
        self.status.setText(self.tr("{done} of {total} GB · {speed} MB/s").format(
            done=num(int(msg.get("done", 0)) / 1e9, 1), total=num(total / 1e9, 1),
            speed=num(float(msg.get("speed", 0)) / 1e6, 1)))

    def ended(self, text: str) -> None:
        self.bar.hide()
        self.status.setText(text)


def _confirm(parent: QWidget, title: str, what: str, size_gb: float, folder: Path,
             on_yes: Callable[[], None]) -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.Question, title,
                      QCoreApplication.translate(  # parent.tr() would be filed under "parent" by lupdate
                          "ModelPage", "twin will connect to {host} to download {what} ({size} GB) into\n{folder}\n\n"
                          "This is the only connection twin makes. Download now?")
                      .format(host=hub_host(), what=what, size=num(size_gb, 1), folder=folder),
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, parent)
    yes = box.button(QMessageBox.StandardButton.Yes)
    def clicked(button: object) -> None:
        if button is yes:
            on_yes()

    box.buttonClicked.connect(clicked)
    box.open()
    return box


class ModelPage(QWidget):
    model_chosen = Signal(str)

    def __init__(self, settings: Settings, paths: Paths, *, lister: Lister | None = None,
                 parent: QWidget | None = None, background: Background | None = None):
        super().__init__(parent)
        self.background = background  # the app's pool for listing (None: a pool per listing)
        self.settings = settings
        self.paths = paths
        # the default lister refers to the settings and paths, not to this widget: it runs on
        # a pool thread, which must not hold a reference to a Qt object (twin.ui.jobs)
        self.lister = lister or (lambda: _list(settings, paths))
        self._delivery = Delivery(self)
        self.listing: dict[str, Any] = {}
        self.confirm_box: QMessageBox | None = None
        self.runner = DownloadRunner(self)
        lay = QVBoxLayout(self)
        self.machine = QLabel(self.tr("Measuring this machine…"), objectName="Muted", wordWrap=True)
        lay.addWidget(self.machine)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels([self.tr("Model"), self.tr("Size"), self.tr("On this machine")])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        lay.addWidget(self.table, 4)
        row = QHBoxLayout()
        self.download_button = QPushButton(self.tr("Download…"))
        self.download_button.clicked.connect(self.confirm_download)
        self.cancel_button = QPushButton(self.tr("Cancel download"))
        self.cancel_button.clicked.connect(self.runner.cancel)
        self.cancel_button.hide()
        row.addWidget(self.download_button)
        row.addWidget(self.cancel_button)
        row.addStretch(1)
        lay.addLayout(row)
        self.progress = _Progress()
        lay.addWidget(self.progress)
        lay.addWidget(QLabel(self.tr("Model files on this computer (used where they are, never copied):")))
        self.files = QListWidget()
        self.files.itemDoubleClicked.connect(lambda _item: self.use_selected_file())
        lay.addWidget(self.files, 1)
        use_row = QHBoxLayout()
        self.use_button = QPushButton(self.tr("Use this file"))
        self.use_button.clicked.connect(self.use_selected_file)
        use_row.addWidget(self.use_button)
        use_row.addStretch(1)
        lay.addLayout(use_row)
        self.runner.progress.connect(self.progress.update_from)
        self.runner.done.connect(self._downloaded)
        self.runner.failed.connect(lambda e: self._ended(self.tr("Download failed:") + " " + e))
        self.runner.stopped.connect(lambda: self._ended(
            self.tr("Download stopped; it resumes where it left off next time.")))

    # -- listing ----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Measure and list on the pool (nvidia-smi and the file headers take a moment); the
        listing is shown when it arrives (dropped if the page is gone by then)."""
        lister = self.lister

        def work() -> dict[str, Any]:
            try:
                return lister()
            except Exception as e:  # noqa: BLE001 - shown, not raised: the page stays usable
                log.warning("model listing failed: %s", e)
                return {"machine": {"summary": shown(e)}, "catalog": [], "files": []}

        self._delivery.deliver(submit_off_gui(self.background, work), lambda job: self.show_listing(job.result()))

    def show_listing(self, listing: dict[str, Any]) -> None:
        self.listing = listing
        m = listing.get("machine", {})
        summary = self._machine_text(m)
        if m.get("n_ctx"):
            summary = self.tr("This machine: {machine}. Fit for a {n}-token context.").format(
                machine=summary, n=num(m["n_ctx"]))
        self.machine.setText(summary)
        verdicts = {"gpu": self.tr("fits on the GPU"), "cpu": self.tr("runs on the CPU (slowly)"),
                    "too-big": self.tr("too big for this machine")}
        catalog = listing.get("catalog", [])
        self.table.setRowCount(len(catalog))
        bold = QFont()
        bold.setBold(True)
        for r, c in enumerate(catalog):
            label = c["label"] + (" " + self.tr("(base model)") if c["kind"] == "base" else "")
            if c["recommended"]:
                label = "★ " + label + " — " + self.tr("recommended")
            if c.get("downloaded"):
                label += " · " + self.tr("on disk")
            fit = verdicts.get(c["fit"]) or self.tr("partly on the GPU ({k} of {n} layers)").format(
                k=c["n_gpu_layers"], n=c["total_layers"])
            cells = [label, self.tr("{size} GB").format(size=num(c["size_bytes"] / 1e9, 1)), fit]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(c["reason"])
                item.setData(Qt.ItemDataRole.UserRole, c["id"])
                if c["recommended"]:
                    item.setFont(bold)
                self.table.setItem(r, col, item)
            if c["recommended"]:
                self.table.selectRow(r)
                self.table.scrollToItem(self.table.item(r, 0), QAbstractItemView.ScrollHint.PositionAtCenter)
        self.files.clear()
        for f in listing.get("files", []):
            size = (self.tr("{size} GB").format(size=num(f["size_bytes"] / 1e9, 1)) if f["size_bytes"] >= 1e8 else
                    self.tr("{size} MB").format(size=num(f["size_bytes"] / 1e6, 1)) if f["size_bytes"] else "")
            text = f"{f['label']} — {f['source']}" + (f" · {size}" if size else "")
            if f["error"]:
                text += " · " + self.tr("unusable")
            entry = QListWidgetItem(text)
            entry.setToolTip(f["path"] + ("\n" + shown(f["error"]) if f["error"] else ""))
            entry.setData(Qt.ItemDataRole.UserRole, f["path"])
            if f["error"]:
                entry.setFlags(entry.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            self.files.addItem(entry)
        if not listing.get("files"):
            self.files.addItem(QListWidgetItem(self.tr("None found.")))

    def _machine_text(self, m: dict[str, Any]) -> str:
        if "ram_total_bytes" not in m:
            return str(m.get("summary", ""))  # the listing failed: its message
        ram = num((m.get("ram_total_bytes") or 0) / 1e9, 1)
        if m.get("vram_free_bytes") is None:
            return self.tr("no GPU found (models run on the CPU); {ram} GB RAM").format(ram=ram)
        text = self.tr("{gpu}: {free} of {total} GB VRAM free; {ram} GB RAM").format(
            gpu=m.get("gpu", ""), free=num(m["vram_free_bytes"] / 1e9, 1),
            total=num((m.get("vram_total_bytes") or 0) / 1e9, 1), ram=ram)
        if not m.get("gpu_supported"):
            text += " " + self.tr("(this llama.cpp build cannot use the GPU)")
        return text

    def selected(self) -> dict[str, Any] | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        cell = self.table.item(rows[0].row(), 0)
        model_id = cell.data(Qt.ItemDataRole.UserRole) if cell is not None else None
        return next((c for c in self.listing.get("catalog", []) if c["id"] == model_id), None)

    def use_selected_file(self) -> None:
        item = self.files.currentItem()
        path = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if path:
            self.model_chosen.emit(str(path))

    # -- downloading ------------------------------------------------------------------------

    def confirm_download(self) -> None:
        if not self.listing:  # clicked before the background listing arrived: list now
            self.show_listing(self.lister())
        entry = self.selected()
        if entry is None:
            self.progress.ended(self.tr("Choose a model in the list first."))
            return
        files = entry["files"]
        what = files[0] + (" " + self.tr("(+{n} more parts)").format(n=len(files) - 1) if len(files) > 1 else "")
        self.confirm_box = _confirm(self, self.tr("Download the model"), f"{what} ({entry['repo']})",
                                    entry["size_bytes"] / 1e9, self.paths.models_dir,
                                    lambda: self.start_download(entry))

    def start_download(self, entry: dict[str, Any]) -> None:
        if self.runner.running:
            return
        self.paths.models_dir.mkdir(parents=True, exist_ok=True)
        files = entry["files"]
        self.runner.start(helper_command("download-model", entry["repo"], files[0], str(self.paths.models_dir),
                                         *files[1:]))
        self.progress.started(self.tr("Connecting to {host}…").format(host=hub_host()))
        self.download_button.setEnabled(False)
        self.cancel_button.show()

    def _downloaded(self, path: str) -> None:
        self._ended(self.tr("Downloaded: {path}").format(path=path))
        self.model_chosen.emit(path)
        self.refresh()

    def _ended(self, text: str) -> None:
        self.progress.ended(text)
        self.download_button.setEnabled(True)
        self.cancel_button.hide()


class EmbeddingDownload(QWidget):
    """The embedding model: whether it is here, and a download with consent and progress."""

    finished = Signal(str)

    def __init__(self, name: str, cache_dir: Path, size_bytes: int = 0, parent: QWidget | None = None):
        super().__init__(parent)
        self.name = name
        self.cache_dir = cache_dir
        self.size_bytes = size_bytes or _embedder_size(name)
        self.confirm_box: QMessageBox | None = None
        self.runner = DownloadRunner(self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.state = QLabel(wordWrap=True)
        self.button = QPushButton(self.tr("Download…"))
        self.button.clicked.connect(self.confirm_download)
        self.cancel_button = QPushButton(self.tr("Cancel download"))
        self.cancel_button.clicked.connect(self.runner.cancel)
        self.cancel_button.hide()
        row.addWidget(self.state, 1)
        row.addWidget(self.button)
        row.addWidget(self.cancel_button)
        lay.addLayout(row)
        self.progress = _Progress()
        lay.addWidget(self.progress)
        self.runner.progress.connect(self.progress.update_from)
        self.runner.done.connect(self._done)
        self.runner.failed.connect(lambda e: self._ended(self.tr("Download failed:") + " " + e))
        self.runner.stopped.connect(lambda: self._ended(self.tr("Download stopped.")))
        self.update_state()

    def update_state(self) -> None:
        here = embedding_available(self.name, self.cache_dir)
        self.state.setText((self.tr("Embedding model {name}: ready") if here else
                            self.tr("Embedding model {name}: not downloaded yet (memory search needs it)"))
                           .format(name=self.name))
        self.button.setVisible(not here and not self.runner.running)

    def confirm_download(self) -> None:
        self.confirm_box = _confirm(self, self.tr("Download the embedding model"), self.name,
                                    self.size_bytes / 1e9, self.cache_dir, self.start_download)

    def start_download(self) -> None:
        if self.runner.running:
            return
        self.runner.start(helper_command("download-model", "--embedding", self.name, str(self.cache_dir)))
        self.progress.started(self.tr("Connecting to {host}…").format(host=hub_host()))
        self.button.hide()
        self.cancel_button.show()

    def _done(self, path: str) -> None:
        self._ended(self.tr("Downloaded: {path}").format(path=path))
        self.finished.emit(path)

    def _ended(self, text: str) -> None:
        self.progress.ended(text)
        self.cancel_button.hide()
        self.update_state()


def _embedder_size(name: str) -> int:
    try:
        from twin.app.model_catalog import load_catalog

        return next((e.size for e in load_catalog().embedders if e.id == name), 0)
    except Exception:  # noqa: BLE001 - the size is only shown
        return 0
