"""Per-conversation scope and "keep as memory" in real SQLite: the migration of an old
database, the options, and the search of past conversations (plain and encrypted)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from twin.core.conversation.migrations import MIGRATIONS, migrate
from twin.core.conversation.store import ConversationStore
from twin.core.crypto import Keys, SealedCodec


def test_an_old_database_gains_scope_and_memory_columns_with_defaults(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    migrate(db, MIGRATIONS[:4])
    db.execute("INSERT INTO conversations (id, title, created_at, updated_at) VALUES ('old', 'Old chat', 1, 1)")
    db.close()
    backups: list[list[str]] = []
    store = ConversationStore(path, before_migrate=backups.append)
    try:
        assert backups == [["m005_conversation_scope_memory"]]
        old = store.get("old")
        assert (old.title, old.scope, old.as_memory) == ("Old chat", "", False)
        store.set_options("old", scope="folder:/notes/work", as_memory=True)
        again = store.get("old")
        assert (again.scope, again.as_memory) == ("folder:/notes/work", True)
        new = store.create("n", scope="none", as_memory=True)
        assert store.get(new.id).scope == "none" and store.get(new.id).as_memory
    finally:
        store.close()


def _chats(store: ConversationStore) -> tuple[str, str]:
    kept = store.create("Bike shopping", as_memory=True)
    store.add_user_message(kept.id, "I bought a blue bicycle from Kowalski.")
    aid = store.begin_assistant_message(kept.id)
    store.finish_assistant_message(aid, content="A blue one, nice.", thinking="", citations=(), complete=True,
                                   finish_reason="stop")
    private = store.create("Private")
    store.add_user_message(private.id, "Kowalski sold me a red bicycle too.")
    return kept.id, private.id


@pytest.mark.parametrize("sealed", [False, True])
def test_only_conversations_kept_as_memory_are_searched(tmp_path: Path, sealed: bool) -> None:
    codec = SealedCodec(Keys(os.urandom(32))) if sealed else None
    store = ConversationStore(tmp_path / "c.sqlite3", **({"codec": codec} if codec else {}))
    try:
        kept, private = _chats(store)
        found = store.search_memory("Who sold me the bicycles?")
        assert [m.conversation_id for m in found] == [kept]
        assert found[0].content == "I bought a blue bicycle from Kowalski." and found[0].role == "user"
        assert found[0].title == "Bike shopping" and found[0].score >= 1
        assert store.search_memory("Who sold me the bicycle?", exclude=kept) == []
        assert store.search_memory("the of and") == []  # no content words
        assert store.search_memory("volcano") == []
        store.set_options(kept, as_memory=False)
        assert store.search_memory("bicycle") == []
        store.set_options(private, as_memory=True)
        assert [m.conversation_id for m in store.search_memory("bicycle")] == [private]
    finally:
        store.close()


def test_deleting_a_kept_conversation_removes_it_from_memory(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    try:
        kept, _ = _chats(store)
        assert store.search_memory("Kowalski")
        store.delete(kept)
        assert store.search_memory("Kowalski") == []
    finally:
        store.close()
