"""Values that cross module and thread boundaries (frozen dataclasses)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Block:
    """One structural piece of a parsed document (a paragraph, list, code block, table…).

    Lines are 1-based and inclusive, counted in the decoded text of the whole file (front
    matter included), so an editor can jump to ``start_line``.
    """

    kind: str  # "paragraph" | "list" | "code" | "quote" | "table" | "heading" | "text"
    text: str
    heading_path: tuple[str, ...]
    start_line: int
    end_line: int
    entry_date: dt.date | None = None


@dataclass(frozen=True)
class ParsedDocument:
    """A document turned into blocks, with what its front matter said."""

    blocks: tuple[Block, ...]
    title: str | None = None
    date: dt.date | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Chunk:
    """A piece of text sized for the embedding model, ready to embed and store."""

    text: str
    heading_path: tuple[str, ...]
    start_line: int
    end_line: int
    entry_date: dt.date | None
    ordinal: int = 0

    @property
    def heading(self) -> str:
        return " › ".join(self.heading_path)


@dataclass(frozen=True)
class Hit:
    """One retrieved memory."""

    path: str
    heading: str
    date: dt.date | None
    start_line: int
    end_line: int
    score: float
    text: str
    chunk_id: str = ""
    #: How well this hit supports an answer, in [0, 1], comparable across queries (unlike
    #: ``score``, which only orders one query's hits): see :mod:`twin.core.memory.abstain`.
    #: None: not measured (hits made elsewhere, old pickles): treated as enough.
    evidence: float | None = None

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "path": self.path,
            "heading": self.heading,
            "date": self.date.isoformat() if self.date else None,
            "start_line": self.start_line,
            "end_line": self.end_line,
            "score": round(self.score, 6),
            "text": self.text,
        }
        if self.evidence is not None:
            out["evidence"] = round(self.evidence, 4)
        return out


@dataclass(frozen=True)
class DateRange:
    """An inclusive range of entry dates; either end may be open."""

    since: dt.date | None = None
    until: dt.date | None = None

    def __bool__(self) -> bool:
        return self.since is not None or self.until is not None


SCOPE_KINDS = ("all", "folder", "dates", "document", "none")


@dataclass(frozen=True)
class Scope:
    """Which memories a search (a chat) may use. Build one with the class methods:

    * ``Scope.all()`` — every indexed note (the default);
    * ``Scope.folder("/home/me/notes/work")`` — notes under that folder (a path prefix,
      matched on whole folder names: ``/notes/work`` does not take ``/notes/workshop``);
    * ``Scope.dates(since, until)`` — entries dated in that inclusive range (either end may be
      None); undated notes are left out;
    * ``Scope.document("/home/me/notes/trip.md")`` — one file;
    * ``Scope.none()`` — no memory at all: searches return nothing.

    ``Scope.parse(text)`` reads the CLI/settings form (``all``, ``none``, ``folder:PATH``,
    ``doc:PATH``, ``dates:2019-01-01..2019-12-31``, ``dates:2019..``, ``dates:..2020-06``) and
    raises ValueError with a readable message on anything else; ``str(scope)`` gives it back.
    ``label()`` is a short human label (for a chip). Pass a scope to
    ``Retriever.search(..., scope=...)``; the store applies it as a prefilter, so the top ``k``
    are the top ``k`` *within* the scope.
    """

    kind: str = "all"
    path: str = ""  # the folder ("folder") or the file ("document")
    since: dt.date | None = None
    until: dt.date | None = None

    def __post_init__(self) -> None:
        if self.kind not in SCOPE_KINDS:
            raise ValueError(f"scope kind must be one of {SCOPE_KINDS}, not {self.kind!r}")
        if self.kind in ("folder", "document") and not self.path:
            raise ValueError(f"a {self.kind} scope needs a path")
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"scope dates run backwards: {self.since} > {self.until}")

    @classmethod
    def all(cls) -> Scope:
        return cls("all")

    @classmethod
    def none(cls) -> Scope:
        return cls("none")

    @classmethod
    def folder(cls, path: str) -> Scope:
        return cls("folder", path=str(path))

    @classmethod
    def document(cls, path: str) -> Scope:
        return cls("document", path=str(path))

    @classmethod
    def dates(cls, since: dt.date | None = None, until: dt.date | None = None) -> Scope:
        return cls("dates", since=since, until=until)

    @property
    def date_range(self) -> DateRange:
        """The scope's dates as a range (open for every kind but "dates")."""
        return DateRange(self.since, self.until) if self.kind == "dates" else DateRange()

    @classmethod
    def parse(cls, text: str) -> Scope:
        t = (text or "").strip()
        head, _, rest = t.partition(":")
        head = head.lower()
        if head in ("", "all"):
            return cls.all()
        if head in ("none", "off"):
            return cls.none()
        if head == "folder" and rest:
            return cls.folder(rest)
        if head in ("doc", "document", "file") and rest:
            return cls.document(rest)
        if head == "dates" and rest:
            a, sep, b = rest.partition("..")
            if not sep:
                a = b = rest
            return cls.dates(_parse_day(a, first=True), _parse_day(b, first=False))
        raise ValueError(f"unknown scope {text!r}: use all, none, folder:PATH, doc:PATH or "
                         "dates:YYYY[-MM[-DD]]..YYYY[-MM[-DD]]")

    def __str__(self) -> str:
        if self.kind in ("all", "none"):
            return self.kind
        if self.kind == "dates":
            return f"dates:{self.since.isoformat() if self.since else ''}..{self.until.isoformat() if self.until else ''}"
        return f"{'doc' if self.kind == 'document' else 'folder'}:{self.path}"

    def label(self) -> str:
        if self.kind == "all":
            return "All memory"
        if self.kind == "none":
            return "No memory"
        if self.kind == "dates":
            return f"{self.since.isoformat() if self.since else '…'} – {self.until.isoformat() if self.until else '…'}"
        name = self.path.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1] or self.path
        return name if self.kind == "document" else f"{name}/"


