"""Documents the user drops onto the window: checked, then indexed through the usual pipeline.

Two ways to take a drop (the user picks one; the window remembers it):

- ``"copy"``: files are copied into the inbox folder (``Paths.inbox_dir``), which is then a
  source folder like any other; a dropped folder is copied with its structure (only the
  files the indexer would take). The originals can move or vanish afterwards.
- ``"in_place"``: a dropped folder becomes a watched source folder; a file already under a
  source folder is simply re-indexed. A loose file cannot be indexed where it lies (the
  indexer only looks inside source folders), so it is copied into the inbox instead.

Nothing here embeds or writes the index: the copied and re-indexed paths go to
``IndexService.notify`` (the same debounce, the same ``Indexer.index_paths``), and new source
folders are returned for the caller to add (which restarts the index service). Unsupported
and unreadable files are rejected up front with a reason fit to show.

Also here: :func:`attach_text`, which puts a dropped document's text into a question
("summarize this") for one turn, without indexing it.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from twin.core.memory.sources import FileFilter, source_of, walk_sources
from twin.messages import msg

log = logging.getLogger("twin.documents")

MODES = ("copy", "in_place")
ATTACHMENT_MARK = "\n\n---\n📎 Attached document: "


@dataclass(frozen=True)
class Rejected:
    path: Path
    reason: str


@dataclass(frozen=True)
class DropPlan:
    """What a drop will do. ``copy`` pairs each source file with its path inside the inbox."""

    copy: tuple[tuple[Path, Path], ...] = ()
    reindex: tuple[Path, ...] = ()
    new_sources: tuple[Path, ...] = ()
    rejected: tuple[Rejected, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.copy or self.reindex or self.new_sources)


@dataclass(frozen=True)
class IngestResult:
    """After :meth:`DocumentsService.ingest`: paths queued for indexing, folders to add."""

    queued: tuple[Path, ...]
    new_sources: tuple[Path, ...]
    rejected: tuple[Rejected, ...]


def _unique(dest: Path, taken: set[Path]) -> Path:
    """``dest``, or ``name (2).ext`` … when it exists or is already planned."""
    candidate, n = dest, 2
    while candidate in taken or candidate.exists():
        candidate = dest.with_name(f"{dest.stem} ({n}){dest.suffix}")
        n += 1
    taken.add(candidate)
    return candidate


def _plain_copy(src: Path, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dest)
    return dest


class DocumentsService:
    """Plans and carries out drops.

    Args:
        inbox: the folder dropped files are copied into (must be a source folder).
        file_filter: which files the indexer takes (extensions, exclusions).
        copy_file: copies one file to its planned inbox path and returns the path written
            (encryption on: a sealed file with another name,
            :meth:`twin.app.sealed_files.SealedFiles.copy_into`). Default: a plain copy.
    """

    def __init__(self, inbox: Path, file_filter: FileFilter,
                 copy_file: Callable[[Path, Path], Path] | None = None):
        self.inbox = inbox
        self.filter = file_filter
        self._copy_file = copy_file or _plain_copy

    def check_file(self, path: Path) -> str | None:
        """Why ``path`` cannot be indexed, or None when it can."""
        if not path.exists():
            return msg("drop.not_found")
        if not path.is_file():
            return msg("drop.not_regular")
        if not self.filter.accepts(path.name):
            suffix = path.suffix.lower()
            if (suffix or "(no extension)") not in self.filter.extensions:
                kinds = ", ".join(sorted(self.filter.extensions))
                return msg("drop.unsupported", suffix=suffix or msg("drop.no_extension"), kinds=kinds)
            return msg("drop.excluded")
        if not os.access(path, os.R_OK):
            return msg("drop.permission")
        return None

    def plan(self, paths: Iterable[Path], mode: str, sources: Sequence[Path]) -> DropPlan:
        """Decide what to do with each dropped path (reads only the file system's metadata)."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        copy: list[tuple[Path, Path]] = []
        reindex: list[Path] = []
        new_sources: list[Path] = []
        rejected: list[Rejected] = []
        taken: set[Path] = set()
        inbox = self.inbox
        for raw in paths:
            p = Path(raw).expanduser()
            if p.is_dir():
                inside = source_of(p, sources)
                if inside is not None or p == inbox:
                    reindex.extend(f.path for f in walk_sources([p], self.filter))
                elif mode == "in_place":
                    new_sources.append(p)
                else:
                    files = list(walk_sources([p], self.filter, lambda q, why: rejected.append(Rejected(q, why))))
                    if not files:
                        rejected.append(Rejected(p, msg("drop.empty_folder")))
                    root = _unique(inbox / p.name, taken)
                    copy.extend((f.path, root / f.path.relative_to(p)) for f in files)
                continue
            reason = self.check_file(p)
            if reason is not None:
                rejected.append(Rejected(p, reason))
            elif source_of(p, sources) is not None:
                reindex.append(p)
            else:
                copy.append((p, _unique(inbox / p.name, taken)))
        return DropPlan(tuple(copy), tuple(reindex), tuple(new_sources), tuple(rejected))

    def copy(self, plan: DropPlan) -> IngestResult:
        """Copy the plan's files into the inbox (blocking I/O: call it off the GUI thread).

        Returns the paths to index (copies and files to re-index) and every rejection.
        """
        rejected = list(plan.rejected)
        queued: list[Path] = list(plan.reindex)
        for src, dest in plan.copy:
            try:
                dest = self._copy_file(src, dest)
            except OSError as e:
                rejected.append(Rejected(src, msg("drop.copy_failed", error=e.strerror or str(e))))
                continue
            queued.append(dest)
        return IngestResult(tuple(queued), plan.new_sources, tuple(rejected))

    def ingest(self, paths: Iterable[Path], mode: str, sources: Sequence[Path],
               notify: Callable[[str, Path], None]) -> IngestResult:
        """Plan, copy, and queue for indexing with ``notify("changed", path)``
        (``IndexService.notify``). New source folders are only returned: adding them is the
        caller's (it restarts the index service). The inbox must already be a source."""
        result = self.copy(self.plan(paths, mode, sources))
        for p in result.queued:
            notify("changed", p)
        log.info("drop (%s): %d queued, %d new folders, %d rejected", mode, len(result.queued),
                 len(result.new_sources), len(result.rejected))
        return result


def attach_text(question: str, name: str, text: str, max_chars: int) -> str:
    """The question with a document's text appended for this turn only ("summarize this").

    The text is cut at ``max_chars`` (with a note) so one turn never overflows the context.
    """
    body = text.strip()
    if len(body) > max_chars:
        body = body[:max_chars].rstrip() + f"\n[… cut: the document is {len(text):,} characters long]"
    return f"{question.rstrip()}{ATTACHMENT_MARK}{name}\n\n{body}\n---"


def split_attachment(content: str) -> tuple[str, str | None]:
    """A stored user message → (the question, the attached document's name or None)."""
    head, sep, rest = content.partition(ATTACHMENT_MARK)
    if not sep:
        return content, None
    return head, rest.split("\n", 1)[0]
