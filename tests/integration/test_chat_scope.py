"""Scope per chat on real parts: a LanceDB index of Pepys's diary with MiniLM, SQLite
conversations, the chat service (FakeEngine: the model is not what is tested), the CLI's
scope parsing and the REPL's /scope and /memory commands."""

from __future__ import annotations

import inspect
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from twin.app.chat_service import ChatService
from twin.cli.chat_commands import apply_memory_options, parse_scope
from twin.cli.chat_repl import Repl
from twin.core.conversation.events import TurnDone, TurnStarted
from twin.core.conversation.store import ConversationStore
from twin.core.llm.fake import FakeEngine
from twin.core.memory.retriever import Retriever
from twin.errors import KnownError
from twin.llm_settings import ChatSettings
from twin.paths import resolve_paths
from twin.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
from pepys_vault import index_vault, make_vault  # noqa: E402

QWEN3 = (Path(__file__).resolve().parents[1] / "fixtures" / "qwen3" / "Qwen-Qwen3-0.6B.jinja").read_text()
SCOPED = "scope" in inspect.signature(Retriever.search).parameters


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_vault(tmp_path_factory.mktemp("pepys"), first="1666-09-01", count=10)


@pytest.fixture(scope="module")
def memory(vault: Path, embedder: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    paths = resolve_paths({"TWIN_HOME": str(tmp_path_factory.mktemp("home"))}).ensure()
    mem = index_vault(vault, Settings(), paths, embedder)
    yield mem
    mem.close()


class Adapter:
    """What the chat container's retriever does: scope only when one is chosen."""

    def __init__(self, retriever: Any):
        self.retriever = retriever

    def search(self, query: str, k: int, scope: Any = None) -> list[Any]:
        if scope is not None:
            return list(self.retriever.search(query, k=k, scope=scope))
        return list(self.retriever.search(query, k=k))


@pytest.fixture()
def chat(memory: Any, tmp_path: Path) -> Iterator[SimpleNamespace]:
    engine = FakeEngine(chat_template=QWEN3, n_ctx=8192)
    store = ConversationStore(tmp_path / "c.sqlite3")
    svc = ChatService(engine, Adapter(memory.retriever), store, ChatSettings(memories_k=6))
    yield SimpleNamespace(engine=engine, conversations=store, service=svc)
    svc.close()
    store.close()
    engine.close()


def ask(chat: SimpleNamespace, text: str, cid: str | None = None) -> tuple[TurnStarted, TurnDone]:
    chat.engine.enqueue("ok")
    events = list(chat.service.ask(cid, text))
    return events[0], events[-1]


QUESTION = "What did I do about the fire and my goods?"


@pytest.mark.skipif(not SCOPED, reason="Retriever.search has no scope parameter in this tree")
def test_each_scope_limits_the_memories(chat: SimpleNamespace, vault: Path) -> None:
    start, _ = ask(chat, QUESTION)
    all_paths = {c.path for c in start.citations}
    assert len({Path(p).name for p in all_paths}) >= 3  # all memory: several days

    apply_memory_options(chat, None, "dates:1666-09-03..1666-09-04", None)  # type: ignore[arg-type]
    start, done = ask(chat, QUESTION)
    assert chat.conversations.get(done.conversation_id).scope == "dates:1666-09-03..1666-09-04"
    assert start.citations and {c.date for c in start.citations} <= {"1666-09-03", "1666-09-04"}

    one = sorted(vault.glob("*.md"))[5]
    chat.service.default_scope = parse_scope(f"doc:{one}")
    start, _ = ask(chat, QUESTION)
    assert start.citations and {c.path for c in start.citations} == {str(one)}

    chat.service.default_scope = parse_scope(f"folder:{vault}")
    start, _ = ask(chat, QUESTION)
    assert start.citations and all(Path(c.path).parent == vault for c in start.citations)

    chat.service.default_scope = parse_scope("none")
    start, done = ask(chat, QUESTION)
    assert start.citations == () and done.finish_reason != "abstained"  # no memory: nothing to abstain about

    # a stored conversation keeps its scope across turns; changing it applies to the next turn
    cid = done.conversation_id
    chat.conversations.set_options(cid, scope="dates:1666-09-05..1666-09-05")
    start, _ = ask(chat, QUESTION, cid)
    assert {c.date for c in start.citations} == {"1666-09-05"}


def test_scope_arguments_are_checked(tmp_path: Path) -> None:
    assert parse_scope("all") == "" and parse_scope("none") == "none"
    assert parse_scope("dates:2019-01..2019-06") == "dates:2019-01-01..2019-06-30"
    assert parse_scope(f"folder:{tmp_path}") == f"folder:{tmp_path.resolve()}"
    with pytest.raises(KnownError, match="unknown scope"):
        parse_scope("everything")
    with pytest.raises(KnownError, match="no such folder"):
        parse_scope(f"folder:{tmp_path / 'missing'}")
    with pytest.raises(KnownError):
        parse_scope("dates:2019-13..2019-14")


def test_repl_scope_and_memory_commands(chat: SimpleNamespace, tmp_path: Path) -> None:
    lines = ["/scope", "/scope dates:1666-09", "/memory on", "What did I do about the fire?", "/scope",
             "/memory off", "/scope nonsense", "/memory maybe", "/quit"]
    out, err = io.StringIO(), io.StringIO()
    chat.engine.enqueue("ok")
    repl = Repl(chat, stdin=io.StringIO("\n".join(lines) + "\n"), out=out, err=err)  # type: ignore[arg-type]
    assert repl.run() == 0
    text = out.getvalue()
    assert "(memory scope: all)" in text and "(memory scope: dates:1666-09-01..1666-09-30)" in text
    assert "(this conversation is kept as memory: later chats can find it)" in text
    conv = chat.conversations.get(repl.cid)
    assert conv.scope == "dates:1666-09-01..1666-09-30" and not conv.as_memory  # /memory off after the turn
    assert "unknown scope" in err.getvalue() and "usage: /memory on|off" in err.getvalue()
