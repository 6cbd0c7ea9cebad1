"""Dates in search queries (Russian and English): find a date expression, resolve it to a
:class:`~twin.core.types.DateRange` against today, and cut it out of the query.

Pure functions over regex tables: no network, no locale, deterministic. Invariants:

* a bare number becomes a year only in a year-like position (``in 1666``, ``1666 год``,
  ``… 1666?``): ``top 10 ideas`` or ``2000 steps`` hold no date;
* ``winter YYYY`` is December of YYYY-1 to February of YYYY (the winter that January
  of YYYY belongs to);
* the first rule that matches wins (:data:`_RULES` runs from the most specific down).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable

from twin.core.memory.date_patterns import (
    DAY,
    FULL_DATE_PATTERNS,
    MON,
    MONTHS,
    NOT_LETTER_AFTER,
    NOT_LETTER_BEFORE,
    YEAR,
    YEAR_WORD,
    make_date,
    match_date,
)
from twin.core.types import DateRange


def _month_range(year: int, month: int) -> DateRange:
    return DateRange(dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1]))


def _add_months(date: dt.date, n: int) -> dt.date:
    year, month0 = divmod(date.year * 12 + date.month - 1 + n, 12)
    return dt.date(year, month0 + 1, min(date.day, calendar.monthrange(year, month0 + 1)[1]))


def _year_range(year: int) -> DateRange:
    return DateRange(dt.date(year, 1, 1), dt.date(year, 12, 31))


def _day(date: dt.date) -> DateRange:
    return DateRange(date, date)


_SEASON_START = {"spring": 3, "summer": 6, "autumn": 9, "winter": 12}


def _season(word: str) -> str:
    low = word.lower()
    for prefix, name in (("лет", "summer"), ("весн", "spring"), ("осен", "autumn"), ("зим", "winter"),
                         ("fall", "autumn")):
        if low.startswith(prefix):
            return name
    return low


def _season_end(season: str, start_year: int) -> dt.date:
    end = _add_months(dt.date(start_year, _SEASON_START[season], 1), 2)
    return end.replace(day=calendar.monthrange(end.year, end.month)[1])


def _season_range(season: str, start_year: int) -> DateRange:
    return DateRange(dt.date(start_year, _SEASON_START[season], 1), _season_end(season, start_year))


def _unit(word: str) -> str:
    low = word.lower()
    if low == "лет":
        return "year"  # "5 лет назад"; "летом" is a season
    if _season(low) in _SEASON_START:
        return _season(low)
    for prefix, name in (("d", "day"), ("w", "week"), ("m", "month"), ("y", "year"), ("дн", "day"),
                         ("ден", "day"), ("сут", "day"), ("нед", "week"), ("мес", "month"),
                         ("год", "year"), ("лет", "year")):
        if low.startswith(prefix):
            return name
    return low


_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "один": 1, "одна": 1, "одну": 1, "два": 2, "две": 2,
    "три": 3, "четыре": 4, "пять": 5, "шесть": 6, "семь": 7, "восемь": 8, "девять": 9,
    "десять": 10,
}
_N = r"(?P<n>\d{1,3}|" + "|".join(_NUMBER_WORDS) + ")"


def _number(m: re.Match[str]) -> int:
    n = m.groupdict().get("n")
    if not n:
        return 1
    return int(n) if n.isdigit() else _NUMBER_WORDS[n.lower()]


def _unit_range(unit: str, today: dt.date, back: int) -> DateRange:
    """The calendar ``unit`` (week/month/year) that is ``back`` units before today's."""
    if unit == "day":
        return _day(today - dt.timedelta(days=back))
    if unit == "week":
        monday = today - dt.timedelta(days=today.weekday() + 7 * back)
        return DateRange(monday, monday + dt.timedelta(days=6))
    if unit == "month":
        first = _add_months(today.replace(day=1), -back)
        return _month_range(first.year, first.month)
    if unit == "year":
        return _year_range(today.year - back)
    start = _SEASON_START[unit]
    year = today.year if today.month >= start else today.year - 1
    if back > 0 and _season_end(unit, year) >= today:
        year -= 1  # we are inside this season: "last summer" is the one before
    return _season_range(unit, year - max(back - 1, 0))


def _rolling(unit: str, today: dt.date, n: int) -> DateRange:
    if unit == "day":
        return DateRange(today - dt.timedelta(days=n - 1), today)
    if unit == "week":
        return DateRange(today - dt.timedelta(days=7 * n - 1), today)
    months = n * 12 if unit == "year" else n
    return DateRange(_add_months(today, -months) + dt.timedelta(days=1), today)


def _ago(m: re.Match[str], today: dt.date) -> DateRange:
    unit, n = _unit(m["u"]), _number(m)
    if unit == "day":
        return _day(today - dt.timedelta(days=n))
    return _unit_range(unit, today, n)


