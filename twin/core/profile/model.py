"""Profile values: what the model proposes (:class:`Candidate`) and what the user reviews (:class:`Fact`).

Invariants:

* every candidate and every fact cites at least one entry (:class:`SourceRef`: path + date);
* a fact's id is stable: a hash of its kind and normalized subject, so rebuilding the profile
  gives the same ids and the user's decisions stay attached;
* a statement's *key* (kind + subject + statement, normalized) identifies one claim; rejected
  keys are remembered and never proposed again.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("person", "place", "theme", "project", "value", "habit", "style")
#: Order in the persona text: who the user knows and how they write matter most.
PERSONA_ORDER = ("person", "style", "value", "habit", "place", "project", "theme")
STATUSES = ("proposed", "accepted", "edited", "rejected")
KIND_TITLES = {"person": "People", "place": "Places", "theme": "Recurring themes", "project": "Projects",
               "value": "Values and beliefs", "habit": "Habits", "style": "How I write"}

_SPACE = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w\s]")


def normalize(text: str) -> str:
    """Case-, accent-, punctuation- and space-insensitive form used for matching."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _PUNCT.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


def fact_id(kind: str, subject: str) -> str:
    return hashlib.sha1(f"{kind}\0{normalize(subject)}".encode()).hexdigest()[:8]


def statement_key(kind: str, subject: str, statement: str) -> str:
    return hashlib.sha1(f"{kind}\0{normalize(subject)}\0{normalize(statement)}".encode()).hexdigest()[:16]


@dataclass(frozen=True, order=True)
class SourceRef:
    """One diary entry a fact comes from. ``date`` is ISO (``1666-09-02``) or ""."""

    date: str
    path: str

    def to_json(self) -> list[str]:
        return [self.path, self.date]

    @staticmethod
    def from_json(v: Any) -> SourceRef:
        return SourceRef(path=str(v[0]), date=str(v[1] or ""))


@dataclass(frozen=True)
class Candidate:
    """A fact as one map step proposed it, before merging."""

    kind: str
    subject: str
    statement: str
    sources: tuple[SourceRef, ...]
    relation: str = ""
    when: str = ""

    @property
    def key(self) -> str:
        return statement_key(self.kind, self.subject, self.statement)

    @property
    def first_date(self) -> str:
        dates = [s.date for s in self.sources if s.date]
        return min(dates) if dates else ""

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "subject": self.subject, "statement": self.statement,
                "relation": self.relation, "when": self.when, "sources": [s.to_json() for s in self.sources]}

    @staticmethod
    def from_json(d: dict[str, Any]) -> Candidate:
        return Candidate(str(d["kind"]), str(d["subject"]), str(d["statement"]),
                         tuple(SourceRef.from_json(s) for s in d.get("sources", ())),
                         str(d.get("relation", "")), str(d.get("when", "")))


@dataclass(frozen=True)
class HistoryItem:
    """One statement about a subject over the span of entries that support it.

    Time: the statement held from ``valid_from`` (its first entry) until ``valid_until`` (the
    first entry of the statement that superseded it, whose key is ``superseded_by``); both
    "" when unknown/open. The newest statement about a (kind, subject) is the current one.
    """

    statement: str
    first: str  # ISO date of the earliest supporting entry ("" when undated)
    last: str
    sources: tuple[SourceRef, ...]
    key: str
    keys: tuple[str, ...] = ()  # every statement key merged into this item (rewordings)
    valid_from: str = ""
    valid_until: str = ""
    superseded_by: str = ""

    @property
    def current(self) -> bool:
        return not self.superseded_by

    def held_during(self, since: str, until: str) -> bool:
        """Whether it held at some time in the ISO range ``since``..``until`` ("" = open)."""
        start = self.valid_from or self.first
        if until and start and start > until:
            return False
        return not (since and self.valid_until and self.valid_until <= since)

    @property
    def all_keys(self) -> tuple[str, ...]:
        return self.keys or (self.key,)

    def to_json(self) -> dict[str, Any]:
        return {"statement": self.statement, "first": self.first, "last": self.last, "key": self.key,
                "keys": list(self.all_keys), "sources": [s.to_json() for s in self.sources],
                "valid_from": self.valid_from, "valid_until": self.valid_until, "superseded_by": self.superseded_by}

    @staticmethod
    def from_json(d: dict[str, Any]) -> HistoryItem:
        return HistoryItem(str(d["statement"]), str(d.get("first", "")), str(d.get("last", "")),
                           tuple(SourceRef.from_json(s) for s in d.get("sources", ())), str(d.get("key", "")),
                           tuple(str(k) for k in d.get("keys", ())), str(d.get("valid_from", "")),
                           str(d.get("valid_until", "")), str(d.get("superseded_by", "")))


def with_validity(history: list[HistoryItem]) -> list[HistoryItem]:
    """``history`` (oldest first) with its time chain filled in: each dated statement holds
    from its first entry until the next statement's first entry, which supersedes it.
    Undated statements are left open. Idempotent; also applied to files written before
    these fields existed."""
    from dataclasses import replace

    out: list[HistoryItem] = []
    dated = [h for h in history if h.first]
    nxt = {id(a): b for a, b in zip(dated, dated[1:], strict=False)}
    for h in history:
        after = nxt.get(id(h))
        out.append(replace(h, valid_from=h.valid_from or h.first,
                           valid_until=after.first if after else "", superseded_by=after.key if after else ""))
    return out


@dataclass
class Fact:
    """A reviewed or reviewable fact: one subject of one kind, its statement and its history.

    ``statement`` is what the persona uses: the user's edit, the text they accepted, or the
    merged history for a proposed fact. ``history`` lists the distinct statements the entries
    support, oldest first. ``changed`` marks an accepted fact that new entries say more about.
    """

    id: str
    kind: str
    subject: str
    statement: str
    status: str = "proposed"
    relation: str = ""
    history: list[HistoryItem] = field(default_factory=list)
    sources: list[SourceRef] = field(default_factory=list)
    changed: bool = False

    @property
    def in_persona(self) -> bool:
        return self.status in ("accepted", "edited")

    @property
    def valid_from(self) -> str:
        """When the earliest statement about it started to hold ("" when undated)."""
        return min((h.valid_from for h in self.history if h.valid_from), default="")

    @property
    def valid_until(self) -> str:
        """"" while the newest statement still holds (a fact's newest statement is never superseded)."""
        return self.history[-1].valid_until if self.history else ""

    def held_during(self, since: str, until: str) -> list[HistoryItem]:
        """The statements that held at some time in ``since``..``until`` (ISO, "" = open)."""
        return [h for h in self.history if h.held_during(since, until)]

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["history"] = [h.to_json() for h in self.history]
        d["sources"] = [s.to_json() for s in self.sources]
        return d

    @staticmethod
    def from_json(d: dict[str, Any]) -> Fact:
        return Fact(
            id=str(d["id"]), kind=str(d["kind"]), subject=str(d["subject"]), statement=str(d["statement"]),
            status=str(d.get("status", "proposed")), relation=str(d.get("relation", "")),
            history=with_validity([HistoryItem.from_json(h) for h in d.get("history", ())]),
            sources=[SourceRef.from_json(s) for s in d.get("sources", ())], changed=bool(d.get("changed", False)))
