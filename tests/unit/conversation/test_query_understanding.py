"""The loaded model's part in a turn's memory search (twin.app.query_understanding): the
question's translation goes to the retriever as variants (cached; a failure searches
without), the model reranks the hits in one prompt when asked, and the settings decide.
FakeEngine (the real completion path, inline on the engine's thread) or a scripted completer,
real SQLite."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from pathlib import Path
from typing import Any

import pytest

from twin.app.chat_service import ChatService
from twin.app.query_understanding import QueryUnderstanding, search_memories
from twin.core.conversation.events import TurnDone, TurnStarted
from twin.core.conversation.store import ConversationStore
from twin.core.llm.engine import OffloadInfo
from twin.core.llm.fake import FakeEngine
from twin.core.types import Hit, Scope
from twin.errors import ConfigError, StoreError
from twin.llm_settings import ChatSettings
from twin.settings import SearchSettings, Settings, load_settings


def _hit(name: str, text: str) -> Hit:
    return Hit(f"/notes/{name}.md", "", dt.date(2019, 5, 1), 1, 2, 0.5, text, chunk_id=name, evidence=0.9)


LIVE = _hit("live", "In 2019 I lived in Lisbon, near the river.")
CAT = _hit("cat", "Anna adopted a grey cat.")
WORK = _hit("work", "The quarterly report is due on Friday.")


class Retriever:
    """Records each search; takes ``variants`` like the app's retrievers."""

    def __init__(self, hits: list[Hit]):
        self.hits = hits
        self.calls: list[dict[str, Any]] = []

    def search(self, query: str, k: int, scope: Scope | None = None, variants: tuple[str, ...] = ()) -> list[Hit]:
        self.calls.append({"query": query, "k": k, "scope": scope, "variants": variants})
        return self.hits[:k]


class OldRetriever:
    """A retriever that predates variants."""

    def __init__(self) -> None:
        self.queries: list[str] = []

    def search(self, query: str, k: int) -> list[Hit]:
        self.queries.append(query)
        return [LIVE]


def _service(engine: FakeEngine, store: ConversationStore, retriever: Any, options: SearchSettings,
             **kw: Any) -> ChatService:
    svc = ChatService(engine, retriever, store, ChatSettings(memories_k=2, query_context_turns=0))
    svc.understanding = QueryUnderstanding(engine, options, **kw)
    return svc


def _turn(svc: ChatService, text: str, cid: str | None = None) -> tuple[TurnStarted, TurnDone]:
    events = list(svc.ask(cid, text))
    assert isinstance(events[0], TurnStarted) and isinstance(events[-1], TurnDone)
    return events[0], events[-1]


def test_the_models_translation_reaches_the_search_once_per_question(engine: FakeEngine,
                                                                     store: ConversationStore) -> None:
    retriever = Retriever([LIVE, CAT])
    svc = _service(engine, store, retriever, SearchSettings(llm_expand="on"))
    try:
        engine.enqueue("Where did I live in 2019?\n", "In Lisbon [1].")
        _, done = _turn(svc, "Где я жил в 2019 году?")
        assert done.answer == "In Lisbon [1]."
        translate, answer = engine.requests[0], engine.requests[1]
        assert "from Russian into English" in translate.text and translate.chat and not translate.enable_thinking
        assert translate.params.temperature == 0.0 and translate.params.max_tokens <= 48
        # the request is the conversation's next user message: the answer's prompt shares its frame
        frame = translate.text[:translate.text.rindex("<|im_start|>user")]
        assert "You are" in frame and answer.text.startswith(frame)
        assert retriever.calls[-1]["variants"] == ("Where did I live in 2019?",)
        assert retriever.calls[-1]["query"] == "Где я жил в 2019 году?"  # the question itself stays
        # the same question again: the translation comes from the cache, no extra generation
        n = len(engine.requests)
        engine.enqueue("Still Lisbon [1].")
        _turn(svc, "Где я жил в 2019 году?", done.conversation_id)
        assert len(engine.requests) == n + 1 and retriever.calls[-1]["variants"] == ("Where did I live in 2019?",)
        assert svc.understanding is not None and svc.understanding.expander.calls == 1
        # an English question is translated into Russian
        engine.enqueue("Кошка Анны?", "A grey cat [2].")
        _, cat = _turn(svc, "What about Anna's cat?", done.conversation_id)
        assert "from English into Russian" in engine.requests[-2].text
        assert retriever.calls[-1]["variants"] == ("Кошка Анны?",)
        # the past turns stayed in the (fake) KV cache: the answer read only its new message
        assert "Где я жил в 2019 году?" in engine.requests[-2].text  # the translation request saw them too
        assert cat.usage.prompt_tokens_evaluated < cat.usage.prompt_tokens / 2
    finally:
        svc.close()