def _relative(m: re.Match[str], today: dt.date) -> DateRange | None:
    word, unit = m["w"].lower(), _unit(m["u"])
    if word == "past" or word.startswith("последн"):
        return _rolling(unit, today, 1) if unit in ("day", "week", "month", "year") else None
    back = 2 if word.startswith("позапрошл") else 1 if word[:4] in ("last", "prev", "прош") else 0
    if back == 0 and unit == "winter" and today.month <= 2:
        return _season_range("winter", today.year - 1)
    if back == 0 and unit in _SEASON_START:
        return _season_range(unit, today.year)
    return _unit_range(unit, today, back)


def _season_year(m: re.Match[str], today: dt.date) -> DateRange:
    season, year = _season(m["s"]), int(m["y"])
    return _season_range(season, year - 1 if season == "winter" else year)


def _full(m: re.Match[str], today: dt.date) -> DateRange | None:
    date = match_date(m)
    return _day(date) if date else None


def _day_month(m: re.Match[str], today: dt.date) -> DateRange | None:
    if m["mon"] == "may" and m.start() == m.start("mon"):
        return None  # "may 5": a lower-case "may" first is the verb more often than the month
    month, day = MONTHS[m["mon"].lower()], int(m["d"])
    for year in range(today.year, today.year - 8, -1):  # 29 February: back to a leap year
        date = make_date(year, month, day)
        if date and date <= today:
            return _day(date)
    return None


def _month_only(m: re.Match[str], today: dt.date) -> DateRange:
    month = MONTHS[m["mon"].lower()]
    return _month_range(today.year if month <= today.month else today.year - 1, month)


def _year_only(m: re.Match[str], today: dt.date) -> DateRange | None:
    before = m.string[: m.start()].rstrip().lower()
    after = m.string[m.end():].lstrip()
    prep = re.search(NOT_LETTER_BEFORE + r"(in|during|since|from|of|before|after|until|till|by|year|"
                     r"в|во|с|со|до|после|к|за|от|по|около)$", before)
    if prep or m["yw"] or m[0].lower().startswith(("year", "the year")) or not after or after[0] in "?!.,;:)":
        return _year_range(int(m["y"]))
    return None


_RULES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str], dt.date], DateRange | None]], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), handler) for pattern, handler in (
        *((p.pattern, _full) for p in FULL_DATE_PATTERNS),
        (r"(?<![\d.])(?P<y>[12]\d{3})-(?P<m>0[1-9]|1[0-2])(?![\d-])",  # 2024-03
         lambda m, t: _month_range(int(m["y"]), int(m["m"]))),
        (r"(?<![\d.,])(?P<m>0?[1-9]|1[0-2])\.(?P<y>[12]\d{3})(?![\d.]\d|\d)",  # 03.2024
         lambda m, t: _month_range(int(m["y"]), int(m["m"]))),
        (r"(?:(?:between|from|с|со|от)\s+)?(?<!\d)(?P<a>1\d{3}|2[01]\d{2})\s*(?:[-–—]|\s(?:to|and|until|"
         r"till|по|до)\s)\s*(?P<b>1\d{3}|2[01]\d{2})(?!\d)" + YEAR_WORD + r"(?:\s*(?:годах|годы|годов))?",
         lambda m, t: DateRange(dt.date(int(m["a"]), 1, 1), dt.date(int(m["b"]), 12, 31))
         if int(m["a"]) < int(m["b"]) else None),
        (r"(?<!\d)(?P<dec>1\d{2}0|20\d0)(?:'?s|-?х|-?е|-ых|-ые)" + NOT_LETTER_AFTER
         + r"(?:\s*(?:годах|годы|годов|годам))?",
         lambda m, t: DateRange(dt.date(int(m["dec"]), 1, 1), dt.date(int(m["dec"]) + 9, 12, 31))),
        (NOT_LETTER_BEFORE + _N + r"\s+(?P<u>days?|weeks?|months?|years?)\s+ago" + NOT_LETTER_AFTER, _ago),
        (NOT_LETTER_BEFORE + r"(?:" + _N + r"\s+)?(?P<u>дн(?:я|ей)|день|сутки|недел[юиь]|недель|месяц(?:а|ев)?"
         r"|год(?:а)?|лет)\s+назад" + NOT_LETTER_AFTER, _ago),
        (NOT_LETTER_BEFORE + r"(?:the\s+)?(?:last|past|previous)\s+" + _N
         + r"\s+(?P<u>days|weeks|months|years)" + NOT_LETTER_AFTER,
         lambda m, t: _rolling(_unit(m["u"]), t, _number(m))),
        (NOT_LETTER_BEFORE + r"последни[ех]\s+" + _N + r"\s+(?P<u>дн(?:я|ей)|недел[иь]|недель|месяц(?:а|ев)"
         r"|года?|лет)" + NOT_LETTER_AFTER, lambda m, t: _rolling(_unit(m["u"]), t, _number(m))),
        (NOT_LETTER_BEFORE + r"(?:the\s+)?day\s+before\s+yesterday|позавчера" + NOT_LETTER_AFTER,
         lambda m, t: _day(t - dt.timedelta(days=2))),
        (NOT_LETTER_BEFORE + r"(?:yesterday|вчера)" + NOT_LETTER_AFTER, lambda m, t: _day(t - dt.timedelta(days=1))),
        (NOT_LETTER_BEFORE + r"(?:today|сегодня)" + NOT_LETTER_AFTER, lambda m, t: _day(t)),
        (NOT_LETTER_BEFORE + r"(?P<w>last|previous|this|current|past)\s+(?P<u>week|month|year|summer|spring|"
         r"autumn|fall|winter)" + NOT_LETTER_AFTER, _relative),
        (NOT_LETTER_BEFORE + r"(?P<w>(?:поза)?прошл(?:ой|ом|ым|ая|ый|ое|ую|ого)|эт(?:ой|ом|им|а|от|о|у)|"
         r"текущ(?:ей|ем|ий|ая|ую)|последн(?:юю|ий|ее|ие))\s+(?P<u>недел[еяюи]|месяц[еау]?|год[уа]?|"
         r"лет(?:ом|о|а)|весн(?:ой|а|у|ы)|осен(?:ью|ь|и)|зим(?:ой|а|у|ы))" + NOT_LETTER_AFTER, _relative),
        (NOT_LETTER_BEFORE + r"(?:the\s+)?(?P<s>summer|spring|autumn|fall|winter|лет(?:ом|о|а)|весн(?:ой|а|у|ы)|"
         r"осен(?:ью|ь|и)|зим(?:ой|а|у|ы))\s+(?:of\s+)?" + YEAR + YEAR_WORD, _season_year),
        (MON + r"\s*,?\s+(?:of\s+)?" + YEAR + YEAR_WORD,
         lambda m, t: _month_range(int(m["y"]), MONTHS[m["mon"].lower()])),
        (DAY + r"[\s-]+(?:of\s+)?" + MON, _day_month),
        (MON + r"\s+" + DAY + r"(?![:.,]?\d)", _day_month),
        (NOT_LETTER_BEFORE + r"(?:in|during|в|во)\s+" + MON + r"(?!\s*\d)", _month_only),
        (r"(?:(?:the\s+)?year\s+)?(?<![\d.,:/$€£№#-])(?P<y>1\d{3}|2[01]\d{2})(?![\d%$€]|[.,]\d)"
         r"(?P<yw>\s*(?:г\.|(?:г|года|году|год|year)" + NOT_LETTER_AFTER + "))?", _year_only),
    )
)

