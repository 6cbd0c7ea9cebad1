"""Remembered chat statements over time, on real files: a newer note about the same subject
supersedes the older (valid_until, superseded_by in its front matter), old notes without
these fields still read, and a question about a period gets what held then."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from twin.app.chat_memories import ChatMemories, note_body, note_meta
from twin.app.chat_service import ChatService
from twin.app.time_facts import period_facts_fn, superseded_labels
from twin.core.conversation.store import ConversationStore
from twin.core.llm.fake import FakeEngine
from twin.core.memory.markdown import parse_markdown
from twin.core.types import DateRange, Hit
from twin.llm_settings import ChatSettings

QWEN3 = (Path(__file__).resolve().parents[2] / "fixtures" / "qwen3" / "Qwen-Qwen3-0.6B.jinja").read_text()


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2019, 4, 1, 10, 0)

    def __call__(self) -> dt.datetime:
        return self.now


def words(text: str) -> int:
    return len(text.split())


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def mem(tmp_path: Path, clock: Clock) -> ChatMemories:
    return ChatMemories(tmp_path / "memories", now=clock)


def test_a_newer_fact_about_the_same_subject_supersedes_the_older(mem: ChatMemories, clock: Clock) -> None:
    written: list[Path] = []
    mem.on_written = written.append
    lyon = mem.remember("I live in Lyon.").path
    dog = mem.remember("I have a dog.").path  # accumulates: never superseded
    clock.now = dt.datetime(2021, 6, 5, 18, 30)
    berlin = mem.remember("I moved to Berlin.").path
    assert written == [lyon, dog, lyon, berlin]  # the updated old note is re-indexed too
    old = lyon.read_text(encoding="utf-8")
    assert note_meta(old)["valid_until"] == "2021-06-05" and note_meta(old)["superseded_by"] == berlin.name
    assert note_meta(old)["subject"] == "place:home" and note_body(old) == "I live in Lyon.\n"  # words untouched
    assert parse_markdown(old).date == dt.date(2019, 4, 1)  # still indexed under its own date
    assert "valid_until" not in note_meta(berlin.read_text(encoding="utf-8"))
    assert "valid_until" not in note_meta(dog.read_text(encoding="utf-8"))
    facts = {f.statement: f for f in mem.facts()}
    assert (facts["I live in Lyon."].valid_from, facts["I live in Lyon."].valid_until) == ("2019-04-01", "2021-06-05")
    assert facts["I moved to Berlin."].valid_until == ""

    in_2020 = mem.period_text("2020-01-01", "2020-12-31")
    assert "- I live in Lyon. (from 2019-04-01 until 2021-06-05)" in in_2020 and "Berlin" not in in_2020
    assert "- I have a dog. (since 2019-04-01)" in in_2020
    in_2022 = mem.period_text("2022-01-01", "2022-12-31")
    assert "- I moved to Berlin. (since 2021-06-05)" in in_2022 and "Lyon" not in in_2022
    assert mem.period_text("2010-01-01", "2010-12-31") == ""
    # a third move supersedes only the current note
    clock.now = dt.datetime(2023, 1, 2, 8, 0)
    munich = mem.remember("Я переехал в Мюнхен.").path
    assert note_meta(berlin.read_text(encoding="utf-8"))["superseded_by"] == munich.name
    assert note_meta(lyon.read_text(encoding="utf-8"))["superseded_by"] == berlin.name


def test_old_notes_without_the_fields_read_as_current_from_their_date(mem: ChatMemories, clock: Clock) -> None:
    mem.folder.mkdir(parents=True)
    (mem.folder / "2018-02-03-i-live-in-paris.md").write_text(
        "---\ndate: 2018-02-03\nsource: chat\n---\nI live in Paris.\n", encoding="utf-8")
    (mem.folder / "2018-02-04-no-front-matter.md").write_text("My name is Sam.\n", encoding="utf-8")
    (mem.folder / "2018-02-05-broken.md").write_text("---\ndate: [unclosed\n---\nI work at Acme.\n", encoding="utf-8")
    facts = {f.statement: f for f in mem.facts()}
    assert (facts["I live in Paris."].valid_from, facts["I live in Paris."].subject) == ("2018-02-03", "place:home")
    assert facts["My name is Sam."].valid_from == "" and facts["I work at Acme."].subject == "work"
    mem.remember("I live in Rome.")  # the old note, without a subject field, is superseded all the same
    assert note_meta((mem.folder / "2018-02-03-i-live-in-paris.md").read_text(encoding="utf-8"))["valid_until"] \
        == "2019-04-01"


def test_the_period_reaches_the_prompt_and_superseded_memories_are_labelled(
        tmp_path: Path, mem: ChatMemories, clock: Clock) -> None:
    lyon = mem.remember("I live in Lyon.").path
    clock.now = dt.datetime(2021, 6, 5)
    berlin = mem.remember("I moved to Berlin.").path

    class Retriever:
        def search(self, query: str, k: int) -> list[Hit]:  # what the index returns for these notes
            return [Hit(str(berlin), "", dt.date(2021, 6, 5), 5, 5, 0.9, "I moved to Berlin."),
                    Hit(str(lyon), "", dt.date(2019, 4, 1), 5, 5, 0.8, "I live in Lyon.")]

    engine = FakeEngine(chat_template=QWEN3, n_ctx=8192)
    store = ConversationStore(tmp_path / "c.sqlite3")
    svc = ChatService(engine, Retriever(), store, ChatSettings(memories_k=4))
    svc.period_facts = period_facts_fn(None, mem)
    svc.annotate_hits = superseded_labels(mem)
    try:
        engine.enqueue("Lyon [2].")
        done = list(svc.ask(None, "Where did I live in 2020?"))[-1]
        prompt = "".join(s.text for s in engine.requests[-1].segments)
        assert "- I live in Lyon. (from 2019-04-01 until 2021-06-05)" in prompt
        assert "(held 2019-04-01 – 2021-06-05, superseded by a newer note)" in prompt
        assert "In date order (oldest first): [2] 2019-04-01, [1] 2021-06-05." in prompt
        assert done.answer == "Lyon [2]."  # type: ignore[union-attr]
        assert period_facts_fn(None, mem)(DateRange(dt.date(2010, 1, 1), dt.date(2010, 2, 1)), words) == ""
    finally:
        svc.close()
        store.close()
        engine.close()
