"""ChatService's answering side: abstention (fixed answer / preface), past conversations as
memory, per-conversation scope, dated facts of a period. FakeEngine, real SQLite."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from twin.app.chat_evidence import default_evidence
from twin.app.chat_service import ChatService
from twin.core.conversation.events import Token, TurnDone, TurnStarted
from twin.core.conversation.store import ConversationStore
from twin.core.llm.fake import FakeEngine
from twin.core.types import DateRange, Hit, Scope
from twin.llm_settings import ChatSettings

SEA = Hit("diary/2024-05-01.md", "Morning", dt.date(2024, 5, 1), 3, 5, 0.9, "We went to the sea with Kim.")


class Retriever:
    def __init__(self, hits: list[Hit]):
        self.hits = hits
        self.calls: list[dict[str, Any]] = []

    def search(self, query: str, k: int, **kw: Any) -> list[Hit]:
        self.calls.append({"query": query, "k": k, **kw})
        return self.hits[:k]


def run(svc: ChatService, cid: str | None, text: str) -> tuple[TurnStarted, str, TurnDone]:
    events = list(svc.ask(cid, text))
    start, done = events[0], events[-1]
    assert isinstance(start, TurnStarted) and isinstance(done, TurnDone)
    return start, "".join(e.text for e in events if isinstance(e, Token)), done


def test_a_personal_question_the_notes_do_not_answer_gets_a_fixed_answer_without_the_model(
        engine: FakeEngine, store: ConversationStore) -> None:
    svc = ChatService(engine, Retriever([SEA]), store, ChatSettings(memories_k=4))
    engine.enqueue("I am 35 years old and my sister is Mary.")  # what a weak model would invent
    start, streamed, done = run(svc, None, "How old am I?")
    assert streamed == done.answer
    assert done.answer.startswith("My notes don't say.\n\nThe closest I found (it may not answer the question):")
    assert "[1] 2024-05-01, Morning: “We went to the sea with Kim.”" in done.answer
    assert "35" not in done.answer and done.finish_reason == "abstained" and done.cited == (1,)
    assert [c.path for c in start.citations] == ["diary/2024-05-01.md"]
    assert engine.requests == []  # the model was not asked
    user, answer = store.messages(done.conversation_id)
    assert "Only the closest notes" in user.memories
    assert answer.content == done.answer and answer.finish_reason == "abstained"
    engine.enqueue("unused")  # the queued answer is still there for the next question
    assert run(svc, done.conversation_id, "Where did we go to the sea?")[2].answer == "I am 35 years old and my sister is Mary."


def test_a_personal_question_near_some_note_is_hedged_not_answered_by_code(engine: FakeEngine,
                                                                           store: ConversationStore) -> None:
    near = Hit("diary/2019-01-02.md", "", dt.date(2019, 1, 2), 1, 2, 0.5, "My sister called about the flat.",
               evidence=0.1)
    svc = ChatService(engine, Retriever([near]), store, ChatSettings(memories_k=4))
    engine.enqueue(" She called about the flat [1].")
    _, _, done = run(svc, None, "What is my sister's favourite flower?")  # 1 of 3 topic words
    assert done.answer == "My notes don't say. She called about the flat [1]." and done.finish_reason != "abstained"
    assert "Never state a fact about my life" in "".join(s.text for s in engine.requests[-1].segments)


def test_russian_personal_question_abstains_in_russian(engine: FakeEngine, store: ConversationStore) -> None:
    svc = ChatService(engine, Retriever([]), store, ChatSettings(memories_k=4))
    _, _, done = run(svc, None, "Как зовут мою сестру?")
    assert done.answer == "В моих записях об этом ничего нет. Ничего похожего я тоже не нашёл."


def test_a_general_question_without_evidence_starts_with_the_preface(engine: FakeEngine,
                                                                     store: ConversationStore) -> None:
    weak = Hit("diary/2024-05-01.md", "Morning", dt.date(2024, 5, 1), 3, 5, 0.9, "We went to the sea.", evidence=0.1)
    svc = ChatService(engine, Retriever([weak]), store, ChatSettings(memories_k=4))
    engine.enqueue([" Paris", ", I believe."])  # the model continues the prefilled sentence
    _, streamed, done = run(svc, None, "What is the capital of France?")
    assert streamed == done.answer == "My notes don't say. Paris, I believe."
    prompt = "".join(s.text for s in engine.requests[-1].segments)
    assert "Only the closest notes" in prompt and 'already begins with "My notes don\'t say."' in prompt
    assert prompt.endswith("</think>\n\nMy notes don't say.")  # the model continues after the fixed sentence


def test_evidence_answers_normally(engine: FakeEngine, store: ConversationStore) -> None:
    svc = ChatService(engine, Retriever([SEA]), store, ChatSettings(memories_k=4))
    engine.enqueue("We went to the sea [1].")
    _, _, done = run(svc, None, "Who did I go to the sea with?")
    assert done.answer == "We went to the sea [1]."
    assert "closest" not in "".join(s.text for s in engine.requests[-1].segments)


def test_calibrated_evidence_decides_for_measured_hits() -> None:
    weak = Hit("a.md", "", None, 1, 1, 0.1, "unrelated words", evidence=0.05)
    strong = Hit("a.md", "", None, 1, 1, 0.1, "unrelated words", evidence=0.95)
    named = Hit("a.md", "", None, 1, 1, 0.1, "Buried my wine and parmesan in the garden.", evidence=0.05)
    assert not default_evidence("How old am I?", [weak])
    assert default_evidence("How old am I?", [strong])
    assert default_evidence("Where did I bury my parmesan?", [named])  # the note names it: never refused
    assert not default_evidence("How old am I?", [])
    unmeasured = Hit("a.md", "", None, 1, 1, 0.1, "We went to the sea.")
    assert default_evidence("What is the capital of France?", [unmeasured])  # fallback: personal facts only
    assert not default_evidence("What is my blood type?", [unmeasured])


def test_no_memory_scope_skips_retrieval_and_never_abstains(engine: FakeEngine, store: ConversationStore) -> None:
    retriever = Retriever([SEA])
    svc = ChatService(engine, retriever, store, ChatSettings(memories_k=4))
    conv = store.create("t", scope="none")
    engine.enqueue("I don't know.")
    start, _, done = run(svc, conv.id, "How old am I?")
    assert retriever.calls == [] and start.citations == () and done.answer == "I don't know."


def test_the_conversation_scope_goes_to_the_retriever(engine: FakeEngine, store: ConversationStore) -> None:
    retriever = Retriever([SEA])
    svc = ChatService(engine, retriever, store, ChatSettings(memories_k=4))
    svc.default_scope = "dates:2024-05..2024-06"
    engine.enqueue("ok [1]")
    _, _, done = run(svc, None, "Where did we go to the sea?")
    assert store.get(done.conversation_id).scope == "dates:2024-05..2024-06"
    assert retriever.calls[-1]["scope"] == Scope.dates(dt.date(2024, 5, 1), dt.date(2024, 6, 30))
    store.set_options(done.conversation_id, scope="")
    engine.enqueue("ok")
    run(svc, done.conversation_id, "And the sea again?")
    assert "scope" not in retriever.calls[-1]  # all memory: the plain search


def test_past_conversations_kept_as_memory_are_searched_and_cited(engine: FakeEngine,
                                                                  store: ConversationStore) -> None:
    svc = ChatService(engine, Retriever([]), store, ChatSettings(memories_k=4))
    engine.enqueue("Noted: the blue bicycle.")
    _, _, old = run(svc, None, "I bought a blue bicycle from Kowalski today.")
    engine.enqueue("no")
    _, _, private = run(svc, None, "Kowalski sold me a red bicycle too.")
    store.set_options(old.conversation_id, as_memory=True)  # only this one is kept as memory
    engine.enqueue("You bought it from Kowalski [1].")
    start, _, done = run(svc, None, "Who sold me the bicycle?")
    convs = [c for c in start.citations if c.path.startswith("conversation:")]
    assert convs and {c.path for c in convs} == {f"conversation:{old.conversation_id}"}
    assert convs[0].heading == "I bought a blue bicycle from Kowalski today."
    prompt = "".join(s.text for s in engine.requests[-1].segments)
    assert "· conversation: I bought a blue bicycle" in prompt and "red bicycle" not in prompt
    assert done.answer == "You bought it from Kowalski [1]."  # the conversation is evidence: no abstention
    # the conversation being answered is never its own memory
    store.set_options(done.conversation_id, as_memory=True)
    engine.enqueue("x")
    start2, _, _ = run(svc, done.conversation_id, "Who sold me the bicycle?")
    assert f"conversation:{done.conversation_id}" not in {c.path for c in start2.citations}
    assert private.conversation_id not in {c.path.split(":", 1)[1] for c in start2.citations}


def test_dated_facts_of_the_period_asked_about(engine: FakeEngine, store: ConversationStore) -> None:
    svc = ChatService(engine, Retriever([SEA]), store, ChatSettings(memories_k=4))
    seen: list[DateRange] = []

    def facts(period: DateRange, count: Any) -> str:
        seen.append(period)
        return "What held then:\n- Home: London (2018-03-01 – 2020-01-05)"

    svc.period_facts = facts
    engine.enqueue("London [1].")
    run(svc, None, "Where did I live in 2019?")
    assert seen == [DateRange(dt.date(2019, 1, 1), dt.date(2019, 12, 31))]
    assert "What held then:\n- Home: London" in "".join(s.text for s in engine.requests[-1].segments)
    engine.enqueue("x")
    run(svc, None, "Where did we go to the sea?")
    assert len(seen) == 1  # no period named: no dated facts
