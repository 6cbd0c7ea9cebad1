"""Rewinding a conversation for regenerate and edit-and-resend."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.app.conversation_edit import rewind
from twin.core.conversation.store import ConversationNotFound, ConversationStore
from twin.core.prompt.citations import Citation

CITE = Citation(1, "/d/a.md", "Morning", "2024-05-01", 3, 5, 0.9)


def answer(store: ConversationStore, cid: str, text: str) -> int:
    mid = store.begin_assistant_message(cid, model="m", citations=[CITE])
    store.finish_assistant_message(mid, content=text, thinking="t", citations=[CITE], complete=True,
                                   finish_reason="stop", completion_tokens=3)
    return mid


def test_rewind_keeps_earlier_turns_exactly(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    conv = store.create("Trip", persona_mode="assistant", thinking=True)
    store.add_user_message(conv.id, "Q1", memories="MEM1")
    answer(store, conv.id, "A1")
    q2 = store.add_user_message(conv.id, "Q2", memories="MEM2")
    a2 = answer(store, conv.id, "A2")

    new_id, question = rewind(store, conv.id, a2)  # regenerate the last answer
    assert question == "Q2"
    kept = store.messages(new_id)
    assert [(m.role, m.content, m.memories) for m in kept] == [("user", "Q1", "MEM1"), ("assistant", "A1", "")]
    assert kept[1].citations == (CITE,) and kept[1].thinking == "t" and kept[1].completion_tokens == 3
    new = store.get(new_id)
    assert (new.title, new.persona_mode, new.thinking) == ("Trip", "assistant", True)
    with pytest.raises(ConversationNotFound):
        store.get(conv.id)

    newer, question = rewind(store, new_id, kept[0].id)  # edit the first question
    assert question == "Q1" and store.messages(newer) == []
    with pytest.raises(KeyError):
        rewind(store, newer, q2.id)
    store.close()
