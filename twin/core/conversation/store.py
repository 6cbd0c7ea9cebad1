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
import logging
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twin.core.conversation.memory_search import MemoryMatch
from twin.core.conversation.migrations import BeforeHook, migrate
from twin.core.crypto import PLAIN, Codec
from twin.core.prompt.citations import Citation
from twin.errors import KnownError
from twin.threads import GuardedLock


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
    scope: str = ""  # memory scope of this chat ("" = all memory; see twin.core.types.Scope)
    as_memory: bool = False  # its messages are searchable as memory in other chats


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
_CONV_COLS = "id, title, created_at, updated_at, persona_mode, thinking, history_start, scope, as_memory"


def _conv(row: Sequence[Any], codec: Codec = PLAIN) -> Conversation:
    return Conversation(row[0], codec.open_text(row[1], "conv.title"), row[2], row[3], row[4], bool(row[5]),
                        int(row[6]), str(row[7] or ""), bool(row[8]))


def _msg(row: Sequence[Any], codec: Codec = PLAIN) -> Message:
    o = codec.open_text
    raw = row[7] or "[]"  # the column default ('[]') is left as is: it says nothing
    cites = tuple(Citation.from_json(c) for c in json.loads(raw if raw == "[]" else o(raw, "msg.citations")))
    return Message(row[0], row[1], row[2], o(row[3], "msg.content"), row[4], o(row[5], "msg.memories"),
                   o(row[6], "msg.thinking"), cites, row[8], row[9],
                   row[10], row[11], row[12], row[13], row[14], row[15], bool(row[16]))


def fts_query(text: str) -> str:
    """User words → an FTS5 query matching all of them (each a quoted term, prefix-matched)."""
    words = re.findall(r"\w+", text, flags=re.UNICODE)
    return " ".join(f'"{w}"*' for w in words)


#: The columns that hold user text, with the codec purpose each is sealed under.
_TEXT_COLUMNS = (("conversations", "title", "conv.title"),
                 ("messages", "content", "msg.content"),
                 ("messages", "memories", "msg.memories"),
                 ("messages", "thinking", "msg.thinking"),
                 ("messages", "citations", "msg.citations"))


