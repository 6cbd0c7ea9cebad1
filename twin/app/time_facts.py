"""Time-aware facts for chat turns: what held in the period a question names, and labels
for remembered statements that a newer one superseded (wired into ChatService by the app)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from twin.core.types import DateRange, Hit
from twin.errors import KnownError

if TYPE_CHECKING:
    from twin.app.chat_memories import ChatMemories
    from twin.app.profile_service import ProfileService

log = logging.getLogger("twin.chat")

#: The dated facts of one period take at most this many tokens of the prompt.
PERIOD_FACT_TOKENS = 400


def period_facts_fn(profile: ProfileService | None, memories: ChatMemories | None,
                    max_tokens: int = PERIOD_FACT_TOKENS) -> Callable[[DateRange, Callable[[str], int]], str]:
    """``ChatService.period_facts``: the accepted profile facts and the remembered chat
    statements that held in a period, each with its dates."""

    def facts(period: DateRange, count: Callable[[str], int]) -> str:
        since = period.since.isoformat() if period.since else ""
        until = period.until.isoformat() if period.until else ""
        parts = []
        if profile is not None:
            parts.append(profile.period_text(period.since, period.until, count, max_tokens))
        if memories is not None:
            try:
                text = memories.period_text(since, until)
            except (OSError, KnownError) as e:
                log.warning("chat memories unavailable for the prompt: %s", e)
                text = ""
            left = max_tokens - sum(count(p) for p in parts if p)
            if text and count(text) <= left:
                parts.append(text)
        return "\n\n".join(p for p in parts if p)

    return facts


def superseded_labels(memories: ChatMemories) -> Callable[[Sequence[Hit]], list[Hit]]:
    """``ChatService.annotate_hits``: a memory from a note that a newer one superseded gets
    its span in the heading ("held 2026-11-02 – 2026-12-01, superseded"), so the model
    does not take an old fact for the current one."""

    def annotate(hits: Sequence[Hit]) -> list[Hit]:
        try:
            old = memories.validity()
        except (OSError, KnownError) as e:
            log.warning("chat memories unavailable for labels: %s", e)
            return list(hits)
        out = []
        for h in hits:
            f = old.get(h.path)
            if f is not None:
                note = f"held {f.valid_from or '?'} – {f.valid_until}, superseded by a newer note"
                h = dataclasses.replace(h, heading=f"{h.heading} ({note})" if h.heading else f"({note})")
            out.append(h)
        return out

    return annotate
