"""Follow-ups rewritten into standalone questions for the search (FakeEngine, real SQLite)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from twin.app.chat_service import ChatService
from twin.app.query_rewrite import FollowUpRewriter
from twin.core.conversation.store import ConversationStore
from twin.core.llm.fake import FakeEngine
from twin.core.prompt import rewrite as R
from twin.core.prompt.assemble import PastTurn
from twin.core.prompt.template import ChatTemplate
from twin.core.types import Hit
from twin.llm_settings import ChatSettings

QWEN3 = (Path(__file__).resolve().parents[2] / "fixtures" / "qwen3" / "Qwen-Qwen3-0.6B.jinja").read_text()
KIM = Hit("diary/2024-05-01.md", "", dt.date(2024, 5, 1), 1, 2, 0.9, "Kim lives in Brighton, by the sea.")


def test_follow_up_detection_and_parsing() -> None:
    assert R.is_follow_up("And where does she live?", ["Who is Kim?"])
    assert R.is_follow_up("А где он жил потом?", ["Кто такой Ким?"])
    assert not R.is_follow_up("And where does she live?", [])  # nothing to follow
    assert not R.is_follow_up("Where did Kim and I go in May 2024 on our long trip to the coast together?", ["x"])
    assert not R.is_follow_up("Tell me about Brighton.", ["Who is Kim?"])
    assert R.parse_rewrite("Where does Kim live?\n", "And where?") == "Where does Kim live?"
    assert R.parse_rewrite("Standalone question: «Where does Kim live?»", "x") == "Where does Kim live?"
    assert R.parse_rewrite("<think>hm</think>\nWhere does Kim live?", "x") == "Where does Kim live?"
    assert R.parse_rewrite("", "And?") == ""
    assert R.parse_rewrite("!!! ???", "And?") == ""
    assert R.parse_rewrite("Assistant: Kim is my friend.", "And?") == ""  # an answer, not a question
    assert R.parse_rewrite("word " * 200, "And?") == ""


def test_the_search_gets_the_standalone_question_and_rewrites_are_cached(tmp_path: Path) -> None:
    engine = FakeEngine(chat_template=QWEN3, n_ctx=8192)
    store = ConversationStore(tmp_path / "c.sqlite3")
    queries: list[str] = []

    class Retriever:
        def search(self, query: str, k: int) -> list[Hit]:
            queries.append(query)
            return [KIM]

    svc = ChatService(engine, Retriever(), store, ChatSettings(memories_k=3))
    svc.rewriter = FollowUpRewriter(engine)
    try:
        engine.enqueue("Kim is my friend.")
        done: Any = list(svc.ask(None, "Who is Kim?"))[-1]
        assert svc.rewriter.calls == 0 and queries[-1] == "Who is Kim?"  # not a follow-up: no extra call
        engine.enqueue("Where does Kim live?", "In Brighton [1].")
        done = list(svc.ask(done.conversation_id, "And where does she live?"))[-1]
        assert queries[-1].startswith("Where does Kim live?\nAnd where does she live?")
        assert done.answer == "In Brighton [1]."  # the answer is to the user's own words
        rewrite_prompt = "".join(s.text for s in engine.requests[-2].segments)
        assert "Standalone question:" in rewrite_prompt and "User: Who is Kim?" in rewrite_prompt
        assert svc.rewriter.calls == 1
        # the same follow-up after the same turns: from the cache
        history = [PastTurn("Who is Kim?", "", "Kim is my friend.")]
        template = ChatTemplate(QWEN3)
        rw = FollowUpRewriter(engine)
        engine.enqueue("Where does Kim live?")
        assert rw.standalone("And where does she live?", history, template) == "Where does Kim live?"
        assert rw.standalone("And where does she live?", history, template) == "Where does Kim live?"
        assert rw.calls == 1
        assert rw.standalone("And where does she live?", history, None) == ""  # a base model: no rewrite
    finally:
        svc.close()
        store.close()
        engine.close()
