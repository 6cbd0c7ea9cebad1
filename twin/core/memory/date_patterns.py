"""The vocabulary of dates, shared by entry dates (:mod:`twin.core.memory.dates`) and query
dates (:mod:`twin.core.memory.query_dates`): month names (English and Russian, with case
endings and abbreviations), regex fragments for a day, a month, a year, and the full-date
patterns. Pure: no locale, deterministic.

Invariants: a *full date* needs a day, a month and a year, and must exist in the calendar
(``31.02.2024`` is no date); years run from 1000 to 2999 (:func:`make_date`).
"""

from __future__ import annotations

import datetime as dt
import re

#: Month names and abbreviations (lower case) → month number.
_EN_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
              "september", "october", "november", "december")
_RU_STEMS = ("январ", "феврал", "март", "апрел", "ма", "июн", "июл", "август", "сентябр",
             "октябр", "ноябр", "декабр")
_RU_ABBR = ("янв", "фев|февр", "мар", "апр", "", "", "", "авг", "сен|сент", "окт", "ноя|нояб", "дек")


def _month_table() -> dict[str, int]:
    table: dict[str, int] = {}
    for i, name in enumerate(_EN_MONTHS, 1):
        table[name] = table[name[:3]] = i
    table["sept"] = 9
    for i, stem in enumerate(_RU_STEMS, 1):
        if stem == "ма":
            endings: tuple[str, ...] = ("й", "я", "е", "ю", "ем")
        elif stem in ("март", "август"):
            endings = ("", "а", "е", "у", "ом")
        else:
            endings = ("ь", "я", "е", "ю", "ём", "ем")
        for ending in endings:
            table[stem + ending] = i
        for abbr in filter(None, _RU_ABBR[i - 1].split("|")):
            table[abbr] = i
    return table


MONTHS = _month_table()

#: Regex fragments: no letter just before / after; a month name; a day; a year; "г."/"года".
NOT_LETTER_BEFORE = r"(?<![^\W\d_])"
NOT_LETTER_AFTER = r"(?![^\W\d_])"
MON = (NOT_LETTER_BEFORE + "(?P<mon>" + "|".join(sorted(MONTHS, key=len, reverse=True))
       + ")" + NOT_LETTER_AFTER + r"\.?")
DAY = r"(?<!\d)(?P<d>[0-3]?\d)(?:st|nd|rd|th|-?го|-?е)?(?!\d)"
YEAR = r"(?<!\d)(?P<y>[12]\d{3})(?!\d)"
YEAR_WORD = r"(?:\s*(?:г\.|гг\.|(?:г|года|году|год)" + NOT_LETTER_AFTER + "))?"

FULL_DATE_PATTERNS = tuple(re.compile(p, re.IGNORECASE) for p in (
    DAY + r"[\s-]+(?:of\s+)?" + MON + r"[\s,-]+" + YEAR + YEAR_WORD,
    MON + r"\s+" + DAY + r",?\s+" + YEAR + YEAR_WORD,
    r"(?<![\d.])(?P<y>[12]\d{3})(?P<sep>[-./_])(?P<m>[01]?\d)(?P=sep)(?P<d>[0-3]?\d)(?!\d)",
    r"(?<![\d.])(?P<d>[0-3]?\d)(?P<sep>[./-])(?P<m>[01]?\d)(?P=sep)(?P<y>[12]\d{3})(?!\d)",
))


def make_date(year: int, month: int, day: int) -> dt.date | None:
    """The date, if it exists in the calendar and its year is in 1000..2999."""
    if not 1000 <= year <= 2999:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def match_date(m: re.Match[str]) -> dt.date | None:
    """The date a match of :data:`FULL_DATE_PATTERNS` (or of a rule built from them) names."""
    groups = m.groupdict()
    month = MONTHS[groups["mon"].lower()] if groups.get("mon") else int(groups["m"])
    day, year = int(groups["d"]), int(groups["y"])
    if groups.get("sep") == "/" and month > 12 >= day and not groups.get("mon"):
        day, month = month, day  # US order: 03/15/2024
    return make_date(year, month, day)
