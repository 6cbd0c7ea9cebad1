"""TaskRegistry: named preemptive tasks, strong references, errors logged."""

from __future__ import annotations

import asyncio
import logging

import pytest

from twin.app.tasks import TaskRegistry


def test_a_named_task_cancels_the_previous_one() -> None:
    async def main() -> None:
        reg = TaskRegistry()
        first = reg.spawn(asyncio.sleep(10), name="chat")
        second = reg.spawn(asyncio.sleep(0.01, "done"), name="chat")
        assert reg.get("chat") is second
        assert await second == "done"
        assert first.cancelled()
        await asyncio.sleep(0)
        assert reg.get("chat") is None and not reg.running()

    asyncio.run(main())


def test_errors_are_logged_and_cancel_all_waits(caplog: pytest.LogCaptureFixture) -> None:
    async def boom() -> None:
        raise ValueError("bad")

    async def main() -> None:
        reg = TaskRegistry()
        reg.spawn(boom(), name="b")
        slow = reg.spawn(asyncio.sleep(10))
        await asyncio.sleep(0.01)
        await reg.cancel_all(timeout=1)
        assert slow.cancelled()

    with caplog.at_level(logging.ERROR, logger="twin.tasks"):
        asyncio.run(main())
    assert any("background task b failed" in r.message for r in caplog.records)
