"""Starred answers ("sounds like me") in the conversation store: marking, pairing with their
question, and surviving a rewind (regenerate / edit-and-resend of a later message)."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.app.conversation_edit import rewind
from twin.core.conversation.store import ConversationStore


def answer(store: ConversationStore, cid: str, text: str, complete: bool = True) -> int:
    mid = store.begin_assistant_message(cid, model="m")
    store.finish_assistant_message(mid, content=text, thinking="", citations=(), complete=complete,
                                   finish_reason="stop" if complete else "cancelled")
    return mid


def test_star_pairs_answers_with_their_questions(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    conv = store.create("views")
    q1 = store.add_user_message(conv.id, "Cats or dogs?")
    a1 = answer(store, conv.id, "Cats, always.")
    store.add_user_message(conv.id, "Why?")
    a2 = answer(store, conv.id, "They are quiet.", complete=False)
    assert store.starred_answers() == []
    store.set_starred(a1)
    store.set_starred(a2)  # incomplete: marked but never exported
    assert [(q.id, a.id) for q, a in store.starred_answers()] == [(q1.id, a1)]
    assert store.starred_ids(conv.id) == {a1, a2}
    with pytest.raises(KeyError):
        store.set_starred(q1.id)  # only answers can be starred
    store.set_starred(a1, False)
    assert store.starred_answers() == []
    store.close()


def test_stars_survive_a_rewind(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    conv = store.create("views")
    store.add_user_message(conv.id, "Q1")
    a1 = answer(store, conv.id, "A1")
    store.add_user_message(conv.id, "Q2")
    a2 = answer(store, conv.id, "A2")
    store.set_starred(a1)
    new_id, _ = rewind(store, conv.id, a2)
    pairs = store.starred_answers()
    assert [(q.content, a.content, a.conversation_id) for q, a in pairs] == [("Q1", "A1", new_id)]
    store.close()
