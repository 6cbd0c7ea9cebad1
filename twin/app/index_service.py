"""Keeps the memory index current, off the caller's thread.

One worker thread (``twin-index``) owns every write to the index: startup reconcile, the
watcher's debounced per-file updates, rescans after watcher overflow or errors. Callers (the
CLI, the window) talk to it with cheap thread-safe calls and hear back through listeners,
which run on the worker thread (the window marshals them onto its own thread).

Only the holder of the index writer lock (:mod:`twin.app.writer_lock`) writes. A service
given a lock that it could not take runs in *standby*: it writes nothing, tells its listeners
who owns the index (:class:`WriterChanged`), retries every few seconds, and once it has the
lock builds its indexer (from a factory, since building one may reset the store) and
rescans. :meth:`IndexService.stop` releases the lock.

After files are forgotten (deleted, excluded, a source removed) the store is purged, so the
forgotten text leaves the disk, not just the search results.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from twin.app.writer_lock import WriterLock, locked_message
from twin.core.memory.indexer import Indexer
from twin.core.memory.watcher import Watcher, WatchLimit
from twin.core.types import IndexProgress, IndexReport

log = logging.getLogger("twin.index")

#: How often the worker checks the watcher is alive, and (when it is) rescans anyway.
HEALTH_CHECK_S = 5.0
SAFETY_RESCAN_S = 15 * 60.0
#: Compact the store after this many watcher updates (each is a commit, i.e. a new version).
MAINTAIN_EVERY = 25
#: Purge deleted chunks this long after the last batch that removed files (coalesces bursts).
PURGE_DELAY_S = 2.0
#: In standby, try to take the writer lock this often.
TAKEOVER_RETRY_S = 3.0


@dataclass(frozen=True)
class Indexed:
    """Sent to listeners after each batch of work (a rescan or some watched paths)."""

    report: IndexReport
    paths: tuple[str, ...] = ()
    rescan: bool = False


@dataclass(frozen=True)
class WriterChanged:
    """Sent when this service starts or stops waiting for another process's writer lock.

    ``owner`` is the user-facing message naming that process, or "" once this service
    owns the index.
    """

    owner: str


Listener = Callable[[object], None]  # receives IndexProgress, Indexed, WriterChanged or WatchLimit
IndexerSource = Indexer | Callable[[], Indexer]


class IndexService:
    """Runs the indexer on its own thread and feeds it the watcher's events.

    Args:
        indexer: the indexer (used only from the worker thread), or a function building it
            (called once the writer lock is held).
        sources: source folders.
        debounce_s: wait this long after a path's last event before indexing it.
        lock: the index writer lock; if not held at :meth:`start`, the service waits in
            standby until it can take it. None: the caller guarantees a single writer.
    """

    def __init__(self, indexer: IndexerSource, sources: Sequence[Path], debounce_s: float = 0.4,
                 lock: WriterLock | None = None, *, retry_s: float = TAKEOVER_RETRY_S):
        self._indexer: Indexer | None = indexer if isinstance(indexer, Indexer) else None
        self._make_indexer = None if isinstance(indexer, Indexer) else indexer
        self.lock = lock  # released by stop()
        self.retry_s = retry_s
        self.writer = ""  # "" or who owns the index while this service waits (WriterChanged)
        self._watch = False
        self.sources = [Path(s) for s in sources]
        self.debounce_s = debounce_s
        self._cv = threading.Condition()
        self._pending: dict[Path, float] = {}  # path → deadline
        self._rescan = False
        self._paused = False
        self._stopping = False
        self._busy = False
        self._thread: threading.Thread | None = None
        self._watcher: Watcher | None = None
        self._listeners: list[Listener] = []
        self._last_rescan = 0.0
        self._updates_since_maintain = 0
        self._purge_due: float | None = None
        self.last_progress: IndexProgress | None = None
        self.last_error: str = ""
        #: Set (and sent to listeners) when folders are polled because inotify's limit is reached.
        self.watch_limit: WatchLimit | None = None
        self._fall_back_due = False

    @property
    def indexer(self) -> Indexer:
        if self._indexer is None:
            assert self._make_indexer is not None
            self._indexer = self._make_indexer()
        return self._indexer

    @property
    def standby(self) -> bool:
        """Whether another process owns the index (this service waits for the lock)."""
        return self.lock is not None and not self.lock.held

    # -- lifecycle --------------------------------------------------------------------------

    def start(self, watch: bool = True, rescan: bool = True) -> None:
        """Start the worker (and the watcher); a first reconcile runs unless told not to.

        With a lock that another process holds, the service starts in standby (see the
        module docstring): no watcher and no work until it owns the index.
        """
        if self._thread is not None:
            return
        self._rescan = rescan
        self._watch = watch
        if self.lock is not None and not self.lock.try_acquire():
            self.writer = locked_message(self.lock.owner())
            log.info("index owned by another process; standing by (%s)", self.writer)
        elif watch:
            self._start_watcher()
        self._thread = threading.Thread(target=self._run, name="twin-index", daemon=True)
        self._thread.start()

    def _start_watcher(self) -> None:
        self._watcher = Watcher(self.sources, self.indexer.filter, self.notify)
        self._watcher.start()
        self._note_watch_limit()

    def _note_watch_limit(self) -> None:
        """Tell listeners which folders are polled since the inotify limit is reached (once per change)."""
        limit = self._watcher.limit if self._watcher is not None else None
        if limit is not None and limit != self.watch_limit:
            self.watch_limit = limit
            self._emit(limit)

    def _do_fall_back(self) -> None:
        """The watcher could not watch a new subfolder (inotify's limit): poll that source."""
        watcher = self._watcher  # stop() may clear it meanwhile
        if watcher is not None and watcher.fall_back():
            self._note_watch_limit()

    def stop(self, timeout: float = 30.0, *, release: bool = True) -> None:
        """Stop watching, finish the batch in flight, join the worker, release the lock
        (unless ``release`` is False: a restart keeps it, so no other process slips in)."""
        with self._cv:  # first, under the lock: else the worker sees the watcher stopped here as
            self._stopping = True  # "died" and starts a new one that nobody stops
            watcher, self._watcher = self._watcher, None
            self._cv.notify_all()
        if watcher is not None:
            watcher.stop()
        stuck = False
        if self._thread is not None:
            self._thread.join(timeout)
            stuck = self._thread.is_alive()
            if stuck:
                log.error("index worker did not stop within %.0f s", timeout)
            self._thread = None
        if self.lock is not None and release and not stuck:  # a stuck worker may still write
            self.lock.release()

    def add_listener(self, fn: Listener) -> None:
        self._listeners.append(fn)

    # -- requests (any thread) ---------------------------------------------------------------

    def notify(self, kind: str, path: Path, dest: Path | None = None) -> None:
        """A watcher event. Cheap and thread-safe: only records a deadline."""
        now = time.monotonic()
        with self._cv:
            if kind in ("changed", "deleted"):
                self._pending[path] = now + self.debounce_s
            elif kind == "moved" and dest is not None:
                # Both ends in one batch: the destination reuses the source's vectors.
                self._pending[path] = now + self.debounce_s
                self._pending[dest] = now + self.debounce_s
            else:  # moved_dir, deleted_dir, overflow, error, watch_limit: rescan (cheap when little changed)
                log.info("watch event %s on %s: rescanning", kind, path)
                self._rescan = True
                if kind == "watch_limit":  # a subfolder is unwatched: poll its source (on the worker)
                    self._fall_back_due = True
            self._cv.notify_all()

    def request_rescan(self) -> None:
        with self._cv:
            self._rescan = True
            self._cv.notify_all()

    def pause(self) -> None:
        with self._cv:
            self._paused = True

    def resume(self) -> None:
        with self._cv:
            self._paused = False
            self._cv.notify_all()

    @property
    def paused(self) -> bool:
        return self._paused

    def idle(self) -> bool:
        with self._cv:
            return not (self._busy or self._rescan or self._pending or self._purge_due is not None)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until nothing is pending or running (tests, ``twin index``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.idle():
                return True
            time.sleep(0.02)
        return False

    # -- worker ------------------------------------------------------------------------------

    def _emit(self, event: object) -> None:
        if isinstance(event, IndexProgress):
            self.last_progress = event
        for fn in list(self._listeners):
            try:
                fn(event)
            except Exception:  # noqa: BLE001 - a listener bug must not stop indexing
                log.exception("index listener failed")

    def _should_stop(self) -> bool:
        return self._stopping or self._paused

    def _stand_by(self) -> bool:
        """Standby: wait for the writer lock. True once this service owns the index."""
        with self._cv:
            if not self._stopping:
                self._cv.wait(self.retry_s)
            if self._stopping:
                return False
        assert self.lock is not None
        if not self.lock.try_acquire():
            message = locked_message(self.lock.owner())
            if message != self.writer:
                self.writer = message
                self._emit(WriterChanged(message))
            return False
        try:
            _ = self.indexer  # may back up and reset the store: only now that we own it
            if self._watch:
                self._start_watcher()
        except Exception as e:  # noqa: BLE001 - stay in standby and say why
            self.last_error = f"{e.__class__.__name__}: {e}"
            log.exception("taking over the index failed")
            self.lock.release()
            return False
        log.info("took over the index (the other process left)")
        with self._cv:
            self._rescan = True  # whatever changed meanwhile
        self.writer = ""
        self._emit(WriterChanged(""))
        return True

    def _run(self) -> None:
        if self.writer:
            self._emit(WriterChanged(self.writer))
        while self.standby:
            if self._stand_by():
                break
            if self._stopping:
                return
        while True:
            with self._cv:
                job = self._next_job()
                while job is None and not self._stopping:
                    self._cv.wait(self._wait_time())
                    job = self._next_job()
                if self._stopping:
                    purge = self._purge_due is not None
                    self._purge_due = None
                    if not purge:
                        return
                    job = self._do_purge  # forgotten text must not wait for the next start
                self._busy = True
            try:
                job()
            except Exception as e:  # noqa: BLE001 - the worker survives any one failure
                self.last_error = f"{e.__class__.__name__}: {e}"
                log.exception("indexing failed; will rescan")
                with self._cv:
                    self._rescan = True
                time.sleep(1.0)
            finally:
                with self._cv:
                    self._busy = False
                    self._cv.notify_all()

    def _wait_time(self) -> float:
        if self._paused:
            return HEALTH_CHECK_S
        due = list(self._pending.values()) + ([self._purge_due] if self._purge_due is not None else [])
        if due:
            return max(0.0, min(due) - time.monotonic()) + 0.001
        return HEALTH_CHECK_S

    def _next_job(self) -> Callable[[], None] | None:
        """Pick the next job under the lock, or None."""
        if self._paused:
            return None
        if self._watcher is not None and not self._watcher.is_alive():
            log.warning("watcher died: restarting it and rescanning")
            self._watcher = Watcher(self.sources, self.indexer.filter, self.notify)
            try:
                self._watcher.start()
            except OSError as e:
                log.error("cannot restart the watcher: %s", e)
            self._rescan = True
            self._note_watch_limit()
        if self._fall_back_due:
            self._fall_back_due = False
            return self._do_fall_back  # the rescan it asked for follows
        if not self._rescan and self._watcher is not None and time.monotonic() - self._last_rescan > SAFETY_RESCAN_S:
            self._rescan = True
        if self._rescan:
            self._rescan = False
            self._pending.clear()  # a rescan covers them
            return self._do_rescan
        now = time.monotonic()
        due = [p for p, t in self._pending.items() if t <= now]
        if due:
            for p in due:
                del self._pending[p]
            return lambda: self._do_paths(due)
        if self._purge_due is not None and self._purge_due <= now:
            self._purge_due = None
            return self._do_purge
        return None

    def _do_rescan(self) -> None:
        self._last_rescan = time.monotonic()
        self._updates_since_maintain = 0  # reconcile ends with maintain()
        report = self.indexer.reconcile(self.sources, self._emit, self._should_stop)
        if self._paused:  # interrupted: finish the scan after resume
            with self._cv:
                self._rescan = True
        self._emit(Indexed(report, rescan=True))
        self._after_removals(report)

    def _do_paths(self, paths: list[Path]) -> None:
        report = self.indexer.index_paths(paths, self.sources)
        log.info("indexed %d changed path(s) in %.2f s", len(paths), report.seconds)
        self._emit(Indexed(report, tuple(str(p) for p in paths)))
        self._after_removals(report)
        self._updates_since_maintain += 1
        if self._updates_since_maintain >= MAINTAIN_EVERY:
            self._updates_since_maintain = 0
            self.indexer.store.maintain()

    def _after_removals(self, report: IndexReport) -> None:
        if report.files_removed:
            with self._cv:
                self._purge_due = time.monotonic() + PURGE_DELAY_S

    def _do_purge(self) -> None:
        """Forgotten files: rewrite the store so their text leaves the disk."""
        done = self.indexer.store.purge()
        log.info("forgotten chunks purged from disk in %.2f s", done.get("seconds", 0.0))
