"""Dates from file paths, headings, front matter values and search queries."""

from __future__ import annotations

import datetime as dt

import pytest

from twin.core.memory.dates import (
    date_from_heading,
    date_from_path,
    heading_date,
    parse_date_value,
)
from twin.core.memory.query_dates import extract_query_dates
from twin.core.types import DateRange

D = dt.date


@pytest.mark.parametrize(
    "path, expected",
    [
        ("2024-03-15.md", D(2024, 3, 15)),
        ("2024/03/15.md", D(2024, 3, 15)),
        ("2024/03/2024-03-15.md", D(2024, 3, 15)),
        ("2024-03-15 Friday.md", D(2024, 3, 15)),
        ("20240315.md", D(2024, 3, 15)),
        ("15.03.2024.md", D(2024, 3, 15)),
        ("diary/2024/03/15.md", D(2024, 3, 15)),
        ("diary\\2024\\03\\15.md", D(2024, 3, 15)),
        ("2024_03_15.md", D(2024, 3, 15)),
        ("2024.03.15.txt", D(2024, 3, 15)),
        ("journal 2024-03-15.md", D(2024, 3, 15)),
        ("15 марта 2024.md", D(2024, 3, 15)),
        ("2024/March/15.md", D(2024, 3, 15)),
        ("2024/03 Март/15 пятница.md", D(2024, 3, 15)),
        ("2024-03/15.md", D(2024, 3, 15)),
        ("2024/03-15.md", D(2024, 3, 15)),
        ("2024-03-15/notes.md", D(2024, 3, 15)),
        ("backup-20240315-1200.md", D(2024, 3, 15)),
        ("1666-09-02.md", D(1666, 9, 2)),
        ("15.03.2024", D(2024, 3, 15)),  # no extension: ".2024" is not one
    ],
)
def test_date_from_path(path: str, expected: dt.date) -> None:
    assert date_from_path(path) == expected


@pytest.mark.parametrize(
    "path",
    [
        "notes-1234.md",
        "ideas.md",
        "2024/02/30.md",  # no such day
        "2023-02-29.md",  # not a leap year
        "2024-13-01.md",
        "20241301.md",
        "12345678.md",
        "v2/notes.md",
        "2024/notes.md",
        "projects/42/7.md",
        "",
    ],
)
def test_date_from_path_rejects(path: str) -> None:
    assert date_from_path(path) is None


def test_leap_day_in_path() -> None:
    assert date_from_path("2024-02-29.md") == D(2024, 2, 29)


@pytest.mark.parametrize(
    "heading, expected",
    [
        ("15 марта 2024", D(2024, 3, 15)),
        ("15 марта 2024 г.", D(2024, 3, 15)),
        ("15 марта 2024 года", D(2024, 3, 15)),
        ("Пятница, 15 марта 2024", D(2024, 3, 15)),
        ("1 января 2020", D(2020, 1, 1)),
        ("3 февраля 2021", D(2021, 2, 3)),
        ("8 мая 2022", D(2022, 5, 8)),
        ("12 июня 2022", D(2022, 6, 12)),
        ("7 июля 2022", D(2022, 7, 7)),
        ("31 августа 2022", D(2022, 8, 31)),
        ("1 сентября 2022", D(2022, 9, 1)),
        ("2 октября 2022", D(2022, 10, 2)),
        ("4 ноября 2022", D(2022, 11, 4)),
        ("31 декабря 2022", D(2022, 12, 31)),
        ("15 апр 2024", D(2024, 4, 15)),
        ("Март 15, 2024", D(2024, 3, 15)),  # nominative form
        ("March 15, 2024", D(2024, 3, 15)),
        ("Mar. 15, 2024", D(2024, 3, 15)),
        ("15 March 2024", D(2024, 3, 15)),
        ("15th of March, 2024", D(2024, 3, 15)),
        ("Sept 2 1666", D(1666, 9, 2)),
        ("Sunday 2 September 1666", D(1666, 9, 2)),
        ("2024-03-15", D(2024, 3, 15)),
        ("2024-03-15 10:30", D(2024, 3, 15)),
        ("1666-09-02 — Sunday 2 September 1666", D(1666, 9, 2)),
        ("1666-09-02 — Sunday 2 September 1666 – 5 September 1666", D(1666, 9, 2)),
        ("15.03.2024", D(2024, 3, 15)),
        ("15/03/2024", D(2024, 3, 15)),
        ("03/15/2024", D(2024, 3, 15)),  # US order when unambiguous
        ("Поездка в Казань, 15 марта 2024", D(2024, 3, 15)),
        ("ВОСКРЕСЕНЬЕ, 17 МАРТА 2024", D(2024, 3, 17)),
    ],
)
def test_date_from_heading(heading: str, expected: dt.date) -> None:
    assert date_from_heading(heading) == expected


