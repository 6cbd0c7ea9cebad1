"""Waiting for the memory engine's child to exit from two threads at once (the reader thread
sees the pipe close while the closing thread waits for the exit): both must see the exit.
Real child processes (spawn); ``os.waitpid`` is slowed after it reaps, to widen the window in
which a second, concurrent wait used to see ECHILD and report a live child."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from typing import Any

import pytest

from twin.app.memory_process import join_exited


def _two_waiters(process: Any, lock_for: Any) -> list[bool]:
    results: list[bool] = []
    waiters = [threading.Thread(target=lambda: results.append(join_exited(process, lock_for(), 10.0)))
               for _ in range(2)]
    for w in waiters:
        w.start()
    for w in waiters:
        w.join(30)
    return results


@pytest.fixture()
def slow_reap(monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.waitpid

    def waitpid(pid: int, options: int) -> tuple[int, int]:
        out = real(pid, options)
        if out[0] == pid:
            time.sleep(0.3)  # the reaping thread is descheduled before it records the exit
        return out

    monkeypatch.setattr(os, "waitpid", waitpid)


def test_without_one_lock_a_concurrent_wait_sees_a_live_child(slow_reap: None) -> None:
    """The hazard (a control for the next test): each waiter with a lock of its own."""
    child = multiprocessing.get_context("spawn").Process(target=time.sleep, args=(0.5,))
    child.start()
    assert sorted(_two_waiters(child, threading.Lock)) == [False, True]  # the loser: "did not exit"
    assert child.exitcode == 0


def test_with_the_shared_lock_both_see_the_exit(slow_reap: None) -> None:
    child = multiprocessing.get_context("spawn").Process(target=time.sleep, args=(0.5,))
    child.start()
    shared = threading.Lock()
    assert _two_waiters(child, lambda: shared) == [True, True]
    assert child.exitcode == 0
