"""One writer for the memory index: an exclusive OS lock on ``data_dir/index.lock``.

The window, ``twin watch``, ``twin index`` and ``twin forget`` may all run at once. Only the
process holding this lock writes to the index (LanceDB ``index/``) and the file records
(``files.sqlite3``); the others search (readers never need the lock) and either say who owns
the index (:class:`IndexLocked`) or wait and retry.

Invariants:

* The lock is an OS lock (``flock``/``LockFileEx`` through the maintained ``filelock``
  package), so it dies with its process: a SIGKILLed owner never blocks anyone.
* Beside it, ``index.lock.json`` names the owner (pid, what it is, since when). It is advisory
  only, written after the lock is taken; a stale one (dead pid) is never trusted to block.
* Two :class:`WriterLock` objects on one folder exclude each other even inside one process
  (each opens its own file description), so tests can use threads or processes alike.

The conversations database is not under this lock: SQLite in WAL mode with a busy timeout
serialises its writers itself (see ``twin.core.conversation.store``).
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from twin.atomic import write_atomic
from twin.errors import KnownError
from twin.messages import Msg, msg

log = logging.getLogger("twin.lock")

LOCK_FILE = "index.lock"
OWNER_FILE = "index.lock.json"

#: The window's kind (its owner file says so; others name it in the window's language).
WINDOW = "the twin window"

#: Exit status of a command refused because another process owns the index (EX_TEMPFAIL).
EXIT_LOCKED = 75


class IndexLocked(KnownError):
    """Another process keeps the index current; this one may search but not write."""

    exit_code = EXIT_LOCKED


@dataclass(frozen=True)
class Owner:
    """Who holds the lock, as its sidecar says."""

    pid: int
    kind: str
    since: float

    def describe(self) -> Msg:
        if self.kind == WINDOW:
            return msg("lock.window_owner", pid=str(self.pid))  # a pid reads without separators
        return msg("lock.owner", who=self.kind, pid=str(self.pid))  # a command's name: `twin watch`…


def locked_message(owner: Owner | None, what: str = "", *, picked_up: bool = True) -> str:
    """The user-facing sentence for a refused writer (``picked_up``: the owner watches the
    files, so the user's edits reach the index anyway); a keyed message (the window shows it
    in its language)."""
    who = owner.describe() if owner is not None else msg("lock.another_process")
    held = msg("lock.held_picked_up" if picked_up else "lock.held", who=who)
    # ``what`` (a command's next step, "Close it, then restore") is said by the CLI only: English
    return f"{held}. {what}" if what else held


class WriterLock:
    """The index writer lock of one data folder.

    Args:
        data_dir: the data folder (``Paths.data_dir``).
        kind: what this process is, for the others' messages ("twin watch", "the twin window"…).
    """

    def __init__(self, data_dir: Path, kind: str):
        self.data_dir = Path(data_dir)
        self.kind = kind
        self.path = self.data_dir / LOCK_FILE
        self.owner_path = self.data_dir / OWNER_FILE
        # thread_local=False: the window takes it on one thread and may release it on another.
        # preserve_lock_file: unlinking on release would let a third process lock a new inode
        # while a second one still waits on the old (the classic flock-and-unlink race).
        self._lock = FileLock(str(self.path), thread_local=False, preserve_lock_file=True)

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return bool(self._lock.is_locked)

    def try_acquire(self) -> bool:
        """Take the lock if it is free; never blocks."""
        return self.acquire(timeout=0)

    def acquire(self, timeout: float | None = None) -> bool:
        """Take the lock, waiting up to ``timeout`` seconds (None: forever). True when held."""
        if self.held:
            return True
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(timeout=-1 if timeout is None else timeout, poll_interval=0.1)
        except Timeout:
            return False
        self._write_owner()
        log.info("index writer lock taken by %s (pid %d)", self.kind, os.getpid())
        return True

    def acquire_or_raise(self, *, wait: bool = False, what: str = "", picked_up: bool = True) -> None:
        """Take the lock, or raise :class:`IndexLocked` naming the owner (``wait``: block)."""
        if self.acquire(timeout=None if wait else 0):
            return
        raise IndexLocked(locked_message(self.owner(), what, picked_up=picked_up))

    def release(self) -> None:
        if not self.held:
            return
        try:
            self.owner_path.unlink(missing_ok=True)
        except OSError:
            pass
        self._lock.release(force=True)
        log.info("index writer lock released by %s", self.kind)

    def owner(self) -> Owner | None:
        """The current owner per the sidecar; None when free, unknown or stale."""
        if self.held:
            return Owner(os.getpid(), self.kind, time.time())
        try:
            data = json.loads(self.owner_path.read_text(encoding="utf-8"))
            owner = Owner(int(data["pid"]), str(data["kind"]), float(data["since"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return owner if _alive(owner.pid) else None

    def is_free(self) -> bool:
        """Whether nobody holds the lock right now (takes and drops it to find out)."""
        if self.held:
            return False
        probe = FileLock(str(self.path), thread_local=False, preserve_lock_file=True)
        try:
            probe.acquire(timeout=0)
        except Timeout:
            return False
        probe.release(force=True)
        return True

    def _write_owner(self) -> None:
        data = {"pid": os.getpid(), "kind": self.kind, "since": time.time()}
        try:
            write_atomic(self.owner_path, json.dumps(data))
        except OSError as e:  # advisory only: the lock itself is what counts
            log.warning("cannot write %s: %s", self.owner_path, e)

    def __enter__(self) -> WriterLock:
        self.acquire_or_raise()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would terminate it there; the OS lock decides anyway
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True
