"""ChatTurn: one question and its answer, as a view follows it (the controller's turns).

Signals:
    started(object): :class:`TurnStarted` (conversation id, citations).
    token(str): a piece of the answer.
    thinking(str): a piece of the model's reasoning.
    done(object): :class:`TurnDone` (also after Stop: ``complete`` False).
    failed(str): the turn ended with an error fit to show.
    finished(): the turn is over, whatever the outcome (always last).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from twin.core.conversation.events import Thinking, Token, TurnDone, TurnStarted


class ChatTurn(QObject):
    """One question and its answer, as a view follows it."""

    started = Signal(object)
    token = Signal(str)
    thinking = Signal(str)
    done = Signal(object)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, question: str, parent: QObject | None = None):
        super().__init__(parent)
        self.question = question
        self.conversation_id: str | None = None
        self.answer = ""
        self.result: TurnDone | None = None
        self.error = ""
        self.is_finished = False

    def dispatch(self, event: object) -> None:
        if isinstance(event, Token):
            self.answer += event.text
            self.token.emit(event.text)
        elif isinstance(event, Thinking):
            self.thinking.emit(event.text)
        elif isinstance(event, TurnStarted):
            self.conversation_id = event.conversation_id
            self.started.emit(event)
        elif isinstance(event, TurnDone):
            self.result = event
            self.done.emit(event)
