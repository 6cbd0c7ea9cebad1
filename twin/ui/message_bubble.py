"""One message in the chat: MarkdownView (auto-height rich text) inside a MessageBubble.

A bubble streams: tokens are buffered and the Markdown re-rendered at most every
``FLUSH_MS`` (more slowly when rendering gets expensive, so a long answer never starves the
event loop), with only the unfinished tail re-rendered (:class:`StreamingMarkdown`). The
bubble grows downwards only, so the view below it does not jump.

Signals (MarkdownView):
    link_clicked(QUrl): a link (``cite:N`` or a web link) was clicked.

Signals (MessageBubble):
    citation_clicked(int): the answer's ``[N]`` was clicked.
    regenerate_requested(int): "Regenerate" on an answer (its message id).
    edit_requested(int, str): "Edit" on a question (its message id and text).
    selected(): the bubble was clicked (the sources panel follows the selected answer).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication, QMouseEvent, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from twin.app.documents_service import split_attachment
from twin.core.prompt.citations import Citation
from twin.ui.markdown_render import (
    MarkdownRenderer,
    StreamingMarkdown,
    document_css,
    plain_to_html,
)

FLUSH_MS = 50
MAX_FLUSH_MS = 400


class MarkdownView(QTextBrowser):
    """Read-only rich text whose height follows its content (no inner scroll bar)."""

    link_clicked = Signal(QUrl)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setOpenLinks(False)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(120)
        self.document().setDocumentMargin(2)
        self.anchorClicked.connect(self.link_clicked)
        self.document().documentLayout().documentSizeChanged.connect(self._fit)
        self.setFixedHeight(24)

    def set_css(self, css: str) -> None:
        self.document().setDefaultStyleSheet(css)

    def _fit(self, *_: object) -> None:
        height = math.ceil(self.document().size().height()) + 4
        if height != self.height():
            self.setFixedHeight(height)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.document().setTextWidth(self.viewport().width())
        self._fit()

    def wheelEvent(self, event) -> None:
        event.ignore()  # the conversation scrolls, not the message


class MessageBubble(QFrame):
    citation_clicked = Signal(int)
    regenerate_requested = Signal(int)
    edit_requested = Signal(int, str)
    selected = Signal()

    def __init__(self, role: str, renderer: MarkdownRenderer, *, dark: bool = False,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.role = role
        self.setProperty("role", role)
        self.setProperty("selected", False)
        self.renderer = renderer
        self.dark = dark
        self.message_id = 0
        self.text = ""
        self.thinking_text = ""
        self.citations: tuple[Citation, ...] = ()
        self.memories = ""  # the memories block the question went with (sources' snippets)
        self.streaming = False
        self._stream = StreamingMarkdown(renderer, dark=dark)
        self._flush_ms = FLUSH_MS
        self._timer = QTimer(self, singleShot=True, timeout=self.flush)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(4)
        head = QHBoxLayout()
        head.setSpacing(2)
        self.meta = QLabel(objectName="BubbleMeta")
        head.addWidget(self.meta)
        head.addStretch(1)
        self.actions: dict[str, QToolButton] = {}
        names = {"user": ("Copy", "Edit"), "assistant": ("Copy", "Regenerate"), "error": ("Retry",)}[role]
        labels = {"Copy": self.tr("Copy"), "Edit": self.tr("Edit"), "Regenerate": self.tr("Regenerate"),
                  "Retry": self.tr("Retry")}
        for name in names:  # the keys stay English (self.actions["Regenerate"]); the labels are translated
            btn = QToolButton(text=labels[name], objectName="BubbleAction")
            btn.setCursor(Qt.CursorShape.PointingHandCursor)
            btn.clicked.connect(lambda _=False, n=name: self._action(n))
            head.addWidget(btn)
            self.actions[name] = btn
        layout.addLayout(head)

        self.think_toggle = QToolButton(objectName="BubbleAction", checkable=True)
        self.think_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.think_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.think_toggle.toggled.connect(self._toggle_thinking)
        self.think_label = QLabel(objectName="Thinking", wordWrap=True)
        self.think_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.think_toggle.hide()
        self.think_label.hide()
        layout.addWidget(self.think_toggle)
        layout.addWidget(self.think_label)

        self.body = MarkdownView(self)
        self.body.set_css(document_css(dark))
        self.body.link_clicked.connect(self._link)
        self.body.viewport().installEventFilter(self)
        layout.addWidget(self.body)
        self.attachment = QLabel(objectName="AttachmentChip")
        self.attachment.hide()
        layout.addWidget(self.attachment, 0, Qt.AlignmentFlag.AlignLeft)

    # -- content ----------------------------------------------------------------------------

    def set_text(self, text: str, *, final: bool = True) -> None:
        self.text = text
        if self.role == "user":
            question, attached = split_attachment(text)
            self.body.setHtml(plain_to_html(question))
            self.attachment.setVisible(attached is not None)
            self.attachment.setText(f"📎 {attached}" if attached else "")
        elif self.role == "error":
            self.body.setHtml(plain_to_html(text))
        else:
            known = {c.n for c in self.citations}
            self._stream.known = known
            html = self._stream.finish(text) if final else self._stream.update(text)
            self.body.setHtml(html)

    def set_citations(self, citations: Sequence[Citation]) -> None:
        self.citations = tuple(citations)

    def set_thinking(self, text: str) -> None:
        self.thinking_text = text
        self._update_thinking_label()

    def _update_thinking_label(self) -> None:
        has = bool(self.thinking_text.strip())
        self.think_toggle.setVisible(has)
        words = len(self.thinking_text.split())
        busy = self.streaming and not self.text
        self.think_toggle.setText((self.tr("Thinking…") if busy else self.tr("Thought")) + " "
                                  + self.tr("(%n word(s))", "", words))
        if self.think_label.isVisible():
            self.think_label.setText(self.thinking_text.strip())

    def _toggle_thinking(self, on: bool) -> None:
        self.think_toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self.think_label.setText(self.thinking_text.strip())
        self.think_label.setVisible(on)

    def set_meta(self, text: str) -> None:
        self.meta.setText(text)

    def set_dark(self, dark: bool) -> None:
        self.dark = self._stream.dark = dark
        self.body.set_css(document_css(dark))
        self.set_text(self.text, final=not self.streaming)

    def set_selected(self, on: bool) -> None:
        self.setProperty("selected", on)
        self.style().unpolish(self)
        self.style().polish(self)

    # -- streaming --------------------------------------------------------------------------

    def begin_stream(self) -> None:
        self.streaming = True
        self.actions.get("Regenerate", QToolButton()).setEnabled(False)
        self.body.setHtml('<span style="color:gray">…</span>')

    def append(self, piece: str) -> None:
        self.text += piece
        self._schedule()

    def append_thinking(self, piece: str) -> None:
        self.thinking_text += piece
        self._schedule()

    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start(self._flush_ms)

    def flush(self) -> None:
        """Render what has streamed so far (throttled; cost-adaptive)."""
        t0 = time.perf_counter()
        if self.text:
            self.set_text(self.text, final=False)
        self._update_thinking_label()
        cost_ms = (time.perf_counter() - t0) * 1000
        self._flush_ms = int(min(MAX_FLUSH_MS, max(FLUSH_MS, cost_ms * 4)))

    def end_stream(self, text: str | None = None) -> None:
        self._timer.stop()
        self.streaming = False
        if text is not None:
            self.text = text
        self.set_text(self.text, final=True)
        self._update_thinking_label()
        self.actions.get("Regenerate", QToolButton()).setEnabled(True)

    # -- interaction --------------------------------------------------------------------------

    def _action(self, name: str) -> None:
        if name == "Copy":
            question, _ = split_attachment(self.text) if self.role == "user" else (self.text, None)
            QGuiApplication.clipboard().setText(question)
        elif name == "Regenerate":
            self.regenerate_requested.emit(self.message_id)
        elif name in ("Edit", "Retry"):
            self.edit_requested.emit(self.message_id, self.text)

    def _link(self, url: QUrl) -> None:
        if url.scheme() == "cite":
            try:
                self.citation_clicked.emit(int(url.path() or url.toString().split(":", 1)[1]))
            except ValueError:
                pass
        elif url.scheme() in ("http", "https", "mailto"):
            QDesktopServices.openUrl(url)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.MouseButtonPress and isinstance(event, QMouseEvent):
            self.selected.emit()
        return False

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.selected.emit()
        super().mousePressEvent(event)
