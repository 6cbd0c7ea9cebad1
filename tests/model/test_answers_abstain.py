"""Abstention on real parts: Gemma 3 270M (a base model that invents freely) and the tiny
Qwen3 GGUF (chat template, thinking), MiniLM and a LanceDB index of Pepys's diary, SQLite.

A personal question the notes do not answer gets the fixed answer, in the question's
language, without the model; a general one gets the fixed preface before whatever the
model writes; an answerable one is answered by the model as before.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from twin.app.chat_service import ChatService
from twin.core.conversation.events import Thinking, Token, TurnDone, TurnStarted
from twin.core.conversation.store import ConversationStore
from twin.core.llm.llama import LlamaEngine
from twin.core.prompt.assemble import PastTurn
from twin.core.types import Hit
from twin.llm_settings import ChatSettings
from twin.paths import resolve_paths
from twin.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
from pepys_vault import index_vault, make_vault  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_vault(tmp_path_factory.mktemp("pepys"), first="1666-09-01", count=12)


@pytest.fixture(scope="module")
def memory(vault: Path, embedder: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    paths = resolve_paths({"TWIN_HOME": str(tmp_path_factory.mktemp("home"))}).ensure()
    mem = index_vault(vault, Settings(), paths, embedder)
    yield mem
    mem.close()


def turn(svc: ChatService, text: str, cid: str | None = None) -> tuple[TurnStarted, list[Any], TurnDone]:
    events = list(svc.ask(cid, text))
    assert isinstance(events[0], TurnStarted) and isinstance(events[-1], TurnDone)
    return events[0], events[1:-1], events[-1]


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[ConversationStore]:
    s = ConversationStore(tmp_path / "c.sqlite3")
    yield s
    s.close()


def test_gemma_never_invents_what_the_notes_do_not_say(gemma: LlamaEngine, memory: Any, vault: Path,
                                                       store: ConversationStore) -> None:
    svc = ChatService(gemma, memory.retriever, store, ChatSettings(temperature=0.0, max_answer_tokens=24, memories_k=4))
    try:
        start, middle, done = turn(svc, "What is my blood type?")
        assert done.finish_reason == "abstained" and done.usage.completion_tokens == 0
        assert done.answer.startswith("My notes don't say.\n\nThe closest I found (it may not answer the question):")
        assert "".join(e.text for e in middle if isinstance(e, Token)) == done.answer
        # the closest notes are offered, cited, and they are real files of the diary
        assert start.citations and all(Path(c.path).parent == vault for c in start.citations)
        assert "[1] 1666-09-" in done.answer and done.cited and done.cited[0] == 1

        _, _, ru = turn(svc, "Какая у меня группа крови?")
        assert ru.answer.startswith("В моих записях об этом ничего нет.") and ru.finish_reason == "abstained"

        # answerable: the model answers (its words are a base model's junk; what matters is that it ran)
        start, middle, fire = turn(svc, "What did I see of the great fire?")
        assert fire.finish_reason != "abstained" and fire.usage.completion_tokens >= 1
        assert not fire.answer.startswith("My notes don't say.")
        user, _answer = store.messages(fire.conversation_id)
        assert "Only the closest notes" not in user.memories and start.citations
    finally:
        svc.close()


class WeakEvidence:
    """The real retriever, its hits marked as not answering (what the calibrated score says
    for a question far from every note)."""

    def __init__(self, retriever: Any):
        self.retriever = retriever

    def search(self, query: str, k: int) -> list[Hit]:
        return [dataclasses.replace(h, evidence=0.05) for h in self.retriever.search(query, k)]


@pytest.mark.parametrize("thinking", [False, True])
def test_qwen3_answers_a_general_question_after_the_fixed_preface(qwen: LlamaEngine, memory: Any,
                                                                  store: ConversationStore, thinking: bool) -> None:
    svc = ChatService(qwen, WeakEvidence(memory.retriever), store,
                      ChatSettings(temperature=0.0, max_answer_tokens=12, memories_k=3, thinking=thinking))
    try:
        start, middle, done = turn(svc, "What is the capital of France?")
        assert done.answer.startswith("My notes don't say.") and done.finish_reason != "abstained"
        tokens = [e.text for e in middle if isinstance(e, Token)]
        assert tokens[0] == "My notes don't say. " or tokens[0] == "My notes don't say."
        assert "".join(tokens).strip() == done.answer
        if thinking and any(isinstance(e, Thinking) for e in middle):  # the preface comes after the thinking
            first_token = next(i for i, e in enumerate(middle) if isinstance(e, Token))
            assert all(not isinstance(e, Thinking) for e in middle[first_token:])
        user, answer = store.messages(done.conversation_id)
        assert "Only the closest notes" in user.memories and "already begins with" in user.memories
        assert answer.content == done.answer and start.citations
        # a personal question with weak evidence: the fixed answer, the model not asked
        _, _, personal = turn(svc, "What is my blood type?")
        assert personal.finish_reason == "abstained" and personal.usage.completion_tokens == 0
    finally:
        svc.close()


def test_qwen3_follow_up_rewrite_runs_once_and_never_breaks_the_turn(qwen: LlamaEngine, memory: Any,
                                                                    store: ConversationStore) -> None:
    from twin.app.query_rewrite import FollowUpRewriter

    svc = ChatService(qwen, memory.retriever, store, ChatSettings(temperature=0.0, max_answer_tokens=8, memories_k=3))
    svc.rewriter = FollowUpRewriter(qwen)
    conv = store.create("fire")  # an earlier exchange, as stored
    store.add_user_message(conv.id, "What did I see of the great fire?")
    answer = store.begin_assistant_message(conv.id)
    store.finish_assistant_message(answer, content="The fire near the bridge.", thinking="", citations=(),
                                   complete=True, finish_reason="stop")
    try:
        start, _, follow = turn(svc, "And what did they do then?", conv.id)
        assert svc.rewriter.calls == 1 and follow.conversation_id == conv.id and follow.complete
        assert start.citations  # the search ran with whatever the tiny random model wrote, or the plain query
        template = svc._chat_template()
        history = [PastTurn("What did I see of the great fire?", "", "The fire near the bridge.")]
        again = svc.rewriter.standalone("And what did they do then?", history, template)
        assert isinstance(again, str) and svc.rewriter.calls == 1  # cached
    finally:
        svc.close()
