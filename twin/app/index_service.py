"""Keeps the memory index current, off the caller's thread.

One worker thread (``twin-index``) owns every write to the index: startup reconcile, the
watcher's debounced per-file updates, rescans after watcher overflow or errors. Callers (the
CLI, the window) talk to it with cheap thread-safe calls and hear back through listeners,
which run on the worker thread (the window marshals them onto its own thread).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from twin.core.memory.indexer import Indexer
from twin.core.memory.watcher import Watcher
from twin.core.types import IndexProgress, IndexReport

log = logging.getLogger("twin.index")

#: How often the worker checks the watcher is alive, and (when it is) rescans anyway.
HEALTH_CHECK_S = 5.0
SAFETY_RESCAN_S = 15 * 60.0
#: Compact the store after this many watcher updates (each is a commit, i.e. a new version).
MAINTAIN_EVERY = 25


@dataclass(frozen=True)
class Indexed:
    """Sent to listeners after each batch of work (a rescan or some watched paths)."""

    report: IndexReport
    paths: tuple[str, ...] = ()
    rescan: bool = False


Listener = Callable[[object], None]  # receives IndexProgress or Indexed


class IndexService:
    """Runs the indexer on its own thread and feeds it the watcher's events.

    Args:
        indexer: the indexer (used only from the worker thread).
        sources: source folders.
        debounce_s: wait this long after a path's last event before indexing it.
    """

    def __init__(self, indexer: Indexer, sources: Sequence[Path], debounce_s: float = 0.4):
        self.indexer = indexer
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
        self.last_progress: IndexProgress | None = None
        self.last_error: str = ""

    # -- lifecycle --------------------------------------------------------------------------

    def start(self, watch: bool = True, rescan: bool = True) -> None:
        """Start the worker (and the watcher); a first reconcile runs unless told not to."""
        if self._thread is not None:
            return
        self._rescan = rescan
        if watch:
            self._watcher = Watcher(self.sources, self.indexer.filter, self.notify)
            self._watcher.start()
        self._thread = threading.Thread(target=self._run, name="twin-index", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop watching, finish the batch in flight, and join the worker."""
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        with self._cv:
            self._stopping = True
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("index worker did not stop within %.0f s", timeout)
            self._thread = None

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
            else:  # moved_dir, deleted_dir, overflow, error: rescan (cheap when little changed)
                log.info("watch event %s on %s: rescanning", kind, path)
                self._rescan = True
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
            return not (self._busy or self._rescan or self._pending)

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

    def _run(self) -> None:
        while True:
            with self._cv:
                job = self._next_job()
                while job is None and not self._stopping:
                    self._cv.wait(self._wait_time())
                    job = self._next_job()
                if self._stopping:
                    return
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
        if self._pending:
            return max(0.0, min(self._pending.values()) - time.monotonic()) + 0.001
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
        return None

    def _do_rescan(self) -> None:
        self._last_rescan = time.monotonic()
        self._updates_since_maintain = 0  # reconcile ends with maintain()
        report = self.indexer.reconcile(self.sources, self._emit, self._should_stop)
        if self._paused:  # interrupted: finish the scan after resume
            with self._cv:
                self._rescan = True
        self._emit(Indexed(report, rescan=True))

    def _do_paths(self, paths: list[Path]) -> None:
        report = self.indexer.index_paths(paths, self.sources)
        log.info("indexed %d changed path(s) in %.2f s", len(paths), report.seconds)
        self._emit(Indexed(report, tuple(str(p) for p in paths)))
        self._updates_since_maintain += 1
        if self._updates_since_maintain >= MAINTAIN_EVERY:
            self._updates_since_maintain = 0
            self.indexer.store.maintain()
