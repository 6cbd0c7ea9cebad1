"""What the memory engine reports, as typed values that pickle through the child process's pipe.

The engine (:class:`twin.app.memory_worker.MemoryWorker`) reports through one callback,
``on_event(event)``, from whichever thread produced the event; a runner
(:mod:`twin.app.memory_client`) hands it on unchanged, or, for the child process, pickled
through the pipe. Listeners dispatch by type (``match event: case MemoryReady(): …``).

* :class:`MemoryState`: the mirror a window keeps (ready, paused, busy, error, writer, watch),
  after each change of any of them;
* :class:`MemoryReady`: the engine is loaded and the service runs (search works from now on);
* :class:`MemoryFailed`: the engine could not start, or stopped (``message`` is fit to show);
* :class:`~twin.core.types.IndexProgress`: indexing progress (~10 per second at most, plus the last);
* :class:`~twin.app.index_service.Indexed`: after each batch of index work;
* :class:`DropOutcome`: once every file of a drop is indexed (or failed);
* :class:`SourcesChanged`: the watched folders after a change (e.g. the inbox, added by a drop).

The results of requests are typed too: :class:`MemorySnapshot` (the memory panel),
:class:`DropOutcome` (what a drop queued, returned at once by ``ingest``) and
:class:`SearchDetails` (how the last search ran).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from twin.app.documents_service import IngestResult
from twin.app.index_service import Indexed
from twin.core.memory.filestate import FileRecord
from twin.core.memory.watcher import WatchLimit
from twin.core.types import FileStatus, IndexProgress

__all__ = ["DropOutcome", "IndexProgress", "Indexed", "MemoryEvent", "MemoryFailed", "MemoryReady",
           "MemorySnapshot", "MemoryState", "OnEvent", "SearchDetails", "SourcesChanged", "WatchLimit"]


@dataclass(frozen=True, slots=True)
class MemoryState:
    """The engine's state, after each change: what a window mirrors without asking."""

    ready: bool = False
    paused: bool = False
    busy: bool = False  # indexing right now
    error: str = ""  # why the engine is not running ("" when it is, or was never started)
    writer: str = ""  # who keeps the index current while this engine only reads ("" = this engine)
    watch: str = ""  # the inotify limit's message while folders are polled ("" = all watched)


@dataclass(frozen=True, slots=True)
class MemoryReady:
    """The engine is loaded and the index service runs."""


@dataclass(frozen=True, slots=True)
class MemoryFailed:
    """The engine could not start, or its process stopped; ``message`` is fit to show."""

    message: str


@dataclass(frozen=True, slots=True)
class SourcesChanged:
    """The watched folders after a change (a drop may add the inbox and dropped folders)."""

    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DropOutcome:
    """A drop: what was queued and which files failed (with reasons) once it is indexed."""

    result: IngestResult
    errors: tuple[FileStatus, ...] = ()


@dataclass(frozen=True, slots=True)
class MemorySnapshot:
    """What the memory panel shows: counts by state and the files with problems."""

    counts: dict[str, int]
    problems: list[FileRecord]
    sources: list[str]
    paused: bool
    writer: str = ""  # who keeps the index current while this window only reads ("" = us)
    watch: WatchLimit | None = None  # folders polled because the system's inotify limit is reached


@dataclass(frozen=True, slots=True)
class SearchDetails:
    """How the last search ran: the other wordings it used (the chat model's translation,
    the retriever's own expander's) and its timings in milliseconds."""

    variants: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)


MemoryEvent = MemoryState | MemoryReady | MemoryFailed | IndexProgress | Indexed | DropOutcome | SourcesChanged
OnEvent = Callable[[MemoryEvent], None]
