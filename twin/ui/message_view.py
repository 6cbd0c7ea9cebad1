"""MessageView: the conversation as a scrolling column of message bubbles.

Auto-scroll follows the newest text while the view is at the bottom, and stops as soon as
the user scrolls up (it resumes when they scroll back down, or send a new message). The
follow state is decided from the scroll position *before* content grows: growth changes the
range, not the value, so a user who scrolled up stays where they are.

Signals:
    citation_clicked(object, int): an answer's ``[N]`` (the bubble, N).
    answer_selected(object): an answer bubble was selected (the sources panel shows it).
    regenerate_requested(int): "Regenerate" on the answer with this message id.
    edit_requested(int, str): "Edit" on the question with this message id.
    retry_requested(): "Retry" on an error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from twin.core.conversation.events import TurnDone
from twin.core.conversation.store import Message
from twin.ui.i18n import datetime_text, num
from twin.ui.markdown_render import MarkdownRenderer
from twin.ui.message_bubble import MessageBubble

FOLLOW_SLACK_PX = 32
MAX_WIDTH = 860


def answer_meta(model: str, seconds: float | None, tokens_per_s: float | None, complete: bool,
                finish_reason: str = "") -> str:
    parts = [QCoreApplication.translate("MessageView", "Twin")]
    if model:
        parts.append(model)
    if seconds:
        parts.append(QCoreApplication.translate("MessageView", "{seconds} s").format(seconds=num(seconds, 1)))
    if tokens_per_s:
        parts.append(QCoreApplication.translate("MessageView", "{rate} tok/s").format(rate=num(tokens_per_s)))
    if not complete:
        parts.append(QCoreApplication.translate("MessageView", "stopped") if finish_reason == "cancelled" else
                     QCoreApplication.translate("MessageView", "incomplete ({reason})").format(
                         reason=finish_reason or QCoreApplication.translate("MessageView", "interrupted")))
    return " · ".join(parts)


class MessageView(QScrollArea):
    citation_clicked = Signal(object, int)
    answer_selected = Signal(object)
    regenerate_requested = Signal(int)
    edit_requested = Signal(int, str)
    retry_requested = Signal()

    def __init__(self, renderer: MarkdownRenderer, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("MessageView")
        self.renderer = renderer
        self.dark = False
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer = QWidget()
        row = QHBoxLayout(outer)
        row.setContentsMargins(16, 12, 16, 12)
        self._column = QWidget()
        self._column.setMaximumWidth(MAX_WIDTH)
        self._layout = QVBoxLayout(self._column)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(10)
        self._empty = QLabel(self.tr("Ask me anything about your notes.\nI answer from your own diaries, "
                                     "with sources."), objectName="Muted", alignment=Qt.AlignmentFlag.AlignCenter)
        self._layout.addWidget(self._empty)
        self._layout.addStretch(1)
        row.addStretch(0)
        row.addWidget(self._column, 1)
        row.addStretch(0)
        self.setWidget(outer)
        self._bubbles: list[MessageBubble] = []
        self.selected: MessageBubble | None = None
        self.follow = True
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._on_scrolled)
        bar.rangeChanged.connect(self._on_range)

    # -- scrolling --------------------------------------------------------------------------

    def _on_scrolled(self, value: int) -> None:
        self.follow = value >= self.verticalScrollBar().maximum() - FOLLOW_SLACK_PX

    def _on_range(self, _min: int, maximum: int) -> None:
        if self.follow:
            self.verticalScrollBar().setValue(maximum)

    def scroll_to_bottom(self) -> None:
        self.follow = True
        self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())

    # -- content ----------------------------------------------------------------------------

    def bubbles(self) -> list[MessageBubble]:
        return list(self._bubbles)

    def clear(self) -> None:
        for b in self._bubbles:
            b.deleteLater()
        self._bubbles.clear()
        self.selected = None
        self._empty.show()
        self.follow = True

    def _add(self, role: str) -> MessageBubble:
        bubble = MessageBubble(role, self.renderer, dark=self.dark)
        bubble.citation_clicked.connect(lambda n, b=bubble: self.citation_clicked.emit(b, n))
        bubble.selected.connect(lambda b=bubble: self.select(b))
        bubble.regenerate_requested.connect(self.regenerate_requested)
        if role == "error":
            bubble.edit_requested.connect(lambda *_: self.retry_requested.emit())
        else:
            bubble.edit_requested.connect(self.edit_requested)
        self._empty.hide()
        self._layout.insertWidget(self._layout.count() - 1, bubble)
        self._bubbles.append(bubble)
        return bubble

    def remove(self, bubble: MessageBubble) -> None:
        if bubble in self._bubbles:
            self._bubbles.remove(bubble)
        if self.selected is bubble:
            self.selected = None
        bubble.hide()
        bubble.deleteLater()
        if not self._bubbles:
            self._empty.show()

    def add_user(self, text: str, message_id: int = 0) -> MessageBubble:
        bubble = self._add("user")
        bubble.message_id = message_id
        bubble.set_meta(self.tr("You"))
        bubble.set_text(text)
        self.scroll_to_bottom()
        return bubble

    def begin_answer(self) -> MessageBubble:
        bubble = self._add("assistant")
        bubble.set_meta(self.tr("Twin"))
        bubble.begin_stream()
        return bubble

    def finish_answer(self, bubble: MessageBubble, done: TurnDone) -> None:
        bubble.set_citations(done.citations)
        bubble.set_thinking(done.thinking)
        bubble.end_stream(done.answer)
        bubble.set_meta(answer_meta(done.model, done.timings.total_s, done.timings.tokens_per_s,
                                    done.complete, done.finish_reason))
        self.select(bubble)

    def add_error(self, text: str) -> MessageBubble:
        bubble = self._add("error")
        bubble.set_meta(self.tr("Could not answer"))
        bubble.set_text(text)
        return bubble

    def load(self, messages: Sequence[Message]) -> None:
        """Show a stored conversation (replaces what is shown)."""
        self.clear()
        memories = ""
        for m in messages:
            if m.role == "user":
                self.add_user(m.content, m.id)
                memories = m.memories
                continue
            bubble = self._add("assistant")
            bubble.message_id = m.id
            bubble.memories = memories
            bubble.set_citations(m.citations)
            bubble.set_thinking(m.thinking)
            bubble.set_text(m.content)
            when = datetime_text(dt.datetime.fromtimestamp(m.created_at))
            meta = answer_meta(m.model, (m.duration_ms or 0) / 1000, m.tokens_per_s, m.complete, m.finish_reason)
            bubble.set_meta(f"{meta} · {when}")
        answers = [b for b in self._bubbles if b.role == "assistant"]
        if answers:
            self.select(answers[-1])
        self.scroll_to_bottom()

    def select(self, bubble: MessageBubble) -> None:
        if bubble.role != "assistant":
            return
        if self.selected is not None and self.selected is not bubble:
            self.selected.set_selected(False)
        self.selected = bubble
        bubble.set_selected(True)
        self.answer_selected.emit(bubble)

    def last_answer(self) -> MessageBubble | None:
        return next((b for b in reversed(self._bubbles) if b.role == "assistant"), None)

    def set_dark(self, dark: bool) -> None:
        self.dark = dark
        for b in self._bubbles:
            b.set_dark(dark)
