"""The window tests' own reads, off the (guarded) GUI thread.

Every window test runs with the GUI thread marked as one that must not block (the
``gui_thread_strict`` fixture in tests/ui/conftest.py), so a test that seeds or checks the
conversations database itself does it here, on a short-lived worker thread: only the window's
own work counts against the GUI thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def elsewhere(fn: Callable[..., T], *args: Any, timeout: float = 60.0, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` run on a worker thread (joined); its result or its exception."""
    out: list[Any] = []
    error: list[BaseException] = []

    def run() -> None:
        try:
            out.append(fn(*args, **kwargs))
        except BaseException as e:  # noqa: BLE001 - re-raised in the test
            error.append(e)

    worker = threading.Thread(target=run, name="test-read")
    worker.start()
    worker.join(timeout)
    assert not worker.is_alive(), f"{fn} did not end within {timeout} s"
    if error:
        raise error[0]
    return out[0]


class Stored:
    """The app's conversations database for a test: each method call runs :func:`elsewhere`."""

    def __init__(self, shell: Any):
        self._controller = shell.controller

    def __getattr__(self, name: str) -> Callable[..., Any]:
        return lambda *args, **kwargs: elsewhere(
            lambda: getattr(self._controller.conversations, name)(*args, **kwargs))


def stored(shell: Any) -> Stored:
    """``stored(shell).messages(cid)``: what the window's database holds, read off the GUI thread."""
    return Stored(shell)


def create_conversation(paths: Any, codec: Any, title: str) -> str:
    """A conversation written straight to the database (call it :func:`elsewhere`); its id."""
    from twin.core.conversation.store import ConversationStore

    store = ConversationStore(paths.conversations_db, codec=codec)
    try:
        return store.create(title).id
    finally:
        store.close()


def conversation_title(paths: Any, codec: Any, cid: str) -> str:
    """A conversation's title read straight from the database (call it :func:`elsewhere`)."""
    from twin.core.conversation.store import ConversationStore

    store = ConversationStore(paths.conversations_db, codec=codec)
    try:
        return store.get(cid).title
    finally:
        store.close()
