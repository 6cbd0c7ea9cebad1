"""Background: the app's one owner of blocking work that must not run on the caller's thread.

The window used to start a daemon thread per job (a rename, a delete, a profile build, the
closing of the model…), from ten places; nobody waited for them, so a job could still be
writing when the process exited. Here every such job goes to one small pool the app owns:

* :meth:`Background.submit` returns a :class:`concurrent.futures.Future`;
  :meth:`Background.run` is the same awaited from an asyncio loop (the window's qasync loop);
* :meth:`Background.close` drains: jobs already queued run to their end, then the threads
  are joined. A job submitted after close fails at once with :class:`RuntimeError`.

Long-lived owners (the engine's own thread, the memory engine's process or thread) are not
jobs and keep their threads; this pool is for the short and medium work around them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

log = logging.getLogger("twin.app")
T = TypeVar("T")

#: Enough for a profile build, a model being closed and a few quick jobs side by side.
WORKERS = 4


class Background:
    """A named thread pool that the app's shutdown drains."""

    def __init__(self, workers: int = WORKERS, name: str = "twin-work"):
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._closed = False

    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        """Run ``fn(*args, **kwargs)`` on a pool thread.

        Raises:
            RuntimeError: the app is shutting down (after :meth:`close`).
        """
        if self._closed:
            raise RuntimeError("background work is closed (the app is shutting down)")
        return self._pool.submit(fn, *args, **kwargs)

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> asyncio.Future[T]:
        """:meth:`submit`, awaitable on the running asyncio loop."""
        return asyncio.wrap_future(self.submit(fn, *args, **kwargs))

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self, wait: bool = True) -> None:
        """Refuse new jobs; with ``wait``, let the queued ones finish and join the threads."""
        self._closed = True
        self._pool.shutdown(wait=wait)
        log.debug("background work drained")
