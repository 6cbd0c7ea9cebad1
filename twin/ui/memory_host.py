"""MemoryHost: the memory engine seen from the window, as Qt signals and Futures.

A bridge in the sense of ARCHITECTURE §2 over a :class:`twin.app.memory_client.MemoryClient`
(the engine, :class:`twin.app.memory_worker.MemoryWorker`, behind typed requests); which runner
is the setting ``[memory] runner``:

* ``"process"`` (default): a child process (:class:`twin.app.memory_process.ProcessMemory`),
  so importing torch and LanceDB and indexing never hold the GIL the GUI thread needs;
* ``"thread"``: one ``twin-memory`` thread of this process
  (:class:`twin.app.memory_client.ThreadedMemory`); also whenever a ``memory_factory`` is
  given (it builds the engine in this process: tests share one loaded embedding model that way).

The client reports typed events (:mod:`twin.app.memory_events`) from its own threads; this
QObject dispatches them by type and re-emits them as Qt signals, which reach widgets through
queued connections, and keeps a mirror of the engine's state (ready, paused, busy, error,
writer) that the GUI thread reads without waiting.

Signals:
    ready(): the engine is loaded and the service runs (memory search works from now on).
    failed(str): the engine could not start, or stopped (e.g. no embedding model).
    progress(object): an :class:`IndexProgress` (at most ~10 per second, plus the last).
    indexed(object): an :class:`Indexed` after each batch of work.
    documents_indexed(object): a :class:`DropOutcome` once every file of a drop is indexed.
    sources_changed(list): the watched folders (strings) after a change.
    writer_changed(str): who keeps the index current while this window only reads (another
        twin process holds the index writer lock), or "" once this window has taken over.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import TypeVar

import shiboken6
from PySide6.QtCore import QObject, Signal

from twin.app.container import Memory
from twin.app.index_service import Indexed
from twin.app.memory_client import MemoryClient, open_memory_client
from twin.app.memory_events import (DropOutcome, MemoryEvent, MemoryFailed, MemoryReady, MemorySnapshot,
                                    MemoryState, SourcesChanged)
from twin.core.types import Hit, IndexProgress, Scope
from twin.errors import StoreError
from twin.paths import Paths
from twin.settings import Settings

__all__ = ["DropOutcome", "MemoryHost", "MemorySnapshot"]

log = logging.getLogger("twin.ui")
T = TypeVar("T")


class MemoryHost(QObject):
    ready = Signal()
    failed = Signal(str)
    progress = Signal(object)
    indexed = Signal(object)
    documents_indexed = Signal(object)
    sources_changed = Signal(list)
    writer_changed = Signal(str)

    def __init__(self, settings: Settings, paths: Paths, *, watch: bool = True,
                 memory_factory: Callable[[Settings, Paths], Memory] | None = None,
                 isolate: bool | None = None, parent: QObject | None = None, dek: bytes | None = None,
                 runner: str | None = None):
        super().__init__(parent)
        self.memory_factory = memory_factory
        self.dek = dek  # the data key when the data is encrypted (twin.app.vault_service)
        self.settings = settings
        self.paths = paths
        self.watch = watch
        if isolate is not None:
            runner = "process" if isolate else "thread"
        elif memory_factory is not None:
            runner = "thread"  # the factory builds the engine here: it cannot cross to a child
        #: "process" (the engine in a child process) or "thread" (on a thread of this one).
        self.runner = runner or settings.memory.runner
        self.isolated = self.runner == "process"
        #: The memory client, once :meth:`start` made it.
        self.client: MemoryClient | None = None
        self._warm: Future[None] | None = None
        self.error = ""
        self.busy = False  # indexing right now (for the tray's busy icon)
        self._ready = False
        self._paused = False
        #: "" when this window keeps the index current, else who does (search still works).
        self.writer = ""

    # -- events (any thread) -----------------------------------------------------------------

    def _on_event(self, event: MemoryEvent) -> None:
        if not shiboken6.isValid(self):  # deleted (a window closed without its shutdown): nobody to tell
            log.debug("memory event %s after the window's bridge was deleted", type(event).__name__)
            return
        self._dispatch(event)

    def _dispatch(self, event: MemoryEvent) -> None:
        match event:
            case MemoryState():
                self._ready, self._paused, self.busy = event.ready, event.paused, event.busy
                self.error = event.error
                if event.writer != self.writer:  # another process owns the index (or gave it back)
                    self.writer = event.writer
                    self.writer_changed.emit(event.writer)
            case MemoryReady():
                self._ready, self.error = True, ""
                self.ready.emit()
            case MemoryFailed(message=message):
                self._ready, self.busy, self.error = False, False, message
                self.failed.emit(message)
            case IndexProgress():
                self.progress.emit(event)
            case Indexed():
                self.indexed.emit(event)
            case DropOutcome():
                self.documents_indexed.emit(event)
            case SourcesChanged(sources=sources):
                self.settings.memory.sources = list(sources)  # e.g. the inbox, added by a drop
                self.sources_changed.emit(list(sources))

    # -- lifecycle (GUI thread) ----------------------------------------------------------

    def start(self, delay_s: float = 0.0) -> Future[None]:
        """Load the engine in the background. In-process, wait ``delay_s`` first (let the
        window paint: importing torch and LanceDB holds the GIL). Searches wait for it."""
        self.client = open_memory_client(self.settings, self.paths, self._on_event, runner=self.runner,
                                         watch=self.watch, dek=self.dek, memory_factory=self.memory_factory)
        self._warm = self.client.start(0.0 if self.client.isolated else delay_s)
        return self._warm

    def close(self) -> None:
        """Stop the service and close the engine (blocking; call off the GUI thread)."""
        client, self.client = self.client, None
        if client is not None:
            client.close()
        self._ready = False
        self.busy = False

    @property
    def is_ready(self) -> bool:
        return self._ready

    @property
    def paused(self) -> bool:
        return self._paused

    def _request(self, send: Callable[[MemoryClient], Future[T]]) -> Future[T]:
        client = self.client
        if client is None:
            fut: Future[T] = Future()
            fut.set_exception(StoreError(self.tr("The memory engine was not started.")))
            return fut
        return send(client)

    # -- requests (any thread but the runner's) --------------------------------------------

    def search(self, query: str, k: int, scope: Scope | None = None, variants: Sequence[str] = ()) -> list[Hit]:
        """Blocking memory search (the chat's retriever, on the model's thread); ``scope``:
        the chat's :class:`~twin.core.types.Scope` (None: all memory); ``variants``: the
        chat model's other wordings of the query, searched with it."""
        if self._warm is None:
            raise StoreError(self.tr("The memory engine was not started."))
        self._warm.result()
        return self._request(lambda c: c.search(query, k, scope, variants)).result()

    def search_async(self, query: str, k: int) -> Future[list[Hit]]:
        return self._request(lambda c: c.search(query, k))

    def on_this_day_async(self, day: dt.date) -> Future[list[Hit]]:
        """Entries from ``day`` (a date) in earlier years, newest first."""
        return self._request(lambda c: c.on_this_day(day))

    def snapshot(self) -> Future[MemorySnapshot]:
        return self._request(lambda c: c.snapshot())

    def pause(self) -> None:
        if self._ready:
            self._paused = True
            self._request(lambda c: c.pause())

    def resume(self) -> None:
        if self._ready:
            self._paused = False
            self._request(lambda c: c.resume())

    def rescan(self) -> None:
        self._request(lambda c: c.rescan())

    def set_sources(self, sources: Sequence[str]) -> Future[None]:
        self.settings.memory.sources = list(sources)
        return self._request(lambda c: c.set_sources(list(sources)))

    def reconfigure(self, settings: Settings) -> Future[None]:
        """Rebuild the engine for new settings (embedding model, exclusions, sources…)."""
        self.settings = settings
        self._ready = False
        return self._request(lambda c: c.reconfigure(settings))

    def ingest(self, paths: Sequence[Path], mode: str) -> Future[DropOutcome]:
        """Take dropped files/folders (see :mod:`twin.app.documents_service`)."""
        return self._request(lambda c: c.ingest(list(paths), mode))
