"""Documents → dated diary entries → map units → batches that fit the model's context (pure).

An *entry* is the text of one file under one date: a file of daily notes is one entry, a
journal file with dated headings gives one entry per date. An entry longer than a batch is
cut into *units* at paragraph ends; each unit is mapped once and known by its content hash,
so an unchanged unit is never mapped again and a changed one is mapped alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from twin.core.types import ParsedDocument

TokenCount = Callable[[str], int]


@dataclass(frozen=True)
class Entry:
    """One dated piece of the user's writing."""

    path: str
    date: dt.date | None
    text: str

    @property
    def iso_date(self) -> str:
        return self.date.isoformat() if self.date else ""


@dataclass(frozen=True)
class Unit:
    """What one map step reads about one entry (the whole entry, or one part of a long one)."""

    key: str  # path#date#part: stable while the entry exists
    path: str
    date: str  # ISO or ""
    text: str
    hash: str


def entries_from_document(path: str, parsed: ParsedDocument, fallback_date: dt.date | None) -> list[Entry]:
    """The entries of one parsed document: blocks grouped by their date, in file order.

    Blocks without a date of their own take the front matter's date, then ``fallback_date``
    (usually the date in the file name).
    """
    groups: dict[dt.date | None, list[str]] = {}
    for block in parsed.blocks:
        text = block.text.strip()
        if text:
            groups.setdefault(block.entry_date or parsed.date or fallback_date, []).append(text)
    return [Entry(path, date, "\n\n".join(parts)) for date, parts in groups.items()]


def split_units(entry: Entry, max_tokens: int, count: TokenCount) -> list[Unit]:
    """``entry`` as one unit, or several cut at paragraph (then line, then word) ends."""
    pieces: list[str] = []
    current: list[str] = []
    used = 0
    for para in _paragraphs(entry.text, max_tokens, count):
        cost = count(para) + 1  # counted once each: counting growing joins is quadratic
        if current and used + cost > max_tokens:
            pieces.append("\n\n".join(current))
            current, used = [], 0
        current.append(para)
        used += cost
    if current:
        pieces.append("\n\n".join(current))
    units = []
    for i, text in enumerate(pieces):
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]
        units.append(Unit(f"{entry.path}#{entry.iso_date}#{i}", entry.path, entry.iso_date, text, digest))
    return units


def _paragraphs(text: str, max_tokens: int, count: TokenCount) -> Iterable[str]:
    for para in text.split("\n\n"):
        para = para.strip()
        if not para:
            continue
        if count(para) <= max_tokens:
            yield para
            continue
        words = para.split()  # a paragraph longer than a batch: cut at word ends
        chunk: list[str] = []
        used = 0
        for w in words:
            cost = count(" " + w)
            if chunk and used + cost > max_tokens:
                yield " ".join(chunk)
                chunk, used = [], 0
            chunk.append(w)
            used += cost
        if chunk:
            yield " ".join(chunk)


def make_batches(units: Sequence[Unit], max_tokens: int, max_units: int, count: TokenCount) -> list[list[Unit]]:
    """Consecutive units in date order, each batch within ``max_tokens`` and ``max_units``
    (a period of the diary per batch: the model sees related days together)."""
    ordered = sorted(units, key=lambda u: (u.date or "9999", u.path, u.key))
    batches: list[list[Unit]] = []
    current: list[Unit] = []
    used = 0
    for u in ordered:
        cost = count(u.text) + 12  # the id/date line and the quoting
        if current and (used + cost > max_tokens or len(current) >= max_units):
            batches.append(current)
            current, used = [], 0
        current.append(u)
        used += cost
    if current:
        batches.append(current)
    return batches
