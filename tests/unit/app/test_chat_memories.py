"""Memories from chats without models: offers, dismissals, notes on disk, the chat service's
after-answer hook (FakeEngine), and the pluggable note writer."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from twin.app.chat_memories import (
    ChatMemories,
    MemoryNoteError,
    note_body,
    render_note,
    slug,
)
from twin.app.chat_service import ChatService
from twin.core.conversation.events import TurnDone
from twin.core.conversation.store import ConversationStore
from twin.core.llm.fake import FakeEngine
from twin.core.memory.markdown import parse_markdown
from twin.errors import KnownError
from twin.llm_settings import ChatSettings

NOW = dt.datetime(2026, 11, 30, 9, 15)


@pytest.fixture
def mem(tmp_path: Path) -> ChatMemories:
    return ChatMemories(tmp_path / "memories", now=lambda: NOW)


def test_offers_skip_remembered_and_dismissed_statements(mem: ChatMemories) -> None:
    text = "My sister's name is Anna. I live in Berlin. What is my name?"
    assert [o.statement for o in mem.offers("c1", text)] == ["My sister's name is Anna.", "I live in Berlin."]
    mem.dismiss("c1", "I live in Berlin.")
    assert [o.statement for o in mem.offers("c1", text)] == ["My sister's name is Anna."]
    assert len(mem.offers("c2", text)) == 2  # dismissed in c1 only
    mem.remember("My sister's name is Anna.", conversation_id="c2")
    assert [o.statement for o in mem.offers("c3", "my sister's name is anna")] == []  # already a note
    assert mem.offers("c1", "What is my sister's name?") == []


def test_a_note_has_front_matter_date_conversation_and_the_statement(mem: ChatMemories) -> None:
    written: list[Path] = []
    mem.on_written = written.append
    note = mem.remember("  My sister's name   is Anna. ", conversation_id="abc123", conversation_title="Family: «Анна»")
    assert note.created and written == [note.path]
    assert note.path.name == "2026-11-30-my-sister-s-name-is-anna.md"
    text = note.path.read_text(encoding="utf-8")
    assert text.startswith("---\n") and note_body(text) == "My sister's name is Anna.\n"
    doc = parse_markdown(text)
    assert doc.date == dt.date(2026, 11, 30)
    assert [b.text for b in doc.blocks] == ["My sister's name is Anna."]
    assert "conversation: abc123" in text and "conversation_title: 'Family: «Анна»'" in text and "source: chat" in text
    # the same statement again (any case/punctuation): no second note
    again = mem.remember("my sister's name is ANNA", conversation_id="other")
    assert not again.created and again.path == note.path and len(mem.notes()) == 1 and written == [note.path]
    # another statement with the same slug gets its own file
    other = mem.remember("My sister's name is Anna!!! And she is 30", conversation_id="x")
    assert other.created and other.path != note.path and len(mem.notes()) == 2


def test_remembering_nothing_or_too_much_is_a_known_error(mem: ChatMemories) -> None:
    for bad in ("", "  ...  ", "x " * 1500):
        with pytest.raises(MemoryNoteError) as err:
            mem.remember(bad)
        assert isinstance(err.value, KnownError)
    assert mem.notes() == []


def test_an_unwritable_folder_is_a_known_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    mem = ChatMemories(blocker / "memories")
    with pytest.raises(MemoryNoteError, match="cannot write"):
        mem.remember("I live in Berlin.")


def test_the_writer_and_reader_are_pluggable(tmp_path: Path) -> None:
    """An encrypted vault replaces one function each way; nothing else touches the files."""
    def write(path: Path, text: str) -> None:
        path.write_bytes(text[::-1].encode())

    def read(path: Path) -> str:
        return path.read_bytes().decode()[::-1]

    mem = ChatMemories(tmp_path, write=write, read=read, now=lambda: NOW)
    note = mem.remember("I live in Berlin.")
    assert note.path.read_bytes().startswith(b"\n.nilreB")
    assert not mem.remember("i live in berlin").created  # found through the reader


def test_slug_and_render() -> None:
    assert slug("Меня зовут Павел.") == "меня-зовут-павел"
    assert slug("!!!") == "memory"
    assert len(slug("word " * 40)) <= 48
    assert render_note("I live in Berlin.", NOW) == "---\ndate: '2026-11-30'\ntime: 09:15\nsource: chat\n---\nI live in Berlin.\n"


def test_chat_service_attaches_offers_to_the_turn(tmp_path: Path, mem: ChatMemories) -> None:
    engine = FakeEngine()
    store = ConversationStore(tmp_path / "c.sqlite3")
    svc = ChatService(engine, None, store, ChatSettings())
    try:
        engine.enqueue("Nice to know.", "Sure.", "Hello.")
        done = list(svc.ask(None, "By the way, my sister's name is Anna."))[-1]
        assert isinstance(done, TurnDone) and done.offers == ()  # no hook set: nothing offered
        svc.offer_memories = lambda cid, text: [o.statement for o in mem.offers(cid, text)]
        done = list(svc.ask(done.conversation_id, "By the way, my sister's name is Anna."))[-1]
        assert done.offers == ("My sister's name is Anna.",) and done.answer == "Sure."
        mem.dismiss(done.conversation_id, done.offers[0])
        done = list(svc.ask(done.conversation_id, "My sister's name is Anna."))[-1]
        assert done.offers == ()  # dismissed in this conversation: not offered again

        def broken(cid: str, text: str) -> list[str]:
            raise OSError("disk gone")

        svc.offer_memories = broken
        engine.enqueue("Still answering.")
        done = list(svc.ask(done.conversation_id, "I live in Berlin."))[-1]
        assert done.answer == "Still answering." and done.offers == ()  # the turn never fails for it
    finally:
        svc.close()
        store.close()
        engine.close()


def test_dismissals_last_across_sessions_without_keeping_the_words(tmp_path: Path) -> None:
    store = tmp_path / "dismissed.json"
    first = ChatMemories(tmp_path / "m", dismissed_file=store)
    first.dismiss("c1", "My sister's name is Anna.")
    saved = store.read_text(encoding="utf-8")
    assert "c1" in saved and "anna" not in saved.lower() and "sister" not in saved.lower()
    second = ChatMemories(tmp_path / "m", dismissed_file=store)  # a new session
    assert second.offers("c1", "my sister's name is Anna") == []
    assert len(second.offers("c2", "my sister's name is Anna")) == 1
    store.write_text("{not json", encoding="utf-8")  # a broken file is ignored, and replaced
    third = ChatMemories(tmp_path / "m", dismissed_file=store)
    assert len(third.offers("c1", "my sister's name is Anna")) == 1
    third.dismiss("c1", "I live in Berlin.")
    assert list(json.loads(store.read_text(encoding="utf-8"))) == ["c1"]
