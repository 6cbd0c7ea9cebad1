"""The index writer lock: exclusive, names its owner, dies with its process (real processes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from twin.app.writer_lock import EXIT_LOCKED, IndexLocked, WriterLock, locked_message

HOLD = """
import sys, time
from pathlib import Path
from twin.app.writer_lock import WriterLock
lock = WriterLock(Path(sys.argv[1]), "twin watch")
assert lock.try_acquire()
print("held", flush=True)
time.sleep(120)
"""


def hold_in_child(data: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(data)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_two_locks_exclude_each_other_and_name_the_owner(tmp_path: Path) -> None:
    a, b = WriterLock(tmp_path, "twin index"), WriterLock(tmp_path, "the twin window")
    assert a.try_acquire() and a.held
    assert not b.try_acquire() and not b.held
    owner = b.owner()
    assert owner is not None and owner.pid == os.getpid() and owner.kind == "twin index"
    with pytest.raises(IndexLocked) as e:
        b.acquire_or_raise(what="`twin index --wait` waits for it")
    assert e.value.exit_code == EXIT_LOCKED == 75
    assert f"twin index (pid {os.getpid()})" in str(e.value) and "searching works" in str(e.value)
    a.release()
    assert b.owner() is None  # the sidecar goes with the lock
    assert b.try_acquire()
    b.release()


def test_acquire_waits_for_release(tmp_path: Path) -> None:
    a, b = WriterLock(tmp_path, "a"), WriterLock(tmp_path, "b")
    assert a.try_acquire()
    t0 = time.monotonic()
    assert not b.acquire(timeout=0.3)
    assert time.monotonic() - t0 >= 0.25
    a.release()
    assert b.acquire(timeout=1.0)
    b.release()


def test_a_sigkilled_owner_never_blocks(tmp_path: Path) -> None:
    proc = hold_in_child(tmp_path)
    try:
        lock = WriterLock(tmp_path, "twin index")
        assert not lock.try_acquire()
        owner = lock.owner()
        assert owner is not None and owner.pid == proc.pid and owner.kind == "twin watch"
        assert locked_message(owner).startswith(f"the index is being kept current by twin watch (pid {proc.pid})")
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        # the OS dropped the lock with the process; the stale sidecar is not trusted
        assert lock.owner() is None
        assert lock.try_acquire()
        assert lock.owner() is not None and lock.owner().pid == os.getpid()  # type: ignore[union-attr]
        lock.release()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
