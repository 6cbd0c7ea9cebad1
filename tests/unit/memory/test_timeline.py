"""Recall dates: "on this day" keys (29 February), periods the user types, sampling by week."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from twin.core.memory.timeline import (
    PeriodError,
    describe,
    on_this_day_keys,
    parse_day,
    parse_period,
    stratified,
)
from twin.core.types import DateRange
from twin.errors import KnownError

TODAY = dt.date(2026, 11, 30)
D = dt.date


def test_on_this_day_keys_and_the_leap_day() -> None:
    assert on_this_day_keys(D(2026, 1, 1)) == [(1, 1)]
    assert on_this_day_keys(D(2027, 2, 28)) == [(2, 28), (2, 29)]  # common year: leap days show too
    assert on_this_day_keys(D(2028, 2, 28)) == [(2, 28)]  # a leap year has its own 29th
    assert on_this_day_keys(D(2028, 2, 29)) == [(2, 29)]


@pytest.mark.parametrize(("text", "since", "until"), [
    ("2019", D(2019, 1, 1), D(2019, 12, 31)),
    ("2019-03", D(2019, 3, 1), D(2019, 3, 31)),
    ("2019-02", D(2019, 2, 1), D(2019, 2, 28)),
    ("2020-02", D(2020, 2, 1), D(2020, 2, 29)),
    ("2019-03-15", D(2019, 3, 15), D(2019, 3, 15)),
    ("2019-03..2019-05", D(2019, 3, 1), D(2019, 5, 31)),
    ("1660-03..1660-04", D(1660, 3, 1), D(1660, 4, 30)),
    ("2019-03-01..2019-04-15", D(2019, 3, 1), D(2019, 4, 15)),
    ("2018..2019", D(2018, 1, 1), D(2019, 12, 31)),
    ("spring 2019", D(2019, 3, 1), D(2019, 5, 31)),
    ("весна 2019", D(2019, 3, 1), D(2019, 5, 31)),
    ("лето 2019 года", D(2019, 6, 1), D(2019, 8, 31)),
    ("winter 2019", D(2018, 12, 1), D(2019, 2, 28)),
    ("March 2019", D(2019, 3, 1), D(2019, 3, 31)),
    ("в марте 2019", D(2019, 3, 1), D(2019, 3, 31)),
    ("what was I doing in spring 2019?", D(2019, 3, 1), D(2019, 5, 31)),
    ("что я делал летом 2019 года?", D(2019, 6, 1), D(2019, 8, 31)),
])
def test_periods(text: str, since: dt.date, until: dt.date) -> None:
    assert parse_period(text, TODAY) == DateRange(since, until)


@pytest.mark.parametrize("text", ["", "foo", "next year", "2019-05..2019-03", "2019-13", "spring", "the fire"])
def test_bad_periods_are_known_errors(text: str) -> None:
    with pytest.raises(PeriodError) as err:
        parse_period(text, TODAY)
    assert isinstance(err.value, KnownError)


def test_parse_day() -> None:
    assert parse_day("2026-01-01", TODAY) == D(2026, 1, 1)
    assert parse_day("01-01", TODAY) == D(2026, 1, 1)
    assert parse_day("02-29", TODAY) == D(2024, 2, 29)  # this year has none: the last leap year
    for bad in ("2026-02-29", "13-01", "yesterday", "2026-1"):
        with pytest.raises(PeriodError):
            parse_day(bad, TODAY)


def test_describe() -> None:
    assert describe(DateRange(D(1660, 3, 1), D(1660, 4, 30))) == "1 March 1660 – 30 April 1660"
    assert describe(DateRange(D(1666, 9, 2), D(1666, 9, 2))) == "2 September 1666"


def test_stratified_spreads_over_weeks_and_keeps_order() -> None:
    days = [D(2019, 1, 1) + dt.timedelta(days=i) for i in range(365)]
    picked = stratified(days, 12, lambda d: d)
    assert len(picked) == 12 and picked == sorted(picked)
    # the whole year, evenly, not its first weeks
    assert picked[0].month == 1 and picked[-1].month >= 11
    assert max((b - a).days for a, b in itertools.pairwise(picked)) <= 35
    assert stratified(days[:5], 12, lambda d: d) == days[:5]
    assert stratified(days, 0, lambda d: d) == []
    two_weeks = [D(2019, 3, 4) + dt.timedelta(days=i) for i in range(14)]  # Monday to Sunday ×2
    picked = stratified(two_weeks, 4, lambda d: d)
    assert [d.isocalendar()[1] for d in picked] == [10, 10, 11, 11]
