"""Real watchdog (inotify) events through the Watcher's filtering."""

from __future__ import annotations

import os
import queue
import time
from pathlib import Path

import pytest

from twin.core.memory.sources import FileFilter
from twin.core.memory.watcher import Watcher

EXT = [".md", ".txt"]


@pytest.fixture
def watched(tmp_path: Path):
    root = tmp_path / "vault"
    root.mkdir()
    events: queue.Queue = queue.Queue()
    w = Watcher([root], FileFilter(EXT), lambda k, p, d: events.put((k, p, d)))
    w.start()
    time.sleep(0.2)
    yield root, events
    w.stop()


def drain(events: queue.Queue, settle: float = 0.5) -> list[tuple[str, Path, Path | None]]:
    out, deadline = [], time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            out.append(events.get(timeout=settle))
        except queue.Empty:
            if out:
                break
    return out


def test_create_modify_delete(watched) -> None:
    root, events = watched
    f = root / "2024-03-15.md"
    f.write_text("hello")
    assert ("changed", f, None) in drain(events)
    with f.open("a") as fh:
        fh.write(" more")
    assert ("changed", f, None) in drain(events)
    f.unlink()
    assert ("deleted", f, None) in drain(events)


def test_atomic_save_reports_the_target(watched) -> None:
    root, events = watched
    target = root / "note.md"
    target.write_text("v1")
    drain(events)
    tmp = root / ".note.md.tmp123"
    tmp.write_text("v2")
    os.replace(tmp, target)
    got = drain(events)
    assert ("changed", target, None) in got
    assert all(p != tmp for _, p, _ in got), got  # the temp file itself is never reported


def test_vim_style_save(watched) -> None:
    root, events = watched
    target = root / "diary.md"
    target.write_text("v1")
    drain(events)
    backup = root / "diary.md~"
    os.rename(target, backup)  # vim: move the original to file~
    target.write_text("v2")  # write the new file
    backup.unlink()
    got = drain(events)
    assert got[-1] == ("changed", target, None) or ("changed", target, None) in got
    assert all(p != backup for _, p, _ in got)


def test_rename_and_ignored_files(watched) -> None:
    root, events = watched
    a = root / "a.md"
    a.write_text("x")
    drain(events)
    b = root / "b.md"
    a.rename(b)
    assert ("moved", a, b) in drain(events)
    (root / "x.swp").write_text("swap")
    (root / "pic.png").write_bytes(b"\x89PNG")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD.md").write_text("ref")
    assert drain(events, settle=0.3) == []


def test_directory_move_and_delete(watched, tmp_path: Path) -> None:
    root, events = watched
    d = root / "2019"
    d.mkdir()
    (d / "a.md").write_text("a")
    drain(events)
    d.rename(root / "2020")
    assert ("moved_dir", d, root / "2020") in drain(events)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "in.md").write_text("in")
    outside.rename(root / "incoming")  # a folder moved in from outside
    got = drain(events)
    assert any(k == "changed" and p.name == "in.md" for k, p, _ in got) or any(k == "moved_dir" for k, _, _ in got), got
    import shutil

    shutil.rmtree(root / "2020")
    got = drain(events)
    assert ("deleted_dir", root / "2020", None) in got or ("deleted", root / "2020" / "a.md", None) in got


def test_overflow_log_record_triggers_rescan_callback(watched) -> None:
    import logging

    root, events = watched
    logging.getLogger("watchdog.observers.inotify_c").warning("Inotify queue overflowed; filesystem events were lost")
    assert ("overflow", Path("/"), None) in drain(events, settle=0.2)