@pytest.mark.parametrize(
    "heading",
    [
        "Plans for 2024",
        "Планы на 2024 год",
        "March 2024",
        "Март 2024",
        "15 марта",
        "Ideas",
        "",
        "Top 10 ideas",
        "31 февраля 2024",
        "Meeting notes with the whole design team about the launch 15.03.2024",
    ],
)
def test_date_from_heading_rejects(heading: str) -> None:
    assert date_from_heading(heading) is None


def test_heading_date_extra_words_limit() -> None:
    assert heading_date("Trip to Kazan 15.03.2024", max_extra_words=3) == D(2024, 3, 15)
    assert heading_date("Trip to Kazan 15.03.2024", max_extra_words=2) is None


@pytest.mark.parametrize(
    "value, expected",
    [
        (D(2024, 3, 15), D(2024, 3, 15)),
        (dt.datetime(2024, 3, 15, 10, 0), D(2024, 3, 15)),
        ("2024-03-15", D(2024, 3, 15)),
        ("2024-03-15T10:00", D(2024, 3, 15)),
        ("2024-03-15T10:00:00+03:00", D(2024, 3, 15)),
        (" 2024-03-15 ", D(2024, 3, 15)),
        ("15.03.2024", D(2024, 3, 15)),
        ("15 марта 2024", D(2024, 3, 15)),
        ("March 15, 2024", D(2024, 3, 15)),
        ("2024-02-30", None),
        ("soon", None),
        ("", None),
        (2024, None),
        (None, None),
        (["2024-03-15"], None),
    ],
)
def test_parse_date_value(value: object, expected: dt.date | None) -> None:
    assert parse_date_value(value) == expected


TODAY = D(2024, 10, 15)  # a Tuesday in autumn


def day(d: dt.date) -> DateRange:
    return DateRange(d, d)


@pytest.mark.parametrize(
    "query, expected, rest",
    [
        ("what happened on 2 September 1666", day(D(1666, 9, 2)), "what happened"),
        ("September 2, 1666 fire", day(D(1666, 9, 2)), "fire"),
        ("the fire of 2nd September 1666", day(D(1666, 9, 2)), "the fire"),
        ("notes from 2024-03-15", day(D(2024, 3, 15)), "notes"),
        ("встреча 15.03.2024", day(D(2024, 3, 15)), "встреча"),
        ("что было 2 сентября 1666", day(D(1666, 9, 2)), "что было"),
        ("пожар 2 сентября 1666 года в Лондоне", day(D(1666, 9, 2)), "пожар в Лондоне"),
        ("что я делал в марте 2023", DateRange(D(2023, 3, 1), D(2023, 3, 31)), "что я делал"),
        ("март 2023", DateRange(D(2023, 3, 1), D(2023, 3, 31)), ""),
        ("notes 2023-03", DateRange(D(2023, 3, 1), D(2023, 3, 31)), "notes"),
        ("отчёт за 03.2023", DateRange(D(2023, 3, 1), D(2023, 3, 31)), "отчёт"),
        ("отпуск в феврале 2024", DateRange(D(2024, 2, 1), D(2024, 2, 29)), "отпуск"),
        ("trip in March 2023", DateRange(D(2023, 3, 1), D(2023, 3, 31)), "trip"),
        ("what happened in 1665", DateRange(D(1665, 1, 1), D(1665, 12, 31)), "what happened"),
        ("what happened in 1666?", DateRange(D(1666, 1, 1), D(1666, 12, 31)), "what happened?"),
        ("plague 1665", DateRange(D(1665, 1, 1), D(1665, 12, 31)), "plague"),
        ("чума в 1665 году", DateRange(D(1665, 1, 1), D(1665, 12, 31)), "чума"),
        ("в 1665 г. чума", DateRange(D(1665, 1, 1), D(1665, 12, 31)), "чума"),
        ("in the year 1666", DateRange(D(1666, 1, 1), D(1666, 12, 31)), ""),
        ("letters between 1660 and 1662", DateRange(D(1660, 1, 1), D(1662, 12, 31)), "letters"),
        ("с 1660 по 1662 год", DateRange(D(1660, 1, 1), D(1662, 12, 31)), ""),
        ("life in the 1660s", DateRange(D(1660, 1, 1), D(1669, 12, 31)), "life"),
        ("летом 2019", DateRange(D(2019, 6, 1), D(2019, 8, 31)), ""),
        ("поездка весной 2019 года", DateRange(D(2019, 3, 1), D(2019, 5, 31)), "поездка"),
        ("осенью 2019", DateRange(D(2019, 9, 1), D(2019, 11, 30)), ""),
        ("зимой 2020", DateRange(D(2019, 12, 1), D(2020, 2, 29)), ""),
        ("in the summer of 2019", DateRange(D(2019, 6, 1), D(2019, 8, 31)), ""),
        ("winter 2024 skiing", DateRange(D(2023, 12, 1), D(2024, 2, 29)), "skiing"),
    ],
)
def test_absolute_query_dates(query: str, expected: DateRange, rest: str) -> None:
    assert extract_query_dates(query, TODAY) == (expected, rest)


