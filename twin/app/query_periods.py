"""Relative dates resolved against the user's dated facts: "the summer after I moved".

A question that names a period only through an event of the user's life ("after I moved",
"когда я жил в Лиссабоне") has no date the search can read. With the dated facts of the
self-profile and the chat memories in the prompt (:data:`PERIOD_PROMPT`), the loaded model
names the period ("summer 2019"); :func:`parse_period` accepts only a reply that
:func:`twin.core.memory.query_dates.extract_query_dates` reads as a period. The phrase is then
added to the search query, where the retriever's date handling takes over (the period narrows
the search only when its notes answer, see :mod:`twin.core.memory.retriever`), and the dated
facts of that period go into the prompt. Used by :mod:`twin.app.query_understanding`
(``search.llm_dates``).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import TYPE_CHECKING

from twin.core.memory.query_dates import extract_query_dates
from twin.core.types import DateRange
from twin.errors import KnownError

if TYPE_CHECKING:
    from twin.app.chat_service import ChatService

log = logging.getLogger("twin.chat")

PERIOD_PROMPT = (
    "Dated facts about me:\n{facts}\n\nToday is {today}. Which period does the question mean? "
    "Reply with the period only, like \"summer 2019\", \"March 2021\" or \"2018\", or \"none\".\n\n"
    "Question: {question}\nPeriod:"
)

#: An event of the user's life used as a time: "after I moved", "before we married", "когда я жил…".
_RELATIVE = re.compile(
    r"\b(?:after|before|since|until|when|while|the (?:year|summer|winter|spring|autumn|fall|month|week) "
    r"(?:after|before|when))\s+(?:I|we|my|our)\b"
    r"|(?:после того,? как|до того,? как|когда|пока|с тех пор,? как)\s+(?:я|мы|мой|моя|мои|наш)\b"
    r"|когда\s+\w+(?:л|ла|ли)\b"
    r"|(?:после|до|перед)\s+(?:моего|моей|нашего|нашей|переезда|свадьбы|развода|рождения)",
    re.IGNORECASE,
)


_YEAR = re.compile(r"\b(?:1[89]|2\d)\d\d\b")


def names_relative_period(question: str, today: dt.date) -> bool:
    """Whether ``question`` names a time only through an event ("the summer after I moved")."""
    # not the question's own "when" ("Когда я родился?" asks for a date; it names none)
    if not any(re.search(r"\w", question[:m.start()]) for m in _RELATIVE.finditer(question)):
        return False
    period, _ = extract_query_dates(question, today)
    return not period


def parse_period(reply: str, today: dt.date) -> str:
    """The period the model named, with its year, as a phrase the date reader understands
    ("" if none)."""
    line = next((ln.strip() for ln in (reply or "").splitlines() if ln.strip()), "")
    line = line.strip(" \"'«».")[:40]
    if not line or line.lower() in ("none", "нет") or not _YEAR.search(line):
        return ""
    period, _ = extract_query_dates(line, today)
    return line if period else ""


def all_dated_facts(svc: "ChatService") -> str:
    """Every profile fact and remembered statement with its dates ("" when none, or failed)."""
    if svc.period_facts is None:
        return ""
    try:
        return svc.period_facts(DateRange(None, None), lambda t: svc.engine.count_tokens(t))
    except (OSError, ValueError, KnownError) as e:
        log.warning("dated facts unavailable: %s", e)
        return ""


def period_facts(svc: "ChatService", text: str) -> str:
    """The dated facts of the period the question names ("" when it names none)."""
    if svc.period_facts is None:
        return ""
    period, _ = extract_query_dates(text, svc.today())
    if not period:
        return ""
    try:
        return svc.period_facts(period, lambda t: svc.engine.count_tokens(t))
    except (OSError, ValueError, KnownError) as e:
        log.warning("dated facts unavailable for this answer: %s", e)
        return ""
