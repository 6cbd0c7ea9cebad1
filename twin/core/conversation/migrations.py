"""Ordered, named migrations of the conversations database.

Each migration runs once, in order, inside a transaction, and is recorded by name in
``_migrations``; ``PRAGMA user_version`` mirrors how many have run. Never edit or reorder a
migration that has shipped: add a new one at the end (simonw/llm ``migrations.py``).

Before the first pending migration of a database that already holds data, ``migrate`` calls
its ``before`` hook (the app takes a backup of the data folder there). A migration that fails
is rolled back whole (DDL included: SQLite's DDL is transactional), the later ones do not run,
and :class:`MigrationError` says so: the database is exactly as it was.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence

from twin.errors import KnownError

Migration = Callable[[sqlite3.Connection], None]
#: Called with the names of the pending migrations before the first runs (existing data only).
BeforeHook = Callable[[list[str]], None]


class MigrationError(KnownError):
    """A migration failed and was rolled back: the database is unchanged."""


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


def m004_message_starred(db: sqlite3.Connection) -> None:
    """Answers the user starred as "sounds like me" (``twin dataset export --chats starred``)."""
    db.execute("ALTER TABLE messages ADD COLUMN starred INTEGER NOT NULL DEFAULT 0")


def m005_conversation_scope_memory(db: sqlite3.Connection) -> None:
    """Per conversation: its memory scope (``--scope``; "" = all memory) and whether its
    messages are searchable as memory in other chats (opt-in, off by default)."""
    db.execute("ALTER TABLE conversations ADD COLUMN scope TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE conversations ADD COLUMN as_memory INTEGER NOT NULL DEFAULT 0")


MIGRATIONS: tuple[tuple[str, Migration], ...] = (
    ("m001_conversations", m001_conversations),
    ("m002_messages", m002_messages),
    ("m003_fts", m003_fts),
    ("m004_message_starred", m004_message_starred),
    ("m005_conversation_scope_memory", m005_conversation_scope_memory),
)


def migrate(db: sqlite3.Connection, migrations: Sequence[tuple[str, Migration]] = MIGRATIONS,
            before: BeforeHook | None = None) -> list[str]:
    """Apply the migrations not yet applied; return their names.

    ``db`` must be in autocommit mode (``isolation_level=None``): each migration runs in its
    own explicit transaction, DDL included, and a failing one leaves no trace.

    Raises:
        MigrationError: a migration failed (it was rolled back; later ones did not run).
    """
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
    done = {row[0] for row in db.execute("SELECT name FROM _migrations")}
    pending = [name for name, _ in migrations if name not in done]
    if pending and done and before is not None:
        before(pending)
    applied = []
    for name, fn in migrations:
        if name in done:
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            fn(db)
            db.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", (name, time.time()))
        except BaseException as e:
            db.execute("ROLLBACK")
            if isinstance(e, (sqlite3.Error, ValueError, TypeError, KeyError)):
                raise MigrationError(
                    f"the conversations database could not be upgraded ({name} failed: {e}); "
                    "it was left exactly as it was") from e
            raise
        db.execute("COMMIT")
        applied.append(name)
    db.execute(f"PRAGMA user_version = {len(done) + len(applied)}")
    return applied