def test_a_failing_model_leaves_the_search_without_variants_and_one_log_line(
        engine: FakeEngine, store: ConversationStore, caplog: pytest.LogCaptureFixture) -> None:
    attempts: list[str] = []

    def broken(prompt: str) -> str:
        attempts.append(prompt)
        raise StoreError("the model went away")

    retriever = Retriever([LIVE])
    svc = _service(engine, store, retriever, SearchSettings(llm_expand="on"), complete=broken)
    try:
        caplog.set_level(logging.INFO)
        engine.enqueue("Lisbon [1].")
        _, done = _turn(svc, "Где я жил?")
        assert done.answer == "Lisbon [1]." and done.citations and retriever.calls[-1]["variants"] == ()
        failures = [r for r in caplog.records if "expansion failed" in r.getMessage()]
        assert len(failures) == 1 and failures[0].levelno == logging.WARNING
        assert "the model went away" in failures[0].getMessage()
        # a failure is not cached: the next turn tries again
        engine.enqueue("Lisbon.")
        _turn(svc, "Где я жил?", done.conversation_id)
        assert len(attempts) == 2
    finally:
        svc.close()


def test_reranking_asks_for_more_orders_in_one_prompt_and_keeps_k(engine: FakeEngine,
                                                                  store: ConversationStore) -> None:
    prompts: list[str] = []

    def judge(prompt: str) -> str:
        prompts.append(prompt)
        return "3, 1"

    retriever = Retriever([CAT, WORK, LIVE])
    svc = _service(engine, store, retriever, SearchSettings(llm_expand="off", llm_rerank=True, llm_rerank_depth=5),
                   complete=judge)
    try:
        engine.enqueue("Lisbon [1].")
        start, _ = _turn(svc, "Where did I live?")
        assert retriever.calls[-1]["k"] == 5 and retriever.calls[-1]["variants"] == ()
        assert len(prompts) == 1 and "[3] In 2019 I lived in Lisbon" in prompts[0]
        assert [c.path for c in start.citations] == [LIVE.path, CAT.path]  # reordered, then the first k=2
        # a reply without numbers keeps the search's order
        prompts.clear()
        svc.understanding._complete = lambda p: "none of them"  # type: ignore[union-attr]
        engine.enqueue("ok")
        start, _ = _turn(svc, "Where did I live then?")
        assert [c.path for c in start.citations] == [CAT.path, WORK.path]
    finally:
        svc.close()