_DANGLING = re.compile(
    NOT_LETTER_BEFORE + r"(?:in|on|at|during|from|since|of|for|over|around|circa|throughout|before|after|"
    r"until|till|by|the|в|во|на|за|с|со|до|после|от|к|около|по)\s*$", re.IGNORECASE)
_MODIFIER = re.compile(NOT_LETTER_BEFORE + r"(?P<w>since|after|before|until|till|с|со|после|до|по)\s*$",
                       re.IGNORECASE)


def _apply_modifier(found: DateRange, left: str) -> DateRange:
    """``since 2020`` → from 2020 on; ``before 2020`` → up to 2019; ``until 2020`` → up to 2020."""
    m = _MODIFIER.search(left)
    if not m or found.since is None or found.until is None:
        return found
    word = m["w"].lower()
    if word in ("since", "с", "со"):
        return DateRange(found.since, None)
    if word in ("after", "после"):
        return DateRange(found.until + dt.timedelta(days=1), None)
    if word in ("before", "до"):
        return DateRange(None, found.since - dt.timedelta(days=1))
    return DateRange(None, found.until)


def _clean(left: str, right: str) -> str:
    for _ in range(3):
        stripped = _DANGLING.sub("", left)
        if stripped == left:
            break
        left = stripped
    text = re.sub(r"\s+", " ", f"{left} {right}").strip()
    text = re.sub(r"\s+([?!.,;:])", r"\1", text)
    text = re.sub(r"[,;]+([?!.,;:])", r"\1", text)  # "Pepys, [date]: what…" → "Pepys: what…"
    return text.strip(" ,;:-–—")


def extract_query_dates(query: str, today: dt.date) -> tuple[DateRange, str]:
    """Find a date expression in a search query and cut it out.

    Absolute (``2 September 1666``, ``в марте 2023``, ``in 1665``, ``летом 2019``) and
    relative (``yesterday``, ``на прошлой неделе``, ``last summer``, ``3 дня назад``)
    expressions are resolved against ``today``. ``since``/``after``/``с``/``после``
    before the date open the range's end; ``before``/``until``/``до`` open its start.

    Args:
        query: the user's question or search text.
        today: the date relative expressions count from.

    Returns:
        The inclusive date range and the query without the date expression (and without
        a preposition left dangling); ``(DateRange(), query)`` when there is none.
    """
    for pattern, handler in _RULES:
        for m in pattern.finditer(query):
            found = handler(m, today)
            if not found:
                continue
            left, right = query[: m.start()], query[m.end():]
            found = _apply_modifier(found, left)
            return found, _clean(left, right)
    return DateRange(), query
