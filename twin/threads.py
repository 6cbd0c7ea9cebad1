"""Which thread may block: the window's GUI thread must never run SQLite or decryption.

A slow disk or a large conversation makes a database read take tens of milliseconds, and
decrypting a sealed note is CPU work: on the GUI thread either one freezes the window. The
window marks its GUI thread with :func:`forbid_blocking`; the conversations database (its lock)
and the sealed codec call :func:`check` before they work. A check on a forbidden thread logs a
warning with the call site (once per site), or, in strict mode (``TWIN_STRICT_THREADS=1``, which
every window test runs under: tests/ui/conftest.py), raises :class:`BlockingOnGuiThread`, so a
test fails where the GUI thread would have stalled. The window reads and writes its database
through the app's pool (:mod:`twin.ui.conversation_jobs`), so a normal session logs nothing here.
"""

from __future__ import annotations

import logging
import os
import threading
import traceback
from typing import Any

log = logging.getLogger("twin.threads")

_forbidden: dict[int, str] = {}
_warned: set[str] = set()


class BlockingOnGuiThread(RuntimeError):
    """Blocking work (SQLite, decryption) ran on a thread that must not block."""


def forbid_blocking(thread: threading.Thread | None = None, name: str = "the GUI thread") -> None:
    """Mark ``thread`` (default: the caller's) as one that must not block."""
    _forbidden[(thread or threading.current_thread()).ident or 0] = name


def allow_blocking(thread: threading.Thread | None = None) -> None:
    _forbidden.pop((thread or threading.current_thread()).ident or 0, None)


def strict() -> bool:
    return os.environ.get("TWIN_STRICT_THREADS", "") == "1"


def check(what: str) -> None:
    """Called before blocking work: complain when the caller's thread must not block."""
    name = _forbidden.get(threading.get_ident())
    if name is None:
        return
    site = "".join(traceback.format_stack(limit=6)[:-1])
    if strict():
        raise BlockingOnGuiThread(f"{what} on {name}:\n{site}")
    if site not in _warned:
        _warned.add(site)
        log.warning("%s on %s (the window may stall):\n%s", what, name, site)


def reset() -> None:
    """Forget every mark and every reported site (between tests)."""
    _forbidden.clear()
    _warned.clear()


class GuardedLock:
    """A lock that :func:`check` s the thread taking it (the database's lock)."""

    def __init__(self, what: str, lock: Any = None):
        self.what = what
        self._lock = lock if lock is not None else threading.RLock()

    def __enter__(self) -> bool:
        check(self.what)
        return bool(self._lock.__enter__())

    def __exit__(self, *exc: Any) -> None:
        self._lock.__exit__(*exc)