def test_auto_translates_only_on_a_gpu_and_off_means_off(engine: FakeEngine, store: ConversationStore) -> None:
    retriever = Retriever([LIVE])
    options = SearchSettings()
    assert options.llm_expand == "auto" and not options.llm_rerank and not options.rewrite_followups
    svc = _service(engine, store, retriever, options)
    qu = svc.understanding
    assert qu is not None
    try:
        engine.enqueue("Lisbon [1].")
        _turn(svc, "Где я жил?")
        assert len(engine.requests) == 1 and retriever.calls[-1]["variants"] == ()  # the CPU/fake: no extra prompt
        engine._info = dataclasses.replace(engine._info, offload=OffloadInfo(True, -1, 19, 19))
        assert qu.expanding
        engine._info = dataclasses.replace(engine._info, offload=OffloadInfo(True, 0, 0, 19))
        assert not qu.expanding
        options.llm_expand = "on"  # settings read at each turn
        assert qu.expanding
        options.llm_expand = "off"
        assert not qu.expanding and qu.variants("Где я жил?") == []
    finally:
        svc.close()


def test_scope_none_asks_nothing_and_old_retrievers_still_search(engine: FakeEngine, store: ConversationStore,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    calls: list[str] = []

    def complete(prompt: str) -> str:
        calls.append(prompt)
        return "Where did I live?"

    svc = _service(engine, store, Retriever([LIVE]), SearchSettings(llm_expand="on"), complete=complete)
    try:
        conv = store.create("t", scope="none")
        engine.enqueue("I don't know.")
        _turn(svc, "Где я жил?", conv.id)
        assert calls == []  # no search: no translation either
    finally:
        svc.close()
    old = OldRetriever()
    caplog.set_level(logging.INFO)
    hits, warnings, searched = search_memories(old, "Где я жил?", 3, "", ["Where did I live?"])
    assert hits == [LIVE] and warnings == [] and searched and old.queries == ["Где я жил?"]
    assert any("takes no query variants" in r.getMessage() for r in caplog.records)
    # a scope it cannot apply is still refused, never widened
    hits, warnings, searched = search_memories(old, "q", 3, "folder:/notes", ["v"])
    assert hits == [] and not searched and "cannot limit them" in warnings[0]


def test_a_stopped_turn_does_not_cache_a_cut_translation(engine: FakeEngine) -> None:
    stop = {"now": False}

    def complete(prompt: str) -> str:
        stop["now"] = True  # the user pressed stop while it translated
        return "Where did"

    qu = QueryUnderstanding(engine, SearchSettings(llm_expand="on"), complete=complete)
    assert qu.variants("Где я жил?", lambda: stop["now"]) == []
    stop["now"] = False
    qu._complete = lambda p: "Where did I live?"
    assert qu.variants("Где я жил?", lambda: stop["now"]) == ["Where did I live?"]


def test_search_settings_are_documented_and_checked(tmp_path: Path) -> None:
    for f in dataclasses.fields(SearchSettings):
        if f.name.startswith(("llm_", "rewrite_")):
            assert len(f.metadata["doc"]) > 40, f.name
    path = tmp_path / "settings.toml"
    path.write_text('[search]\nllm_expand = "sometimes"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="llm_expand"):
        load_settings(path, env={})
    path.write_text('[search]\nllm_expand = "on"\nllm_rerank = true\nrewrite_followups = true\n', encoding="utf-8")
    s = load_settings(path, env={})
    assert (s.search.llm_expand, s.search.llm_rerank, s.search.rewrite_followups) == ("on", True, True)
    assert Settings().search.llm_rerank_depth == 10


def test_the_one_builder_wires_it_from_the_settings_live(engine: FakeEngine) -> None:
    """Twin (the window's way: a retriever handed in) wires the same QueryUnderstanding for
    every front end; a settings change applies at the next turn; ``--rewrite-followups`` is
    the setting turned on for the run; reranking runs through the engine's own completion."""
    from twin.app.query_rewrite import FollowUpRewriter
    from twin.app.twin import Twin
    from twin.cli.chat_commands import apply_rewrite_option
    from twin.paths import resolve_paths

    s = Settings()
    s.chat.memories_k = 2
    s.chat.query_context_turns = 0
    retriever = Retriever([CAT, LIVE])
    app = Twin(s, resolve_paths().ensure(), retriever=retriever, engine_factory=lambda llm, **_: engine)
    try:
        app.wait_ready(30)
        qu = app.service.understanding
        assert isinstance(qu, QueryUnderstanding) and qu.engine is engine
        assert not qu.expanding and not qu.reranking and qu.rewriter is None  # the defaults, on a CPU/fake
        engine.enqueue("Kim is my friend.")
        _, done = _turn(app.service, "Who is Kim?")
        assert len(engine.requests) == 1 and retriever.calls[-1] == {"query": "Who is Kim?", "k": 2, "scope": None,
                                                                      "variants": ()}
        new = Settings()
        new.chat.memories_k, new.chat.query_context_turns = 2, 0
        new.search.llm_expand, new.search.llm_rerank, new.search.llm_rerank_depth = "on", True, 4
        app.apply_settings(new)  # same model: the same service, the new [search] at the next turn
        assert app.service.understanding is qu and qu.expanding and qu.reranking
        engine.enqueue("Кто такой Ким?", "2, 1", "Lisbon [1].")
        start, _ = _turn(app.service, "Who is Kim really?", done.conversation_id)
        translate, judge, answer = engine.requests[-3:]
        assert "from English into Russian" in translate.text and "Relevant passage numbers:" in judge.text
        assert retriever.calls[-1]["variants"] == ("Кто такой Ким?",) and retriever.calls[-1]["k"] == 4
        assert [c.path for c in start.citations] == [LIVE.path, CAT.path]  # the model's order
        assert qu.rewriter is None
        apply_rewrite_option(app, True)  # twin ask/chat --rewrite-followups
        assert isinstance(qu.rewriter, FollowUpRewriter) and qu.rewriter is qu.rewriter
    finally:
        app.close()


def test_a_compound_question_is_split_once_each_part_searched_and_merged(engine: FakeEngine,
                                                                         store: ConversationStore) -> None:
    from twin.app.query_split import looks_compound, merge_lists, parse_parts

    assert looks_compound("Where did I live in 2019 and who did I work with?")
    assert looks_compound("Где жила Анна и как зовут её кошку?")
    assert looks_compound("Where is Anna? What is her cat called?")
    assert not looks_compound("Where did Anna and Kim go in May?")
    assert not looks_compound("Как зовут кошку сестры?")
    reply = "1. Where did I live in 2019?\n- Who did I work with?\nQuestion: x?\nSimple questions:\nMore?"
    assert parse_parts(reply, "q") == ["Where did I live in 2019?", "Who did I work with?"]
    assert parse_parts("Where did I live?\n", "q") == []  # one thing: no split
    assert parse_parts("Where and who?\nWhere and who?", "Where and who?") == []  # the question itself
    assert merge_lists([[LIVE, CAT], [WORK, LIVE], []]) == [LIVE, WORK, CAT]

    prompts: list[str] = []

    def complete(prompt: str) -> str:
        prompts.append(prompt)
        return "Where did I live in 2019?\nWho did I work with?\n"

    class ByQuestion(Retriever):
        def search(self, query: str, k: int, scope: Scope | None = None, variants: tuple[str, ...] = ()) -> list[Hit]:
            self.calls.append({"query": query, "k": k, "scope": scope, "variants": variants})
            return [WORK] if query.startswith("Who") else [LIVE] if query.endswith("2019?") else [CAT]

    retriever = ByQuestion([])
    svc = _service(engine, store, retriever, SearchSettings(llm_expand="off", llm_split=True), complete=complete)
    try:
        engine.enqueue("Lisbon, and Kim [1][2].")
        start, done = _turn(svc, "Where did I live then and who did I work with?")
        assert len(prompts) == 1 and "Simple questions:" in prompts[0]
        assert [c["query"] for c in retriever.calls] == ["Where did I live then and who did I work with?",
                                                         "Where did I live in 2019?", "Who did I work with?"]
        assert [c.path for c in start.citations] == [CAT.path, LIVE.path]  # merged in turns, then k=2 (WORK third)
        engine.enqueue("Same.")
        _turn(svc, "Where did I live then and who did I work with?", done.conversation_id)
        assert len(prompts) == 1  # cached
        engine.enqueue("Lisbon.")
        _turn(svc, "Where did I live in 2019?", done.conversation_id)
        assert len(prompts) == 1 and retriever.calls[-1]["query"] == "Where did I live in 2019?"  # simple: no call
    finally:
        svc.close()


def test_a_reply_that_is_no_translation_is_no_variant() -> None:
    from twin.core.memory.expand import llm_translator, usable

    assert usable("Where is my sister Anna?", "ru") and usable("Где моя сестра?", "en")
    assert not usable("Где моя сестра?", "ru")  # not translated
    assert not usable("[1] /tmp/notes/sister.md", "ru")  # the memories of the conversation echoed
    replies = iter(["[2] 2019-05-01: In 2019 I lived in Lisbon", "Где я жил?", "Where did I live?"])
    translate = llm_translator(lambda prompt: next(replies))
    assert translate("Где я жил?") == [] and translate("Где я жил?") == []
    assert translate("Где я жил?") == ["Where did I live?"]


def test_a_period_named_by_an_event_is_read_against_the_dated_facts(engine: FakeEngine,
                                                                    store: ConversationStore) -> None:
    from twin.app.query_periods import names_relative_period, parse_period
    from twin.core.types import DateRange

    today = dt.date(2026, 12, 5)
    assert names_relative_period("Where did we go the summer after I moved to Lisbon?", today)
    assert names_relative_period("Где я работал, когда жил в Порту?", today)
    assert not names_relative_period("Когда я родился?", today)  # asks for a date, names no period
    assert not names_relative_period("Where did we go after I moved in 2019?", today)  # a date is there
    assert parse_period(' "summer 2019".', today) == "summer 2019" and parse_period("лето 2019", today) == "лето 2019"
    assert parse_period("none", today) == "" and parse_period("yesterday", today) == ""  # a year is wanted
    prompts: list[str] = []
    replies = ["summer 2019\n", "I am not sure."]

    def complete(prompt: str) -> str:
        prompts.append(prompt)
        return replies.pop(0)

    asked: list[DateRange] = []

    def period_facts(period: DateRange, count: Any) -> str:
        asked.append(period)
        return "- home: Lisbon (since 2019-03)" if period.since is None else f"Facts of {period.since}..{period.until}"

    retriever = Retriever([LIVE])
    svc = _service(engine, store, retriever, SearchSettings(llm_expand="off", llm_dates=True), complete=complete)
    svc.period_facts = period_facts
    svc.today = lambda: today
    try:
        engine.enqueue("To the coast [1].")
        question = "Where did we go the summer after I moved to Lisbon?"
        _, done = _turn(svc, question)
        assert len(prompts) == 1 and "- home: Lisbon (since 2019-03)" in prompts[0] and "Today is 2026-12-05" in prompts[0]
        assert retriever.calls[-1]["query"] == f"{question} (summer 2019)"  # the retriever reads the period
        assert asked[-1] == DateRange(dt.date(2019, 6, 1), dt.date(2019, 8, 31))
        assert "Facts of 2019-06-01..2019-08-31" in engine.requests[-1].text  # that period's facts in the prompt
        engine.enqueue("Same.")
        _turn(svc, question, done.conversation_id)
        assert len(prompts) == 1  # cached
        engine.enqueue("Lisbon.")
        _turn(svc, "Where did I live in 2019?", done.conversation_id)
        assert len(prompts) == 1  # a plain date: nothing to resolve
        engine.enqueue("Hm.")
        _turn(svc, "What did I cook when I lived in Porto?", done.conversation_id)
        assert len(prompts) == 2 and retriever.calls[-1]["query"] == "What did I cook when I lived in Porto?"
    finally:
        svc.close()
