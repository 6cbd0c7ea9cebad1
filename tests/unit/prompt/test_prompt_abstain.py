"""Abstention logic: which questions are about the user, what each plan does, the fixed
answer, and the preface that comes first whatever the model says."""

from __future__ import annotations

import datetime as dt

import pytest

from twin.core.prompt import abstain as A
from twin.core.prompt import persona as P
from twin.core.prompt.assemble import assemble
from twin.core.prompt.budget import Budget
from twin.core.prompt.thinking import ThinkSplitter
from twin.core.types import Hit

SEA = Hit("diary/2024-05-01.md", "Morning", dt.date(2024, 5, 1), 3, 5, 0.9, "We went to the sea with Kim.")
OLD = Hit("diary/2019-01-02.md", "", dt.date(2019, 1, 2), 1, 2, 0.5, "Moved into the flat on Baker Street.")


@pytest.mark.parametrize("q", [
    "How old am I?", "What is my sister's name?", "Where did I live in 2019?", "when did I move?",
    "How old are you?", "Where did you live in 2019?", "What's your wife's name?",
    "Сколько мне лет?", "Как зовут мою сестру?", "Где я жил в 2019 году?", "Где ты жил в 2019?",
    "Какая у тебя машина?", "Tell me about my sister.", "Remind me where I lived?", "Напомни мне, как меня зовут",
])
def test_personal_questions(q: str) -> None:
    assert A.is_personal_question(q)


@pytest.mark.parametrize("q", [
    "What is the capital of France?", "Can you explain how tides work?", "Translate 'cat' into German.",
    "Объясни, как работают приливы?", "Ты можешь объяснить, что такое BM25?", "I live in Berlin.",
    "My sister is Anna.", "", "Tell me a long story", "Расскажи мне сказку?",
])
def test_not_personal_questions(q: str) -> None:
    assert not A.is_personal_question(q)


def test_language() -> None:
    assert A.language("Сколько мне лет?") == "ru"
    assert A.language("How old am I? Сколько") == "en"


def test_plan_follows_the_decision_and_the_question() -> None:
    assert A.plan_answer("How old am I?", enough=True).mode == "answer"
    assert A.plan_answer("How old am I?", enough=None).mode == "answer"  # no search ran: nothing to abstain about
    p = A.plan_answer("How old am I?", enough=False)
    assert (p.mode, p.preface, p.model_needed) == ("abstain", "My notes don't say.", False)
    p = A.plan_answer("Сколько мне лет?", enough=False)
    assert (p.mode, p.preface) == ("abstain", "В моих записях об этом ничего нет.")
    p = A.plan_answer("How old am I?", enough=False, close=True)  # a memory shares a topic word: hedged
    assert (p.mode, p.preface, p.model_needed) == ("hedge", "My notes don't say.", True)
    assert A.plan_answer("Tell me about the lighthouse", enough=False).mode == "answer"  # a request, not a question
    assert A.plan_answer("Tell me about my sister", enough=False).mode == "abstain"
    p = A.plan_answer("What is the capital of France?", enough=False)
    assert (p.mode, p.preface, p.model_needed) == ("hedge", "My notes don't say.", True)


def test_lexical_support() -> None:
    assert A.lexical_support("Where did we go to the sea?", [OLD, SEA]) == 1.0
    assert A.lexical_support("What is my sister's name?", [OLD, SEA]) == 0.0
    assert A.lexical_support("Where did I move?", [OLD]) == 1.0  # stems: moved ~ move
    assert A.lexical_support("anything", []) == 0.0


def test_closest_answer_cites_and_labels_the_closest_notes() -> None:
    text = A.closest_answer(A.plan_answer("How old am I?", enough=False), [SEA, OLD])
    assert text.startswith("My notes don't say.\n\nThe closest I found (it may not answer the question):")
    assert "- [1] 2024-05-01, Morning: “We went to the sea with Kim.”" in text
    assert "- [2] 2019-01-02, 2019-01-02.md: “Moved into the flat on Baker Street.”" in text
    ru = A.closest_answer(A.plan_answer("Сколько мне лет?", enough=False), [])
    assert ru == "В моих записях об этом ничего нет. Ничего похожего я тоже не нашёл."


def test_closest_answer_shortens_long_notes() -> None:
    long = Hit("a.md", "", None, 1, 9, 0.1, "word " * 200)
    text = A.closest_answer(A.plan_answer("How old am I?", enough=False), [long], snippet_chars=40)
    assert text.rstrip().endswith("…”") and len(text) < 200


def test_the_preface_comes_first_after_thinking_and_even_when_the_model_is_silent() -> None:
    sp = ThinkSplitter(preface="My notes don't say.")
    out = sp.feed("<think>\nhm\n</think>\n\n") + sp.feed("Paris, I think.") + sp.finish()
    assert out == [("thinking", "hm"), ("answer", "My notes don't say. "), ("answer", "Paris, I think.")]
    assert sp.answer == "My notes don't say. Paris, I think." and sp.thinking == "hm"
    silent = ThinkSplitter(preface="My notes don't say.")
    assert silent.feed("") + silent.finish() == [("answer", "My notes don't say.")]
    assert silent.answer == "My notes don't say."
    # prefilled: the model continues the sentence; its words are kept exactly
    pre = ThinkSplitter(preface="My notes don't say.", prefilled=True)
    assert pre.feed("\n\nParis.") + pre.finish() == [("answer", "My notes don't say."), ("answer", "\n\nParis.")]
    glued = ThinkSplitter(preface="My notes don't say.", prefilled=True)
    glued.feed("Paris.")
    assert glued.answer == "My notes don't say. Paris."


def words(text: str, _trusted: bool = False) -> int:
    return len(text.split())


def test_memory_block_shows_dates_in_order_and_the_closest_notice() -> None:
    p = assemble("Which came first?", [SEA, OLD], [], style=P.PromptStyle(), budget=Budget(4096, 512), count=words,
                 template=None, notice=A.CLOSEST_NOTICE, instruction="Say so.", facts="Facts then:\n- Home: London")
    assert p.memories.startswith("Facts then:\n- Home: London\n\n" + P.MEMORY_HEADER + "\n" + A.CLOSEST_NOTICE + "\n[1] 2024")
    assert "In date order (oldest first): [2] 2019-01-02, [1] 2024-05-01." in p.memories
    assert p.memories.endswith("\n\nSay so.")
    assert [c.n for c in p.citations] == [1, 2]


def test_no_chronology_line_for_one_dated_memory() -> None:
    p = assemble("Q?", [SEA], [], style=P.PromptStyle(), budget=Budget(4096, 512), count=words, template=None)
    assert "In date order" not in p.memories


def test_a_past_conversation_is_labelled_by_its_title() -> None:
    hit = Hit(P.CONVERSATION_PREFIX + "abc", "Planning the trip", dt.date(2026, 11, 3), 7, 7, 1.0, "I asked: x")
    assert P.memory_label(1, hit) == "[1] 2026-11-03 · conversation: Planning the trip"
