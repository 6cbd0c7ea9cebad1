"""FirstRunWizard: pick the notes folders and a model, see what will be indexed.

Shown when there is no settings file yet. The model can be an existing GGUF, or downloaded
(Qwen3-30B-A3B Q6_K by default) — but only after the user clicks "Download" and confirms
that twin will connect to huggingface.co; the download runs as a separate process
(:mod:`twin.app.model_download`), with progress, and can be cancelled. Without a model the
app still opens: memory search works and the banner explains what is missing.

Signals:
    finished_setup(object): the :class:`Settings` to save and apply.
"""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QProcess, QProcessEnvironment, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from twin.app.model_download import DEFAULT_MODEL, command
from twin.core.memory.sources import FileFilter, walk_sources
from twin.offline import record_download_process
from twin.paths import Paths
from twin.settings import Settings
from twin.ui.controller import in_thread
from twin.ui.i18n import num

log = logging.getLogger("twin.ui")
PREVIEW_FILES = 200


def preview(sources: list[str], file_filter: FileFilter) -> tuple[int, list[str]]:
    """How many files would be indexed, and the first few (relative names)."""
    count, sample = 0, []
    for f in walk_sources([Path(s) for s in sources], file_filter):
        count += 1
        if len(sample) < PREVIEW_FILES:
            sample.append(str(f.path.relative_to(f.source)))
    return count, sample


