"""SourcesPanel: the numbered sources of the selected answer, as cards.

Each card shows the file, heading, date and a snippet: the exact text the model was given
(parsed back from the memories block stored with the question), so what is shown is what
was cited. Clicking a card opens the in-app viewer at the cited lines; "Open" hands the
file to the system's editor.

Signals:
    open_requested(object): show this :class:`Citation` in the viewer.
    open_external(str): open this path with the system's default application.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from twin.core.prompt.citations import Citation
from twin.core.prompt.persona import MEMORY_HEADER
from twin.ui.i18n import date_text

_ENTRY = re.compile(r"^\[(\d+)\] ", re.MULTILINE)
SNIPPET_CHARS = 320


def snippets_from_memories(memories: str) -> dict[int, str]:
    """``{n: note text}`` from a stored memories block (see ``persona.memory_entry``)."""
    body = memories.split(MEMORY_HEADER, 1)[-1]
    out: dict[int, str] = {}
    starts = list(_ENTRY.finditer(body))
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(body)
        lines = body[m.end():end].split("\n")[1:]
        text = "\n".join(line[2:] if line.startswith("> ") else line.lstrip(">") for line in lines
                         if line.startswith(">"))
        out[int(m.group(1))] = text.strip()
    return out


_FENCE = re.compile(r"```\w*|~~~\w*")


def short(text: str, limit: int = SNIPPET_CHARS) -> str:
    """One line of at most ``limit`` characters (code fences dropped)."""
    text = " ".join(_FENCE.sub(" ", text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class SourceCard(QFrame):
    """One citation. Signals: clicked(), open_clicked()."""

    clicked = Signal()
    open_clicked = Signal()

    def __init__(self, citation: Citation, snippet: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("SourceCard")
        self.citation = citation
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(3)
        head = QHBoxLayout()
        name = Path(citation.path).name
        title = QLabel(f"<b>[{citation.n}]</b> {name}")
        title.setTextFormat(Qt.TextFormat.RichText)
        title.setToolTip(citation.path)
        head.addWidget(title, 1)
        self.open_button = QToolButton(text=self.tr("Open"), objectName="BubbleAction")
        self.open_button.setToolTip(self.tr("Open in your editor"))
        self.open_button.clicked.connect(self.open_clicked)
        head.addWidget(self.open_button)
        layout.addLayout(head)
        lines = (self.tr("line {n}").format(n=citation.start_line) if citation.start_line == citation.end_line
                 else self.tr("lines {start}–{end}").format(start=citation.start_line, end=citation.end_line))
        where = " · ".join(p for p in (citation.heading, date_text(citation.date) if citation.date else "", lines) if p)
        meta = QLabel(where, objectName="Muted", wordWrap=True)
        layout.addWidget(meta)
        self.snippet = QLabel(short(snippet) if snippet else self.tr("(text not available)"), wordWrap=True)
        self.snippet.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.snippet)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()
        super().mouseReleaseEvent(event)


class SourcesPanel(QWidget):
    open_requested = Signal(object)
    open_external = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        self.title = QLabel(self.tr("Sources"), objectName="SectionTitle")
        layout.addWidget(self.title)
        self.hint = QLabel(self.tr("Select an answer to see the notes it was given."), objectName="Muted", wordWrap=True)
        layout.addWidget(self.hint)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        inner = QWidget()
        self._cards_layout = QVBoxLayout(inner)
        self._cards_layout.setContentsMargins(0, 0, 0, 0)
        self._cards_layout.setSpacing(8)
        self._cards_layout.addStretch(1)
        scroll.setWidget(inner)
        layout.addWidget(scroll, 1)
        self.cards: list[SourceCard] = []

    def show_citations(self, citations: Sequence[Citation], memories: str = "", cited: Sequence[int] = ()) -> None:
        """Cards for ``citations`` (those the answer cited first)."""
        for card in self.cards:
            card.deleteLater()
        self.cards = []
        snippets = snippets_from_memories(memories) if memories else {}
        order = sorted(citations, key=lambda c: (c.n not in cited, c.n))
        for c in order:
            card = SourceCard(c, snippets.get(c.n, ""))
            card.clicked.connect(lambda c=c: self.open_requested.emit(c))
            card.open_clicked.connect(lambda c=c: self.open_external.emit(c.path))
            self._cards_layout.insertWidget(self._cards_layout.count() - 1, card)
            self.cards.append(card)
        used = sum(1 for c in citations if c.n in cited)
        self.title.setText(self.tr("Sources ({n})").format(n=len(citations)) if citations else self.tr("Sources"))
        if citations:
            self.hint.setText(self.tr("%n cited in the answer · click a source to read it", "", used) if cited
                              else self.tr("Notes the answer was given · click to read"))
        else:
            self.hint.setText(self.tr("No notes were used for this answer."))

    def card(self, n: int) -> SourceCard | None:
        return next((c for c in self.cards if c.citation.n == n), None)
