"""Filesystem watching with watchdog: events in, ``callback(kind, path, dest)`` out.

No debouncing or indexing here (the index service does that); the handler only filters and
forwards, on watchdog's own thread. Quirks handled:

* Atomic saves (write a temp file, rename it over the target) arrive as events on the temp
  file and then ``moved temp → target`` with no ``modified`` for the target: a move's
  destination is reported as a change.
* A folder moved or deleted reports ``moved_dir`` / ``deleted_dir`` (its files follow as
  synthetic events on some platforms; the service handles both).
* The kernel's inotify queue can overflow and lose events; watchdog only logs that. We listen
  for that log record and report ``overflow``, upon which the service rescans.
* inotify needs one watch per folder, and the number is limited per user
  (``fs.inotify.max_user_watches``; ``ENOSPC``, "inotify watch limit reached"). A source folder
  whose tree does not fit is polled instead (watchdog's ``PollingObserver``, every
  :data:`POLL_INTERVAL_S`): at start, or later (watchdog then only logs that it cannot watch a
  new subfolder: we listen for that record, report ``watch_limit``, and the service calls
  :meth:`Watcher.fall_back` from its own thread). :attr:`Watcher.limit` says what happened and
  which sysctl raises the limit; the watcher never stops watching a folder silently.
"""

from __future__ import annotations

import errno
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from twin.core.memory.sources import FileFilter, source_of

log = logging.getLogger("twin.watch")

#: kind ∈ {"changed", "deleted", "moved", "moved_dir", "deleted_dir", "overflow", "error", "watch_limit"}
WatchCallback = Callable[[str, Path, "Path | None"], None]

#: Seconds between two polls of a folder that inotify's limit left unwatched. A poll lists the
#: whole tree (a folder of 100k files: about a second of one core), so not every second.
POLL_INTERVAL_S = 10.0

#: The per-user inotify limits, by the errno that reaching them gives.
LIMIT_SYSCTL = {errno.ENOSPC: "fs.inotify.max_user_watches", errno.EMFILE: "fs.inotify.max_user_instances"}


@dataclass(frozen=True)
class WatchLimit:
    """Folders polled because the system's inotify limit is reached (for the log and the window)."""

    folders: tuple[str, ...]
    sysctl: str  # the setting that raises the limit, e.g. "fs.inotify.max_user_watches"
    interval_s: float

    @property
    def command(self) -> str:
        """The command that raises the limit now (as root); :attr:`persist` keeps it after a reboot."""
        return f"sudo sysctl {self.sysctl}={_RAISED[self.sysctl]}"

    @property
    def persist(self) -> str:
        return f"echo {self.sysctl}={_RAISED[self.sysctl]} | sudo tee /etc/sysctl.d/90-twin-inotify.conf"

    def message(self) -> str:
        return (f"The system's limit on watched folders ({self.sysctl}) is reached: "
                f"{', '.join(self.folders)} {'is' if len(self.folders) == 1 else 'are'} checked for changes "
                f"every {self.interval_s:g} s instead of at once. To watch everything at once, raise the limit: "
                f"`{self.command}` (to keep it after a reboot: `{self.persist}`), then restart twin.")


_RAISED = {"fs.inotify.max_user_watches": 524288, "fs.inotify.max_user_instances": 1024}


def limit_errno(e: BaseException | None) -> int | None:
    """The errno if ``e`` is inotify's watch or instance limit, else None."""
    if isinstance(e, OSError) and e.errno in LIMIT_SYSCTL:
        return e.errno
    return None


