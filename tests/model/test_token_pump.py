"""One token pump, on the real Gemma 3 270M: a chat turn's events go from the engine's own
thread (``twin-llm``) straight onto the caller's asyncio loop, with no thread of the chat
service in between, no polling queue, and the prompt's token counts made without a round
trip to another thread; Stop keeps the partial answer.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from twin.app.chat_service import ChatService
from twin.core.conversation.events import Token, TurnDone, TurnEvent, TurnStarted
from twin.core.conversation.store import ConversationStore
from twin.core.llm.llama import LlamaEngine
from twin.llm_settings import ChatSettings

pytestmark = pytest.mark.slow


def service(gemma: LlamaEngine, tmp_path: Path, **kw: Any) -> ChatService:
    settings = ChatSettings(temperature=0.0, max_answer_tokens=kw.pop("max_answer_tokens", 16), memories_k=0)
    return ChatService(gemma, None, ConversationStore(tmp_path / "c.sqlite3"), settings)


def run_async(svc: ChatService, text: str, *, on_event: Callable[[TurnEvent], None] | None = None
              ) -> tuple[list[TurnEvent], list[str], set[str]]:
    """The turn through ask_async; returns its events, the name of the thread that posted
    each callback onto the loop, and every thread name seen alive while the turn ran."""
    posted_by: list[str] = []
    alive: set[str] = set()

    async def main() -> list[TurnEvent]:
        loop = asyncio.get_running_loop()
        plain = loop.call_soon_threadsafe

        def recording(callback: Any, *args: Any, **kw: Any) -> Any:
            if getattr(callback, "__name__", "") == "put_nowait":  # an event (not asyncio's own calls)
                posted_by.append(threading.current_thread().name)
            alive.update(t.name for t in threading.enumerate())
            return plain(callback, *args, **kw)

        loop.call_soon_threadsafe = recording  # type: ignore[method-assign]
        events: list[TurnEvent] = []
        async for ev in svc.ask_async(None, text):
            alive.update(t.name for t in threading.enumerate())
            events.append(ev)
            if on_event is not None:
                on_event(ev)
        return events

    return asyncio.run(main()), posted_by, alive


def test_tokens_reach_the_loop_from_the_engine_thread_directly(gemma: LlamaEngine, tmp_path: Path) -> None:
    svc = service(gemma, tmp_path)
    before = {t.name for t in threading.enumerate()}
    try:
        events, posted_by, alive = run_async(svc, "Tell me about the fire of London.")
    finally:
        svc.close()
    tokens = [e for e in events if isinstance(e, Token)]
    assert isinstance(events[0], TurnStarted) and isinstance(events[-1], TurnDone)
    assert len(tokens) >= 2
    # every event (and the end marker) was posted by the engine's owner thread itself
    assert len(posted_by) >= len(events) + 1
    assert {name.rsplit("_", 1)[0] for name in posted_by} == {"twin-llm"}
    # no chat-service thread, no other new thread took part in the turn
    assert not any(name.startswith("twin-chat") for name in alive)
    assert {n for n in alive - before if not n.startswith("asyncio")} <= {n for n in alive if n.startswith("twin-llm")}
    done = events[-1]
    assert isinstance(done, TurnDone) and done.answer == "".join(t.text for t in tokens).strip()
    assert done.usage.completion_tokens >= 2 and done.timings.tokens_per_s


def test_prompt_token_counts_run_on_the_engine_thread_without_a_round_trip(gemma: LlamaEngine,
                                                                           tmp_path: Path) -> None:
    svc = service(gemma, tmp_path, max_answer_tokens=2)
    counted_on: list[str] = []
    submitted: list[int] = []
    real_count, real_submit = gemma.count_tokens, gemma._thread.submit

    def count(text: str, *, trusted: bool = False) -> int:
        counted_on.append(threading.current_thread().name)
        return real_count(text, trusted=trusted)

    def submit(fn: Any, *args: Any) -> Any:
        submitted.append(1)
        return real_submit(fn, *args)

    gemma.count_tokens = count  # type: ignore[method-assign]
    gemma._thread.submit = submit  # type: ignore[method-assign]
    try:
        events = list(svc.ask(None, "What did I do on the second of September?"))
    finally:
        del gemma.count_tokens
        del gemma._thread.submit
        svc.close()
    assert isinstance(events[-1], TurnDone)
    assert len(counted_on) >= 3 and all(n.startswith("twin-llm") for n in counted_on)
    assert submitted == [1]  # the turn itself: no hop per count, none for tokenizing or generating


def test_stop_from_the_loop_keeps_the_partial_answer(gemma: LlamaEngine, tmp_path: Path) -> None:
    svc = service(gemma, tmp_path, max_answer_tokens=200)
    seen: list[str] = []

    def on_event(ev: TurnEvent) -> None:
        if isinstance(ev, Token):
            seen.append(ev.text)
            if len(seen) == 3:
                svc.cancel()

    try:
        events, posted_by, _ = run_async(svc, "Write a long story about ships.", on_event=on_event)
    finally:
        svc.close()
    done = events[-1]
    assert isinstance(done, TurnDone) and done.finish_reason == "cancelled" and not done.complete
    assert 3 <= done.usage.completion_tokens < 200
    assert done.answer == "".join(seen).strip()
    stored = svc.conversations.messages(done.conversation_id)[-1]
    assert stored.content == done.answer and not stored.complete
    assert all(n.startswith("twin-llm") for n in posted_by)
