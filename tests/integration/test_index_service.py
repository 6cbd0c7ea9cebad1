"""The index service: startup reconcile, then real watchdog events debounced into updates."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from twin.app.index_service import Indexed, IndexService
from twin.core.memory.filestate import FileState
from twin.core.memory.indexer import Indexer
from twin.core.memory.retriever import Retriever
from twin.core.memory.sources import FileFilter
from twin.core.memory.store import LanceStore
from twin.core.types import IndexProgress


@pytest.fixture
def service(tmp_path: Path, embedder):
    vault = tmp_path / "vault"
    vault.mkdir()
    for i in range(5):
        (vault / f"2020-01-0{i + 1}.md").write_text(f"# Day {i}\n\nOrdinary day number {i} at the office.\n")
    store = LanceStore(tmp_path / "index", embedder.name, embedder.dim)
    state = FileState(tmp_path / "files.sqlite3")
    svc = IndexService(Indexer(store, embedder, state, FileFilter([".md", ".txt"])), [vault], debounce_s=0.3)
    events: list[object] = []
    svc.add_listener(events.append)
    svc.start(watch=True)
    assert svc.wait_idle(60)
    yield svc, vault, Retriever(store, embedder, per_file=0), events
    svc.stop()
    state.close()


def wait_for(pred, timeout: float = 10.0) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if pred():
            return time.monotonic() - t0
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def found(retriever: Retriever, word: str, path: Path | None = None) -> bool:
    hits = retriever.search(word, k=5, mode="bm25", use_query_dates=False)
    return any(word in h.text.lower() and (path is None or h.path == str(path)) for h in hits)


def test_startup_reconcile_reports_progress_and_done(service) -> None:
    svc, vault, retriever, events = service
    assert any(isinstance(e, IndexProgress) and e.phase == "done" for e in events)
    done = [e for e in events if isinstance(e, Indexed)]
    assert done and done[0].rescan and done[0].report.files_indexed == 5
    assert threading.current_thread().name != "twin-index"


def test_saved_file_becomes_searchable_quickly(service) -> None:
    svc, vault, retriever, events = service
    f = vault / "2020-02-01.md"
    f.write_text("# Trip\n\nWe saw a zeppelin over the harbour.\n")
    latency = wait_for(lambda: found(retriever, "zeppelin", f))
    assert latency < 10  # the bench measures it precisely; here: it happens, off this thread


def test_atomic_save_burst_and_delete(service) -> None:
    svc, vault, retriever, events = service
    target = vault / "2020-01-01.md"
    for i in range(10):  # a burst of atomic saves: only the last content counts
        tmp = vault / f".2020-01-01.md.tmp{i}"
        tmp.write_text(f"# Day\n\nVersion {i}: {'platypus' if i == 9 else 'wombat'} sighting.\n")
        os.replace(tmp, target)
    wait_for(lambda: found(retriever, "platypus", target))
    assert not found(retriever, "wombat", target)
    target.unlink()
    wait_for(lambda: not found(retriever, "platypus"))


def test_moved_file_keeps_vectors_and_folder_moves_rescan(service) -> None:
    svc, vault, retriever, events = service
    src = vault / "2020-01-02.md"
    (vault / "old").mkdir()
    dest = vault / "old" / "2020-01-02.md"
    n_before = len(events)
    src.rename(dest)
    wait_for(lambda: found(retriever, "number", dest))
    svc.wait_idle(10)
    reports = [e.report for e in events[n_before:] if isinstance(e, Indexed)]
    assert sum(r.chunks_embedded for r in reports) == 0
    (vault / "old").rename(vault / "archive")
    wait_for(lambda: found(retriever, "number", vault / "archive" / "2020-01-02.md"))
    assert not found(retriever, "number", dest)


def test_pause_and_resume(service) -> None:
    svc, vault, retriever, events = service
    svc.pause()
    f = vault / "paused.md"
    f.write_text("A note about a narwhal.\n")
    time.sleep(1.0)
    assert not found(retriever, "narwhal")
    svc.resume()
    wait_for(lambda: found(retriever, "narwhal"))


def test_stop_joins_threads(tmp_path: Path, embedder) -> None:
    vault = tmp_path / "v"
    vault.mkdir()
    store = LanceStore(tmp_path / "index", embedder.name, embedder.dim)
    state = FileState(tmp_path / "files.sqlite3")
    before = {t.name for t in threading.enumerate()}
    svc = IndexService(Indexer(store, embedder, state, FileFilter([".md"])), [vault])
    svc.start(watch=True)
    svc.wait_idle(30)
    svc.stop()
    state.close()
    left = {t.name for t in threading.enumerate() if t.is_alive()} - before
    assert not {n for n in left if n.startswith("twin-")}, left
