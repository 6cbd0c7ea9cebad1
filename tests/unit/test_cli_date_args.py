"""``--since``/``--until`` on the command line (twin.cli.date_args)."""

from __future__ import annotations

import argparse
import datetime as dt

import pytest

from twin.cli.date_args import date_arg


@pytest.mark.parametrize("text, since, until", [
    ("2024", dt.date(2024, 1, 1), dt.date(2024, 12, 31)),
    ("2024-02", dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
    ("2023-12", dt.date(2023, 12, 1), dt.date(2023, 12, 31)),
    ("2024-3-5", dt.date(2024, 3, 5), dt.date(2024, 3, 5)),
    (" 1666-09-02 ", dt.date(1666, 9, 2), dt.date(1666, 9, 2)),
])
def test_since_takes_the_first_day_and_until_the_last(text: str, since: dt.date, until: dt.date) -> None:
    assert date_arg("since")(text) == since
    assert date_arg("until")(text) == until


@pytest.mark.parametrize("text", ["yesterday", "24", "2024/03/05", "2024-13", "2024-02-30", ""])
def test_bad_dates_are_argparse_errors(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="bad date"):
        date_arg("since")(text)


def test_through_a_parser() -> None:
    p = argparse.ArgumentParser(exit_on_error=False)
    p.add_argument("--until", type=date_arg("until"))
    assert p.parse_args(["--until", "2020-02"]).until == dt.date(2020, 2, 29)
    with pytest.raises(argparse.ArgumentError):
        p.parse_args(["--until", "soon"])
