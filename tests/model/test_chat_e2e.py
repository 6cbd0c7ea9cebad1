"""A chat turn end to end on real parts: Gemma 3 270M, MiniLM, a LanceDB index of 20 days of
Pepys's diary (the Great Fire, September 1666), SQLite conversations.

Gemma 270M is a base model, so its words are junk; what is checked is everything around
them: tokens stream, citations point at real files of the vault, the conversation is
stored, turn 5 re-reads only its own new tokens, and a message too long for the context is
a clear error after which the same service goes on answering.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from twin.app.chat_service import ChatService
from twin.core.conversation.events import Token, TurnDone, TurnStarted
from twin.core.conversation.store import ConversationStore
from twin.core.llm.errors import ContextOverflowError
from twin.core.llm.llama import LlamaEngine
from twin.errors import KnownError
from twin.llm_settings import ChatSettings
from twin.paths import resolve_paths
from twin.settings import Settings

from model_support import config

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
from pepys_vault import index_vault, make_vault  # noqa: E402

pytestmark = pytest.mark.slow

FIRE_DAYS = {f"1666-09-0{d}.md" for d in range(2, 8)}


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_vault(tmp_path_factory.mktemp("pepys"), first="1666-09-01", count=20)


@pytest.fixture(scope="module")
def memory(vault: Path, embedder: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    home = tmp_path_factory.mktemp("home")
    paths = resolve_paths({"TWIN_HOME": str(home)}).ensure()
    mem = index_vault(vault, Settings(), paths, embedder)
    yield mem
    mem.close()


@pytest.fixture(scope="module")
def gemma(gemma_path: Path) -> Iterator[LlamaEngine]:
    """This module's own Gemma: the first turn here must find the prefix cache cold (the
    session's engine holds whatever another module's test left in it)."""
    engine = LlamaEngine.open(config(gemma_path))
    yield engine
    engine.close()


def ask(svc: ChatService, cid: str | None, text: str) -> tuple[list[object], TurnStarted, TurnDone]:
    events = list(svc.ask(cid, text))
    start, done = events[0], events[-1]
    assert isinstance(start, TurnStarted) and isinstance(done, TurnDone)
    return events, start, done


def test_a_turn_streams_cites_the_vault_and_is_stored(gemma: LlamaEngine, memory: object, vault: Path,
                                                       tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    svc = ChatService(gemma, memory.retriever, store,  # type: ignore[attr-defined]
                      ChatSettings(temperature=0.0, max_answer_tokens=24, memories_k=4))
    try:
        events, start, done = ask(svc, None, "What did I see of the great fire of London in September 1666?")
        tokens = [e.text for e in events if isinstance(e, Token)]
        assert len(tokens) >= 3 and "".join(tokens).strip() == done.answer
        assert 3 <= done.usage.completion_tokens <= 24 and done.complete
        assert done.usage.prompt_tokens_evaluated == done.usage.prompt_tokens > 200  # question + memories
        assert done.timings.ttft_s and done.timings.tokens_per_s
        # every citation is a real file of the vault; the fire's days are among them
        assert start.citations and [c.n for c in start.citations] == list(range(1, len(start.citations) + 1))
        for c in start.citations:
            assert Path(c.path).parent == vault and Path(c.path).is_file()
            assert c.date == Path(c.path).stem and c.start_line >= 1
        assert {Path(c.path).name for c in start.citations} & FIRE_DAYS
        assert done.citations == start.citations
        # stored: the question with the memories it was sent with, the answer with its sources
        user, answer = store.messages(done.conversation_id)
        assert user.role == "user" and "great fire" in user.content
        assert "[1]" in user.memories and Path(start.citations[0].path).name in user.memories
        assert answer.content == done.answer and answer.complete
        def where(cs: object) -> list[tuple[int, str, int]]:
            return [(c.n, c.path, c.start_line) for c in cs]  # type: ignore[attr-defined]

        assert where(answer.citations) == where(done.citations)
        assert answer.prompt_tokens == done.usage.prompt_tokens and answer.model == gemma.info.model_id
    finally:
        svc.close()
        store.close()


def test_turn_five_reads_only_its_new_tokens(gemma: LlamaEngine, memory: object, tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    # memories take at most 10% of the 2048-token context, so five turns fit without trimming
    settings = ChatSettings(temperature=0.0, max_answer_tokens=16, memories_k=3, memory_share=0.1)
    svc = ChatService(gemma, memory.retriever, store, settings)  # type: ignore[attr-defined]
    questions = ("Where did the fire start?", "Which churches burned?", "What did the King do?",
                 "Where did I bury my wine and parmesan?", "How did the fire end?")
    try:
        cid = None
        dones: list[TurnDone] = []
        for q in questions:
            _, start, done = ask(svc, cid, q)
            assert start.citations, q
            cid = done.conversation_id
            dones.append(done)
        t4, t5 = dones[3].usage, dones[4].usage
        new_tokens = t5.prompt_tokens - t4.prompt_tokens - t4.completion_tokens
        # re-read: turn 5's new tokens, plus at most turn 4's generated tokens (when a stop string
        # cut turn 4's answer, the tokens of the match are in the cache but not in the history)
        assert t5.prompt_tokens_evaluated <= new_tokens + t4.completion_tokens + 8, (t4, t5)
        assert t5.prompt_tokens_evaluated < t5.prompt_tokens / 3
        assert store.get(cid).history_start == 0 and len(store.messages(cid)) == 10
    finally:
        svc.close()
        store.close()


def test_context_overflow_is_a_clear_error_and_chatting_goes_on(gemma_path: Path, memory: object,
                                                                tmp_path: Path) -> None:
    engine = LlamaEngine.open(config(gemma_path, n_ctx=512))
    store = ConversationStore(tmp_path / "c.sqlite3")
    svc = ChatService(engine, memory.retriever, store,  # type: ignore[attr-defined]
                      ChatSettings(temperature=0.0, max_answer_tokens=16, memories_k=4, memory_share=0.4))
    try:
        with pytest.raises(ContextOverflowError) as err:
            list(svc.ask(None, "Tell me about the fire. " * 120))
        assert isinstance(err.value, KnownError) and "too long" in str(err.value) and "llm.n_ctx" in str(err.value)
        assert store.list_conversations() == []  # nothing half-made is left behind

        # the same service keeps answering; old turns give way as the tiny context fills
        cid = None
        for q in ("Where did the fire start?", "What burned?", "Who helped?", "What of the wine?"):
            _, start, done = ask(svc, cid, q)
            cid = done.conversation_id
            assert done.usage.prompt_tokens + 16 <= 512 and start.citations  # a memory, cut to fit
        assert store.get(cid).history_start > 0
        with pytest.raises(ContextOverflowError):  # also inside a conversation, which stays intact
            list(svc.ask(cid, "and then " * 300))
        assert len(store.messages(cid)) == 8
        _, _, done = ask(svc, cid, "Thank you.")
        assert done.complete and len(store.messages(cid)) == 10
    finally:
        svc.close()
        store.close()
        engine.close()