@pytest.mark.parametrize(
    "query, expected, rest",
    [
        ("what did I do yesterday", day(D(2024, 10, 14)), "what did I do"),
        ("что я делал вчера", day(D(2024, 10, 14)), "что я делал"),
        ("позавчера", day(D(2024, 10, 13)), ""),
        ("the day before yesterday", day(D(2024, 10, 13)), ""),
        ("today", day(TODAY), ""),
        ("что сегодня было", day(TODAY), "что было"),
        ("last week", DateRange(D(2024, 10, 7), D(2024, 10, 13)), ""),
        ("что было на прошлой неделе", DateRange(D(2024, 10, 7), D(2024, 10, 13)), "что было"),
        ("на этой неделе", DateRange(D(2024, 10, 14), D(2024, 10, 20)), ""),
        ("last month", DateRange(D(2024, 9, 1), D(2024, 9, 30)), ""),
        ("в прошлом месяце", DateRange(D(2024, 9, 1), D(2024, 9, 30)), ""),
        ("last year", DateRange(D(2023, 1, 1), D(2023, 12, 31)), ""),
        ("в прошлом году", DateRange(D(2023, 1, 1), D(2023, 12, 31)), ""),
        ("this year", DateRange(D(2024, 1, 1), D(2024, 12, 31)), ""),
        ("в этом году", DateRange(D(2024, 1, 1), D(2024, 12, 31)), ""),
        ("3 days ago", day(D(2024, 10, 12)), ""),
        ("three days ago", day(D(2024, 10, 12)), ""),
        ("5 дней назад", day(D(2024, 10, 10)), ""),
        ("2 дня назад", day(D(2024, 10, 13)), ""),
        ("неделю назад", DateRange(D(2024, 10, 7), D(2024, 10, 13)), ""),
        ("2 months ago", DateRange(D(2024, 8, 1), D(2024, 8, 31)), ""),
        ("год назад", DateRange(D(2023, 1, 1), D(2023, 12, 31)), ""),
        ("за последние 3 дня", DateRange(D(2024, 10, 13), TODAY), ""),
        ("in the last 7 days", DateRange(D(2024, 10, 9), TODAY), ""),
        ("over the past week", DateRange(D(2024, 10, 9), TODAY), ""),
        # autumn: "last summer" is this year's
        ("last summer", DateRange(D(2024, 6, 1), D(2024, 8, 31)), ""),
        ("прошлым летом", DateRange(D(2024, 6, 1), D(2024, 8, 31)), ""),
        ("прошлой весной", DateRange(D(2024, 3, 1), D(2024, 5, 31)), ""),
        ("last winter", DateRange(D(2023, 12, 1), D(2024, 2, 29)), ""),
        ("прошлой зимой", DateRange(D(2023, 12, 1), D(2024, 2, 29)), ""),
        ("last autumn", DateRange(D(2023, 9, 1), D(2023, 11, 30)), ""),  # we are in this one
        ("позапрошлым летом", DateRange(D(2023, 6, 1), D(2023, 8, 31)), ""),
        ("this summer", DateRange(D(2024, 6, 1), D(2024, 8, 31)), ""),
        ("what did I do in March", DateRange(D(2024, 3, 1), D(2024, 3, 31)), "what did I do"),
        ("в декабре", DateRange(D(2023, 12, 1), D(2023, 12, 31)), ""),
        ("on 2 September", day(D(2024, 9, 2)), ""),
        ("8 марта", day(D(2024, 3, 8)), ""),
        ("November 20", day(D(2023, 11, 20)), ""),
    ],
)
def test_relative_query_dates(query: str, expected: DateRange, rest: str) -> None:
    assert extract_query_dates(query, TODAY) == (expected, rest)


