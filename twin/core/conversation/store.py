"""Conversations and their messages in SQLite (WAL), with full-text search.

Invariants:
- A message is written as soon as it exists: the user's at once, the assistant's as a row
  marked incomplete when the answer starts, refreshed while it streams, and finished at the
  end. A cancelled or crashed answer therefore stays, marked ``complete = 0``.
- Thinking is stored apart from the answer (``thinking`` column); the memories block a user
  message was sent with is stored with it (``memories``), so later turns render it the same.
- Deleting is real: ``secure_delete`` zeroes freed pages, the FTS index drops the terms, and
  the file is vacuumed and its WAL truncated.
- One connection, shared by threads under a lock (calls are short).
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twin.core.conversation.migrations import migrate
from twin.core.prompt.citations import Citation
from twin.errors import KnownError


class ConversationNotFound(KnownError):
    """No conversation has the given id (deleted, or a typo)."""


@dataclass(frozen=True)
class Conversation:
    id: str
    title: str
    created_at: float
    updated_at: float
    persona_mode: str = "me"
    thinking: bool = False
    history_start: int = 0


@dataclass(frozen=True)
class Message:
    id: int
    conversation_id: str
    role: str  # "user" | "assistant"
    content: str
    created_at: float
    memories: str = ""
    thinking: str = ""
    citations: tuple[Citation, ...] = ()
    model: str = ""
    prompt_tokens: int | None = None
    prompt_tokens_evaluated: int | None = None
    completion_tokens: int | None = None
    ttft_ms: float | None = None
    duration_ms: float | None = None
    tokens_per_s: float | None = None
    finish_reason: str = ""
    complete: bool = True


@dataclass(frozen=True)
class SearchHit:
    conversation_id: str
    title: str
    message_id: int
    role: str
    snippet: str


_MSG_COLS = ("id, conversation_id, role, content, created_at, memories, thinking, citations, model, "
             "prompt_tokens, prompt_tokens_evaluated, completion_tokens, ttft_ms, duration_ms, "
             "tokens_per_s, finish_reason, complete")
_CONV_COLS = "id, title, created_at, updated_at, persona_mode, thinking, history_start"


def _conv(row: Sequence[Any]) -> Conversation:
    return Conversation(row[0], row[1], row[2], row[3], row[4], bool(row[5]), int(row[6]))


def _msg(row: Sequence[Any]) -> Message:
    cites = tuple(Citation.from_json(c) for c in json.loads(row[7] or "[]"))
    return Message(row[0], row[1], row[2], row[3], row[4], row[5], row[6], cites, row[8], row[9],
                   row[10], row[11], row[12], row[13], row[14], row[15], bool(row[16]))


def fts_query(text: str) -> str:
    """User words → an FTS5 query matching all of them (each a quoted term, prefix-matched)."""
    words = re.findall(r"\w+", text, flags=re.UNICODE)
    return " ".join(f'"{w}"*' for w in words)


class ConversationStore:
    """The conversations database (``Paths.conversations_db``)."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
        for pragma in ("journal_mode = WAL", "foreign_keys = ON", "secure_delete = ON", "synchronous = NORMAL"):
            self._db.execute(f"PRAGMA {pragma}")
        with self._lock:
            migrate(self._db)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- conversations ----------------------------------------------------------------------

    def create(self, title: str = "", *, persona_mode: str = "me", thinking: bool = False) -> Conversation:
        now = time.time()
        conv = Conversation(uuid.uuid4().hex, title, now, now, persona_mode, thinking, 0)
        with self._tx() as db:
            db.execute(f"INSERT INTO conversations ({_CONV_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (conv.id, title, now, now, persona_mode, int(thinking), 0))
        return conv

    def get(self, conversation_id: str) -> Conversation:
        with self._lock:
            row = self._db.execute(f"SELECT {_CONV_COLS} FROM conversations WHERE id = ?",
                                   (conversation_id,)).fetchone()
        if row is None:
            raise ConversationNotFound(f"No conversation {conversation_id}.")
        return _conv(row)

    def list_conversations(self, limit: int = 200, offset: int = 0) -> list[Conversation]:
        """Most recently active first."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_CONV_COLS} FROM conversations ORDER BY updated_at DESC, rowid DESC LIMIT ? OFFSET ?",
                (limit, offset)).fetchall()
        return [_conv(r) for r in rows]

    def rename(self, conversation_id: str, title: str) -> None:
        self._update(conversation_id, "title = ?", (title.strip(),))

    def set_options(self, conversation_id: str, *, thinking: bool | None = None,
                    persona_mode: str | None = None, history_start: int | None = None) -> None:
        sets, args = [], []
        for col, value in (("thinking", thinking), ("persona_mode", persona_mode), ("history_start", history_start)):
            if value is not None:
                sets.append(f"{col} = ?")
                args.append(int(value) if isinstance(value, bool) else value)
        if sets:
            self._update(conversation_id, ", ".join(sets), tuple(args), touch=False)

    def _update(self, cid: str, sets: str, args: tuple[Any, ...], *, touch: bool = True) -> None:
        if touch:
            sets += ", updated_at = ?"
            args += (time.time(),)
        with self._tx() as db:
            if db.execute(f"UPDATE conversations SET {sets} WHERE id = ?", args + (cid,)).rowcount == 0:
                raise ConversationNotFound(f"No conversation {cid}.")

    def delete(self, conversation_id: str, *, vacuum: bool = True) -> None:
        """Delete a conversation and its messages for good (see the module invariants)."""
        with self._tx() as db:
            db.execute("DELETE FROM messages WHERE conversation_id = ?", (conversation_id,))
            if db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,)).rowcount == 0:
                raise ConversationNotFound(f"No conversation {conversation_id}.")
        if vacuum:
            self.compact()

    def compact(self) -> None:
        """Rewrite the FTS index and the file so that deleted text leaves no trace on disk."""
        with self._lock:
            self._db.execute("INSERT INTO messages_fts(messages_fts) VALUES ('optimize')")
            self._db.execute("VACUUM")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- messages ---------------------------------------------------------------------------

    def messages(self, conversation_id: str) -> list[Message]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_MSG_COLS} FROM messages WHERE conversation_id = ? ORDER BY id",
                (conversation_id,)).fetchall()
        return [_msg(r) for r in rows]

    def message(self, message_id: int) -> Message:
        with self._lock:
            row = self._db.execute(f"SELECT {_MSG_COLS} FROM messages WHERE id = ?", (message_id,)).fetchone()
        if row is None:
            raise KeyError(message_id)
        return _msg(row)

    def add_user_message(self, conversation_id: str, content: str, *, memories: str = "") -> Message:
        now = time.time()
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO messages (conversation_id, role, content, memories, created_at) "
                "VALUES (?, 'user', ?, ?, ?)", (conversation_id, content, memories, now))
            db.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation_id))
        return self.message(int(cur.lastrowid or 0))

    def set_memories(self, message_id: int, memories: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE messages SET memories = ? WHERE id = ?", (memories, message_id))

    def begin_assistant_message(self, conversation_id: str, *, model: str = "",
                                citations: Sequence[Citation] = ()) -> int:
        """Insert the answer's row, marked incomplete, before its first token."""
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO messages (conversation_id, role, model, citations, created_at, complete) "
                "VALUES (?, 'assistant', ?, ?, ?, 0)",
                (conversation_id, model, json.dumps([c.to_json() for c in citations]), time.time()))
        return int(cur.lastrowid or 0)

    def update_partial(self, message_id: int, content: str, thinking: str) -> None:
        """Save the answer so far (a crash keeps it)."""
        with self._tx() as db:
            db.execute("UPDATE messages SET content = ?, thinking = ? WHERE id = ?", (content, thinking, message_id))

    def finish_assistant_message(self, message_id: int, *, content: str, thinking: str,
                                 citations: Sequence[Citation], complete: bool, finish_reason: str,
                                 prompt_tokens: int | None = None, prompt_tokens_evaluated: int | None = None,
                                 completion_tokens: int | None = None, ttft_ms: float | None = None,
                                 duration_ms: float | None = None, tokens_per_s: float | None = None) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE messages SET content = ?, thinking = ?, citations = ?, complete = ?, finish_reason = ?, "
                "prompt_tokens = ?, prompt_tokens_evaluated = ?, completion_tokens = ?, ttft_ms = ?, "
                "duration_ms = ?, tokens_per_s = ? WHERE id = ?",
                (content, thinking, json.dumps([c.to_json() for c in citations]), int(complete), finish_reason,
                 prompt_tokens, prompt_tokens_evaluated, completion_tokens, ttft_ms, duration_ms, tokens_per_s,
                 message_id))
            db.execute("UPDATE conversations SET updated_at = ? WHERE id = "
                       "(SELECT conversation_id FROM messages WHERE id = ?)", (time.time(), message_id))

    # -- search -----------------------------------------------------------------------------

    def search(self, text: str, limit: int = 50) -> list[SearchHit]:
        """Messages containing all the words of ``text`` (prefix match), best first."""
        query = fts_query(text)
        if not query:
            return []
        with self._lock:
            rows = self._db.execute(
                "SELECT m.conversation_id, c.title, m.id, m.role, "
                "snippet(messages_fts, 0, '[', ']', ' … ', 12) "
                "FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid "
                "JOIN conversations c ON c.id = m.conversation_id "
                "WHERE messages_fts MATCH ? ORDER BY rank LIMIT ?", (query, limit)).fetchall()
        return [SearchHit(*r) for r in rows]
