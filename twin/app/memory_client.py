"""MemoryClient: the memory engine as typed requests and typed events, wherever it runs.

One protocol, two runners of the same :class:`~twin.app.memory_worker.MemoryWorker`:

* :class:`twin.app.memory_process.ProcessMemory` (``[memory] runner = "process"``, the
  window's default): the engine in a child process at a lower CPU priority, so importing
  torch and LanceDB and indexing never hold the GIL the GUI thread needs. Requests and
  events cross a pipe, pickled.
* :class:`ThreadedMemory` (``runner = "thread"``): the engine on one ``twin-memory`` thread
  of this process (the CLI's way, and tests that share one loaded embedding model through a
  ``memory_factory``, which cannot cross a process boundary).

Requests return :class:`concurrent.futures.Future`\\ s and run in order, except the ones that
only flip a flag (pause, resume, rescan, status), which are answered at once even while a
slow request runs. Events (:mod:`twin.app.memory_events`) go to the ``on_event`` callback
given at construction, on the runner's threads (never the caller's).

Build one with :func:`open_memory_client`; it picks the runner from the settings.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, cast, runtime_checkable

from twin.app.container import Memory
from twin.app.memory_events import DropOutcome, MemorySnapshot, MemoryState, OnEvent, SearchDetails
from twin.app.memory_worker import IMMEDIATE, MemoryWorker
from twin.core.types import Hit, Scope
from twin.errors import ConfigError
from twin.paths import Paths
from twin.settings import Settings

log = logging.getLogger("twin.memory")

MemoryFactory = Callable[[Settings, Paths], Memory]
RUNNERS = ("process", "thread")


@runtime_checkable
class MemoryClient(Protocol):
    """The memory engine's requests, answered as Futures; events go to ``on_event``."""

    @property
    def isolated(self) -> bool:
        """True when the engine runs in another process."""
        ...

    def start(self, delay_s: float = 0.0) -> Future[None]:
        """Load the engine (embedding model, index) and start watching the sources."""
        ...

    def status(self) -> Future[MemoryState]: ...

    def search(self, query: str, k: int, scope: Scope | None = None,
               variants: Sequence[str] = ()) -> Future[list[Hit]]:
        """``variants``: other wordings searched with ``query`` (the chat model's translation)."""
        ...

    def last_search(self) -> Future[SearchDetails]:
        """How the last search ran (the variants it used, its timings)."""
        ...

    def on_this_day(self, day: dt.date) -> Future[list[Hit]]:
        """Entries from ``day``'s month and day in earlier years, newest first."""
        ...

    def snapshot(self) -> Future[MemorySnapshot]: ...

    def pause(self) -> Future[None]: ...

    def resume(self) -> Future[None]: ...

    def rescan(self) -> Future[None]: ...

    def set_sources(self, sources: Sequence[str]) -> Future[None]: ...

    def reconfigure(self, settings: Settings) -> Future[None]:
        """Rebuild the engine for new settings (embedding model, exclusions, sources…)."""
        ...

    def ingest(self, paths: Sequence[Path], mode: str) -> Future[DropOutcome]:
        """Take dropped files/folders (``mode``: see :mod:`twin.app.documents_service`)."""
        ...

    def close(self, timeout: float = 30.0) -> None:
        """Stop the engine and the runner (blocking; pending requests fail)."""
        ...


