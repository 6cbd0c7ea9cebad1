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

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "heading": self.heading,
            "date": self.date.isoformat() if self.date else None,
            "start_line": self.start_line,
            "end_line": self.end_line,
            "score": round(self.score, 6),
            "text": self.text,
        }


@dataclass(frozen=True)
class DateRange:
    """An inclusive range of entry dates; either end may be open."""

    since: dt.date | None = None
    until: dt.date | None = None

    def __bool__(self) -> bool:
        return self.since is not None or self.until is not None


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
