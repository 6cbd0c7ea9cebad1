"""inotify's watch limit (ENOSPC) on a large tree: a clear message and polling for the rest.

The limit is hit for real in two ways:

* at the watchdog boundary: ``inotify_add_watch`` (the libc call watchdog makes) answers -1 with
  errno ENOSPC once a budget of live watches is used, as the kernel does at
  ``fs.inotify.max_user_watches``; everything above it (watchdog's observers and emitters, our
  Watcher, the index service, a real PollingObserver, real file changes) is the real thing;
* in the kernel: a child process in its own user namespace lowers
  ``/proc/sys/user/max_inotify_watches`` (a per-namespace limit; nothing outside it changes).
"""

from __future__ import annotations

import json
import logging
import queue
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
from watch_budget import WatchBudget  # noqa: E402

from twin.core.memory import watcher as watcher_mod  # noqa: E402
from twin.core.memory.sources import FileFilter  # noqa: E402
from twin.core.memory.watcher import Watcher, WatchLimit  # noqa: E402

EXT = [".md", ".txt"]


def tree(root: Path, dirs: int) -> Path:
    root.mkdir(parents=True)
    for i in range(dirs):
        (root / f"year-{2000 + i}").mkdir()
    return root


def wait_event(events: queue.Queue, want: tuple, timeout: float = 10.0) -> list[tuple]:
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            ev = events.get(timeout=0.1)
        except queue.Empty:
            continue
        seen.append(ev)
        if ev == want:
            return seen
    raise AssertionError(f"{want} not seen; got {seen}")


@pytest.fixture
def events() -> queue.Queue:
    return queue.Queue()


def test_source_over_the_limit_is_polled_with_a_clear_message(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, events: queue.Queue, caplog: pytest.LogCaptureFixture) -> None:
    small = tree(tmp_path / "notes", 2)      # 3 watches
    big = tree(tmp_path / "archive", 12)     # 13 watches: over a budget of 8
    budget = WatchBudget(monkeypatch, 8)
    w = Watcher([small, big], FileFilter(EXT), lambda k, p, d: events.put((k, p, d)), poll_interval_s=0.2)
    caplog.set_level(logging.WARNING, logger="twin.watch")
    w.start()
    try:
        assert budget.refused >= 1
        assert w.polled == [big]
        assert w.limit == WatchLimit((str(big),), "fs.inotify.max_user_watches", 0.2)
        assert "sudo sysctl fs.inotify.max_user_watches=524288" in caplog.text
        assert "/etc/sysctl.d/" in caplog.text and str(big) in caplog.text
        assert len(budget.live) == 3  # the big tree's partial watches were given back
        assert w.is_alive()

        deep = big / "year-2005" / "2005-06-01.md"
        deep.write_text("polled")
        wait_event(events, ("changed", deep, None))  # picked up by the PollingObserver
        note = small / "year-2000" / "a.md"
        note.write_text("watched")
        wait_event(events, ("changed", note, None))  # the small tree keeps inotify
        gone = big / "year-2001"
        shutil.rmtree(gone)
        wait_event(events, ("deleted_dir", gone, None))
    finally:
        w.stop()
    assert not w.is_alive()


def test_limit_reached_later_moves_that_source_to_polling(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, events: queue.Queue) -> None:
    src = tree(tmp_path / "diary", 2)  # 3 watches: exactly the budget
    WatchBudget(monkeypatch, 3)
    w = Watcher([src], FileFilter(EXT), lambda k, p, d: events.put((k, p, d)), poll_interval_s=0.2)
    w.start()
    try:
        assert w.limit is None and w.polled == []
        new_dir = src / "2026"
        new_dir.mkdir()  # watchdog cannot watch it (ENOSPC): it only logs that
        wait_event(events, ("watch_limit", src, None))
        assert w.fall_back()  # what the index service does on its own thread
        assert w.polled == [src] and w.limit is not None and w.limit.folders == (str(src),)
        assert not w.fall_back()  # nothing more to do
        f = new_dir / "2026-01-01.md"
        f.write_text("in the unwatched subfolder")
        wait_event(events, ("changed", f, None))
        assert w.is_alive()
    finally:
        w.stop()


def test_other_errors_still_skip_only_that_folder(tmp_path: Path, events: queue.Queue) -> None:
    ok = tree(tmp_path / "ok", 1)
    w = Watcher([tmp_path / "missing", ok], FileFilter(EXT), lambda k, p, d: events.put((k, p, d)))
    w.start()
    try:
        assert w.limit is None and w.is_alive()
        f = ok / "x.md"
        f.write_text("x")
        wait_event(events, ("changed", f, None))
    finally:
        w.stop()


