"""FirstRunWizard: pick the notes folders and a model, see what will be indexed.

Shown when there is no settings file yet. The model can be an existing GGUF (found in other
programs' folders too), or downloaded from the catalog with its fit on this machine shown
(:mod:`twin.ui.model_page`) — but only after the user clicks "Download" and confirms that twin
will connect to huggingface.co; the download runs as a separate process, with progress and
speed, and can be cancelled. The embedding model is downloaded the same way. Without a model
the app still opens: memory search works and the banner explains what is missing.

Signals:
    finished_setup(object): the :class:`Settings` to save and apply.
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from twin.core.memory.sources import FileFilter, walk_sources
from twin.paths import Paths
from twin.settings import Settings
from twin.app.background import Background
from twin.ui.jobs import off_gui

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

    def __init__(self, settings: Settings, paths: Paths, parent: QWidget | None = None, *,
                 background: Background | None = None):
        super().__init__(parent)
        # The app's pool for the folder preview (None: a pool of its own per job).
        self.background = background
        self.setWindowTitle(self.tr("Welcome to twin"))
        self.settings = copy.deepcopy(settings)
        self.paths = paths
        self._preview_task: Any = None
        self.addPage(self._folders_page())
        self.addPage(self._model_page())
        from twin.ui.encryption_panel import EncryptionPage

        self.encryption_page = EncryptionPage(paths)  # strongly suggested, skippable
        self.addPage(self.encryption_page)
        self.encrypted = False
        self.resize(820, 680)
        self.accepted.connect(self._done)
        # after the switch is laid out (the label's width is final then)
        self.currentIdChanged.connect(lambda _id: QTimer.singleShot(0, self._fit_subtitle))

    def _fit_subtitle(self) -> None:
        """QWizard keeps the header's height from the first page: a longer subtitle (a longer
        language) would be cut off. Give the subtitle the height its text needs."""
        page = self.currentPage()
        for label in self.findChildren(QLabel):
            if page is not None and label.wordWrap() and label.text() == page.subTitle():
                label.setMinimumHeight(0)  # measure the text alone
                label.setMinimumHeight(label.heightForWidth(max(label.width(), 1)))

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
        count, sample = await off_gui(self.background, preview, self.folders(),
                                      FileFilter(m.extensions, m.exclude, m.index_hidden))
        self.preview_list.clear()
        self.preview_list.addItems(sample)
        kinds = ", ".join(m.extensions)
        text = self.tr("%Ln file(s) will be indexed ({kinds})", "", count).format(kinds=kinds)
        if count > len(sample):
            text += self.tr("; the first %Ln are listed", "", len(sample))
        self.preview_label.setText(text)

    # -- model ------------------------------------------------------------------------------

    def _model_page(self) -> QWizardPage:
        from twin.ui.model_page import EmbeddingDownload, ModelPage

        page = QWizardPage()
        page.setTitle(self.tr("The language model"))
        page.setSubTitle(self.tr("twin answers with a local GGUF model. Use a file you have, or download one "
                                 "that fits this computer (the recommended one is marked). You can also skip "
                                 "this: memory search works without a model."))
        layout = QVBoxLayout(page)
        row = QHBoxLayout()
        self.model_path = QLineEdit(self.settings.llm.model_path, placeholderText=self.tr("Path to a .gguf file"))
        browse = QPushButton(self.tr("Browse…"))
        browse.clicked.connect(self._browse)
        row.addWidget(self.model_path, 1)
        row.addWidget(browse)
        layout.addLayout(row)
        self.models = ModelPage(self.settings, self.paths, parent=page, background=self.background)
        self.models.model_chosen.connect(self.model_path.setText)
        layout.addWidget(self.models, 1)
        self.embedding_download = EmbeddingDownload(self.settings.embedding.model, self.paths.cache_dir, parent=page)
        layout.addWidget(self.embedding_download)
        self.models.refresh()
        return page

    @property
    def download(self) -> Any:
        """The model download in progress (its process), or None."""
        return self.models.runner.process

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Choose a GGUF model"), str(Path.home()),
                                              self.tr("GGUF models (*.gguf)"))
        if path:
            self.model_path.setText(path)

    def confirm_download(self) -> None:
        """Ask before downloading the model chosen in the list (the recommended one at first)."""
        self.models.confirm_download()
        self.confirm_box = self.models.confirm_box

    def cancel_download(self) -> None:
        self.models.runner.cancel()
        self.embedding_download.runner.cancel()

    def _done(self) -> None:
        self.cancel_download()
        self.settings.memory.sources = self.folders()
        self.settings.llm.model_path = self.model_path.text().strip()
        # The key file is written off the GUI thread (a key derivation); the data is converted
        # at the next start. The setup is reported once the key file is there (or skipped).
        self.encryption_page.apply(self.background, self._setup_done)

    def _setup_done(self, encrypted: bool) -> None:
        self.encrypted = encrypted
        self.finished_setup.emit(self.settings)
