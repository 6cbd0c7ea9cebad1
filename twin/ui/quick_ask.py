"""QuickAskPopup: a small frameless window to ask one thing without opening the main window.

It appears near the tray icon (or in the middle of the screen) with the cursor in the
input. Enter asks; the answer streams in with its sources; Esc closes it. Follow-ups stay in
the same conversation, and "Open in main window" shows that conversation there.

Signals:
    open_in_main(str): show this conversation in the main window.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from twin.core.conversation.events import TurnDone, TurnStarted
from twin.ui.controller import ChatTurn, Controller
from twin.ui.markdown_render import MarkdownRenderer, document_css
from twin.ui.message_bubble import MessageBubble

WIDTH, MAX_ANSWER_HEIGHT = 560, 380


class QuickAskPopup(QWidget):
    open_in_main = Signal(str)

    def __init__(self, controller: Controller, renderer: MarkdownRenderer, parent: QWidget | None = None):
        super().__init__(parent, Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint
                         | Qt.WindowType.WindowStaysOnTopHint)
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self.controller = controller
        self.conversation_id: str | None = None
        self.turn: ChatTurn | None = None
        self.dark = False
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.frame = QFrame(objectName="QuickAsk")
        outer.addWidget(self.frame)
        layout = QVBoxLayout(self.frame)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(8)
        self.input = QLineEdit(placeholderText=self.tr("Ask your twin…  (Enter asks · Esc closes)"))
        self.input.returnPressed.connect(self.ask)
        layout.addWidget(self.input)
        self.answer = MessageBubble("assistant", renderer)
        self.answer.actions["Regenerate"].hide()
        # the popup grows with the answer, up to MAX_ANSWER_HEIGHT, then scrolls
        self.answer.body.document().documentLayout().documentSizeChanged.connect(lambda _s: self._fit())
        self.scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        self.scroll.setWidget(self.answer)
        self.scroll.setMaximumHeight(MAX_ANSWER_HEIGHT)
        self.scroll.hide()
        layout.addWidget(self.scroll)
        self.sources = QLabel(objectName="Muted", wordWrap=True)
        self.sources.setTextFormat(Qt.TextFormat.RichText)
        self.sources.linkActivated.connect(self._source_link)
        self.sources.hide()
        layout.addWidget(self.sources)
        row = QHBoxLayout()
        self.status = QLabel(objectName="Muted")
        self.open_button = QPushButton(self.tr("Open in main window"))
        self.open_button.clicked.connect(self._open_main)
        self.open_button.setEnabled(False)
        row.addWidget(self.status, 1)
        row.addWidget(self.open_button)
        layout.addLayout(row)
        self.setFixedWidth(WIDTH)

    # -- showing ----------------------------------------------------------------------------

    def popup(self, near: QRect | None = None) -> None:
        """Show near ``near`` (the tray icon's geometry) or centred on the screen."""
        self.adjustSize()
        screen = QGuiApplication.primaryScreen()
        area = screen.availableGeometry() if screen is not None else QRect(0, 0, 1280, 800)
        if near is not None and near.isValid() and not near.isEmpty():
            x = min(max(area.left(), near.center().x() - WIDTH // 2), area.right() - WIDTH)
            y = near.bottom() + 8 if near.center().y() < area.center().y() else near.top() - self.height() - 8
            self.move(QPoint(x, max(area.top(), y)))
        else:
            self.move(area.center() - QPoint(WIDTH // 2, area.height() // 4))
        self.show()
        self.raise_()
        self.activateWindow()
        self.input.setFocus()

    def set_dark(self, dark: bool) -> None:
        self.dark = dark
        self.answer.set_dark(dark)
        self.answer.body.set_css(document_css(dark))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.hide()
            return
        super().keyPressEvent(event)

    # -- asking -----------------------------------------------------------------------------

    def ask(self) -> None:
        text = self.input.text().strip()
        if not text:
            return
        self.input.clear()
        self.input.setPlaceholderText(self.tr("Follow up on “{question}”…").format(question=text[:40]))
        turn = self.controller.ask(self.conversation_id, text)
        self.turn = turn
        self.answer.text = ""
        self.answer.thinking_text = ""
        self.answer.set_meta(self.tr("You asked: {question}").format(question=text))
        self.answer.begin_stream()
        self.scroll.show()
        self.sources.hide()
        self.status.setText(self.tr("Thinking…"))
        turn.started.connect(lambda ev, t=turn: t is self.turn and self._started(ev))
        turn.token.connect(lambda p, t=turn: t is self.turn and self._token(p))
        turn.thinking.connect(lambda p, t=turn: t is self.turn and self.answer.append_thinking(p))
        turn.done.connect(lambda d, t=turn: t is self.turn and self._done(d))
        turn.failed.connect(lambda m, t=turn: t is self.turn and self._failed(m))
        turn.finished.connect(lambda t=turn: t is self.turn and self._finished())
        self.adjustSize()

    def _fit(self) -> None:
        wanted = self.answer.sizeHint().height() + 6
        self.scroll.setFixedHeight(min(MAX_ANSWER_HEIGHT, max(60, wanted)))
        self.adjustSize()

    def _started(self, ev: TurnStarted) -> None:
        self.conversation_id = ev.conversation_id
        self.answer.set_citations(ev.citations)
        self.open_button.setEnabled(True)
        self.status.setText(self.tr("Answering…"))

    def _token(self, piece: str) -> None:
        self.answer.append(piece)

    def _done(self, done: TurnDone) -> None:
        self.answer.set_citations(done.citations)
        self.answer.set_thinking(done.thinking)
        self.answer.end_stream(done.answer)
        cited = set(done.cited)
        links = [f'<a href="{c.n}">[{c.n}]</a> {c.path.rsplit("/", 1)[-1]}' + (f" › {c.heading}" if c.heading else "")
                 for c in done.citations if not cited or c.n in cited]
        self.sources.setText(self.tr("Sources:") + " " + " · ".join(links) if links else self.tr("No notes were used."))
        self.sources.show()
        self.status.setText("" if done.complete else self.tr("Stopped."))
        self.adjustSize()

    def _failed(self, message: str) -> None:
        self.answer.end_stream(message)
        self.status.setText(self.tr("Could not answer."))

    def _finished(self) -> None:
        if self.answer.streaming:
            self.answer.end_stream()
        self.adjustSize()

    def _source_link(self, n: str) -> None:
        if self.conversation_id:
            self.open_in_main.emit(self.conversation_id)

    def _open_main(self) -> None:
        if self.conversation_id:
            self.hide()
            self.open_in_main.emit(self.conversation_id)

    def new_conversation(self) -> None:
        self.conversation_id = None
        self.scroll.hide()
        self.sources.hide()
        self.open_button.setEnabled(False)
        self.input.setPlaceholderText(self.tr("Ask your twin…  (Enter asks · Esc closes)"))