class ConversationStore:
    """The conversations database (``Paths.conversations_db``).

    With a sealed ``codec`` (:mod:`twin.core.crypto`) titles, message content, thinking,
    memories and citations are stored as AES-GCM ciphertext; the FTS5 index then only ever
    sees ciphertext, so :meth:`search` searches the decrypted messages in memory instead.
    """

    def __init__(self, path: str | Path, codec: Codec = PLAIN, *, before_migrate: BeforeHook | None = None):
        self.path = str(path)
        self.codec = codec
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = GuardedLock("the conversations database")  # never on the GUI thread
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
        for pragma in ("journal_mode = WAL", "foreign_keys = ON", "secure_delete = ON", "synchronous = NORMAL"):
            self._db.execute(f"PRAGMA {pragma}")
        try:
            with self._lock:
                migrate(self._db, before=before_migrate)  # before_migrate: the app's backup
        except BaseException:
            self._db.close()
            raise

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

    def create(self, title: str = "", *, persona_mode: str = "me", thinking: bool = False, scope: str = "",
               as_memory: bool = False) -> Conversation:
        now = time.time()
        conv = Conversation(uuid.uuid4().hex, title, now, now, persona_mode, thinking, 0, scope, as_memory)
        with self._tx() as db:
            db.execute(f"INSERT INTO conversations ({_CONV_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (conv.id, self.codec.seal_text(title, "conv.title"), now, now, persona_mode, int(thinking), 0,
                        scope, int(as_memory)))
        return conv

    def get(self, conversation_id: str) -> Conversation:
        with self._lock:
            row = self._db.execute(f"SELECT {_CONV_COLS} FROM conversations WHERE id = ?",
                                   (conversation_id,)).fetchone()
        if row is None:
            raise ConversationNotFound(f"No conversation {conversation_id}.")
        return _conv(row, self.codec)

    def list_conversations(self, limit: int = 200, offset: int = 0) -> list[Conversation]:
        """Most recently active first."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_CONV_COLS} FROM conversations ORDER BY updated_at DESC, rowid DESC LIMIT ? OFFSET ?",
                (limit, offset)).fetchall()
        return [_conv(r, self.codec) for r in rows]

    def rename(self, conversation_id: str, title: str) -> None:
        self._update(conversation_id, "title = ?", (self.codec.seal_text(title.strip(), "conv.title"),))

    def set_options(self, conversation_id: str, *, thinking: bool | None = None,
                    persona_mode: str | None = None, history_start: int | None = None, scope: str | None = None,
                    as_memory: bool | None = None) -> None:
        sets, args = [], []
        for col, value in (("thinking", thinking), ("persona_mode", persona_mode), ("history_start", history_start),
                           ("scope", scope), ("as_memory", as_memory)):
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

    def compact(self, checkpoint_wait_s: float = 5.0) -> bool:
        """Rewrite the FTS index and the file so that deleted text leaves no trace on disk.

        The checkpoint that copies the rewritten pages over the old ones (and empties the
        WAL) cannot finish while another connection reads an older snapshot, so it is retried
        for up to ``checkpoint_wait_s``. Returns whether it finished (else the next compact or
        the last connection's close finishes it).
        """
        with self._lock:
            self._db.execute("INSERT INTO messages_fts(messages_fts) VALUES ('optimize')")
            self._db.execute("VACUUM")
            deadline = time.monotonic() + checkpoint_wait_s
            while True:
                busy = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                if not busy or time.monotonic() >= deadline:
                    break
                time.sleep(0.05)
        if busy:
            logging.getLogger("twin.conversations").warning(
                "compact: another connection kept the WAL from being checkpointed")
        return not busy

    def reencode(self, convert: Callable[[str, str], str]) -> int:
        """Rewrite every stored user-text value as ``convert(value, purpose)`` (the encryption
        switch), in ONE transaction; then rebuild the FTS index from the rows as they are now
        (it was fed by triggers: no old term survives) and :meth:`compact`, so no old page
        keeps the old form. ``convert`` must be idempotent (a rerun after a crash finishes
        the job). Returns the number of values changed."""
        changed = 0
        with self._tx() as db:
            for table, column, purpose in _TEXT_COLUMNS:
                for rowid, value in db.execute(f"SELECT rowid, {column} FROM {table}").fetchall():
                    converted = convert(value or "", purpose)
                    if converted != value:
                        db.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", (converted, rowid))
                        changed += 1
            db.execute("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")
        self.compact()
        return changed

    # -- messages ---------------------------------------------------------------------------

    def messages(self, conversation_id: str) -> list[Message]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_MSG_COLS} FROM messages WHERE conversation_id = ? ORDER BY id",
                (conversation_id,)).fetchall()
        return [_msg(r, self.codec) for r in rows]

    def message(self, message_id: int) -> Message:
        with self._lock:
            row = self._db.execute(f"SELECT {_MSG_COLS} FROM messages WHERE id = ?", (message_id,)).fetchone()
        if row is None:
            raise KeyError(message_id)
        return _msg(row, self.codec)

    def add_user_message(self, conversation_id: str, content: str, *, memories: str = "") -> Message:
        now = time.time()
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO messages (conversation_id, role, content, memories, created_at) "
                "VALUES (?, 'user', ?, ?, ?)", (conversation_id, self._seal(content, "msg.content"),
                                                self._seal(memories, "msg.memories"), now))
            db.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation_id))
        return self.message(int(cur.lastrowid or 0))

    def set_memories(self, message_id: int, memories: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE messages SET memories = ? WHERE id = ?",
                       (self._seal(memories, "msg.memories"), message_id))

    def begin_assistant_message(self, conversation_id: str, *, model: str = "",
                                citations: Sequence[Citation] = ()) -> int:
        """Insert the answer's row, marked incomplete, before its first token."""
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO messages (conversation_id, role, model, citations, created_at, complete) "
                "VALUES (?, 'assistant', ?, ?, ?, 0)",
                (conversation_id, model, self._citations(citations), time.time()))
        return int(cur.lastrowid or 0)

    def update_partial(self, message_id: int, content: str, thinking: str) -> None:
        """Save the answer so far (a crash keeps it)."""
        with self._tx() as db:
            db.execute("UPDATE messages SET content = ?, thinking = ? WHERE id = ?",
                       (self._seal(content, "msg.content"), self._seal(thinking, "msg.thinking"), message_id))

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
                (self._seal(content, "msg.content"), self._seal(thinking, "msg.thinking"),
                 self._citations(citations), int(complete), finish_reason,
                 prompt_tokens, prompt_tokens_evaluated, completion_tokens, ttft_ms, duration_ms, tokens_per_s,
                 message_id))
            db.execute("UPDATE conversations SET updated_at = ? WHERE id = "
                       "(SELECT conversation_id FROM messages WHERE id = ?)", (time.time(), message_id))

    def set_starred(self, message_id: int, starred: bool = True) -> None:
        """Mark an answer as "sounds like me" (or unmark it): the fine-tuning export's chats."""
        with self._tx() as db:
            if db.execute("UPDATE messages SET starred = ? WHERE id = ? AND role = 'assistant'",
                          (int(starred), message_id)).rowcount == 0:
                raise KeyError(message_id)

    def starred_ids(self, conversation_id: str) -> set[int]:
        with self._lock:
            rows = self._db.execute("SELECT id FROM messages WHERE conversation_id = ? AND starred = 1",
                                    (conversation_id,)).fetchall()
        return {int(r[0]) for r in rows}

    def starred_answers(self) -> list[tuple[Message, Message]]:
        """(question, answer) pairs of the starred, complete answers, oldest first."""
        with self._lock:
            ids = self._db.execute(
                "SELECT a.id, (SELECT MAX(u.id) FROM messages u WHERE u.conversation_id = a.conversation_id "
                "AND u.role = 'user' AND u.id < a.id) FROM messages a "
                "WHERE a.starred = 1 AND a.role = 'assistant' AND a.complete = 1 ORDER BY a.id").fetchall()
        return [(self.message(q), self.message(a)) for a, q in ids if q is not None]

    def _seal(self, text: str, purpose: str) -> str:
        return self.codec.seal_text(text, purpose)

    def _citations(self, citations: Sequence[Citation]) -> str:
        return self.codec.seal_text(json.dumps([c.to_json() for c in citations]), "msg.citations")

    # -- search -----------------------------------------------------------------------------

    def search(self, text: str, limit: int = 50) -> list[SearchHit]:
        """Messages containing all the words of ``text`` (prefix match), best first."""
        query = fts_query(text)
        if not query:
            return []
        if self.codec.encrypted:
            return self._search_sealed(text, limit)
        with self._lock:
            rows = self._db.execute(
                "SELECT m.conversation_id, c.title, m.id, m.role, "
                "snippet(messages_fts, 0, '[', ']', ' … ', 12) "
                "FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid "
                "JOIN conversations c ON c.id = m.conversation_id "
                "WHERE messages_fts MATCH ? ORDER BY rank LIMIT ?", (query, limit)).fetchall()
        return [SearchHit(*r) for r in rows]

    def _search_sealed(self, text: str, limit: int) -> list[SearchHit]:
        """:meth:`search` over encrypted messages: decrypt and match in memory (the FTS index
        holds only ciphertext). Same matching as FTS5's ``unicode61 remove_diacritics 2``
        prefix query, approximately: every query word must start some word of the message
        (case and diacritics ignored); newest first. ~1 ms per 100 messages."""
        wanted = re.findall(r"\w+", _fold(text), flags=re.UNICODE)
        with self._lock:
            rows = self._db.execute(
                "SELECT m.conversation_id, c.title, m.id, m.role, m.content FROM messages m "
                "JOIN conversations c ON c.id = m.conversation_id ORDER BY m.id DESC").fetchall()
        hits: list[SearchHit] = []
        titles: dict[str, str] = {}
        for cid, title, mid, role, content in rows:
            plain = self.codec.open_text(content, "msg.content")
            words = re.findall(r"\w+", _fold(plain), flags=re.UNICODE)
            if not all(any(w.startswith(q) for w in words) for q in wanted):
                continue
            if cid not in titles:
                titles[cid] = self.codec.open_text(title, "conv.title")
            hits.append(SearchHit(cid, titles[cid], mid, role, _snippet(plain, wanted)))
            if len(hits) >= limit:
                break
        return hits

    def search_memory(self, text: str, limit: int = 4, *, exclude: str | None = None) -> list[MemoryMatch]:
        """Messages of conversations kept as memory that share words with ``text``, best first
        (see :func:`twin.core.conversation.memory_search.search_memory`)."""
        from twin.core.conversation.memory_search import search_memory

        with self._lock:
            return search_memory(self._db, self.codec, text, limit, exclude=exclude)


def _fold(word: str) -> str:
    """Lower case without diacritics (as FTS5's ``remove_diacritics 2``)."""
    import unicodedata

    decomposed = unicodedata.normalize("NFD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _snippet(text: str, wanted: Sequence[str], width: int = 12) -> str:
    """Up to ``width`` words around the first matching word, matches in brackets."""
    tokens = text.split()
    marked, first = [], None
    for i, tok in enumerate(tokens):
        folded = _fold(tok)
        parts = re.findall(r"\w+", folded, flags=re.UNICODE)
        if any(p.startswith(q) for p in parts for q in wanted):
            marked.append(f"[{tok}]")
            first = i if first is None else first
        else:
            marked.append(tok)
    start = max(0, (first or 0) - width // 2)
    out = " ".join(marked[start:start + width])
    return ("… " if start > 0 else "") + out + (" …" if start + width < len(marked) else "")