def _parse_day(text: str, *, first: bool) -> dt.date | None:
    """``2019``, ``2019-06`` or ``2019-06-15`` → a date (the first or last day of the period)."""
    t = text.strip()
    if not t:
        return None
    parts = t.split("-")
    try:
        nums = [int(p) for p in parts]
        if len(nums) == 1:
            return dt.date(nums[0], 1, 1) if first else dt.date(nums[0], 12, 31)
        if len(nums) == 2:
            y, m = nums
            if first:
                return dt.date(y, m, 1)
            nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
            return nxt - dt.timedelta(days=1)
        if len(nums) == 3:
            return dt.date(*nums)
    except ValueError:
        pass
    raise ValueError(f"not a date: {text!r} (use YYYY, YYYY-MM or YYYY-MM-DD)")


@dataclass(frozen=True)
class FileStatus:
    """What the indexer knows about one file (shown by ``twin status`` and the window)."""

    path: str
    state: str  # "indexed" | "skipped" | "error" | "partial"
    chunks: int = 0
    reason: str = ""


@dataclass(frozen=True)
class IndexProgress:
    """A progress report from the indexer; sent often, keep it cheap."""

    done: int
    total: int
    current: str = ""
    errors: int = 0
    phase: str = "index"  # "scan" | "index" | "delete" | "done"
    embedded: int = 0  # chunks embedded so far in this run
    reused: int = 0  # chunks whose vector was reused by content hash


@dataclass(frozen=True)
class IndexReport:
    """The outcome of one reconcile run."""

    files_seen: int = 0
    files_indexed: int = 0
    files_unchanged: int = 0
    files_removed: int = 0
    files_moved: int = 0
    files_failed: int = 0
    chunks_embedded: int = 0
    chunks_reused: int = 0
    seconds: float = 0.0
    errors: tuple[FileStatus, ...] = field(default_factory=tuple)
