"""Memories from chats end to end on real parts: ``twin chat``'s REPL over the Twin app object
(a scripted FakeEngine answers; MiniLM, LanceDB, SQLite and watchdog are real). A stated fact
is offered, accepted, written as a note in the memories folder, indexed at once and used by
the next answer; a dismissed one is not offered again; editing and deleting the note reach
the index through the normal watcher path."""

from __future__ import annotations

import builtins
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from twin.app.twin import Twin
from twin.app.container import Memory
from twin.cli.chat_repl import Repl
from twin.core.llm.fake import FakeEngine
from twin.paths import Paths, resolve_paths
from twin.settings import Settings


@pytest.fixture
def chat(tmp_path: Path, embedder: Any) -> Iterator[Twin]:
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "2024-05-01.md").write_text("# Garden\n\nPlanted tomatoes and basil by the fence.\n", encoding="utf-8")
    (vault / "2024-05-02.md").write_text("# Work\n\nLong meeting about the quarterly budget.\n", encoding="utf-8")
    paths = resolve_paths({"TWIN_HOME": str(tmp_path / "home")}).ensure()
    settings = Settings()
    settings.memory.sources = [str(vault)]
    settings.memory.debounce_ms = 100
    settings.chat.memories_k = 3
    memory = Memory(settings, paths)
    memory.__dict__["embedder"] = embedder  # the session's MiniLM
    assert paths.memories_dir in memory.sources  # always a source, never configured
    memory.indexer.reconcile(memory.sources)
    c = Twin.over(memory, engine_factory=lambda llm, **_: FakeEngine())
    yield c
    c.close()
    memory.close()


class Answers:
    """Scripted replies to ``input()`` prompts, recording the prompts."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *replies: str):
        self.replies = list(replies)
        self.prompts: list[str] = []
        monkeypatch.setattr(builtins, "input", self)

    def __call__(self, prompt: str = "") -> str:
        self.prompts.append(prompt)
        return self.replies.pop(0)


def repl_for(chat: Twin) -> tuple[Repl, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    repl = Repl(chat, stdin=io.StringIO(), out=out, err=err)
    repl.interactive = True  # as on a terminal (input() is scripted)
    return repl, out, err


def notes(paths: Paths) -> list[Path]:
    return sorted(paths.memories_dir.glob("*.md"))


def wait_for(pred: Any, timeout: float = 20.0) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_offer_accept_index_and_use_in_the_next_answer(chat: Twin, monkeypatch: pytest.MonkeyPatch) -> None:
    engine: FakeEngine = chat.engine  # type: ignore[assignment]
    answers = Answers(monkeypatch, "y")
    repl, out, _ = repl_for(chat)
    engine.enqueue("How lovely.", "Your sister is Anna [1].")
    repl.turn("By the way, my sister's name is Anna.")
    assert answers.prompts == ["Remember: \"My sister's name is Anna.\"? [y/N] "]
    (note,) = notes(chat.paths)
    assert f"(remembered: {note})" in out.getvalue()
    front, body = note.read_text(encoding="utf-8").split("---\n")[1:]
    meta = yaml.safe_load(front)
    conv = chat.conversations.get(repl.cid)  # type: ignore[arg-type]
    assert meta["source"] == "chat" and meta["conversation"] == conv.id and meta["conversation_title"] == conv.title
    assert body == "My sister's name is Anna.\n" and note.name.endswith("-my-sister-s-name-is-anna.md")
    # indexed at once (no watcher running in `twin chat`): found by meaning, dated by the note
    rows = chat.memory.store.rows_for_path(str(note))
    assert rows and rows[0].entry_date.isoformat() == meta["date"]
    hits = chat.memory.retriever.search("What is my sister called?", k=3)
    assert hits[0].path == str(note)
    # and the next answer is given that memory, numbered
    repl.turn("What is my sister's name?")
    prompt = engine.requests[-1].text
    assert "My sister's name is Anna." in prompt and note.name in prompt
    assert answers.prompts == ["Remember: \"My sister's name is Anna.\"? [y/N] "]  # a question: no offer


def test_dismissed_is_not_offered_again_in_that_conversation(chat: Twin, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = Answers(monkeypatch, "n", "")
    repl, _, _ = repl_for(chat)
    chat.engine.enqueue("Noted.", "Yes.", "Hello again.", "Hi.")  # type: ignore[attr-defined]
    repl.turn("I live in Berlin.")
    repl.turn("As I said, I live in Berlin.")  # the same statement: not offered again
    assert len(answers.prompts) == 1 and notes(chat.paths) == []
    repl.cid = None  # a new conversation may offer it again
    repl.turn("I live in Berlin.")
    assert len(answers.prompts) == 2 and notes(chat.paths) == []  # Enter = no


def test_remember_command_and_duplicates(chat: Twin) -> None:
    repl, out, err = repl_for(chat)
    assert repl.command("/remember Я родился в Омске")
    (note,) = notes(chat.paths)
    assert note.read_text(encoding="utf-8").endswith("---\nЯ родился в Омске\n")
    assert repl.command("/remember я родился в омске.")
    assert f"(already remembered: {note})" in out.getvalue() and notes(chat.paths) == [note]
    repl.interactive = False  # a pipe is never asked: it gets a hint
    chat.engine.enqueue("OK.")  # type: ignore[attr-defined]
    repl.turn("My favourite colour is green.")
    assert "/remember My favourite colour is green." in err.getvalue() and len(notes(chat.paths)) == 1


def test_usage_error_for_empty_remember(chat: Twin) -> None:
    from twin.errors import KnownError

    repl, _, _ = repl_for(chat)
    with pytest.raises(KnownError, match="usage: /remember"):
        repl.command("/remember")


def test_editing_and_deleting_the_note_reach_the_index(chat: Twin) -> None:
    memory = chat.memory
    note = chat.remember("My sister's name is Anna.").path
    service = memory.service()
    service.start(watch=True, rescan=False)
    store = memory.store

    def texts() -> str:
        return " ".join(r.text for r in store.rows_for_path(str(note)))

    assert "Anna" in texts()
    note.write_text(note.read_text(encoding="utf-8").replace("Anna", "Maria"), encoding="utf-8")
    wait_for(lambda: "Maria" in texts())
    assert "Anna" not in texts()
    assert memory.retriever.search("my sister Maria", k=3)[0].path == str(note)
    note.unlink()
    wait_for(lambda: store.rows_for_path(str(note)) == [])
    assert all(h.path != str(note) for h in memory.retriever.search("sister's name", k=5))
    # and a full rescan (`twin index`) keeps notes: the memories folder is one of the sources
    kept = chat.remember("I live in Berlin.").path
    wait_for(lambda: store.rows_for_path(str(kept)) != [])
    service.request_rescan()
    time.sleep(0.2)
    assert service.wait_idle(30) and store.rows_for_path(str(kept))
