"""MemoryWorker: the memory engine and its index service behind a small request interface.

What the window needs from memory (start, search, snapshot, pause/resume, folders, dropped
documents, reconfigure, stop) as plain methods that may block, plus typed events
(:mod:`twin.app.memory_events`) reported through one callback, ``on_event(event)``, from
whichever thread produced them. It holds no Qt and no threads of its own besides the index
service's; a runner (a :class:`~twin.app.memory_client.MemoryClient`) decides where its
methods run:

* :class:`~twin.app.memory_client.ThreadedMemory` runs them in order on one ``twin-memory``
  thread of this process (the CLI's choice, and tests that inject their own
  :class:`~twin.app.container.Memory`).
* :class:`twin.app.memory_process.ProcessMemory` runs them in a child process, so importing
  torch and LanceDB and the Python parts of indexing never take the GIL from the window's
  thread (measured with ``bench/gui_stall.py``: imports alone stalled the GUI 125–340 ms).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twin.app.container import Memory
from twin.app.documents_service import DocumentsService, IngestResult
from twin.app.index_service import Indexed, IndexService, WriterChanged
from twin.app.memory_events import (DropOutcome, MemoryFailed, MemoryReady, MemorySnapshot, MemoryState,
                                    OnEvent, SearchDetails, SourcesChanged)
from twin.app.writer_lock import WINDOW, WriterLock, locked_message
from twin.core.memory.filestate import FileRecord, FileState
from twin.core.memory.watcher import WatchLimit
from twin.core.types import FileStatus, Hit, IndexProgress, Scope
from twin.errors import KnownError, StoreError
from twin.messages import message_of, msg
from twin.paths import Paths
from twin.settings import Settings

if TYPE_CHECKING:
    from twin.core.memory.indexer import Indexer

log = logging.getLogger("twin.memory")

PROGRESS_EVERY_S = 0.1
MemoryFactory = Callable[[Settings, Paths], Memory]

#: Requests that only flip a flag: answered at once, even while a slow request runs.
IMMEDIATE = frozenset({"pause", "resume", "rescan", "status"})


@dataclass(eq=False)
class _Drop:
    """A drop being indexed: its files without a current record yet, the failures so far."""

    result: IngestResult
    remaining: set[str]
    needs_rescan: bool
    errors: list[FileStatus] = field(default_factory=list)

    def outcome(self) -> DropOutcome:
        return DropOutcome(self.result, tuple(self.errors))


class MemoryWorker:
    """The memory engine's requests. Not thread-safe: one runner calls it, in order
    (the :data:`IMMEDIATE` requests excepted, which only touch the service's own locks)."""

    def __init__(self, settings: Settings, paths: Paths, on_event: OnEvent, *, watch: bool = True,
                 memory_factory: MemoryFactory = Memory):
        self.settings = settings
        self.paths = paths
        self.watch = watch
        self.memory_factory = memory_factory
        self._emit = on_event
        self._memory: Memory | None = None
        self._service: IndexService | None = None
        self._writer = WriterLock(paths.data_dir, WINDOW)
        self.writer = ""  # set while another process owns the index (read-only here)
        self.watch_limit: WatchLimit | None = None
        self._records: FileState | None = None
        self._lock = threading.Lock()
        self._drops: list[_Drop] = []
        self._last_progress = 0.0
        self.error = ""
        self.busy = False

    # -- state -----------------------------------------------------------------------------

    @property
    def is_ready(self) -> bool:
        return self._service is not None

    @property
    def paused(self) -> bool:
        return self._service.paused if self._service is not None else False

    def status(self) -> MemoryState:
        return MemoryState(ready=self.is_ready, paused=self.paused, busy=self.busy, error=self.error,
                           writer=self.writer, watch=self.watch_limit.message() if self.watch_limit else "")

    def _state_changed(self) -> None:
        self._emit(self.status())

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, delay_s: float = 0.0) -> None:
        if delay_s:
            time.sleep(delay_s)
        self._start_engine()

    def _start_engine(self) -> None:
        try:
            mem = self.memory_factory(self.settings, self.paths)
            if self._writer.try_acquire():  # else read-only: the service stands by for it
                mem.held_lock = self._writer
                _ = mem.indexer  # loads the embedder and opens the store
            _ = mem.retriever
            self._memory = mem
            self._start_service(rescan=True)
            self._open_records()
        except KnownError as e:
            self.error = message_of(e) or str(e)  # a keyed message (twin.messages): the window translates it
            log.warning("memory unavailable: %s", e)
            self._state_changed()
            self._emit(MemoryFailed(self.error))
            return
        except Exception as e:
            self.error = f"{e.__class__.__name__}: {e}"
            log.exception("memory engine failed to start")
            self._state_changed()
            self._emit(MemoryFailed(self.error))
            return
        self.error = ""
        self._state_changed()
        self._emit(MemoryReady())

    def _start_service(self, rescan: bool) -> None:
        assert self._memory is not None
        mem = self._memory

        def indexer() -> Indexer:  # built once the lock is ours
            mem.held_lock = self._writer
            return mem.indexer

        svc = IndexService(indexer, mem.sources, self.settings.memory.debounce_ms / 1000, lock=self._writer)
        svc.add_listener(self._on_index_event)
        svc.start(watch=self.watch, rescan=rescan)
        self._service = svc

    def stop(self) -> None:
        """Stop the service and close the engine."""
        if self._service is not None:
            self._service.stop()
            self._service = None
        if self._memory is not None:
            self._memory.close()
            self._memory = None
        if self._records is not None:
            self._records.close()
            self._records = None
        self._writer.release()
        self.writer = ""
        self.busy = False

    def _restart_service(self, sources: Sequence[str]) -> None:
        if self._memory is None:
            raise StoreError(self.error or "The memory engine is not running.")
        if self._service is not None:
            if self._service.standby:
                raise StoreError(msg("lock.folders_there", writer=self.writer or locked_message(None, picked_up=False)))
            self._service.stop(release=False)
        self.settings.memory.sources = list(sources)
        self._start_service(rescan=True)
        self._emit(SourcesChanged(tuple(str(s) for s in sources)))

    # -- index events (on the index service's thread) ---------------------------------------

    def _on_index_event(self, event: object) -> None:
        if isinstance(event, WriterChanged):
            self.writer = event.owner
            self._state_changed()
            return
        if isinstance(event, WatchLimit):
            self.watch_limit = event
            self._state_changed()
            return
        if isinstance(event, IndexProgress):
            busy = event.phase != "done"
            if busy != self.busy:
                self.busy = busy
                self._state_changed()
            now = time.monotonic()
            if event.phase in ("done", "scan") or now - self._last_progress >= PROGRESS_EVERY_S:
                self._last_progress = now
                self._emit(event)
            return
        if isinstance(event, Indexed):
            if self.busy:
                self.busy = False
                self._state_changed()
            self._emit(event)
            self._settle_drops(event)

    def _settle_drops(self, event: Indexed) -> None:
        """A drop is settled once each of its files has a current record.

        Records (not the event's path list) decide, because a rescan may take over a path
        that was notified, and a rescan that began before a copy must not count for it. The
        file records are read through the indexer's own connection: this runs on its thread.
        """
        if self._memory is None:
            return
        state = self._memory.state
        finished: list[_Drop] = []
        with self._lock:
            for drop in self._drops:
                if event.rescan:
                    drop.needs_rescan = False
                still: set[str] = set()
                for path in drop.remaining:
                    rec = state.get(path)
                    if rec is None or (rec.state != "error" and not _current(path, rec)):
                        still.add(path)
                    elif rec.state != "indexed":
                        drop.errors.append(FileStatus(path, rec.state, rec.chunks, rec.reason))  # keyed, as stored
                drop.remaining = still
                if not drop.remaining and not drop.needs_rescan:
                    finished.append(drop)
            self._drops = [d for d in self._drops if d not in finished]
        for drop in finished:
            if drop.result.new_sources:
                drop.errors += [e for e in event.report.errors
                                if any(e.path.startswith(str(s).rstrip("/") + "/") for s in drop.result.new_sources)]
            self._emit(drop.outcome())

    # -- requests --------------------------------------------------------------------------

    def search(self, query: str, k: int, scope: Scope | None = None, variants: Sequence[str] = ()) -> list[Hit]:
        """``variants``: other wordings of the query (the chat model's translation, made in
        the window's process), searched with it (:meth:`Retriever.search`)."""
        if self._memory is None:
            raise StoreError(self.error or "The memory index is not available.")
        options: dict[str, Any] = {}
        if scope is not None:  # a chat's scope
            options["scope"] = scope
        if variants:
            options["variants"] = tuple(variants)
        return list(self._memory.retriever.search(query, k, **options))

    def last_search(self) -> SearchDetails:
        """How the last search ran: the variants it used and its timings (ms)."""
        if self._memory is None or "retriever" not in vars(self._memory):
            return SearchDetails()
        retriever = self._memory.retriever
        return SearchDetails(tuple(getattr(retriever, "last_variants", ())),
                             dict(getattr(retriever, "last_timings", {})))

    def on_this_day(self, day: dt.date) -> list[Hit]:
        """Entries from ``day``'s month and day in earlier years, newest first, one hit each
        (twin.app.recall_service: one date query, no embedding)."""
        if self._memory is None:
            raise StoreError(self.error or "The memory index is not available.")
        from twin.app.recall_service import RecallService

        groups = RecallService(self._memory.store).on_this_day(day)
        return [e.hit() for g in groups for e in g.entries]

    def _open_records(self) -> FileState | None:
        """The file records, read-only; None while the writer has not made them yet (another
        process that owns the index, ``twin watch`` just started, creates them once its
        embedding model has loaded): a later snapshot opens them."""
        if self._records is None and self.paths.state_db.exists():
            self._records = FileState(self.paths.state_db, readonly=True)
        return self._records

    def snapshot(self) -> MemorySnapshot:
        records = self._open_records() if self._memory is not None else None
        if records is None:
            return MemorySnapshot({}, [], list(self.settings.memory.sources), self.paused, self.writer,
                                  self.watch_limit)
        problems = list(records.problems())  # keyed reasons, as stored: the panel translates them
        return MemorySnapshot(records.counts(), problems,
                              list(self.settings.memory.sources), self.paused, self.writer, self.watch_limit)

    def pause(self) -> None:
        if self._service is not None:
            self._service.pause()
            self._state_changed()

    def resume(self) -> None:
        if self._service is not None:
            self._service.resume()
            self._state_changed()

    def rescan(self) -> None:
        if self._service is not None:
            self._service.request_rescan()

    def set_sources(self, sources: Sequence[str]) -> None:
        self._restart_service(list(sources))

    def reconfigure(self, settings: Settings) -> None:
        """Rebuild the engine for new settings (embedding model, exclusions, sources…)."""
        self.stop()
        self.settings = settings
        self._start_engine()

    def ingest(self, paths: Sequence[Path], mode: str) -> DropOutcome:
        """Take dropped files/folders (see :mod:`twin.app.documents_service`)."""
        if self._memory is None or self._service is None:
            raise StoreError(self.error or "The memory index is not available yet.")
        if self._service.standby:
            raise StoreError(msg("lock.drop_there", writer=self.writer or locked_message(None, picked_up=False)))
        inbox = self.paths.inbox_dir
        docs = DocumentsService(inbox, self._memory.file_filter, self._memory.sealed.copy_into(inbox))
        plan = docs.plan(list(paths), mode, self._memory.sources)
        result = docs.copy(plan)  # before any restart, so the restart's rescan sees the copies
        sources = [str(s) for s in self.settings.memory.sources]
        wanted = list(sources)
        if plan.copy and str(inbox) not in wanted:
            wanted.append(str(inbox))
        wanted += [str(p) for p in plan.new_sources if str(p) not in wanted]
        drop = _Drop(result, remaining={str(p) for p in result.queued}, needs_rescan=wanted != sources)
        outcome = drop.outcome()
        if not (drop.remaining or drop.needs_rescan):
            self._emit(outcome)
            return outcome
        with self._lock:  # registered before the work starts, so no event is missed
            self._drops.append(drop)
        if wanted != sources:
            self._restart_service(wanted)  # its rescan indexes the copies and the new folders
        else:
            for p in result.queued:
                self._service.notify("changed", p)
        log.info("drop (%s): %d queued, %d new folders, %d rejected", mode, len(result.queued),
                 len(result.new_sources), len(result.rejected))
        return outcome


def _current(path: str, rec: FileRecord) -> bool:
    """Whether the record describes the file as it is on disk now."""
    try:
        st = Path(path).stat()
    except OSError:
        return True  # gone: nothing left to wait for
    return rec.size == st.st_size and rec.mtime_ns == st.st_mtime_ns

