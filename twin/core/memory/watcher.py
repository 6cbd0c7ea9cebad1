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
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Callable, Sequence

from twin.core.memory.sources import FileFilter, source_of

log = logging.getLogger("twin.watch")

#: kind ∈ {"changed", "deleted", "moved", "moved_dir", "deleted_dir", "overflow", "error"}
WatchCallback = Callable[[str, Path, "Path | None"], None]


class _OverflowListener(logging.Handler):
    """Turns watchdog's 'queue overflowed' log record into a callback."""

    def __init__(self, on_overflow: Callable[[], None]):
        super().__init__(logging.WARNING)
        self._on_overflow = on_overflow

    def emit(self, record: logging.LogRecord) -> None:
        if "overflow" in record.getMessage().lower():
            self._on_overflow()


class Watcher:
    """Watches source folders recursively and forwards relevant events.

    Args:
        sources: folders to watch.
        file_filter: which files matter (others are ignored here already).
        callback: called on watchdog's thread; keep it cheap and thread-safe.
    """

    def __init__(self, sources: Sequence[Path], file_filter: FileFilter, callback: WatchCallback):
        self.sources = [Path(s) for s in sources]
        self.filter = file_filter
        self.callback = callback
        self._observer = None
        self._overflow = _OverflowListener(lambda: callback("overflow", Path("/"), None))
        self._lock = threading.Lock()

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event):  # type: ignore[no-untyped-def]
                try:
                    watcher._dispatch(event)
                except Exception:  # noqa: BLE001 - never kill watchdog's thread
                    log.exception("watch handler failed on %r", event)

        with self._lock:
            observer = Observer()
            handler = Handler()
            for src in self.sources:
                if src.is_dir():
                    observer.schedule(handler, str(src), recursive=True)
                else:
                    log.warning("not watching %s: not a folder", src)
            logging.getLogger("watchdog").addHandler(self._overflow)
            observer.daemon = True
            observer.start()
            self._observer = observer
        log.info("watching %d folder(s)", len(self.sources))

    def stop(self) -> None:
        with self._lock:
            observer, self._observer = self._observer, None
        logging.getLogger("watchdog").removeHandler(self._overflow)
        if observer is not None:
            observer.stop()
            observer.join(timeout=5)

    def is_alive(self) -> bool:
        obs = self._observer
        return obs is not None and obs.is_alive()

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

    def _dispatch(self, event) -> None:  # type: ignore[no-untyped-def]
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
