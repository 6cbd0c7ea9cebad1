"""What a chat turn knows about its evidence: whether the memories answer the question,
past conversations as extra memories, and the hooks for dated facts (used by ChatService)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence

from twin.core.conversation.store import MemoryMatch
from twin.core.prompt import abstain as A
from twin.core.prompt.persona import CONVERSATION_PREFIX
from twin.core.types import DateRange, Hit

log = logging.getLogger("twin.chat")

#: (retrieval query, hits) → whether the hits answer it (see :mod:`twin.core.prompt.abstain`).
EvidenceFn = Callable[[str, Sequence[Hit]], bool]
#: (date range the question asks about, token counter) → the facts that held then, as text.
PeriodFactsFn = Callable[[DateRange, Callable[[str], int]], str]

SCOPE_NONE = "none"
#: The fallback evidence test (no calibrated score from the retriever): this share of the
#: question's content terms must appear in one hit.
LEXICAL_SUPPORT = 0.5
#: At most this many hits from past conversations kept as memory join a turn's memories.
CONVERSATION_HITS = 2


def default_evidence(question: str, hits: Sequence[Hit]) -> bool:
    """Whether ``hits`` answer ``question``: either test is enough.

    * the retriever's calibrated decision over the hits it measured (``Hit.evidence``,
      :func:`twin.core.memory.abstain.enough_evidence`);
    * the lexical test: one hit holds at least half of the question's topic words
      (:func:`~twin.core.prompt.abstain.lexical_support`), so a note that plainly names what
      is asked is never refused.

    With no measured hit (past conversations, a retriever without the score), a general
    question is not refused at all: word overlap alone is too weak a reason; it guards
    personal questions only.
    """
    if not hits:
        return False
    from twin.core.memory.abstain import enough_evidence
    from twin.core.memory.query_dates import extract_query_dates

    measured = [h for h in hits if h.evidence is not None]
    if measured and enough_evidence(measured):
        return True
    found, rest = extract_query_dates(question, dt.date.today())
    if found and not A.content_terms(rest):  # only a date: the period's entries are the answer
        return True
    if not measured and not A.is_personal_question(question):
        return True
    return A.lexical_support(rest, hits) >= LEXICAL_SUPPORT


def conversation_hits(found: Sequence[MemoryMatch]) -> list[Hit]:
    """Messages of past conversations as memories, cited as "conversation: <title>"."""
    return [Hit(path=f"{CONVERSATION_PREFIX}{m.conversation_id}", heading=m.title or "untitled",
                date=dt.datetime.fromtimestamp(m.created_at).date(), start_line=m.message_id,
                end_line=m.message_id, score=m.score,
                text=("I asked: " if m.role == "user" else "I answered: ") + m.content,
                chunk_id=f"msg:{m.message_id}") for m in found]


def known_facts(*texts: str) -> list[Hit]:
    """Fact lines already in the prompt (profile, dated facts) as pseudo-hits, one per line,
    for the lexical evidence test."""
    return [Hit("profile", "", None, 0, 0, 0.0, line) for t in texts for line in t.splitlines()
            if line.strip().startswith("-")]
