"""The typed memory client (twin.app.memory_client): one protocol, two runners, typed events.

Real components: the child process loads MiniLM from the PyPI package's folder itself, opens
LanceDB in the tmp TWIN_HOME and indexes a tmp folder; the thread runner shares the session's
loaded embedder. Every event either runner reports is one of the typed events, and survives
pickling (the child process's events have crossed the pipe pickled).
"""

from __future__ import annotations

import datetime as dt
import pickle
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from twin.app.container import Memory
from twin.app.index_service import Indexed
from twin.app.memory_client import MemoryClient, ThreadedMemory, open_memory_client
from twin.app.memory_events import (DropOutcome, MemoryEvent, MemoryFailed, MemoryReady, MemorySnapshot,
                                    MemoryState, SourcesChanged)
from twin.app.memory_process import ProcessMemory
from twin.core.types import FileStatus, IndexProgress, IndexReport
from twin.errors import ConfigError, StoreError
from twin.paths import Paths, resolve_paths
from twin.settings import Settings, load_settings

EVENT_TYPES = (MemoryState, MemoryReady, MemoryFailed, IndexProgress, Indexed, DropOutcome, SourcesChanged)
NOTES = {
    "2023-07-14.md": "# July 14\n\nWe sailed to the lighthouse and back; the wind turned at noon.\n",
    "2023-07-15.md": "# July 15\n\nRain all day. I read about glaciers and baked rye bread.\n",
}


