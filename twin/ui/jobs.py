"""Blocking work awaited from the window, never run on the GUI thread.

Jobs go to the app's :class:`~twin.app.background.Background` pool (the controller's
``app.background``), which the app's shutdown drains. A dialog shown without an app (a test,
the first run before the app exists) gets a one-job pool of its own, joined when the job ends:
no daemon thread is ever left behind. :class:`Delivery` brings a job's outcome back to a
widget on the GUI thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Signal

from twin.app.background import Background
from twin.core.conversation.store import ConversationNotFound

log = logging.getLogger("twin.ui")
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


class _Relay(QObject):
    """The one object pool threads signal to: it lives as long as the application (never
    deleted while a job may still land), in the GUI thread.

    A pool thread hands it only a number and the job's Future: who waits for the result (a
    widget, and the callback that refers to it) is kept here, on the GUI thread, so a worker
    never holds, and never drops, the last reference to a Qt object (that would run its C++
    destructor on the worker, under the GUI thread's feet)."""

    landed = Signal(int, object)

    def __init__(self) -> None:
        super().__init__()
        self._waiting: dict[int, tuple[QObject, Callable[[Future[Any]], None]]] = {}
        self._numbers = itertools.count(1)
        self.landed.connect(self._call)

    def expect(self, target: QObject, on_done: Callable[[Future[Any]], None]) -> int:
        """(GUI thread) Remember who waits; the number is what the pool thread signals."""
        number = next(self._numbers)
        self._waiting[number] = (target, on_done)
        return number

    def _call(self, number: int, future: Future[Any]) -> None:
        target, on_done = self._waiting.pop(number)
        if not shiboken6.isValid(target):  # its widget went while the job ran: nobody to tell
            log.debug("a job's result arrived after its widget was gone")
            return
        on_done(future)


_relay: _Relay | None = None


def _the_relay() -> _Relay:
    global _relay
    if _relay is None:
        _relay = _Relay()
        app = QCoreApplication.instance()
        if app is not None:
            _relay.moveToThread(app.thread())
    return _relay


class Delivery(QObject):
    """Hands a pool job's outcome back to the GUI thread.

    :meth:`deliver` calls ``on_done(future)`` on the GUI thread through a queued signal of one
    application-long relay object (a pool thread never signals an object that the GUI thread
    may be deleting, and never holds a reference to this object or to ``on_done``): it works
    under any Qt event processing (the window's qasync loop, a dialog's, a test's
    ``qtbot.wait``) and never blocks the GUI thread. A delivery that arrives after this object
    (its widget) is gone is dropped.
    """

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._relay = _the_relay()  # made on the GUI thread (a widget's constructor)

    def deliver(self, future: Future[T], on_done: Callable[[Future[T]], None]) -> Future[T]:
        """(GUI thread) ``on_done(future)`` on the GUI thread once ``future`` is done."""
        relay = self._relay
        number = relay.expect(self, on_done)
        future.add_done_callback(lambda f: relay.landed.emit(number, f))
        return future


def log_failure(what: str) -> Callable[[Future[Any]], None]:
    """A done-callback that logs a pool job's failure (a gone conversation is only noted)."""
    def done(job: Future[Any]) -> None:
        error = None if job.cancelled() else job.exception()
        if isinstance(error, ConversationNotFound):
            log.info("%s: %s", what, error)
        elif error is not None:
            log.error("%s", what, exc_info=error)
    return done


async def closing_thread(fn: Callable[[], None]) -> None:
    """The last job of all: closing the app drains its own background pool, so it cannot
    run there. One named thread, awaited and joined (its last step is telling the loop, so the
    join is immediate) by :meth:`twin.ui.controller.Controller.aclose`."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[None] = loop.create_future()

    def settle(error: BaseException | None) -> None:
        if not future.done():
            future.set_exception(error) if error is not None else future.set_result(None)

    def run() -> None:
        error: BaseException | None = None
        try:
            fn()
        except BaseException as e:  # noqa: BLE001 - thread boundary: re-raised on the loop
            error = e
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(settle, error)

    thread = threading.Thread(target=run, name="twin-close")
    thread.start()
    try:
        await future
    finally:
        if future.done():  # the thread's last step is done: the join takes no time
            thread.join(timeout=1.0)
