"""Date arguments on the command line (``--since``, ``--until``): YYYY, YYYY-MM or YYYY-MM-DD."""

from __future__ import annotations

import argparse
import datetime as dt
import re
from collections.abc import Callable


def date_arg(which: str) -> Callable[[str], dt.date]:
    """An argparse ``type``: the first day of a year or month for ``since``, the last for ``until``."""

    def parse(text: str) -> dt.date:
        m = re.fullmatch(r"(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?", text.strip())
        if not m:
            raise argparse.ArgumentTypeError(f"bad date {text!r}: use YYYY, YYYY-MM or YYYY-MM-DD")
        y, mo, d = int(m[1]), int(m[2] or 0), int(m[3] or 0)
        try:
            if d:
                return dt.date(y, mo, d)
            if mo:
                start = dt.date(y, mo, 1)
                nxt = dt.date(y + (mo == 12), mo % 12 + 1, 1)
                return start if which == "since" else nxt - dt.timedelta(days=1)
            return dt.date(y, 1, 1) if which == "since" else dt.date(y, 12, 31)
        except ValueError as e:
            raise argparse.ArgumentTypeError(f"bad date {text!r}: {e}") from e

    return parse
