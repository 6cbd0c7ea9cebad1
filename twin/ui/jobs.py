"""Blocking work awaited from the window, never run on the GUI thread.

Jobs go to the app's :class:`~twin.app.background.Background` pool (the controller's
``app.background``), which the app's shutdown drains. A dialog shown without an app (a test,
the first run before the app exists) gets a one-job pool of its own, joined when the job ends:
no daemon thread is ever left behind.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from twin.app.background import Background

T = TypeVar("T")


async def off_gui(background: Background | None, fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` on ``background`` (or on a pool of its own) and await its result."""
    if background is not None and not background.closed:
        return await background.run(fn, *args)
    own = Background(workers=1, name="twin-ui-job")
    try:
        return await own.run(fn, *args)
    finally:
        own.close(wait=True)  # its one job is over: the thread ends at once


def submit_off_gui(background: Background | None, fn: Callable[[], T]) -> Future[T]:
    """Start ``fn()`` on ``background`` (or on a pool of its own that ends with the job) and
    return its Future; for widgets that report back by a signal instead of awaiting."""
    if background is not None and not background.closed:
        return background.submit(fn)
    own = Background(workers=1, name="twin-ui-job")
    future = own.submit(fn)
    own.close(wait=False)  # the job runs to its end, then the thread exits (joined at exit)
    return future
