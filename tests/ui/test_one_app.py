"""The window runs the app object the CLI builds (twin.app.twin.Twin), through thin Qt bridges."""

from __future__ import annotations

import threading
from typing import Any

from twin.app.twin import Twin
from twin.core.conversation.events import TurnDone


def test_the_window_runs_the_app_the_cli_builds(shell: Any, qloop: Any, run_until: Any) -> None:
    c = shell.controller
    assert isinstance(c.app, Twin) and c.model.slot is c.app.model
    assert c.conversations is c.app.conversations and c.profile is c.app.profile
    assert c.chat_memories is c.app.chat_memories
    chat = c.model.chat
    assert chat is c.app.model.chat
    assert chat.retriever is c.memory  # the window's memory client is the chat's retriever
    assert chat.offer_memories == c.app._memory_offers  # wired once, in twin.app.twin
    assert c.app.chat_memories.on_written is None  # the memory engine's watcher indexes notes

    turn = c.ask(None, "What did I plant by the fence?")
    run_until(lambda: turn.is_finished, 30, "the answer")
    assert isinstance(turn.result, TurnDone) and not turn.error


def test_blocking_work_runs_on_the_apps_pool(shell: Any, qloop: Any) -> None:
    c = shell.controller
    where: list[str] = []
    qloop.run_until_complete(c.run(lambda: where.append(threading.current_thread().name)))
    assert where and where[0].startswith("twin-work") and where[0] != threading.current_thread().name
