"""MemoryHost: the memory engine and its index service, kept off the GUI thread.

A bridge in the sense of ARCHITECTURE §2: the index service calls its listeners on its own
worker thread; this QObject re-emits those events as Qt signals, which reach widgets through
queued connections. Everything slow (loading the embedding model, opening LanceDB, stopping
and restarting the service, queries, reading file records, copying dropped documents) runs
on one ``twin-memory`` thread, in order, so a search never sees a half-built engine.

Signals:
    ready(): the engine is loaded and the service runs (memory search works from now on).
    failed(str): the engine could not start (e.g. the embedding model is not downloaded).
    progress(object): an :class:`IndexProgress` (at most ~10 per second, plus the last).
    indexed(object): an :class:`Indexed` after each batch of work.
    documents_indexed(object): a :class:`DropOutcome` once every file of a drop is indexed.
    sources_changed(list): the watched folders (strings) after a change.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal

from twin.app.container import Memory
from twin.app.documents_service import DocumentsService, IngestResult
from twin.app.index_service import Indexed, IndexService
from twin.core.memory.filestate import FileRecord, FileState
from twin.core.types import FileStatus, Hit, IndexProgress
from twin.errors import KnownError, StoreError
from twin.paths import Paths
from twin.settings import Settings

log = logging.getLogger("twin.ui")
T = TypeVar("T")
PROGRESS_EVERY_S = 0.1


@dataclass
class DropOutcome:
    """A drop, after indexing: what was queued and which files failed (with reasons)."""

    result: IngestResult
    errors: list[FileStatus] = field(default_factory=list)
    remaining: set[str] = field(default_factory=set)
    needs_rescan: bool = False


@dataclass(frozen=True)
class MemorySnapshot:
    """What the memory panel shows: counts by state and the files with problems."""

    counts: dict[str, int]
    problems: list[FileRecord]
    sources: list[str]
    paused: bool


class MemoryHost(QObject):
    ready = Signal()
    failed = Signal(str)
    progress = Signal(object)
    indexed = Signal(object)
    documents_indexed = Signal(object)
    sources_changed = Signal(list)

    def __init__(self, settings: Settings, paths: Paths, *, watch: bool = True,
                 memory_factory: Callable[[Settings, Paths], Memory] = Memory, parent: QObject | None = None):
        super().__init__(parent)
        self.memory_factory = memory_factory
        self.settings = settings
        self.paths = paths
        self.watch = watch
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="twin-memory")
        self._memory: Memory | None = None
        self._service: IndexService | None = None
        self._records: FileState | None = None
        self._warm: Future[None] | None = None
        self.error = ""
        self._lock = threading.Lock()
        self._drops: list[DropOutcome] = []
        self._last_progress = 0.0
        self.busy = False  # indexing right now (for the tray's busy icon)

    # -- lifecycle (GUI thread) ----------------------------------------------------------

    def start(self, delay_s: float = 0.0) -> Future[None]:
        """Load the engine in the background, after ``delay_s`` (let the window paint first:
        importing torch and LanceDB briefly holds the GIL). Searches wait for it."""
        def start() -> None:
            if delay_s:
                time.sleep(delay_s)
            self._start_engine()
        self._warm = self._submit(start)
        return self._warm

    def _submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        return self._executor.submit(fn, *args)

    def close(self) -> None:
        """Stop the service and close the engine (blocking; call off the GUI thread)."""
        try:
            self._submit(self._stop_engine).result()
        finally:
            self._executor.shutdown(wait=True, cancel_futures=True)

    @property
    def is_ready(self) -> bool:
        return self._service is not None

    @property
    def paused(self) -> bool:
        return self._service.paused if self._service is not None else False

    # -- on the twin-memory thread -------------------------------------------------------

    def _start_engine(self) -> None:
        try:
            mem = self.memory_factory(self.settings, self.paths)
            _ = mem.indexer  # loads the embedder and opens the store
            _ = mem.retriever
            self._memory = mem
            self._start_service(rescan=True)
            self._records = FileState(self.paths.state_db, readonly=True)
        except KnownError as e:
            self.error = str(e)
            log.warning("memory unavailable: %s", e)
            self.failed.emit(str(e))
            return
        except Exception as e:
            self.error = f"{e.__class__.__name__}: {e}"
            log.exception("memory engine failed to start")
            self.failed.emit(self.error)
            return
        self.error = ""
        self.ready.emit()

    def _start_service(self, rescan: bool) -> None:
        assert self._memory is not None
        svc = IndexService(self._memory.indexer, self._memory.sources, self.settings.memory.debounce_ms / 1000)
        svc.add_listener(self._on_index_event)
        svc.start(watch=self.watch, rescan=rescan)
        self._service = svc

    def _stop_engine(self) -> None:
        if self._service is not None:
            self._service.stop()
            self._service = None
        if self._memory is not None:
            self._memory.close()
            self._memory = None
        if self._records is not None:
            self._records.close()
            self._records = None

    def _restart_service(self, sources: Sequence[str]) -> None:
        if self._memory is None:
            raise StoreError(self.error or "The memory engine is not running.")
        if self._service is not None:
            self._service.stop()
        self.settings.memory.sources = list(sources)
        self._start_service(rescan=True)
        self.sources_changed.emit(list(sources))

    def _on_index_event(self, event: object) -> None:
        """Index worker thread: forward as signals (progress throttled)."""
        if isinstance(event, IndexProgress):
            self.busy = event.phase != "done"
            now = time.monotonic()
            if event.phase in ("done", "scan") or now - self._last_progress >= PROGRESS_EVERY_S:
                self._last_progress = now
                self.progress.emit(event)
            return
        if isinstance(event, Indexed):
            self.busy = False
            self.indexed.emit(event)
            self._settle_drops(event)

    def _settle_drops(self, event: Indexed) -> None:
        """Index thread: a drop is settled once each of its files has a current record.

        Records (not the event's path list) decide, because a rescan may take over a path
        that was notified, and a rescan that began before a copy must not count for it. The
        file records are read through the indexer's own connection: this runs on its thread.
        """
        if self._memory is None:
            return
        state = self._memory.state
        finished: list[DropOutcome] = []
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
                        drop.errors.append(FileStatus(path, rec.state, rec.chunks, rec.reason))
                drop.remaining = still
                if not drop.remaining and not drop.needs_rescan:
                    finished.append(drop)
            self._drops = [d for d in self._drops if d not in finished]
        for drop in finished:
            if drop.result.new_sources:
                drop.errors += [e for e in event.report.errors
                                if any(e.path.startswith(str(s).rstrip("/") + "/") for s in drop.result.new_sources)]
            self.documents_indexed.emit(drop)

    # -- requests (GUI thread; the work runs on twin-memory) ------------------------------

    def search(self, query: str, k: int) -> list[Hit]:
        """Blocking memory search from any thread but twin-memory (the chat's retriever)."""
        if self._warm is None:
            raise StoreError("The memory engine was not started.")
        self._warm.result()
        return self._submit(self._search, query, k).result()

    def _search(self, query: str, k: int) -> list[Hit]:
        if self._memory is None:
            raise StoreError(self.error or "The memory index is not available.")
        return list(self._memory.retriever.search(query, k))

    def search_async(self, query: str, k: int) -> Future[list[Hit]]:
        return self._submit(self._search, query, k)

    def snapshot(self) -> Future[MemorySnapshot]:
        def snap() -> MemorySnapshot:
            if self._records is None:
                return MemorySnapshot({}, [], list(self.settings.memory.sources), self.paused)
            return MemorySnapshot(self._records.counts(), list(self._records.problems()),
                                  list(self.settings.memory.sources), self.paused)
        return self._submit(snap)

    def pause(self) -> None:
        if self._service is not None:
            self._service.pause()

    def resume(self) -> None:
        if self._service is not None:
            self._service.resume()

    def rescan(self) -> None:
        if self._service is not None:
            self._service.request_rescan()

    def set_sources(self, sources: Sequence[str]) -> Future[None]:
        return self._submit(self._restart_service, list(sources))

    def reconfigure(self, settings: Settings) -> Future[None]:
        """Rebuild the engine for new settings (embedding model, exclusions, sources…)."""
        def rebuild() -> None:
            self._stop_engine()
            self.settings = settings
            self._start_engine()
        return self._submit(rebuild)

    def ingest(self, paths: Sequence[Path], mode: str) -> Future[DropOutcome]:
        """Take dropped files/folders (see :mod:`twin.app.documents_service`)."""
        return self._submit(self._ingest, list(paths), mode)

    def _ingest(self, paths: list[Path], mode: str) -> DropOutcome:
        if self._memory is None or self._service is None:
            raise StoreError(self.error or "The memory index is not available yet.")
        inbox = self.paths.inbox_dir
        docs = DocumentsService(inbox, self._memory.file_filter)
        plan = docs.plan(paths, mode, self._memory.sources)
        result = docs.copy(plan)  # before any restart, so the restart's rescan sees the copies
        sources = [str(s) for s in self.settings.memory.sources]
        wanted = list(sources)
        if plan.copy and str(inbox) not in wanted:
            wanted.append(str(inbox))
        wanted += [str(p) for p in plan.new_sources if str(p) not in wanted]
        outcome = DropOutcome(result, remaining={str(p) for p in result.queued},
                              needs_rescan=wanted != sources)
        if not (outcome.remaining or outcome.needs_rescan):
            self.documents_indexed.emit(outcome)
            return outcome
        with self._lock:  # registered before the work starts, so no event is missed
            self._drops.append(outcome)
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
