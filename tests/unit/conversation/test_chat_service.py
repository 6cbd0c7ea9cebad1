"""ChatService over a scripted FakeEngine and a fake retriever."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Iterator

import pytest

from twin.app.chat_service import ChatService, auto_title, past_turns
from twin.core.conversation.events import Thinking, Token, TurnDone, TurnStarted
from twin.core.conversation.store import ConversationStore
from twin.core.llm.errors import ContextOverflowError
from twin.core.llm.fake import FakeEngine
from twin.core.types import Hit
from twin.errors import StoreError
from twin.llm_settings import ChatSettings

SEA = Hit("diary/2024-05-01.md", "Morning", dt.date(2024, 5, 1), 3, 5, 0.9, "We went to the sea with Kim.")


class FakeRetriever:
    def __init__(self, hits: list[Hit] | None = None, error: Exception | None = None):
        self.hits = hits if hits is not None else [SEA]
        self.error = error
        self.queries: list[tuple[str, int]] = []

    def search(self, query: str, k: int) -> list[Hit]:
        self.queries.append((query, k))
        if self.error:
            raise self.error
        return self.hits[:k]


@pytest.fixture()
def service(engine: FakeEngine, store: ConversationStore) -> Iterator[ChatService]:
    svc = ChatService(engine, FakeRetriever(), store, ChatSettings(memories_k=4))
    yield svc
    svc.close()


def test_a_turn_streams_and_is_stored(service: ChatService, engine: FakeEngine, store: ConversationStore) -> None:
    engine.enqueue(["<think>", "\nThe sea.\n", "</think>\n\n", "We went", " to the sea [1]."])
    events = list(service.ask(None, "Where did we go in May?"))
    start, *middle, done = events
    assert isinstance(start, TurnStarted) and isinstance(done, TurnDone)
    assert [c.path for c in start.citations] == ["diary/2024-05-01.md"]
    assert [e.text for e in middle if isinstance(e, Thinking)] == ["The sea."]
    assert "".join(e.text for e in middle if isinstance(e, Token)) == "We went to the sea [1]."
    assert done.answer == "We went to the sea [1]." and done.thinking == "The sea."
    assert done.complete and done.cited == (1,) and done.model == "fake"
    assert done.usage.prompt_tokens > 0 and done.usage.completion_tokens == 5
    assert done.timings.ttft_s is not None and done.timings.total_s >= done.timings.ttft_s

    conv = store.get(start.conversation_id)
    assert conv.title == "Where did we go in May?"
    user, answer = store.messages(conv.id)
    assert user.content == "Where did we go in May?" and "[1] 2024-05-01" in user.memories
    assert answer.content == "We went to the sea [1]." and answer.thinking == "The sea."
    assert answer.complete and answer.citations == start.citations


def test_thinking_is_never_fed_back(service: ChatService, engine: FakeEngine) -> None:
    engine.enqueue("<think>SECRET-REASONING</think>First answer", "Second answer")
    cid = list(service.ask(None, "one"))[0].conversation_id  # type: ignore[union-attr]
    list(service.ask(cid, "two"))
    second_prompt = engine.requests[1].text
    assert "First answer" in second_prompt
    assert "SECRET-REASONING" not in second_prompt


def test_memories_go_in_the_newest_message_and_history_is_stable(service: ChatService, engine: FakeEngine) -> None:
    engine.enqueue("A1", "A2", "A3")
    cid = list(service.ask(None, "q1"))[0].conversation_id  # type: ignore[union-attr]
    list(service.ask(cid, "q2"))
    list(service.ask(cid, "q3"))
    p2, p3 = engine.requests[1].text, engine.requests[2].text
    # turn 3 starts with turn 2's prompt up to the generation prompt: only new tokens are read
    assert p3.startswith(p2.rsplit("<|im_start|>assistant\n", 1)[0])
    assert p3.rstrip().endswith("<think>\n\n</think>")
    done = list(service.ask(cid, "q4"))[-1]
    assert isinstance(done, TurnDone)
    assert done.usage.prompt_tokens_evaluated < done.usage.prompt_tokens / 2


def test_retrieval_uses_recent_context(service: ChatService, engine: FakeEngine) -> None:
    retriever = service.retriever
    assert isinstance(retriever, FakeRetriever)
    cid = list(service.ask(None, "Tell me about the sea trip"))[0].conversation_id  # type: ignore[union-attr]
    list(service.ask(cid, "Who came?"))
    assert retriever.queries[-1] == ("Who came?\nTell me about the sea trip", 4)


def test_cancel_keeps_the_partial_answer(engine: FakeEngine, store: ConversationStore) -> None:
    engine.delay_s = 0.01
    engine.enqueue(["word "] * 300)
    svc = ChatService(engine, None, store, ChatSettings())
    stop = threading.Event()
    tokens = 0
    done = None
    for ev in svc.ask(None, "long answer please", should_stop=stop.is_set):
        if isinstance(ev, Token):
            tokens += 1
            if tokens == 5:
                stop.set()
        if isinstance(ev, TurnDone):
            done = ev
    svc.close()
    assert done is not None and not done.complete and done.finish_reason == "cancelled"
    assert done.answer.startswith("word word")
    stored = store.messages(done.conversation_id)[-1]
    assert stored.content == done.answer and not stored.complete and stored.finish_reason == "cancelled"


def test_consumer_leaving_marks_the_answer_incomplete(service: ChatService, engine: FakeEngine,
                                                      store: ConversationStore) -> None:
    engine.delay_s = 0.01
    engine.enqueue(["part "] * 100)
    stream = service.ask(None, "q")
    cid = next(stream).conversation_id  # type: ignore[union-attr]
    next(stream)
    next(stream)
    stream.close()
    answer = store.messages(cid)[-1]
    assert answer.role == "assistant" and not answer.complete and answer.content.startswith("part")


def test_retriever_failure_is_a_warning_not_a_failure(engine: FakeEngine, store: ConversationStore) -> None:
    svc = ChatService(engine, FakeRetriever(error=StoreError("index locked")), store, ChatSettings())
    events = list(svc.ask(None, "q"))
    svc.close()
    assert isinstance(events[0], TurnStarted) and "index locked" in events[0].warnings[0]
    assert events[0].citations == () and isinstance(events[-1], TurnDone)


def test_too_long_message_stores_nothing(engine: FakeEngine, store: ConversationStore) -> None:
    svc = ChatService(engine, None, store, ChatSettings())
    cid = store.create("c").id
    with pytest.raises(ContextOverflowError):
        list(svc.ask(cid, "word " * 20000))
    with pytest.raises(ContextOverflowError):
        list(svc.ask(None, "word " * 20000))
    svc.close()
    assert store.messages(cid) == []
    assert [c.id for c in store.list_conversations()] == [cid]  # no empty new conversation left


def test_ask_async_yields_on_the_loop(service: ChatService, engine: FakeEngine) -> None:
    engine.enqueue("async answer here")

    async def run() -> list[object]:
        return [ev async for ev in service.ask_async(None, "q")]

    events = asyncio.run(run())
    assert isinstance(events[0], TurnStarted) and isinstance(events[-1], TurnDone)
    assert events[-1].answer == "async answer here"


def test_ask_async_cancel_stops_the_turn(service: ChatService, engine: FakeEngine, store: ConversationStore) -> None:
    engine.delay_s = 0.01
    engine.enqueue(["w "] * 500)

    async def run() -> str:
        cid = ""
        n = 0
        async for ev in service.ask_async(None, "q"):
            if isinstance(ev, TurnStarted):
                cid = ev.conversation_id
            if isinstance(ev, Token):
                n += 1
                if n == 3:
                    break
        return cid

    cid = asyncio.run(run())
    answer = store.messages(cid)[-1]
    assert not answer.complete and 0 < len(answer.content) < 100


def test_helpers() -> None:
    assert auto_title("  Where   did\nwe go?  ") == "Where did we go?"
    assert len(auto_title("x" * 200)) == 60
    assert past_turns([]) == []
