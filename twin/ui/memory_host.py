"""MemoryHost: the memory engine seen from the window, as Qt signals and Futures.

A bridge in the sense of ARCHITECTURE §2. The engine itself is
:class:`twin.app.memory_worker.MemoryWorker`; a runner decides where it runs:

* by default in a child process (:class:`twin.app.memory_process.ProcessMemory`), so
  importing torch and LanceDB and indexing never hold the GIL the GUI thread needs;
* on one ``twin-memory`` thread of this process (:class:`twin.app.memory_worker.ThreadedMemory`)
  when a ``memory_factory`` is given (tests share one loaded embedding model that way).

The runner reports events from its own threads; this QObject re-emits them as Qt signals,
which reach widgets through queued connections, and keeps a mirror of the engine's state
(ready, paused, busy, error) that the GUI thread reads without waiting.

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

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from twin.app.container import Memory
from twin.app.memory_worker import DropOutcome, MemorySnapshot, ThreadedMemory
from twin.app.vault_service import vault_memory_factory
from twin.core.types import Hit
from twin.errors import StoreError
from twin.paths import Paths
from twin.settings import Settings

__all__ = ["DropOutcome", "MemoryHost", "MemorySnapshot"]

log = logging.getLogger("twin.ui")


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
                 isolate: bool | None = None, parent: QObject | None = None, dek: bytes | None = None):
        super().__init__(parent)
        self.memory_factory = memory_factory
        self.dek = dek  # the data key when the data is encrypted (twin.app.vault_service)
        self.settings = settings
        self.paths = paths
        self.watch = watch
        #: The engine runs in a child process (default) or on a thread of this one.
        self.isolated = memory_factory is None if isolate is None else isolate
        self._runner: Any = None
        self._warm: Future[None] | None = None
        self.error = ""
        self.busy = False  # indexing right now (for the tray's busy icon)
        self._ready = False
        self._paused = False
        #: "" when this window keeps the index current, else who does (search still works).
        self.writer = ""

    # -- events (any thread) -----------------------------------------------------------------

    def _on_event(self, kind: str, payload: Any) -> None:
        if kind == "state":
            self._ready = bool(payload.get("ready"))
            self._paused = bool(payload.get("paused"))
            self.busy = bool(payload.get("busy"))
            self.error = str(payload.get("error") or "")
            writer = str(payload.get("writer") or "")
            if writer != self.writer:  # another process owns the index (or gave it back)
                self.writer = writer
                self.writer_changed.emit(writer)
        elif kind == "ready":
            self._ready, self.error = True, ""
            self.ready.emit()
        elif kind == "failed":
            self._ready, self.busy, self.error = False, False, str(payload)
            self.failed.emit(str(payload))
        elif kind == "progress":
            self.progress.emit(payload)
        elif kind == "indexed":
            self.indexed.emit(payload)
        elif kind == "documents":
            self.documents_indexed.emit(payload)
        elif kind == "sources":
            self.settings.memory.sources = list(payload)  # e.g. the inbox, added by a drop
            self.sources_changed.emit(list(payload))

    # -- lifecycle (GUI thread) ----------------------------------------------------------

    def start(self, delay_s: float = 0.0) -> Future[None]:
        """Load the engine in the background. In-process, wait ``delay_s`` first (let the
        window paint: importing torch and LanceDB holds the GIL). Searches wait for it."""
        if self.isolated:
            from twin.app.memory_process import ProcessMemory

            self._runner = ProcessMemory(self.settings, self.paths, self._on_event, watch=self.watch,
                                         dek=self.dek)
            delay_s = 0.0
        else:
            assert self.memory_factory is not None or not self.isolated
            self._runner = ThreadedMemory(self.settings, self.paths, self._on_event, watch=self.watch,
                                          memory_factory=self.memory_factory
                                          or vault_memory_factory(self.paths, self.dek))
        self._warm = self._runner.call("start", delay_s)
        return self._warm

    def close(self) -> None:
        """Stop the service and close the engine (blocking; call off the GUI thread)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.close()
        self._ready = False
        self.busy = False

    @property
    def is_ready(self) -> bool:
        return self._ready

    @property
    def paused(self) -> bool:
        return self._paused

    def _call(self, name: str, *args: Any) -> Future[Any]:
        if self._runner is None:
            fut: Future[Any] = Future()
            fut.set_exception(StoreError(self.tr("The memory engine was not started.")))
            return fut
        return self._runner.call(name, *args)

    # -- requests (any thread but the runner's) --------------------------------------------

    def search(self, query: str, k: int, scope: Any = None) -> list[Hit]:
        """Blocking memory search (the chat's retriever, on the model's thread); ``scope``:
        the chat's :class:`~twin.core.types.Scope` (None: all memory)."""
        if self._warm is None:
            raise StoreError(self.tr("The memory engine was not started."))
        self._warm.result()
        if scope is not None:
            return self._call("search", query, k, scope).result()
        return self._call("search", query, k).result()

    def search_async(self, query: str, k: int) -> Future[list[Hit]]:
        return self._call("search", query, k)

    def on_this_day_async(self, day: Any) -> Future[list[Hit]]:
        """Entries from ``day`` (a date) in earlier years, newest first."""
        return self._call("on_this_day", day)

    def snapshot(self) -> Future[MemorySnapshot]:
        return self._call("snapshot")

    def pause(self) -> None:
        if self._ready:
            self._paused = True
            self._call("pause")

    def resume(self) -> None:
        if self._ready:
            self._paused = False
            self._call("resume")

    def rescan(self) -> None:
        self._call("rescan")

    def set_sources(self, sources: Sequence[str]) -> Future[None]:
        self.settings.memory.sources = list(sources)
        return self._call("set_sources", list(sources))

    def reconfigure(self, settings: Settings) -> Future[None]:
        """Rebuild the engine for new settings (embedding model, exclusions, sources…)."""
        self.settings = settings
        self._ready = False
        return self._call("reconfigure", settings)

    def ingest(self, paths: Sequence[Path], mode: str) -> Future[DropOutcome]:
        """Take dropped files/folders (see :mod:`twin.app.documents_service`)."""
        return self._call("ingest", list(paths), mode)
