"""ConversationStore: messages, partial answers, search, real deletion, migrations, export."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from twin.core.conversation.export import conversation_markdown, export_json, export_markdown
from twin.core.conversation.migrations import MIGRATIONS, migrate
from twin.core.conversation.store import ConversationNotFound, ConversationStore, fts_query
from twin.core.prompt.citations import Citation

CITE = Citation(1, "diary/2024-05-01.md", "Morning", "2024-05-01", 3, 5, 0.9)


@pytest.fixture()
def store(tmp_path: Path) -> ConversationStore:
    s = ConversationStore(tmp_path / "conversations.sqlite3")
    yield s
    s.close()


def add_turn(store: ConversationStore, cid: str, question: str, answer: str) -> int:
    store.add_user_message(cid, question, memories="Memories…")
    mid = store.begin_assistant_message(cid, model="m", citations=[CITE])
    store.finish_assistant_message(mid, content=answer, thinking="hmm", citations=[CITE], complete=True,
                                   finish_reason="stop", prompt_tokens=100, prompt_tokens_evaluated=20,
                                   completion_tokens=5, ttft_ms=50.0, duration_ms=300.0, tokens_per_s=20.0)
    return mid


def test_conversation_lifecycle(store: ConversationStore) -> None:
    a = store.create("First", thinking=True)
    b = store.create("Second")
    add_turn(store, a.id, "Where did I go?", "To the sea [1].")
    assert [c.id for c in store.list_conversations()] == [a.id, b.id]  # most recently active first
    store.rename(b.id, "  Renamed ")
    assert store.get(b.id).title == "Renamed"
    store.set_options(a.id, thinking=False, history_start=3)
    got = store.get(a.id)
    assert got.thinking is False and got.history_start == 3
    with pytest.raises(ConversationNotFound):
        store.get("nope")
    with pytest.raises(ConversationNotFound):
        store.rename("nope", "x")


def test_messages_keep_everything(store: ConversationStore) -> None:
    cid = store.create().id
    add_turn(store, cid, "q", "answer")
    user, answer = store.messages(cid)
    assert user.role == "user" and user.memories == "Memories…"
    assert answer.content == "answer" and answer.thinking == "hmm" and answer.complete
    assert answer.citations == (CITE,)
    assert (answer.prompt_tokens, answer.prompt_tokens_evaluated, answer.completion_tokens) == (100, 20, 5)
    assert answer.model == "m" and answer.finish_reason == "stop" and answer.tokens_per_s == 20.0


def test_answer_row_exists_and_is_incomplete_while_streaming(store: ConversationStore, tmp_path: Path) -> None:
    cid = store.create().id
    store.add_user_message(cid, "q")
    mid = store.begin_assistant_message(cid)
    store.update_partial(mid, "half an ans", "thought")
    # a crash now: a fresh connection still sees the partial answer, marked incomplete
    other = ConversationStore(tmp_path / "conversations.sqlite3")
    try:
        msg = other.messages(cid)[-1]
        assert msg.content == "half an ans" and msg.thinking == "thought" and not msg.complete
    finally:
        other.close()


def test_full_text_search(store: ConversationStore) -> None:
    a = store.create("Sea")
    b = store.create("Work")
    add_turn(store, a.id, "When did we go to the seaside?", "In May [1].")
    add_turn(store, b.id, "Мы ездили на дачу?", "Да, в июне.")
    hits = store.search("seasid")
    assert [h.conversation_id for h in hits] == [a.id]
    assert "[seaside]" in hits[0].snippet
    assert [h.conversation_id for h in store.search("дачу")] == [b.id]
    assert store.search('"unbalanced AND OR (') == []  # user text never breaks the FTS syntax
    assert store.search("") == []
    assert fts_query("hello, world!") == '"hello"* "world"*'


def test_delete_really_deletes(store: ConversationStore, tmp_path: Path) -> None:
    keep = store.create("keep")
    add_turn(store, keep.id, "ordinary question", "ordinary answer")
    secret = store.create("secret")
    add_turn(store, secret.id, "zanzibarsecretword question", "the zanzibarsecretword answer")
    assert any(b"zanzibarsecretword" in f.read_bytes() for f in tmp_path.glob("conversations.sqlite3*"))
    store.delete(secret.id)
    assert store.search("zanzibarsecretword") == []
    assert [c.id for c in store.list_conversations()] == [keep.id]
    with pytest.raises(ConversationNotFound):
        store.delete(secret.id)
    for f in tmp_path.glob("conversations.sqlite3*"):
        assert b"zanzibarsecretword" not in f.read_bytes(), f.name
    assert store.messages(keep.id)[0].content == "ordinary question"


def test_migrations_are_ordered_idempotent_and_recorded(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "m.sqlite3", isolation_level=None)
    assert migrate(db) == [name for name, _ in MIGRATIONS]
    assert migrate(db) == []
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        migrate(db, list(MIGRATIONS) + [("m999_broken", broken)])
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "half_done" not in tables  # rolled back, DDL included
    assert "m999_broken" not in {r[0] for r in db.execute("SELECT name FROM _migrations")}
    db.close()


def test_export(store: ConversationStore) -> None:
    conv = store.create("Sea trip")
    add_turn(store, conv.id, "Where did I go?", "To the sea [1].")
    mid = store.begin_assistant_message(conv.id)
    store.finish_assistant_message(mid, content="Cut sh", thinking="", citations=[], complete=False,
                                   finish_reason="cancelled")
    md = conversation_markdown(store.get(conv.id), store.messages(conv.id))
    assert md.startswith("# Sea trip\n")
    assert "**You:**\n\nWhere did I go?" in md
    assert "**Twin:**\n\nTo the sea [1].\n\nSources:\n\n1. diary/2024-05-01.md › Morning (2024-05-01), lines 3–5" in md
    assert "**Twin:** _(incomplete)_\n\nCut sh" in md
    doc = json.loads(export_json(store))
    assert doc["format"] == "twin-conversations/1"
    (c,) = doc["conversations"]
    assert c["title"] == "Sea trip" and len(c["messages"]) == 3
    assert c["messages"][1]["thinking"] == "hmm"
    assert c["messages"][1]["usage"]["prompt_tokens_evaluated"] == 20
    assert c["messages"][2]["complete"] is False
    assert export_markdown(store, [conv.id]) == md