class _WatchdogListener(logging.Handler):
    """Turns watchdog's log records into callbacks: a queue overflow, a folder it could not watch
    because the inotify limit is reached (watchdog logs that and goes on without the folder)."""

    def __init__(self, on_overflow: Callable[[], None], on_limit: Callable[[Path, int], None]):
        super().__init__(logging.WARNING)
        self._on_overflow = on_overflow
        self._on_limit = on_limit

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage().lower()
        error: Any = record.exc_info[1] if record.exc_info else None
        args = record.args if isinstance(record.args, tuple) else ()
        error = error or next((a for a in args if isinstance(a, OSError)), None)
        code = limit_errno(error)
        if code is None and ("watch limit reached" in message or "instance limit reached" in message):
            code = errno.ENOSPC if "watch limit" in message else errno.EMFILE
        if code is not None:
            path = next((a for a in args if isinstance(a, (bytes, str))), b"")
            self._on_limit(Path(_str(path)), code)
        elif "overflow" in message:
            self._on_overflow()


class Watcher:
    """Watches source folders recursively and forwards relevant events.

    Args:
        sources: folders to watch.
        file_filter: which files matter (others are ignored here already).
        callback: called on watchdog's thread; keep it cheap and thread-safe.
        poll_interval_s: how often a folder that inotify's limit leaves unwatched is polled
            (None: :data:`POLL_INTERVAL_S`).
    """

    def __init__(self, sources: Sequence[Path], file_filter: FileFilter, callback: WatchCallback,
                 poll_interval_s: float | None = None):
        self.sources = [Path(s) for s in sources]
        self.filter = file_filter
        self.callback = callback
        self.poll_interval_s = POLL_INTERVAL_S if poll_interval_s is None else poll_interval_s
        self._observer: Any = None
        self._poller: Any = None  # a PollingObserver, once a folder needs one
        self._handler: Any = None
        self._watches: dict[Path, Any] = {}  # source → its inotify ObservedWatch
        self._listener = _WatchdogListener(lambda: callback("overflow", Path("/"), None), self._limit_hit)
        self._lock = threading.Lock()
        self._limit_code: int | None = None
        self._over_limit: set[Path] = set()  # sources whose tree outgrew the limit, not yet polled
        self._polled: list[Path] = []
        #: Set once a folder is polled because of the inotify limit (see :class:`WatchLimit`).
        self.limit: WatchLimit | None = None

    @property
    def polled(self) -> list[Path]:
        """Sources checked by polling instead of inotify."""
        return list(self._polled)

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event):  # type: ignore[no-untyped-def]  # watchdog's types load lazily
                try:
                    watcher._dispatch(event)
                except Exception:  # noqa: BLE001 - never kill watchdog's thread
                    log.exception("watch handler failed on %r", event)

        with self._lock:
            self._polled = []
            self._handler = Handler()
            logging.getLogger("watchdog").addHandler(self._listener)
            observer = Observer()
            observer.daemon = True
            observer.start()  # started first, so that each folder's watches are added (and can fail) one by one
            self._observer = observer
            over: list[Path] = []
            for src in self.sources:
                if not src.is_dir():
                    log.warning("not watching %s: not a folder", src)
                    continue
                try:
                    self._watches[src] = observer.schedule(self._handler, str(src), recursive=True)
                except OSError as e:
                    if limit_errno(e) is None:
                        log.warning("not watching %s: %s", src, e)
                        continue
                    self._limit_code = e.errno
                    over.append(src)
            if over:
                self._poll(over)
        log.info("watching %d folder(s)%s", len(self.sources),
                 f", {len(self._polled)} of them by polling" if self._polled else "")

    def _poll(self, sources: list[Path]) -> None:
        """Poll ``sources`` instead of watching them (under the lock)."""
        from watchdog.observers.polling import PollingObserver

        if self._poller is None:
            self._poller = PollingObserver(timeout=self.poll_interval_s)
            self._poller.daemon = True
            self._poller.start()
        for src in sources:
            if src in self._polled:
                continue
            self._poller.schedule(self._handler, str(src), recursive=True)
            self._polled.append(src)
        code = self._limit_code or errno.ENOSPC
        self.limit = WatchLimit(tuple(str(p) for p in self._polled), LIMIT_SYSCTL[code], self.poll_interval_s)
        log.warning("%s", self.limit.message())

    def _limit_hit(self, path: Path, code: int) -> None:
        """On watchdog's thread: a subfolder could not be watched. Only note it (the service
        calls :meth:`fall_back` from its own thread: changing watches here could deadlock)."""
        src = source_of(path, self.sources) if path != Path() else None
        if src is None or self._observer is None:
            return
        with self._lock:
            if src in self._polled or src in self._over_limit:
                return
            self._limit_code = code
            self._over_limit.add(src)
        self.callback("watch_limit", src, None)

    def fall_back(self) -> bool:
        """Poll the sources whose tree outgrew the inotify limit since :meth:`start`, and drop
        their inotify watches (which frees them for the others). True if anything changed."""
        with self._lock:
            over, self._over_limit = sorted(self._over_limit), set()
            observer = self._observer
            if not over or observer is None:
                return False
            watches = [(src, self._watches.pop(src, None)) for src in over]
        # Unscheduled without our lock: watchdog's emitter logs the limit warning while it holds
        # its own lock, and our log listener (_limit_hit) takes ours; holding both here deadlocks.
        for src, watch in watches:
            if watch is not None:
                try:
                    observer.unschedule(watch)
                except Exception:  # noqa: BLE001 - its watches may be half gone already
                    log.debug("unscheduling %s failed", src, exc_info=True)
        with self._lock:
            if self._observer is None:  # stopped meanwhile
                return False
            self._poll(over)
        return True

    def stop(self) -> None:
        with self._lock:
            observers = [o for o in (self._observer, self._poller) if o is not None]
            self._observer = self._poller = None
            self._watches.clear()
        logging.getLogger("watchdog").removeHandler(self._listener)
        for observer in observers:
            observer.stop()
        for observer in observers:
            observer.join(timeout=5)

    def is_alive(self) -> bool:
        obs, poller = self._observer, self._poller
        return obs is not None and obs.is_alive() and (poller is None or poller.is_alive())

    # -- events ---------------------------------------------------------------------------

    def _relevant(self, path: Path) -> bool:
        src = source_of(path, self.sources)
        if src is None:
            return False
        return self.filter.accepts(path.relative_to(src).as_posix())

    def _dir_relevant(self, path: Path) -> bool:
        src = source_of(path, self.sources)
        if src is None or path == src:
            return False
        rel = path.relative_to(src).as_posix()
        return not any(self.filter.skip_dir(p) for p in rel.split("/"))

    def _dispatch(self, event) -> None:  # type: ignore[no-untyped-def]  # watchdog's types load lazily
        kind = event.event_type
        if kind in ("opened", "closed_no_write"):
            return
        src = Path(_str(event.src_path))
        dest = Path(_str(event.dest_path)) if getattr(event, "dest_path", "") else None
        if event.is_directory:
            if kind == "moved" and dest is not None:
                if self._dir_relevant(src) or self._dir_relevant(dest):
                    self.callback("moved_dir", src, dest)
            elif kind == "deleted" and self._dir_relevant(src):
                self.callback("deleted_dir", src, None)
            return
        if kind == "moved" and dest is not None:
            src_ok, dest_ok = self._relevant(src), self._relevant(dest)
            if src_ok and dest_ok:
                self.callback("moved", src, dest)
            elif dest_ok:  # atomic save: temp file renamed over the target
                self.callback("changed", dest, None)
            elif src_ok:  # renamed to something we don't index (e.g. vim's backup `file~`)
                self.callback("deleted", src, None)
        elif kind == "deleted":
            if self._relevant(src):
                self.callback("deleted", src, None)
        elif kind in ("created", "modified", "closed"):
            if self._relevant(src):
                self.callback("changed", src, None)


def _str(p: str | bytes) -> str:
    return p.decode("utf-8", "surrogateescape") if isinstance(p, bytes) else p
