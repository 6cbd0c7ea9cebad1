"""Events of one chat turn, as the chat service yields them (frozen: they cross threads).

Order: one :class:`TurnStarted`, then :class:`Thinking` and :class:`Token` pieces as they
stream, then exactly one :class:`TurnDone` — also when the turn was cancelled
(``complete`` False, the partial answer kept). An error ends the stream with an exception
instead, after the partial answer has been stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from twin.core.prompt.citations import Citation


@dataclass(frozen=True)
class TurnStarted:
    conversation_id: str
    citations: tuple[Citation, ...]
    user_message_id: int = 0
    assistant_message_id: int = 0
    warnings: tuple[str, ...] = ()  # e.g. memories unavailable for this turn
    memories: str = ""  # the memories shown to the model (the answer's "memories used" view)


@dataclass(frozen=True)
class Token:
    """A piece of the answer."""

    text: str


@dataclass(frozen=True)
class Thinking:
    """A piece of the model's reasoning (shown apart, never fed back)."""

    text: str


@dataclass(frozen=True)
class TurnUsage:
    prompt_tokens: int = 0
    prompt_tokens_evaluated: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class TurnTimings:
    ttft_s: float | None = None
    tokens_per_s: float | None = None
    total_s: float = 0.0


@dataclass(frozen=True)
class TurnDone:
    conversation_id: str
    answer: str
    thinking: str
    citations: tuple[Citation, ...]
    usage: TurnUsage = field(default_factory=TurnUsage)
    timings: TurnTimings = field(default_factory=TurnTimings)
    complete: bool = True
    finish_reason: str = "stop"
    model: str = ""
    cited: tuple[int, ...] = ()  # the citation numbers the answer actually uses
    offers: tuple[str, ...] = ()  # facts the user stated about themselves: "remember this?"


TurnEvent = TurnStarted | Token | Thinking | TurnDone
