"""Ordered, named migrations of the conversations database.

Each migration runs once, in order, inside a transaction, and is recorded by name in
``_migrations``; ``PRAGMA user_version`` mirrors how many have run. Never edit or reorder a
migration that has shipped: add a new one at the end (simonw/llm ``migrations.py``).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence

Migration = Callable[[sqlite3.Connection], None]


def m001_conversations(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE conversations (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL DEFAULT '',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            persona_mode TEXT NOT NULL DEFAULT 'me',
            thinking INTEGER NOT NULL DEFAULT 0,
            history_start INTEGER NOT NULL DEFAULT 0
        )"""
    )
    db.execute("CREATE INDEX conversations_updated ON conversations(updated_at)")


def m002_messages(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE messages (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
            content TEXT NOT NULL DEFAULT '',
            memories TEXT NOT NULL DEFAULT '',
            thinking TEXT NOT NULL DEFAULT '',
            citations TEXT NOT NULL DEFAULT '[]',
            model TEXT NOT NULL DEFAULT '',
            created_at REAL NOT NULL,
            prompt_tokens INTEGER,
            prompt_tokens_evaluated INTEGER,
            completion_tokens INTEGER,
            ttft_ms REAL,
            duration_ms REAL,
            tokens_per_s REAL,
            finish_reason TEXT NOT NULL DEFAULT '',
            complete INTEGER NOT NULL DEFAULT 1
        )"""
    )
    db.execute("CREATE INDEX messages_conversation ON messages(conversation_id, id)")


def m003_fts(db: sqlite3.Connection) -> None:
    """Full-text search over titles and message text, kept in step by triggers.

    External-content FTS5: the index holds no copy of the text, and the delete triggers
    remove a message's terms, so deleted conversations leave nothing searchable behind.
    """
    db.execute(
        "CREATE VIRTUAL TABLE messages_fts USING fts5(content, content='messages', "
        "content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
    )
    db.execute(
        "CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN "
        "INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content); END"
    )
    db.execute(
        "CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN "
        "INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content); END"
    )
    db.execute(
        "CREATE TRIGGER messages_au AFTER UPDATE OF content ON messages BEGIN "
        "INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content); "
        "INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content); END"
    )


MIGRATIONS: tuple[tuple[str, Migration], ...] = (
    ("m001_conversations", m001_conversations),
    ("m002_messages", m002_messages),
    ("m003_fts", m003_fts),
)


def migrate(db: sqlite3.Connection, migrations: Sequence[tuple[str, Migration]] = MIGRATIONS) -> list[str]:
    """Apply the migrations not yet applied; return their names.

    ``db`` must be in autocommit mode (``isolation_level=None``): each migration runs in its
    own explicit transaction, DDL included, and a failing one leaves no trace.
    """
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
    done = {row[0] for row in db.execute("SELECT name FROM _migrations")}
    applied = []
    for name, fn in migrations:
        if name in done:
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            fn(db)
            db.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", (name, time.time()))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        applied.append(name)
    db.execute(f"PRAGMA user_version = {len(done) + len(applied)}")
    return applied
