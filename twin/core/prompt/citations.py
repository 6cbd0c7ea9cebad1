"""Citations: the numbered sources of one answer, and finding which ones it used (pure)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from twin.core.types import Hit

_CITE = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")


@dataclass(frozen=True)
class Citation:
    """Memory ``[n]`` of a turn, pointing at its source."""

    n: int
    path: str
    heading: str
    date: str | None  # ISO date
    start_line: int
    end_line: int
    score: float

    @classmethod
    def from_hit(cls, n: int, hit: Hit) -> "Citation":
        return cls(n, hit.path, hit.heading, hit.date.isoformat() if hit.date else None,
                   hit.start_line, hit.end_line, float(hit.score))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Citation":
        return cls(int(data["n"]), str(data["path"]), str(data.get("heading", "")),
                   data.get("date"), int(data.get("start_line", 0)), int(data.get("end_line", 0)),
                   float(data.get("score", 0.0)))

    def to_json(self) -> dict[str, Any]:
        return {"n": self.n, "path": self.path, "heading": self.heading, "date": self.date,
                "start_line": self.start_line, "end_line": self.end_line,
                "score": round(self.score, 6)}

    @property
    def label(self) -> str:
        """``diary/2024-05-01.md › Morning (2024-05-01)``"""
        text = self.path + (f" › {self.heading}" if self.heading else "")
        return text + (f" ({self.date})" if self.date else "")

    @property
    def on_date(self) -> dt.date | None:
        return dt.date.fromisoformat(self.date) if self.date else None


def cited_numbers(answer: str) -> list[int]:
    """The citation numbers an answer uses, in order of first use ("[2]", "[1, 3]")."""
    seen: list[int] = []
    for m in _CITE.finditer(answer):
        for part in re.split(r"[,;]", m.group(1)):
            n = int(part.strip())
            if n not in seen:
                seen.append(n)
    return seen


def used_citations(answer: str, citations: Sequence[Citation]) -> list[Citation]:
    """The citations an answer refers to (numbers that match no memory are ignored)."""
    by_n = {c.n: c for c in citations}
    return [by_n[n] for n in cited_numbers(answer) if n in by_n]
