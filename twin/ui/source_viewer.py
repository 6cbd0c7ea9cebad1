"""SourceViewer: an in-app, read-only view of a note, scrolled to the cited lines.

The text comes from the same reader the indexer uses (``read_document``: encodings, PDF,
DOCX, HTML), read off the GUI thread, so line numbers match the citation's. The cited lines
are highlighted and centred. "Open in editor" hands the file to the system.

Signals:
    (none; a plain window)
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, QUrl
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QFont,
    QTextCharFormat,
    QTextCursor,
    QTextFormat,
)
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from twin.core.memory.documents import Decoder, is_sealed, read_document
from twin.errors import KnownError
from twin.app.background import Background
from twin.ui.i18n import shown
from twin.ui.jobs import off_gui

log = logging.getLogger("twin.ui")
MAX_BYTES = 20 * 1024 * 1024
def encrypted_hint() -> str:
    return QCoreApplication.translate("SourceViewer", "This file is encrypted by twin (encryption at rest): an "
                                      "editor would show only ciphertext. It is shown here, decrypted in memory.")


class SourceViewer(QDialog):
    def __init__(self, parent: QWidget | None = None, *, dark: bool = False, decode: Decoder | None = None,
                 background: Background | None = None):
        super().__init__(parent)
        #: The app's pool for reading files (None: a pool of its own per job).
        self.background = background
        #: Opens files twin sealed (encryption on), in memory only.
        self.decode = decode
        self.setWindowTitle(self.tr("Source"))
        self.resize(760, 620)
        self.dark = dark
        self.path = ""
        self.start_line = self.end_line = 0
        layout = QVBoxLayout(self)
        self.title = QLabel(objectName="SectionTitle", wordWrap=True)
        self.where = QLabel(objectName="Muted", wordWrap=True)
        layout.addWidget(self.title)
        layout.addWidget(self.where)
        self.editor = QPlainTextEdit(readOnly=True)
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        font = QFont(self.editor.font())
        font.setPointSizeF(font.pointSizeF() + 0.5)
        self.editor.setFont(font)
        layout.addWidget(self.editor, 1)
        buttons = QHBoxLayout()
        self.open_button = QPushButton(self.tr("Open in editor"))
        self.open_button.clicked.connect(self.open_external)
        close = QPushButton(self.tr("Close"))
        close.clicked.connect(self.close)
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(close)
        layout.addLayout(buttons)

    async def show_source(self, path: str, start_line: int, end_line: int, heading: str = "") -> None:
        """Load ``path`` (off the GUI thread) and show lines ``start_line``…``end_line``."""
        self.path, self.start_line, self.end_line = path, start_line, end_line
        self.title.setText(Path(path).name)
        lines = (self.tr("line {n}").format(n=start_line) if start_line == end_line
                 else self.tr("lines {start}–{end}").format(start=start_line, end=end_line))
        self.where.setText(" · ".join(p for p in (heading, lines, path) if p))
        self.editor.setPlainText(self.tr("Loading…"))
        sealed = is_sealed(path)
        self.open_button.setEnabled(not sealed)
        self.open_button.setToolTip(encrypted_hint() if sealed else "")
        self.show()
        self.raise_()
        try:
            doc = await off_gui(self.background, read_document, Path(path), MAX_BYTES, self.decode)
        except KnownError as e:
            self.editor.setPlainText(self.tr("Cannot show this file: {error}").format(error=shown(e)))
            return
        self.editor.setPlainText(doc.text)
        self.highlight(start_line, end_line)

    def highlight(self, start_line: int, end_line: int) -> None:
        doc = self.editor.document()
        first = doc.findBlockByNumber(max(0, start_line - 1))
        last = doc.findBlockByNumber(max(0, end_line - 1))
        if not first.isValid():
            return
        cursor = QTextCursor(first)
        selections = []
        block = first
        color = QColor("#3f4a7a" if self.dark else "#fef3c7")
        while block.isValid():
            sel = QTextEdit.ExtraSelection()
            fmt = QTextCharFormat()
            fmt.setBackground(color)
            fmt.setProperty(QTextFormat.Property.FullWidthSelection, True)
            sel.format = fmt
            sel.cursor = QTextCursor(block)
            selections.append(sel)
            if not last.isValid() or block.blockNumber() >= last.blockNumber():
                break
            block = block.next()
        self.editor.setExtraSelections(selections)
        # put the end in view first, then the start, so as much of the passage as fits shows
        if last.isValid():
            self.editor.setTextCursor(QTextCursor(last))
            self.editor.ensureCursorVisible()
        self.editor.setTextCursor(cursor)
        self.editor.centerCursor()

    def visible_lines(self) -> tuple[int, int]:
        """(first, last) 1-based line numbers on screen (tests)."""
        first = self.editor.firstVisibleBlock()
        height = self.editor.viewport().height()
        block, last = first, first.blockNumber()
        while block.isValid() and self.editor.blockBoundingGeometry(block).translated(
                self.editor.contentOffset()).top() < height:
            last = block.blockNumber()
            block = block.next()
        return first.blockNumber() + 1, last + 1

    def open_external(self) -> None:
        if self.path and is_sealed(self.path):
            self.where.setText(encrypted_hint())
            return
        if self.path:
            QDesktopServices.openUrl(QUrl.fromLocalFile(self.path))

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.close()
            return
        super().keyPressEvent(event)
