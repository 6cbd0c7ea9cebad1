"""The app's one pool for background work: jobs run off the caller's thread, close drains."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from twin.app.background import Background


def test_close_drains_queued_jobs_and_joins_the_threads() -> None:
    work = Background(workers=1, name="twin-test-work")
    done: list[int] = []
    gate = threading.Event()
    first = work.submit(lambda: (gate.wait(5), done.append(1)))
    second = work.submit(lambda: (time.sleep(0.05), done.append(2)))  # queued behind the first
    closer = threading.Thread(target=work.close)
    closer.start()
    time.sleep(0.1)
    assert closer.is_alive()  # still draining: the first job waits on the gate
    gate.set()
    closer.join(5)
    assert not closer.is_alive()
    assert done == [1, 2] and first.done() and second.done()
    assert not [t for t in threading.enumerate() if t.name.startswith("twin-test-work")]


def test_a_job_after_close_is_refused() -> None:
    work = Background(workers=1)
    work.close()
    assert work.closed
    with pytest.raises(RuntimeError, match="shutting down"):
        work.submit(print)


def test_run_awaits_on_the_loop_and_runs_elsewhere() -> None:
    work = Background(workers=2, name="twin-test-run")

    async def main() -> tuple[str, str]:
        where = await work.run(lambda: threading.current_thread().name)
        return where, threading.current_thread().name

    try:
        job_thread, loop_thread = asyncio.run(main())
    finally:
        work.close()
    assert job_thread.startswith("twin-test-run") and job_thread != loop_thread


def test_an_exception_reaches_the_awaiting_caller() -> None:
    work = Background(workers=1)

    def broken() -> None:
        raise ValueError("bad input")

    async def main() -> None:
        await work.run(broken)

    try:
        with pytest.raises(ValueError, match="bad input"):
            asyncio.run(main())
    finally:
        work.close()