def test_index_service_falls_back_and_keeps_indexing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder) -> None:
    from twin.app.index_service import IndexService
    from twin.core.memory.filestate import FileState
    from twin.core.memory.indexer import Indexer
    from twin.core.memory.retriever import Retriever
    from twin.core.memory.store import LanceStore

    vault = tree(tmp_path / "vault", 6)
    (vault / "year-2000" / "2000-01-01.md").write_text("# Day\n\nAn ordinary day at the office.\n")
    monkeypatch.setattr(watcher_mod, "POLL_INTERVAL_S", 0.3)
    WatchBudget(monkeypatch, 4)  # the vault needs 7
    store = LanceStore(tmp_path / "index", embedder.name, embedder.dim)
    state = FileState(tmp_path / "files.sqlite3")
    svc = IndexService(Indexer(store, embedder, state, FileFilter(EXT)), [vault], debounce_s=0.2)
    heard: list[object] = []
    svc.add_listener(heard.append)
    svc.start(watch=True)
    try:
        assert svc.wait_idle(60)
        limits = [e for e in heard if isinstance(e, WatchLimit)]
        assert limits == [svc.watch_limit] and limits[0].folders == (str(vault),)
        assert "fs.inotify.max_user_watches" in limits[0].message()
        f = vault / "year-2003" / "2003-05-05.md"
        f.write_text("# Trip\n\nWe saw a zeppelin over the harbour.\n")
        retriever = Retriever(store, embedder, per_file=0)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            hits = retriever.search("zeppelin", k=3, mode="bm25", use_query_dates=False)
            if any(h.path == str(f) for h in hits):
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the change in the polled folder was not indexed")
    finally:
        svc.stop()
        state.close()


REAL_LIMIT_SCRIPT = textwrap.dedent("""
    import json, queue, sys, time
    from pathlib import Path
    with open("/proc/sys/user/max_inotify_watches", "w") as fh:
        fh.write("6")
    from twin.core.memory.sources import FileFilter
    from twin.core.memory.watcher import Watcher
    small, big = Path(sys.argv[1]), Path(sys.argv[2])
    events = queue.Queue()
    w = Watcher([small, big], FileFilter([".md"]), lambda k, p, d: events.put((k, str(p))), poll_interval_s=0.2)
    w.start()
    f = big / "year-2004" / "real.md"
    f.write_text("x")
    got, deadline = [], time.monotonic() + 10
    while time.monotonic() < deadline and ("changed", str(f)) not in got:
        try:
            got.append(events.get(timeout=0.1))
        except queue.Empty:
            pass
    out = {"polled": [str(p) for p in w.polled], "message": w.limit.message() if w.limit else "",
           "seen": ("changed", str(f)) in got, "alive": w.is_alive()}
    # later: new subfolders of the watched tree use up the rest of the limit (3 of 6 are free)
    for i in range(5):
        (small / f"new-{i}").mkdir()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and ("watch_limit", str(small)) not in got:
        try:
            got.append(events.get(timeout=0.1))
        except queue.Empty:
            pass
    out["later_limit"] = ("watch_limit", str(small)) in got
    out["fell_back"] = w.fall_back()
    g = small / "new-4" / "late.md"
    g.write_text("y")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and ("changed", str(g)) not in got:
        try:
            got.append(events.get(timeout=0.1))
        except queue.Empty:
            pass
    out["late_seen"] = ("changed", str(g)) in got
    out["polled_after"] = sorted(str(p) for p in w.polled)
    w.stop()
    print(json.dumps(out))
""")


def test_real_kernel_limit_in_a_user_namespace(tmp_path: Path) -> None:
    unshare = shutil.which("unshare")
    probe = subprocess.run([unshare, "-Ur", "sh", "-c", "echo 6 > /proc/sys/user/max_inotify_watches"],
                           capture_output=True) if unshare else None
    if probe is None or probe.returncode != 0:
        pytest.skip("no unprivileged user namespaces here (unshare -Ur): the boundary tests above cover it")
    small = tree(tmp_path / "small", 2)   # 3 watches fit in 6
    big = tree(tmp_path / "big", 8)       # 9 do not
    script = tmp_path / "real_limit.py"
    script.write_text(REAL_LIMIT_SCRIPT)
    run = subprocess.run([unshare, "-Ur", sys.executable, str(script), str(small), str(big)],
                         capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["polled"] == [str(big)]
    assert "fs.inotify.max_user_watches" in out["message"] and out["seen"] and out["alive"]
    assert "sudo sysctl fs.inotify.max_user_watches=" in run.stderr  # logged (no handler: stderr)
    assert out["later_limit"] and out["fell_back"] and out["late_seen"]
    assert out["polled_after"] == sorted([str(small), str(big)])
