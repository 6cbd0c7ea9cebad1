"""twin.ui.collector: reference cycles are collected on the GUI thread only, while the window
runs. A cycle that a pool worker's allocations would have collected on the worker (the
control, with Python's own collection) waits for the GUI thread's timer instead."""

from __future__ import annotations

import gc
import threading
from typing import Any

from twin.ui.collector import GuiCollector


class _Cycle:
    """An object in a reference cycle that records the thread that freed it."""

    def __init__(self, freed_on: list[str]) -> None:
        self.me = self
        self.freed_on = freed_on

    def __del__(self) -> None:
        self.freed_on.append(threading.current_thread().name)


def _allocate_on_a_worker() -> list[list[int]]:
    """Container allocations on a worker thread, far more than generation 0's threshold, kept
    alive (Python counts allocations less deallocations) and returned."""
    kept: list[list[int]] = []

    def churn() -> None:
        kept.extend([] for _ in range(5 * gc.get_threshold()[0]))

    worker = threading.Thread(target=churn, name="pool-worker")
    worker.start()
    worker.join()
    return kept


def test_without_it_a_worker_collects_a_cycle_that_the_gui_thread_made() -> None:
    """The hazard itself (a control for the next test): Python collects on whichever thread
    crosses the threshold. (This file's other tests, like every window test, run with the
    collector on: here Python's own collection is back for the test's length.)"""
    gc.enable()
    try:
        freed_on: list[str] = []
        gc.collect()
        _Cycle(freed_on)
        kept = _allocate_on_a_worker()
        assert freed_on == ["pool-worker"]
        del kept
    finally:
        gc.disable()


def test_with_it_the_cycle_waits_for_the_gui_thread(qapp: Any, qtbot: Any) -> None:
    gc.enable()  # as in a fresh app: the collector takes collection over
    collector = GuiCollector(interval_ms=10)
    gc.collect()
    collector.start()
    try:
        assert not gc.isenabled()
        freed_on: list[str] = []
        _Cycle(freed_on)
        kept = _allocate_on_a_worker()
        assert freed_on == []  # the worker's allocations collected nothing
        qtbot.waitUntil(lambda: freed_on != [], timeout=5000)  # the GUI thread's timer did
        assert freed_on == [threading.current_thread().name]  # (this one's timer, or the autouse one's)
        del kept
    finally:
        collector.stop()
    assert gc.isenabled()
    gc.disable()  # back as this file's (autouse) collector had it


def test_stop_collects_on_its_thread_and_gives_back_what_it_found(qapp: Any) -> None:
    assert not gc.isenabled()  # this file's (autouse) collector runs: a second one nests
    collector = GuiCollector()
    collector.start()
    freed_on: list[str] = []
    _Cycle(freed_on)
    collector.stop()
    assert freed_on == [threading.current_thread().name]
    assert not gc.isenabled()  # as the outer collector had it
