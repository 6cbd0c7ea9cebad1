"""Entry dates: the date a diary file's path, a heading or a front-matter value names
(Russian and English). Dates in search queries are :mod:`twin.core.memory.query_dates`.

Pure functions over regex tables (:mod:`twin.core.memory.date_patterns`): no network, no
locale, deterministic. Invariants:

* a *full date* needs a day, a month and a year, and must exist in the calendar
  (``31.02.2024`` is no date); years run from 1000 to 2999;
* a heading is a date heading only when few other words surround the date
  (weekdays, ``г.``/``года``/``year`` and times do not count).
"""

from __future__ import annotations

import datetime as dt
import re

from twin.core.memory.date_patterns import FULL_DATE_PATTERNS, MONTHS, make_date, match_date


_WEEKDAYS = frozenset(
    "monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs "
    "fri sat sun понедельник вторник среда среду четверг пятница пятницу суббота субботу "
    "воскресенье пн вт ср чт пт сб вс".split()
)
_HEADING_FILLER = frozenset("г гг год года году year the of on lord's day день".split())


_COMPACT = re.compile(r"(?<!\d)([12]\d{3})([01]\d)([0-3]\d)(?!\d)")
_TIME = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")


def _full_dates(text: str) -> list[tuple[int, int, dt.date]]:
    """Every full date in ``text`` as (start, end, date), left to right, not overlapping."""
    found: list[tuple[int, int, dt.date]] = []
    for pattern in FULL_DATE_PATTERNS:
        for m in pattern.finditer(text):
            date = match_date(m)
            if date is not None:
                found.append((m.start(), m.end(), date))
    found.sort(key=lambda f: (f[0], -f[1]))
    result: list[tuple[int, int, dt.date]] = []
    for item in found:
        if not result or item[0] >= result[-1][1]:
            result.append(item)
    return result


def heading_date(text: str, max_extra_words: int) -> dt.date | None:
    """The first full date in ``text`` when at most ``max_extra_words`` other words remain.

    Weekday names, ``г.``/``года``/``year`` and times do not count as extra words.
    """
    dates = _full_dates(text)
    if not dates:
        return None
    rest, pos = [], 0
    for start, end, _ in dates:
        rest.append(text[pos:start])
        pos = end
    rest.append(text[pos:])
    words = [w for w in _WORD.findall(_TIME.sub(" ", " ".join(rest)).lower())
             if w not in _WEEKDAYS and w not in _HEADING_FILLER]
    return dates[0][2] if len(words) <= max_extra_words else None


def date_from_heading(text: str) -> dt.date | None:
    """The date a heading stands for: ``15 марта 2024 г.``, ``Sunday 2 September 1666``, ``2024-03-15``.

    Weekdays and a few other words may surround the date; a heading that only mentions a
    year (``Plans for 2024``) or is a sentence with a date inside is no date heading.
    """
    return heading_date(text, max_extra_words=4)


def _date_in_name(name: str) -> dt.date | None:
    m = _COMPACT.search(name)
    if m:
        date = make_date(int(m[1]), int(m[2]), int(m[3]))
        if date:
            return date
    dates = _full_dates(name) or _full_dates(name.replace("_", " "))
    return dates[0][2] if dates else None


def _month_of_dir(name: str) -> int | None:
    m = re.match(r"(\d{1,2})(?:$|[^\d])", name)
    if m:
        return int(m[1])
    word = re.match(r"[^\W\d_]+", name)
    return MONTHS.get(word[0].lower()) if word else None


def date_from_path(rel_path: str) -> dt.date | None:
    """The date a diary file's path names, e.g. ``2024-03-15.md`` or ``diary/2024/03/15.md``.

    The file name is tried first, then a date in a folder name, then ``YYYY/MM/DD`` (or
    ``YYYY/MM-DD``, ``YYYY-MM/DD``) folder structure. Random numbers (``notes-1234.md``)
    and impossible dates give None.
    """
    parts = [p for p in rel_path.replace("\\", "/").split("/") if p]
    if not parts:
        return None
    stem = re.sub(r"\.(?=[^.]*[A-Za-z])[A-Za-z0-9]{1,10}$", "", parts[-1])
    for name in [stem, *reversed(parts[:-1])]:
        date = _date_in_name(name)
        if date:
            return date
    dirs = parts[:-1]
    day_m = re.match(r"(\d{1,2})(?:$|[^\d])", stem)
    md_m = re.match(r"(\d{1,2})[-_.](\d{1,2})(?:$|[^\d])", stem)
    if dirs and re.fullmatch(r"[12]\d{3}", dirs[-1]) and md_m:
        month, day = int(md_m[1]), int(md_m[2])
        return make_date(int(dirs[-1]), *((month, day) if month <= 12 else (day, month)))
    ym = re.fullmatch(r"([12]\d{3})[-_. ](\d{1,2})", dirs[-1]) if dirs else None
    if ym and day_m:
        return make_date(int(ym[1]), int(ym[2]), int(day_m[1]))
    if len(dirs) >= 2 and re.fullmatch(r"[12]\d{3}", dirs[-2]) and day_m:
        dir_month = _month_of_dir(dirs[-1])
        if dir_month:
            return make_date(int(dirs[-2]), dir_month, int(day_m[1]))
    return None


def parse_date_value(value: object) -> dt.date | None:
    """A front-matter value as a date: a date, a datetime, ``2024-03-15``, ``2024-03-15T10:00``…"""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    m = re.match(r"([12]\d{3})-(\d{2})-(\d{2})(?!\d)", text)
    if m:
        return make_date(int(m[1]), int(m[2]), int(m[3]))
    dates = _full_dates(text)
    return dates[0][2] if dates else None
