"""Drag and drop of files and folders anywhere on the main window.

:class:`DropZone` watches a window's drag events (an event filter, so any child that does not
take drops itself passes them up), shows a full-window overlay while something is dragged
over, and emits the dropped local paths. What happens next (ingest or attach) is the
window's decision: see ``ChatWindow._on_dropped``.

:class:`DropModeDialog` asks, once, whether dropped documents are copied into twin's inbox
or indexed where they are; "remember" stores the answer in :class:`UiState`.

Signals (DropZone):
    dropped(list): the local paths dropped (``Path`` objects).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QObject, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)


def local_paths(mime: QMimeData) -> list[Path]:
    """The local files and folders in a drag's data (remote URLs are ignored)."""
    if not mime.hasUrls():
        return []
    return [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]


class DropOverlay(QLabel):
    """A translucent full-window hint shown while files are dragged over."""

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setText(self.tr("Drop notes or documents to add them to your memory\n"
                             "(drop while typing a question to attach them to it)"))
        self.setObjectName("DropOverlay")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.hide()

    def cover(self) -> None:
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect().adjusted(12, 12, -12, -12))
        self.raise_()
        self.show()


class DropZone(QObject):
    dropped = Signal(list)

    def __init__(self, window: QWidget):
        super().__init__(window)
        self.window = window
        window.setAcceptDrops(True)
        window.installEventFilter(self)
        self.overlay = DropOverlay(window)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove) and isinstance(event, QDragEnterEvent | QDropEvent):
            if local_paths(event.mimeData()):
                event.acceptProposedAction()
                if kind == QEvent.Type.DragEnter:
                    self.overlay.cover()
                return True
        elif kind == QEvent.Type.DragLeave:
            self.overlay.hide()
        elif kind == QEvent.Type.Drop and isinstance(event, QDropEvent):
            self.overlay.hide()
            paths = local_paths(event.mimeData())
            if paths:
                event.acceptProposedAction()
                self.dropped.emit(paths)
                return True
        return False


class DropModeDialog(QDialog):
    """Copy into twin's inbox, or index in place? (asked once if "remember" is ticked)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Add documents to your memory"))
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self.tr("How should twin keep the documents you drop?")))
        self.copy = QRadioButton(self.tr("Copy them into twin's inbox (safe: the originals can move or be deleted)"))
        self.in_place = QRadioButton(self.tr("Index them where they are (folders are watched for changes; "
                                             "loose files are still copied)"))
        self.copy.setChecked(True)
        self.remember = QCheckBox(self.tr("Remember my choice (change it in Settings)"))
        self.remember.setChecked(True)
        for w in (self.copy, self.in_place, self.remember):
            layout.addWidget(w)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    @property
    def mode(self) -> str:
        return "in_place" if self.in_place.isChecked() else "copy"
