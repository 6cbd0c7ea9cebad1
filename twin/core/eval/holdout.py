"""A true hold-out for the abstention measure: an index that never held the held-apart entries.

``twin eval run`` removes the held-apart entries from each search's *hits* (as if they were
not indexed). That is cheap, but not quite the same as notes that were never there: the held
entries still take part in BM25's statistics, in the fusion's z-scores and in the evidence
test's word weights. :func:`without_entries` makes the real thing from an index at no
embedding cost (a copy of the index minus the held entries' chunks, vectors kept), and
:func:`abstention_rates` measures the same question set on any search function, so the two
can be compared side by side (``bench/pepys_holdout.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from twin.core.eval.metrics import first_rank
from twin.core.eval.questions import Question
from twin.core.memory.abstain import DEFAULT_THRESHOLD, top_evidence
from twin.core.memory.store import LanceStore, StoreRow

Entry = tuple[str, dt.date | None]


def without_entries(src: LanceStore, dst: LanceStore, held: Iterable[Entry]) -> int:
    """Fill the empty ``dst`` with ``src`` minus every chunk of the ``held`` entries (an entry
    is a path and a date; date None: the whole file). Vectors are copied, nothing is embedded
    again; ``src`` is not changed. Returns the number of chunks left out."""
    src.copy_to(dst)
    dates_of: dict[str, set[dt.date | None]] = {}
    for path, date in held:
        dates_of.setdefault(path, set()).add(date)
    gone: list[str] = []
    left_out = 0
    for path, dates in sorted(dates_of.items()):
        rows = dst.rows_for_path(path)
        keep = [] if None in dates else [r for r in rows if r.entry_date not in dates]
        left_out += len(rows) - len(keep)
        if not keep:
            gone.append(path)
        elif len(keep) < len(rows):
            vectors = dst.vectors_for_hashes([r.hash for r in keep])
            dst.replace_files({path: [
                StoreRow(ordinal=r.ordinal, text=r.text, hash=r.hash, vector=vectors[r.hash], heading=r.heading,
                         entry_date=r.entry_date, start_line=r.start_line, end_line=r.end_line) for r in keep]})
    if gone:
        dst.delete_paths(gone)
    dst.maintain()
    return left_out


@dataclass(frozen=True)
class Scored:
    """One question's result: its best evidence over the first ``k`` hits, and (answerable)
    the rank of the first hit that answers it."""

    question: Question
    evidence: float
    rank: int | None


def score_questions(search: Callable[[str], Sequence[Any]], questions: Sequence[Question], k: int) -> list[Scored]:
    """Run every question through ``search`` (question → hits, best first)."""
    out = []
    for q in questions:
        hits = list(search(q.text))
        ev = top_evidence(hits[:k])
        out.append(Scored(q, 1.0 if ev is None else ev, first_rank(hits, q) if q.answerable else None))
    return out


def abstention_rates(scored: Sequence[Scored], thresholds: Sequence[float] = (DEFAULT_THRESHOLD,),
                     ) -> dict[float, dict[str, Any]]:
    """Per threshold: the share of unanswerable questions flagged "not in my notes" (best
    evidence below it: good), by kind too, and of answerable ones wrongly refused (bad)."""
    unans = [s for s in scored if not s.question.answerable]
    ans = [s for s in scored if s.question.answerable]
    out: dict[float, dict[str, Any]] = {}
    for th in thresholds:
        by_kind: dict[str, list[bool]] = {}
        for s in unans:
            by_kind.setdefault(s.question.kind, []).append(s.evidence < th)
        out[th] = {
            "unanswerable_flagged": _share(s.evidence < th for s in unans), "n_unanswerable": len(unans),
            "answerable_refused": _share(s.evidence < th for s in ans), "n_answerable": len(ans),
            "flagged_by_kind": {kind: (_share(v), len(v)) for kind, v in sorted(by_kind.items())},
        }
    return out


def recall_at(scored: Sequence[Scored], n: int) -> float | None:
    ans = [s for s in scored if s.question.answerable]
    return _share(s.rank is not None and s.rank <= n for s in ans)


def _share(flags: Iterable[bool]) -> float | None:
    values = list(flags)
    return sum(values) / len(values) if values else None
