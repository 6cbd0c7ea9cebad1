"""Dates for recall: "on this day" month-days, period expressions, and a fair sample of a
period's entries (pure).

* :func:`on_this_day_keys`: the (month, day) pairs that count as "this day". On 28 February
  of a common year, 29 February of earlier leap years counts too, so leap-day entries are
  not shown only once every four years.
* :func:`parse_period`: ``2019``, ``2019-03``, ``2019-03-15``, ``2019-03..2019-05``,
  ``2019-03-01..2019-04-15``, ``spring 2019``, ``весна 2019``, ``March 2019``, ``в марте
  2019``, also inside a question ("what was I doing in spring 2019?") → an inclusive
  :class:`DateRange`. Text without a date is a :class:`PeriodError`.
* :func:`stratified`: at most ``n`` entries spread over the period by week, so a year is
  summarised from all its seasons rather than from its first fortnight.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import TypeVar

from twin.core.memory.query_dates import extract_query_dates
from twin.core.types import DateRange
from twin.errors import KnownError

T = TypeVar("T")


class PeriodError(KnownError):
    """A period the user typed could not be read."""


def on_this_day_keys(day: dt.date) -> list[tuple[int, int]]:
    """The (month, day) pairs that are "on this day" for ``day``."""
    keys = [(day.month, day.day)]
    if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
        keys.append((2, 29))
    return keys


def parse_day(text: str, today: dt.date) -> dt.date:
    """``YYYY-MM-DD`` or ``MM-DD`` (this year; 29 February: the last leap year).

    Raises:
        PeriodError: not such a date.
    """
    m = re.fullmatch(r"\s*(?:(\d{4})-)?(\d{1,2})-(\d{1,2})\s*", text)
    if m:
        month, day = int(m[2]), int(m[3])
        years = [int(m[1])] if m[1] else list(range(today.year, today.year - 8, -1))
        for year in years:
            try:
                return dt.date(year, month, day)
            except ValueError:
                continue
    raise PeriodError(f"bad date {text!r}: use YYYY-MM-DD or MM-DD")


def _range_of(text: str, today: dt.date) -> DateRange:
    found, _rest = extract_query_dates(text, today)  # words around the date are allowed (a question)
    if not found or found.since is None or found.until is None:
        raise PeriodError(
            f"cannot read the period {text!r}: use e.g. 2019, 2019-03, 2019-03..2019-05, "
            "2019-03-01..2019-04-15, 'spring 2019' or 'весна 2019'")
    return found


def parse_period(text: str, today: dt.date) -> DateRange:
    """An inclusive date range from what the user typed (see the module docstring).

    Raises:
        PeriodError: unreadable, or the end is before the start.
    """
    text = text.strip()
    if not text:
        raise PeriodError("the period is empty")
    if ".." in text:
        first, _, last = text.partition("..")
        start = _range_of(first, today).since
        end = _range_of(last, today).until
    else:
        whole = _range_of(text, today)
        start, end = whole.since, whole.until
    assert start is not None and end is not None
    if end < start:
        raise PeriodError(f"the period {text!r} ends before it starts")
    return DateRange(start, end)


def describe(period: DateRange) -> str:
    """``1 March 1660 – 30 April 1660`` (or one date)."""
    def fmt(d: dt.date | None) -> str:
        return f"{d.day} {calendar.month_name[d.month]} {d.year}" if d else "…"

    if period.since == period.until:
        return fmt(period.since)
    return f"{fmt(period.since)} – {fmt(period.until)}"


def stratified(items: Sequence[T], n: int, date_of: Callable[[T], dt.date]) -> list[T]:
    """At most ``n`` of ``items`` (chronological), spread evenly over their weeks.

    Each ISO week gets the same share; a week's items are taken in order. Result is in
    chronological order.
    """
    if n <= 0:
        return []
    if len(items) <= n:
        return list(items)
    weeks: dict[tuple[int, int], list[int]] = {}
    for i, item in enumerate(items):
        iso = date_of(item).isocalendar()
        weeks.setdefault((iso[0], iso[1]), []).append(i)
    buckets = list(weeks.values())
    if len(buckets) > n:  # more weeks than slots: evenly spaced weeks, first item of each
        step = len(buckets) / n
        picked = [buckets[int(j * step)][0] for j in range(n)]
    else:
        picked = []
        depth = 0
        while len(picked) < n:
            for b in buckets:
                if depth < len(b) and len(picked) < n:
                    picked.append(b[depth])
            depth += 1
    return [items[i] for i in sorted(picked)]