class FirstRunWizard(QWizard):
    finished_setup = Signal(object)

    def __init__(self, settings: Settings, paths: Paths, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Welcome to twin"))
        self.settings = copy.deepcopy(settings)
        self.paths = paths
        self.download: QProcess | None = None
        self._preview_task: Any = None
        self.addPage(self._folders_page())
        self.addPage(self._model_page())
        from twin.ui.encryption_panel import EncryptionPage

        self.encryption_page = EncryptionPage(paths)  # strongly suggested, skippable
        self.addPage(self.encryption_page)
        self.encrypted = False
        self.resize(640, 520)
        self.accepted.connect(self._done)

    # -- folders ----------------------------------------------------------------------------

    def _folders_page(self) -> QWizardPage:
        page = QWizardPage()
        page.setTitle(self.tr("Your notes"))
        page.setSubTitle(self.tr("Choose the folders with your diaries and notes. twin indexes them on this "
                                 "computer and keeps watching them for changes. Nothing leaves this machine."))
        layout = QVBoxLayout(page)
        self.folder_list = QListWidget()
        self.folder_list.addItems(self.settings.memory.sources)
        layout.addWidget(self.folder_list)
        row = QHBoxLayout()
        add = QPushButton(self.tr("Add folder…"))
        add.clicked.connect(self._add_folder)
        remove = QPushButton(self.tr("Remove"))
        remove.clicked.connect(self._remove_folder)
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        layout.addLayout(row)
        self.preview_label = QLabel(self.tr("What will be indexed appears here."), objectName="Muted", wordWrap=True)
        self.preview_list = QListWidget()
        self.preview_list.setMaximumHeight(160)
        layout.addWidget(self.preview_label)
        layout.addWidget(self.preview_list)
        return page

    def folders(self) -> list[str]:
        return [self.folder_list.item(i).text() for i in range(self.folder_list.count())]

    def _add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Add a folder of notes"))
        if folder:
            self.add_folder(folder)

    def add_folder(self, folder: str) -> None:
        if folder not in self.folders():
            self.folder_list.addItem(folder)
        self.update_preview()

    def _remove_folder(self) -> None:
        for item in self.folder_list.selectedItems():
            self.folder_list.takeItem(self.folder_list.row(item))
        self.update_preview()

    def update_preview(self) -> None:
        import asyncio

        if self._preview_task is not None:
            self._preview_task.cancel()
        self._preview_task = asyncio.ensure_future(self._preview())  # keep a reference

    async def _preview(self) -> None:
        m = self.settings.memory
        self.preview_label.setText(self.tr("Counting files…"))
        count, sample = await in_thread(preview, self.folders(), FileFilter(m.extensions, m.exclude, m.index_hidden),
                                        name="twin-preview")
        self.preview_list.clear()
        self.preview_list.addItems(sample)
        kinds = ", ".join(m.extensions)
        text = self.tr("%Ln file(s) will be indexed ({kinds})", "", count).format(kinds=kinds)
        if count > len(sample):
            text += self.tr("; the first %Ln are listed", "", len(sample))
        self.preview_label.setText(text)

    # -- model ------------------------------------------------------------------------------

    def _model_page(self) -> QWizardPage:
        page = QWizardPage()
        page.setTitle(self.tr("The language model"))
        page.setSubTitle(self.tr("twin answers with a local GGUF model. Choose a file you have, or download "
                                 "the recommended {model}. You can also skip this: memory search "
                                 "works without a model.").format(model=DEFAULT_MODEL.label))
        layout = QVBoxLayout(page)
        row = QHBoxLayout()
        self.model_path = QLineEdit(self.settings.llm.model_path, placeholderText=self.tr("Path to a .gguf file"))
        browse = QPushButton(self.tr("Browse…"))
        browse.clicked.connect(self._browse)
        row.addWidget(self.model_path, 1)
        row.addWidget(browse)
        layout.addLayout(row)
        self.download_button = QPushButton(self.tr("Download {model}…").format(model=DEFAULT_MODEL.label))
        self.download_button.clicked.connect(self.confirm_download)
        layout.addWidget(self.download_button)
        self.download_bar = QProgressBar()
        self.download_bar.hide()
        self.download_status = QLabel(objectName="Muted", wordWrap=True)
        layout.addWidget(self.download_bar)
        layout.addWidget(self.download_status)
        layout.addStretch(1)
        return page

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Choose a GGUF model"), str(Path.home()),
                                              self.tr("GGUF models (*.gguf)"))
        if path:
            self.model_path.setText(path)

    def confirm_download(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Question, self.tr("Download the model"),
                          self.tr("twin will connect to huggingface.co to download {file} ({size} GB) from "
                                  "{repo} into\n{folder}\n\nThis is the only connection twin makes. Download now?")
                          .format(file=DEFAULT_MODEL.filename, size=num(DEFAULT_MODEL.size_gb),
                                  repo=DEFAULT_MODEL.repo, folder=self.paths.models_dir),
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        yes = box.button(QMessageBox.StandardButton.Yes)
        box.buttonClicked.connect(lambda b: b is yes and self.start_download())
        box.open()
        self.confirm_box = box

    def start_download(self) -> None:
        if self.download is not None:
            return
        self.paths.models_dir.mkdir(parents=True, exist_ok=True)
        argv = command(DEFAULT_MODEL, self.paths.models_dir)
        proc = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        proc.setProcessEnvironment(env)
        proc.readyReadStandardOutput.connect(self._download_output)
        proc.finished.connect(self._download_finished)
        self.download = proc
        record_download_process("huggingface.co")  # the settings' network line says so
        self.download_bar.setRange(0, 0)
        self.download_bar.show()
        self.download_status.setText(self.tr("Connecting to huggingface.co…"))
        self.download_button.setText(self.tr("Cancel download"))
        self.download_button.clicked.disconnect()
        self.download_button.clicked.connect(self.cancel_download)
        proc.start(argv[0], argv[1:])

    def _download_output(self) -> None:
        assert self.download is not None
        for line in bytes(self.download.readAllStandardOutput().data()).decode("utf-8", "replace").splitlines():
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if msg.get("total"):
                self.download_bar.setRange(0, 1000)
                self.download_bar.setValue(int(1000 * msg["done"] / msg["total"]))
                self.download_status.setText(self.tr("{done} of {total} GB").format(
                    done=num(msg["done"] / 1e9, 1), total=num(msg["total"] / 1e9, 1)))
            elif "path" in msg:
                self.model_path.setText(msg["path"])
                self.download_status.setText(self.tr("Downloaded: {path}").format(path=msg["path"]))
            elif "error" in msg:
                self.download_status.setText(self.tr("Download failed:") + " " + msg["error"])

    def _download_finished(self, code: int, _status: object) -> None:
        self.download_bar.hide()
        self.download = None
        self.download_button.setText(self.tr("Download {model}…").format(model=DEFAULT_MODEL.label))
        self.download_button.clicked.disconnect()
        self.download_button.clicked.connect(self.confirm_download)
        if code != 0 and not self.download_status.text().startswith(self.tr("Download failed:")):
            self.download_status.setText(self.tr("Download stopped; it resumes where it left off next time."))

    def cancel_download(self) -> None:
        if self.download is not None:
            self.download.kill()

    def _done(self) -> None:
        self.cancel_download()
        self.settings.memory.sources = self.folders()
        self.settings.llm.model_path = self.model_path.text().strip()
        self.encrypted = self.encryption_page.apply()  # finished at the next start
        self.finished_setup.emit(self.settings)
