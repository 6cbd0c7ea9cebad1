"""Reduce: the map step's records → the profile's facts, with the user's review laid over (pure).

Rules, in order:

1. A checkpoint record counts only for its units that still exist with the same content
   hash; the newest record for a unit wins. A fact keeps only the sources among those units;
   a fact left without sources is retracted (its entries were changed or removed).
2. Candidates are grouped by kind + normalized subject (one :class:`Fact` per group) and,
   within a group, by normalized statement (one :class:`HistoryItem` each, with every source
   and the span of dates). History runs oldest first; a proposed fact's statement reads
   "S1 (2019-01-02 – 2021-05-01); then S2 (from 2021-06-03)".
   Each statement holds from its first entry until the next one's first entry, which
   supersedes it (``valid_from``/``valid_until``/``superseded_by``; the newest is current).
3. Statements whose key was rejected are dropped for good; a fact with nothing left is gone.
4. An accepted or edited fact keeps the text the user approved (and its sources then) even if
   its entries later change or disappear; new statements about it set ``changed``. A rejected
   fact that later gains a new statement comes back as proposed, with only the new statement.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from twin.core.profile.model import (
    KINDS,
    Candidate,
    Fact,
    HistoryItem,
    SourceRef,
    fact_id,
    normalize,
    with_validity,
)

Review = dict[str, Any]


def empty_review() -> Review:
    return {"version": 1, "decisions": {}, "rejected_keys": []}


def live_candidates(records: Sequence[Mapping[str, Any]], current: Mapping[str, str]) -> list[Candidate]:
    """The candidates still backed by current units (``current``: unit key → content hash)."""
    claimed: set[str] = set()
    out: list[Candidate] = []
    for rec in reversed(records):
        live: set[tuple[str, str]] = set()
        for key, digest, path, date in rec.get("units", ()):
            if key not in claimed and current.get(key) == digest:
                claimed.add(key)
                live.add((path, date))
        if not live:
            continue
        for raw in rec.get("facts", ()):
            try:
                cand = Candidate.from_json(raw)
            except (KeyError, TypeError, IndexError):
                continue
            sources = tuple(s for s in cand.sources if (s.path, s.date) in live)
            if sources:
                out.append(Candidate(cand.kind, cand.subject, cand.statement, sources, cand.relation, cand.when))
    out.reverse()
    return out


def _span(first: str, last: str) -> str:
    if not first:
        return ""
    return first if first == last else f"{first} – {last}"


def summary(history: Sequence[HistoryItem]) -> str:
    if len(history) == 1:
        return history[0].statement
    parts = []
    for i, h in enumerate(history):
        when = _span(h.first, h.last) if i < len(history) - 1 else (f"from {h.first}" if h.first else "")
        parts.append(f"{h.statement} ({when})" if when else h.statement)
    return "; then ".join(parts)


def merge(candidates: Iterable[Candidate], review: Review) -> list[Fact]:
    """Facts from live candidates and the review, ordered by kind then subject."""
    rejected = set(review.get("rejected_keys", ()))
    groups: dict[str, list[Candidate]] = {}
    for c in candidates:
        if c.key not in rejected:
            groups.setdefault(fact_id(c.kind, c.subject), []).append(c)
    facts: dict[str, Fact] = {fid: _fact(fid, group) for fid, group in groups.items()}
    for fid, d in review.get("decisions", {}).items():
        status = d.get("status")
        fact = facts.get(fid)
        if status in ("accepted", "edited"):
            snap_sources = [SourceRef.from_json(s) for s in d.get("sources", ())]
            if fact is None:
                fact = facts[fid] = Fact(fid, d["kind"], d["subject"], d["statement"], relation=d.get("relation", ""),
                                         sources=snap_sources)
            else:
                known = set(d.get("keys", ()))
                fact.changed = any(k not in known for h in fact.history for k in h.all_keys)
                fact.sources = sorted(set(fact.sources) | set(snap_sources))
                fact.statement = d["statement"]
                fact.relation = d.get("relation", fact.relation)
            fact.status = status
    return sorted(facts.values(), key=lambda f: (KINDS.index(f.kind), normalize(f.subject)))


def _similar(a: str, b: str, threshold: float = 0.8) -> bool:
    """Nearly the same words (Jaccard over normalized words): one statement, reworded."""
    wa, wb = set(normalize(a).split()), set(normalize(b).split())
    return bool(wa and wb) and len(wa & wb) / len(wa | wb) >= threshold


def _fact(fid: str, group: list[Candidate]) -> Fact:
    by_key: dict[str, list[Candidate]] = {}
    for c in group:
        home = next((k for k, cs in by_key.items() if k == c.key or _similar(cs[0].statement, c.statement)), c.key)
        by_key.setdefault(home, []).append(c)
    history = []
    for key, cs in by_key.items():
        sources = sorted({s for c in cs for s in c.sources})
        dates = [s.date for s in sources if s.date]
        history.append(HistoryItem(cs[0].statement, min(dates, default=""), max(dates, default=""),
                                   tuple(sources), key, tuple(dict.fromkeys(c.key for c in cs))))
    history.sort(key=lambda h: (h.first or "9999", h.last, h.statement))
    history = with_validity(history)  # a newer statement about the subject supersedes the older
    subject = Counter(c.subject for c in group).most_common(1)[0][0]
    relations = Counter(c.relation for c in group if c.relation)
    return Fact(fid, group[0].kind, subject, summary(history), relation=relations.most_common(1)[0][0] if relations else "",
                history=history, sources=sorted({s for h in history for s in h.sources}))


# -- review actions (on the review dict; the caller saves it) -----------------------------


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def accept(review: Review, fact: Fact, statement: str | None = None) -> None:
    """Accept ``fact`` as it reads now, or with the user's own ``statement`` (status "edited")."""
    text = " ".join(statement.split()) if statement is not None else fact.statement
    edited = statement is not None or fact.status == "edited"
    review["decisions"][fact.id] = {
        "status": "edited" if edited else "accepted", "kind": fact.kind, "subject": fact.subject,
        "relation": fact.relation, "statement": text, "keys": [k for h in fact.history for k in h.all_keys],
        "sources": [s.to_json() for s in fact.sources], "at": _now()}


def reject(review: Review, fact: Fact) -> None:
    """Reject ``fact``: its statements are never proposed again."""
    keys = set(review.get("rejected_keys", ())) | {k for h in fact.history for k in h.all_keys}
    review["rejected_keys"] = sorted(keys)
    review["decisions"][fact.id] = {"status": "rejected", "kind": fact.kind, "subject": fact.subject,
                                    "statement": fact.statement, "at": _now()}