@pytest.mark.parametrize(
    "today, expected",
    [
        (D(2024, 7, 10), DateRange(D(2023, 6, 1), D(2023, 8, 31))),  # in summer: the previous one
        (D(2024, 9, 1), DateRange(D(2024, 6, 1), D(2024, 8, 31))),
        (D(2024, 3, 1), DateRange(D(2023, 6, 1), D(2023, 8, 31))),
        (D(2024, 8, 31), DateRange(D(2023, 6, 1), D(2023, 8, 31))),
    ],
)
def test_last_summer_depends_on_today(today: dt.date, expected: DateRange) -> None:
    assert extract_query_dates("last summer", today)[0] == expected


@pytest.mark.parametrize(
    "today, expected",
    [
        (D(2024, 1, 20), DateRange(D(2022, 12, 1), D(2023, 2, 28))),  # in winter: the one before
        (D(2024, 3, 1), DateRange(D(2023, 12, 1), D(2024, 2, 29))),
        (D(2024, 12, 5), DateRange(D(2023, 12, 1), D(2024, 2, 29))),
    ],
)
def test_last_winter_spans_years(today: dt.date, expected: DateRange) -> None:
    assert extract_query_dates("прошлой зимой", today)[0] == expected


def test_relative_dates_across_year_boundary() -> None:
    jan = D(2025, 1, 2)  # a Thursday
    assert extract_query_dates("last month", jan)[0] == DateRange(D(2024, 12, 1), D(2024, 12, 31))
    assert extract_query_dates("last week", jan)[0] == DateRange(D(2024, 12, 23), D(2024, 12, 29))
    assert extract_query_dates("yesterday", jan)[0] == day(D(2025, 1, 1))
    assert extract_query_dates("3 days ago", jan)[0] == day(D(2024, 12, 30))
    assert extract_query_dates("this winter", jan)[0] == DateRange(D(2024, 12, 1), D(2025, 2, 28))
    march_31 = D(2024, 3, 31)
    assert extract_query_dates("a month ago", march_31)[0] == DateRange(D(2024, 2, 1), D(2024, 2, 29))


@pytest.mark.parametrize(
    "query, expected, rest",
    [
        ("since 2020 job", DateRange(D(2020, 1, 1), None), "job"),
        ("after 2020", DateRange(D(2021, 1, 1), None), ""),
        ("before 1666", DateRange(None, D(1665, 12, 31)), ""),
        ("until March 2023", DateRange(None, D(2023, 3, 31)), ""),
        ("работа до 2020 года", DateRange(None, D(2019, 12, 31)), "работа"),
        ("с 15 марта 2024", DateRange(D(2024, 3, 15), None), ""),
        ("после 2020 года", DateRange(D(2021, 1, 1), None), ""),
    ],
)
def test_open_ranges(query: str, expected: DateRange, rest: str) -> None:
    assert extract_query_dates(query, TODAY) == (expected, rest)


@pytest.mark.parametrize(
    "query",
    [
        "top 10 ideas",
        "2000 steps a day",
        "1500 calories",
        "room 1666 key",
        "what may happen next",
        "may 5 people come",
        "version 3.14",
        "call 555-1234",
        "ideas for the garden",
        "лучшие 10 книг",
        "",
        "price $1999",
    ],
)
def test_no_date_in_query(query: str) -> None:
    assert extract_query_dates(query, TODAY) == (DateRange(), query)


def test_first_date_expression_wins_and_rest_is_kept() -> None:
    rng, rest = extract_query_dates("Pepys, 2 September 1666: what did he see?", TODAY)
    assert rng == day(D(1666, 9, 2))
    assert rest == "Pepys: what did he see?"


def test_invalid_full_date_falls_through() -> None:
    # 31 February is no day; the year still counts as a year-in-context.
    rng, rest = extract_query_dates("что было 31 февраля 2024?", TODAY)
    assert rng == DateRange(D(2024, 2, 1), D(2024, 2, 29))
    assert rest == "что было 31?"