class NamedRequests:
    """The typed request methods of :class:`MemoryClient`, each one named call of the
    worker's method through ``_call`` (the runners' one transport)."""

    def _call(self, name: str, *args: Any) -> Future[Any]:
        raise NotImplementedError

    def start(self, delay_s: float = 0.0) -> Future[None]:
        return cast("Future[None]", self._call("start", delay_s))

    def status(self) -> Future[MemoryState]:
        return cast("Future[MemoryState]", self._call("status"))

    def search(self, query: str, k: int, scope: Scope | None = None,
               variants: Sequence[str] = ()) -> Future[list[Hit]]:
        args: tuple[Any, ...] = (query, k) if scope is None else (query, k, scope)
        if variants:
            args = (query, k, scope, tuple(str(v) for v in variants))
        return cast("Future[list[Hit]]", self._call("search", *args))

    def last_search(self) -> Future[SearchDetails]:
        return cast("Future[SearchDetails]", self._call("last_search"))

    def on_this_day(self, day: dt.date) -> Future[list[Hit]]:
        return cast("Future[list[Hit]]", self._call("on_this_day", day))

    def snapshot(self) -> Future[MemorySnapshot]:
        return cast("Future[MemorySnapshot]", self._call("snapshot"))

    def pause(self) -> Future[None]:
        return cast("Future[None]", self._call("pause"))

    def resume(self) -> Future[None]:
        return cast("Future[None]", self._call("resume"))

    def rescan(self) -> Future[None]:
        return cast("Future[None]", self._call("rescan"))

    def set_sources(self, sources: Sequence[str]) -> Future[None]:
        return cast("Future[None]", self._call("set_sources", [str(s) for s in sources]))

    def reconfigure(self, settings: Settings) -> Future[None]:
        return cast("Future[None]", self._call("reconfigure", settings))

    def ingest(self, paths: Sequence[Path], mode: str) -> Future[DropOutcome]:
        return cast("Future[DropOutcome]", self._call("ingest", [Path(p) for p in paths], mode))


class ThreadedMemory(NamedRequests):
    """Runs a :class:`MemoryWorker` on one ``twin-memory`` thread of this process.

    Requests run in order on that thread, the :data:`~twin.app.memory_worker.IMMEDIATE` ones
    at once on the caller's. Events go to ``on_event`` from the worker's threads.
    """

    isolated = False

    def __init__(self, settings: Settings, paths: Paths, on_event: OnEvent, *, watch: bool = True,
                 memory_factory: MemoryFactory = Memory):
        self.worker = MemoryWorker(settings, paths, on_event, watch=watch, memory_factory=memory_factory)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="twin-memory")

    def _call(self, name: str, *args: Any) -> Future[Any]:
        method = getattr(self.worker, name)
        if name in IMMEDIATE:
            fut: Future[Any] = Future()
            try:
                fut.set_result(method(*args))
            except BaseException as e:  # noqa: BLE001 - handed to the caller
                fut.set_exception(e)
            return fut
        return self._executor.submit(method, *args)

    def close(self, timeout: float = 30.0) -> None:
        """Stop the engine (blocking) and the thread."""
        try:
            self._executor.submit(self.worker.stop).result(timeout)
        finally:
            self._executor.shutdown(wait=True, cancel_futures=True)


def open_memory_client(settings: Settings, paths: Paths, on_event: OnEvent, *, runner: str | None = None,
                       watch: bool = True, dek: bytes | None = None,
                       memory_factory: MemoryFactory | None = None) -> MemoryClient:
    """The memory client ``runner`` asks for (default: the settings' ``memory.runner``).

    ``dek``: the data key when the data is encrypted (see :mod:`twin.app.vault_service`).
    ``memory_factory`` builds the engine in this process, so it needs the thread runner
    (a child process builds its own from the settings and the key).
    """
    runner = runner or settings.memory.runner
    if runner not in RUNNERS:
        raise ConfigError(f"'memory.runner' must be 'process' or 'thread', got {runner!r}")
    if runner == "process":
        if memory_factory is not None:
            raise ValueError("a memory_factory builds the engine in this process: use the thread runner")
        from twin.app.memory_process import ProcessMemory  # imports memory_client: not at the top

        return ProcessMemory(settings, paths, on_event, watch=watch, dek=dek)
    if memory_factory is None:
        from twin.app.vault_service import vault_memory_factory

        memory_factory = vault_memory_factory(paths, dek)
    return ThreadedMemory(settings, paths, on_event, watch=watch, memory_factory=memory_factory)
