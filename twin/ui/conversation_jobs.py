"""The window's one way to the conversations database: every call is a job on the app's pool.

SQLite (and, with encryption on, decrypting titles and messages) never runs on the GUI thread
(:mod:`twin.threads` enforces it). The window's widgets ask here and get a
:class:`concurrent.futures.Future`; they take the outcome back on the GUI thread with
:class:`twin.ui.jobs.Delivery`.

* The database is opened by the first job (:meth:`ConversationJobs.open`, started with the
  window), not by the window's constructor.
* Reads (:meth:`listing`, :meth:`load`) run side by side; a widget drops the answer to a
  request that a newer one replaced (its own generation number).
* Writes (:meth:`write`: rename, scope, delete, rewind) run one at a time, in the order they
  were asked, so two quick renames can never land in the wrong order.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from twin.core.conversation.store import Conversation, ConversationStore, Message

if TYPE_CHECKING:
    from twin.app.twin import Twin

T = TypeVar("T")


@dataclass(frozen=True)
class Listed:
    """A row of the conversation list: a conversation, or a search hit in it (``snippet``)."""

    id: str
    title: str
    updated_at: float = 0.0
    snippet: str | None = None


@dataclass(frozen=True)
class Opened:
    """What opening a conversation shows: its record (scope) and its messages."""

    conversation: Conversation
    messages: list[Message]


class ConversationJobs:
    """The app's conversations database, reached only through its background pool."""

    def __init__(self, app: "Twin"):
        self.app = app
        self._lock = threading.Lock()  # the write queue's (never held for long: the GUI thread takes it)
        self._writes: deque[tuple[Callable[..., Any], tuple[Any, ...], Future[Any]]] = deque()
        self._writing = False

    def store(self) -> ConversationStore:
        """The open database (a job's first call opens it). Only ever call it off the GUI thread."""
        return self.app.conversations  # opened once, whichever thread asks first (Twin.conversations)

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``fn(store, *args)`` on the pool (a read, or a write that needs no order)."""
        return self.app.background.submit(lambda: fn(self.store(), *args))

    def open(self) -> Future[Any]:
        """Open the database now, in the background (the window calls it when it starts)."""
        return self.app.background.submit(self.store)

    def listing(self, query: str = "") -> Future[list[Listed]]:
        """The newest conversations, or those whose messages match ``query`` (one row each)."""
        return self.submit(_listing, query)

    def load(self, conversation_id: str) -> Future[Opened]:
        """A conversation and its messages; :class:`ConversationNotFound` when it is gone."""
        return self.submit(_load, conversation_id)

    def write(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``fn(store, *args)`` after every write asked before it (a strand on the pool)."""
        done: Future[T] = Future()
        with self._lock:
            self._writes.append((fn, args, done))
            if self._writing:
                return done
            self._writing = True
        try:
            self.app.background.submit(self._drain)
        except RuntimeError as e:  # the app is closing: nothing more is written
            with self._lock:
                self._writing = False
                failed = list(self._writes)
                self._writes.clear()
            for _fn, _args, future in failed:
                future.set_exception(e)
        return done

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._writes:
                    self._writing = False
                    return
                fn, args, done = self._writes.popleft()
            if not done.set_running_or_notify_cancel():
                continue
            try:
                done.set_result(fn(self.store(), *args))
            except BaseException as e:  # noqa: BLE001 - handed to whoever waits for this write
                done.set_exception(e)


def _listing(store: ConversationStore, query: str) -> list[Listed]:
    if not query:
        return [Listed(c.id, c.title, c.updated_at) for c in store.list_conversations()]
    rows: dict[str, Listed] = {}
    for hit in store.search(query):
        rows.setdefault(hit.conversation_id, Listed(hit.conversation_id, hit.title, snippet=hit.snippet))
    return list(rows.values())


def _load(store: ConversationStore, conversation_id: str) -> Opened:
    return Opened(store.get(conversation_id), store.messages(conversation_id))


def question_before(store: ConversationStore, conversation_id: str, answer_id: int) -> str:
    """The question an answer replied to (the last user message before it)."""
    return next((m.content for m in reversed(store.messages(conversation_id))
                 if m.role == "user" and m.id < answer_id), "")
