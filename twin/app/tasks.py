"""Named, preemptive asyncio tasks with strong references (FeelUOwn ``task.py`` / ``aio.py``).

Invariants:
- Starting a task under a name that is already running cancels the old one first
  (``"chat"``: a new question stops the answer in progress).
- Every task is referenced here until it ends, so the event loop's weak references never
  let a running task be garbage-collected mid-flight.
- Every task's exception is logged with its traceback at the task boundary; nothing is
  swallowed silently. Cancellation is not an error.

Qt-free: the window uses it over qasync's loop, tests over a plain asyncio loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger("twin.tasks")


class TaskRegistry:
    """Background tasks of one owner (the window's controller), by name."""

    def __init__(self) -> None:
        self._named: dict[str, asyncio.Task[Any]] = {}
        self._all: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
        """Run ``coro`` as a task; with a ``name``, cancel the running task of that name first."""
        if name is not None:
            old = self._named.pop(name, None)
            if old is not None and not old.done():
                old.cancel()
        task = asyncio.ensure_future(coro)
        if name is not None:
            task.set_name(name)
            self._named[name] = task
        self._all.add(task)
        task.add_done_callback(self._done)
        return task

    def get(self, name: str) -> asyncio.Task[Any] | None:
        task = self._named.get(name)
        return task if task is not None and not task.done() else None

    def running(self) -> list[asyncio.Task[Any]]:
        return [t for t in self._all if not t.done()]

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._all.discard(task)
        name = task.get_name()
        if self._named.get(name) is task:
            del self._named[name]
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            log.error("background task %s failed", name, exc_info=(type(error), error, error.__traceback__))

    async def cancel_all(self, timeout: float = 10.0) -> None:
        """Cancel every task and wait (at most ``timeout`` s) until they have ended."""
        tasks = self.running()
        for t in tasks:
            t.cancel()
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=timeout)
            for t in pending:
                log.error("task %s did not end within %.0f s of being cancelled", t.get_name(), timeout)
