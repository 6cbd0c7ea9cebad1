"""The token pump's protocol over the FakeEngine (the real Gemma: tests/model/test_token_pump.py).

A turn is one job on the engine's owner thread; pieces reach a sink from there (no queue,
no chat-service thread); ``generate`` runs inline on that thread; ``should_stop`` is polled by
the producer, so a consumer never waits on a timer.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from twin.app.chat_service import ChatService
from twin.core.conversation.events import Token, TurnDone, TurnEvent, TurnStarted
from twin.core.conversation.store import ConversationStore
from twin.core.llm.engine import Engine, Generation, GenerationRequest, GenerationResult, OwnerThread, Segment, Usage
from twin.core.llm.errors import EngineNotReadyError
from twin.core.llm.fake import FakeEngine
from twin.llm_settings import ChatSettings

REQUEST = GenerationRequest((Segment("hello"),))


@pytest.fixture()
def engine() -> Iterator[FakeEngine]:
    eng = FakeEngine(n_ctx=4096)
    yield eng
    eng.close()


@pytest.fixture()
def service(engine: FakeEngine, tmp_path: Path) -> Iterator[ChatService]:
    store = ConversationStore(tmp_path / "c.sqlite3")
    svc = ChatService(engine, None, store, ChatSettings(memories_k=0))
    yield svc
    svc.close()
    store.close()


def test_the_fake_engine_keeps_the_protocol(engine: FakeEngine) -> None:
    assert isinstance(engine, Engine)


def test_owner_thread_calls_straight_through_on_itself() -> None:
    owner = OwnerThread("twin-test-owner")
    try:
        outer = owner.submit(lambda: (threading.current_thread().name,
                                      owner.call(lambda: threading.current_thread().name), owner.on_owner()))
        name, inner, on_owner = outer.result(timeout=5)
        assert name == inner and name.startswith("twin-test-owner") and on_owner
        assert not owner.on_owner()  # this test's thread is not the owner
    finally:
        owner.shutdown()
    with pytest.raises(EngineNotReadyError):
        owner.submit(lambda: None)


def test_generate_on_the_owner_thread_runs_inline_and_hands_pieces_to_on_piece(engine: FakeEngine) -> None:
    engine.enqueue(["a", "b", "c"])
    got: list[tuple[str, str]] = []

    def job() -> tuple[bool, GenerationResult]:
        gen = engine.generate(REQUEST, on_piece=lambda p: got.append((p, threading.current_thread().name)))
        finished_on_return = gen.finished  # inline: done before generate() returned
        return finished_on_return, gen.wait()

    finished, result = engine.submit(job).result(timeout=5)
    assert finished and result.text == "abc" and result.finish_reason == "stop"
    assert [p for p, _ in got] == ["a", "b", "c"]
    assert {n.rsplit("_", 1)[0] for _, n in got} == {"twin-llm-fake"}


def test_should_stop_is_polled_by_the_producer_not_by_a_consumer_timer(engine: FakeEngine) -> None:
    engine.delay_s = 0.01
    engine.enqueue(["x"] * 500)
    flag = threading.Event()
    seen: list[str] = []

    def on_piece(piece: str) -> None:
        seen.append(piece)
        if len(seen) == 3:
            flag.set()

    gen = engine.generate(REQUEST, should_stop=flag.is_set, on_piece=on_piece)
    result = gen.wait(timeout=5)  # nobody iterates the generation: the engine saw the flag itself
    assert result.finish_reason == "cancelled" and len(seen) == 3


def test_aborting_checks_should_stop_every_64th_tick_only() -> None:
    calls: list[int] = []
    gen = Generation(should_stop=lambda: bool(calls.append(1)) or len(calls) >= 2)
    assert not any(gen.aborting() for _ in range(64)) and len(calls) == 1
    assert not any(gen.aborting() for _ in range(63))
    assert gen.aborting() and gen.stop_event.is_set() and gen.aborting()
    gen.finish(GenerationResult("", "cancelled", Usage()))
    assert gen.wait().finish_reason == "cancelled"


def test_wait_reraises_the_engines_error() -> None:
    gen = Generation()
    gen.fail(RuntimeError("boom"))
    with pytest.raises(RuntimeError, match="boom"):
        gen.wait()


def test_a_turn_is_one_engine_job_posting_straight_to_the_loop(service: ChatService, engine: FakeEngine) -> None:
    engine.enqueue("one two three four")
    posted_by: list[str] = []
    alive: set[str] = set()

    async def main() -> list[TurnEvent]:
        loop = asyncio.get_running_loop()
        plain = loop.call_soon_threadsafe

        def recording(callback, *args, **kw):  # type: ignore[no-untyped-def]
            if getattr(callback, "__name__", "") == "put_nowait":
                posted_by.append(threading.current_thread().name)
            alive.update(t.name for t in threading.enumerate())
            return plain(callback, *args, **kw)

        loop.call_soon_threadsafe = recording  # type: ignore[method-assign]
        return [ev async for ev in service.ask_async(None, "hi")]

    events = asyncio.run(main())
    assert isinstance(events[0], TurnStarted) and isinstance(events[-1], TurnDone)
    assert "".join(e.text for e in events if isinstance(e, Token)) == "one two three four"
    assert len(posted_by) == len(events) + 1  # each event, then the end marker
    assert {n.rsplit("_", 1)[0] for n in posted_by} == {"twin-llm-fake"}
    assert not any(n.startswith("twin-chat") for n in alive)


def test_cancel_before_the_engine_is_free_still_stops_the_turn(service: ChatService, engine: FakeEngine) -> None:
    gate = threading.Event()
    engine.submit(lambda: gate.wait(5))  # the engine is busy with something else
    engine.enqueue(["x"] * 100)
    events = service.ask(None, "hi")
    consumer = threading.Thread(target=lambda: got.extend(events))
    got: list[TurnEvent] = []
    consumer.start()
    deadline = time.monotonic() + 5
    while service._stop is None and time.monotonic() < deadline:  # the turn has been handed over
        time.sleep(0.005)
    service.cancel()  # the turn is queued behind the busy job
    gate.set()
    consumer.join(5)
    done = got[-1]
    assert isinstance(done, TurnDone) and done.finish_reason == "cancelled" and done.usage.completion_tokens == 0


def test_ask_raises_at_once_when_the_engine_is_closed(service: ChatService, engine: FakeEngine) -> None:
    engine.close()
    with pytest.raises(EngineNotReadyError):
        list(service.ask(None, "hi"))
