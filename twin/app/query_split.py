"""Compound questions: "where did I live in 2019 and who did I work with?" asks two things.

:func:`looks_compound` decides cheaply which questions go to the model at all; the model's reply
to :data:`SPLIT_PROMPT` gives the parts (:func:`parse_parts`); each part's hits and the whole
question's are merged in turns (:func:`merge_lists`). Used by
:mod:`twin.app.query_understanding` (``search.llm_split``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from twin.core.types import Hit

MAX_PARTS = 4

SPLIT_PROMPT = (
    "Split this question into simple questions, one per line. If it asks only one thing, repeat it.\n\n"
    "Question: Where did you go on Monday, and what did you eat there?\n"
    "Simple questions:\nWhere did you go on Monday?\nWhat did you eat there?\n\n"
    "Question: {question}\nSimple questions:\n"
)
_ASKS = (r"who|what|where|when|why|how|which|whom|whose|did|do|does|was|were|is|are|"
         r"кто|что|где|когда|почему|зачем|как|какой|какая|какие|каким|сколько|куда|откуда|чем|кого|кому|ли")
#: Two questions in one: "…? …?", or "and/и/а" followed by another question word.
_COMPOUND = re.compile(rf"\?.*\S.*\?|(?:,|;)?\s(?:and|also|и|а|а также)\s+(?:{_ASKS})\b", re.IGNORECASE | re.DOTALL)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s*")


def looks_compound(question: str) -> bool:
    """Whether ``question`` seems to ask two things (only those are sent to the model)."""
    return bool(_COMPOUND.search(question))


def parse_parts(reply: str, question: str) -> list[str]:
    """The simple questions in the model's ``reply`` (the first block of lines ending in "?";
    the question itself and repeats left out); [] unless at least two."""
    whole = " ".join(question.split()).lower()
    parts: list[str] = []
    for line in (reply or "").splitlines():
        line = _BULLET.sub("", line).strip().strip('"«»')
        if not line:
            if parts:
                break
            continue
        if line.lower().startswith(("question:", "simple questions")):
            break
        if line.endswith("?") and len(line.split()) >= 2 and line.lower() != whole and line not in parts:
            parts.append(line)
    return parts[:MAX_PARTS] if len(parts) >= 2 else []


def merge_lists(lists: Sequence[Sequence[Hit]]) -> list[Hit]:
    """The lists' first hits in turns, then their second ones…, each chunk once."""
    out: list[Hit] = []
    seen: set[str] = set()
    for i in range(max((len(x) for x in lists), default=0)):
        for hits in lists:
            if i < len(hits):
                key = hits[i].chunk_id or f"{hits[i].path}:{hits[i].start_line}"
                if key not in seen:
                    seen.add(key)
                    out.append(hits[i])
    return out
