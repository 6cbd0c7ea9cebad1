"""An index service whose writer lock another process holds: standby, then take over.

This is the window started while `twin watch` runs: it searches but writes nothing, says who
keeps the index current, and takes over (rescanning) once the other process is gone.
"""

from __future__ import annotations

import time
from pathlib import Path

from twin.app.index_service import Indexed, IndexService, WriterChanged
from twin.app.writer_lock import WriterLock
from twin.core.memory.filestate import FileState
from twin.core.memory.indexer import Indexer
from twin.core.memory.sources import FileFilter
from twin.core.memory.store import LanceStore


def wait_for(pred, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_standby_until_the_owner_leaves(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    vault, data = tmp_path / "vault", tmp_path / "data"
    vault.mkdir()
    for i in range(3):
        (vault / f"2020-01-0{i + 1}.md").write_text(f"# Day {i}\n\nA quiet day number {i}.\n")
    store = LanceStore(data / "index", embedder.name, embedder.dim)
    state = FileState(data / "files.sqlite3")
    built: list[Indexer] = []

    def make() -> Indexer:
        built.append(Indexer(store, embedder, state, FileFilter([".md"])))
        return built[-1]

    other = WriterLock(data, "twin watch")  # stands for the other process
    assert other.try_acquire()
    mine = WriterLock(data, "the twin window")
    svc = IndexService(make, [vault], debounce_s=0.1, lock=mine, retry_s=0.2)
    events: list[object] = []
    svc.add_listener(events.append)
    svc.start(watch=True)
    try:
        assert svc.standby and svc.writer.startswith("the index is being kept current by twin watch (pid")
        wait_for(lambda: any(isinstance(e, WriterChanged) for e in events))
        time.sleep(0.6)  # several retries: still nothing written, no indexer built
        assert built == [] and store.count() == 0 and not any(isinstance(e, Indexed) for e in events)
        (vault / "new.md").write_text("# New\n\nWritten while the other process owned the index.\n")

        other.release()  # the other process exits
        wait_for(lambda: not svc.standby and any(isinstance(e, Indexed) for e in events))
        assert svc.wait_idle(60)
        assert [e.owner for e in events if isinstance(e, WriterChanged)][-1] == ""
        assert sorted(store.paths()) == sorted(str(p) for p in vault.glob("*.md"))
        assert not other.try_acquire()  # now the window owns it
        # and it watches from now on
        (vault / "later.md").write_text("# Later\n\nAfter the takeover.\n")
        wait_for(lambda: str(vault / "later.md") in store.paths())
    finally:
        svc.stop()
        state.close()
    assert other.try_acquire()  # stop() released it
    other.release()


def test_window_worker_is_read_only_while_twin_watch_owns_the_index(tmp_path: Path, embedder,
                                                                     minilm_path: str) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from twin.app.container import Memory
    from twin.app.memory_client import ThreadedMemory
    from twin.app.memory_events import MemoryState
    from twin.errors import StoreError
    from twin.paths import Paths
    from twin.settings import Settings

    paths = Paths(tmp_path / "c", tmp_path / "d", tmp_path / "cache", tmp_path / "l").ensure()
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "2020-01-01.md").write_text("# Day\n\nThe lighthouse keeper waved.\n")
    settings = Settings()
    settings.memory.sources = [str(vault)]
    settings.memory.debounce_ms = 50
    settings.embedding.model = minilm_path

    def make(s: Settings, p: Paths) -> Memory:
        mem = Memory(s, p)
        mem.__dict__["embedder"] = embedder
        return mem

    # `twin watch` indexed the vault and still owns the index
    other = WriterLock(paths.data_dir, "twin watch")
    assert other.try_acquire()
    first = make(settings, paths)
    first.indexer.reconcile([vault])
    first.close()

    states: list[MemoryState] = []
    runner = ThreadedMemory(settings, paths, lambda event: states.append(event) if isinstance(event, MemoryState)
                            else None, watch=True, memory_factory=make)
    try:
        runner.start().result(60)
        status = runner.status().result()
        assert status.ready and "kept current by twin watch" in status.writer
        wait_for(lambda: any("kept current by twin watch" in s.writer for s in states), 10)  # reported too
        assert runner.snapshot().result().writer == status.writer
        hits = runner.search("lighthouse", 3).result(60)  # searching works meanwhile
        assert hits and "lighthouse" in hits[0].text
        with pytest.raises(StoreError, match="kept current by twin watch"):
            runner.ingest([vault / "2020-01-01.md"], "copy").result(60)
        other.release()
        wait_for(lambda: runner.status().result().writer == "", 30)
        assert not other.try_acquire()  # the window owns it now
    finally:
        runner.close()
    assert other.try_acquire()
    other.release()