class Events:
    """Collects a runner's events (from its threads) and waits for one."""

    def __init__(self) -> None:
        self.items: list[MemoryEvent] = []
        self.threads: set[str] = set()
        self._cond = threading.Condition()

    def __call__(self, event: MemoryEvent) -> None:
        with self._cond:
            self.items.append(event)
            self.threads.add(threading.current_thread().name)
            self._cond.notify_all()

    def of(self, kind: type) -> list[Any]:
        with self._cond:
            return [e for e in self.items if isinstance(e, kind)]

    def wait(self, pred: Callable[[], object], timeout: float = 60.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not pred():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting for {what}; events: {self.items[-10:]}")
                self._cond.wait(min(left, 0.2))


@pytest.fixture()
def vault(tmp_path: Path) -> Path:
    folder = tmp_path / "vault"
    folder.mkdir()
    for name, text in NOTES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture()
def settings(vault: Path, minilm_path: str) -> Settings:
    s = Settings()
    s.memory.sources = [str(vault)]
    s.memory.debounce_ms = 50
    s.embedding.model = minilm_path
    s.embedding.device = "cpu"
    return s


def _drive(client: MemoryClient, events: Events, paths: Paths, tmp_path: Path) -> None:
    """The same requests and checks for either runner."""
    assert isinstance(client, MemoryClient)
    client.start().result(180)
    events.wait(lambda: events.of(MemoryReady), 30, "ready")
    events.wait(lambda: any(i.rescan for i in events.of(Indexed)), 120, "the first scan")
    state = client.status().result(30)
    assert isinstance(state, MemoryState) and state.ready and not state.error

    snap = client.snapshot().result(30)
    assert isinstance(snap, MemorySnapshot) and snap.counts.get("files") == len(NOTES)
    hits = client.search("sailing to the lighthouse", 2).result(60)
    assert hits and hits[0].path.endswith("2023-07-14.md")
    # on this day: the store's date query, no embedding (2023-07-15 is a year before)
    earlier = client.on_this_day(dt.date(2024, 7, 15)).result(60)
    assert [Path(h.path).name for h in earlier] == ["2023-07-15.md"]

    # a drop: one good note and one broken PDF, copied into the inbox (a new source)
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "garden.md").write_text("# Garden\n\nPlanted tomatoes and basil by the apple tree.\n",
                                    encoding="utf-8")
    (drop / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    queued = client.ingest([drop / "garden.md", drop / "broken.pdf"], "copy").result(60)
    assert isinstance(queued, DropOutcome) and len(queued.result.queued) == 2 and queued.errors == ()
    events.wait(lambda: events.of(DropOutcome), 120, "the drop indexed")
    (outcome,) = events.of(DropOutcome)
    assert isinstance(outcome.errors, tuple) and [Path(e.path).name for e in outcome.errors] == ["broken.pdf"]
    assert all(isinstance(e, FileStatus) and e.reason for e in outcome.errors)
    (changed,) = events.of(SourcesChanged)
    assert str(paths.inbox_dir) in changed.sources
    hits = client.search("tomatoes and basil", 2).result(60)
    assert hits and hits[0].path.startswith(str(paths.inbox_dir))

    client.pause().result(10)
    assert client.status().result(10).paused
    events.wait(lambda: events.of(MemoryState)[-1].paused, 10, "the paused state")
    client.resume().result(10)
    assert not client.snapshot().result(30).paused
    client.rescan().result(10)

    # every event is a typed one, and survives the pipe's pickling
    assert events.of(IndexProgress) and events.of(MemoryState)
    for event in events.items:
        assert isinstance(event, EVENT_TYPES), event
        assert pickle.loads(pickle.dumps(event)) == event


def test_process_runner_indexes_and_searches_in_a_child_with_typed_events(
        settings: Settings, tmp_path: Path, thread_guard: None) -> None:
    paths = resolve_paths().ensure()
    events = Events()
    client = open_memory_client(settings, paths, events, watch=True)  # the settings' default: process
    assert isinstance(client, ProcessMemory) and client.isolated
    try:
        _drive(client, events, paths, tmp_path)
        assert events.threads == {"twin-memory-ipc"}  # events arrive on the reader thread
        child = client.process
        assert child.is_alive()
    finally:
        client.close()
    assert child.exitcode == 0
    with pytest.raises(StoreError, match="stopped"):  # after close: a clear error, no hang
        client.search("anything", 1).result(5)


def test_thread_runner_runs_the_same_requests_in_this_process(
        settings: Settings, embedder: Any, tmp_path: Path, thread_guard: None) -> None:
    def make(s: Settings, p: Paths) -> Memory:
        mem = Memory(s, p)
        mem.__dict__["embedder"] = embedder
        return mem

    paths = resolve_paths().ensure()
    events = Events()
    settings.memory.runner = "thread"
    client = open_memory_client(settings, paths, events, memory_factory=make)
    assert isinstance(client, ThreadedMemory) and not client.isolated
    try:
        _drive(client, events, paths, tmp_path)
    finally:
        client.close()


def test_a_failed_start_is_a_typed_failure(tmp_path: Path, thread_guard: None) -> None:
    """No embedding model: MemoryFailed with the reason, and requests fail with it."""
    s = Settings()
    s.embedding.model = str(tmp_path / "no-such-model")
    s.memory.runner = "thread"
    events = Events()
    client = open_memory_client(s, resolve_paths().ensure(), events)
    try:
        client.start().result(60)
        (failed,) = events.of(MemoryFailed)
        assert failed.message and client.status().result().error == failed.message
        assert not client.status().result().ready
        with pytest.raises(StoreError):
            client.search("anything", 1).result(10)
    finally:
        client.close()


def test_events_and_results_pickle_round_trip(tmp_path: Path) -> None:
    from twin.app.documents_service import IngestResult
    from twin.core.memory.filestate import FileRecord
    from twin.core.memory.watcher import WatchLimit

    report = IndexReport(files_seen=3, files_indexed=2, files_failed=1, chunks_embedded=5, seconds=0.5,
                         errors=(FileStatus("/n/b.pdf", "error", 0, "not a PDF"),))
    values = [
        MemoryState(ready=True, paused=False, busy=True, error="", writer="twin watch (pid 7)", watch="polled"),
        MemoryReady(), MemoryFailed("no model"), SourcesChanged(("/a", "/b")),
        IndexProgress(3, 9, "/n/a.md", phase="index", embedded=4),
        Indexed(report, ("/n/a.md",), rescan=True),
        DropOutcome(IngestResult((tmp_path / "a.md",), (tmp_path,), ()), (FileStatus("/n/b.pdf", "error", 0, "bad"),)),
        MemorySnapshot({"files": 2}, [FileRecord("/n/b.pdf", "/n", 1, 2, "h", "error", 0, "bad", 1.5)], ["/n"], False,
                       "", WatchLimit(("/n",), "fs.inotify.max_user_watches", 2.0)),
    ]
    for value in values:
        again = pickle.loads(pickle.dumps(value))
        assert again == value and type(again) is type(value)
    with pytest.raises(AttributeError):  # frozen, slotted
        MemoryFailed("x").message = "y"  # type: ignore[misc]  # the point: it is frozen


def test_the_runner_is_a_setting(tmp_path: Path) -> None:
    cfg = tmp_path / "settings.toml"
    assert load_settings(cfg).memory.runner == "process"
    cfg.write_text('[memory]\nrunner = "thread"\n', encoding="utf-8")
    assert load_settings(cfg).memory.runner == "thread"
    cfg.write_text('[memory]\nrunner = "fork"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="memory.runner"):
        load_settings(cfg)
    s = Settings()
    with pytest.raises(ConfigError, match="memory.runner"):
        open_memory_client(s, resolve_paths().ensure(), Events(), runner="fork")
    with pytest.raises(ValueError, match="thread runner"):  # a factory cannot cross to a child
        open_memory_client(s, resolve_paths().ensure(), Events(), memory_factory=Memory)
