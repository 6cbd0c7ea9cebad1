"""Past conversations as memory: the messages of conversations the user keeps as memory
(``conversations.as_memory = 1``) that match a question, for the chat's retrieval pass.

Matching is an OR over the question's stemmed terms (prefix-matched, so "moved" finds
"move"), scored by how many terms a message holds, then by FTS5's BM25. With an encrypted
database the FTS index holds only ciphertext, so messages are decrypted and matched in memory.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from twin.core.crypto import Codec
from twin.core.memory.textnorm import query_terms


@dataclass(frozen=True)
class MemoryMatch:
    """A message of a conversation kept as memory that matches a query (:meth:`ConversationStore.search_memory`)."""

    conversation_id: str
    title: str
    message_id: int
    role: str
    content: str
    created_at: float
    score: float  # higher is better (matched query terms, then BM25)


def search_memory(db: sqlite3.Connection, codec: Codec, text: str, limit: int = 4, *,
                  exclude: str | None = None) -> list[MemoryMatch]:
    """Messages of conversations kept as memory that share words with ``text``, best first;
    ``exclude``: a conversation to leave out (the one being answered: its turns are already
    in the prompt). The caller holds the connection's lock."""
    terms = [t for t in query_terms(text) if len(t) >= 2][:16]
    if not terms or limit <= 0:
        return []
    if not db.execute("SELECT 1 FROM conversations WHERE as_memory = 1 LIMIT 1").fetchone():
        return []
    if codec.encrypted:
        return _search_sealed(db, codec, terms, limit, exclude)
    query = " OR ".join(f'"{t}"*' for t in terms)
    rows = db.execute(
        "SELECT m.conversation_id, c.title, m.id, m.role, m.content, m.created_at, bm25(messages_fts) "
        "FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid "
        "JOIN conversations c ON c.id = m.conversation_id "
        "WHERE messages_fts MATCH ? AND c.as_memory = 1 AND c.id != ? AND m.content != '' "
        "ORDER BY rank LIMIT ?", (query, exclude or "", limit * 8)).fetchall()
    out = [MemoryMatch(cid, title, mid, role, content, created, _matched(content, terms) - float(bm) * 1e-3)
           for cid, title, mid, role, content, created, bm in rows]
    return sorted(out, key=lambda m: -m.score)[:limit]


def _search_sealed(db: sqlite3.Connection, codec: Codec, terms: Sequence[str], limit: int,
                   exclude: str | None) -> list[MemoryMatch]:
    rows = db.execute(
        "SELECT m.conversation_id, c.title, m.id, m.role, m.content, m.created_at FROM messages m "
        "JOIN conversations c ON c.id = m.conversation_id WHERE c.as_memory = 1 AND c.id != ? "
        "ORDER BY m.id DESC", (exclude or "",)).fetchall()
    out = []
    for cid, title, mid, role, content, created in rows:
        plain = codec.open_text(content, "msg.content")
        score = _matched(plain, terms)
        if score > 0:
            out.append(MemoryMatch(cid, codec.open_text(title, "conv.title"), mid, role, plain, created, score))
    return sorted(out, key=lambda m: -m.score)[:limit]


def _matched(text: str, terms: Sequence[str]) -> float:
    """How many of ``terms`` start some word of ``text`` (case and diacritics ignored)."""
    words = re.findall(r"\w+", _fold(text), flags=re.UNICODE)
    return float(sum(any(w.startswith(_fold(t)) for w in words) for t in terms))


def _fold(word: str) -> str:
    import unicodedata

    decomposed = unicodedata.normalize("NFD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
