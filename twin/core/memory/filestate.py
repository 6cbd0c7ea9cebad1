"""SQLite record of what the indexer knows about each file.

One row per file seen under a source: its size, mtime and content hash when last indexed,
its state (``indexed``, ``partial``, ``skipped``, ``error``) with a human reason, and its
chunk count. A no-op reconcile compares the disk's stat data with these rows and touches
nothing else.

Crash-safety invariant: a file's row is written only *after* its chunks are committed to the
vector store. A kill in between leaves the row stale, so the file is parsed again on restart,
but its vectors are found by content hash and nothing is embedded twice.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from twin.messages import Msg, from_json, to_json

log = logging.getLogger("twin.memory")

#: The columns of a FileRecord, in its order. ``reason_key`` (last, added by ALTER TABLE to an
#: older database) holds the reason's message key and values as JSON (twin.messages.to_json)
#: when it was a keyed message, so that it reads in the window's language after a restart.
_COLUMNS = "path, source, size, mtime_ns, file_hash, state, chunks, reason, indexed_at"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    file_hash TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    chunks INTEGER NOT NULL DEFAULT 0,
    reason TEXT NOT NULL DEFAULT '',
    indexed_at REAL NOT NULL,
    reason_key TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS files_hash ON files(file_hash);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class FileRecord:
    path: str
    source: str
    size: int
    mtime_ns: int
    file_hash: str
    state: str
    chunks: int
    reason: str
    indexed_at: float


class FileState:
    """The ``files`` table. Not thread-safe by itself: the index service's one writer thread
    owns the connection; readers in other threads or processes open their own."""

    def __init__(self, db_path: Path, readonly: bool = False):
        db_path.parent.mkdir(parents=True, exist_ok=True)
        if readonly:
            self._db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, check_same_thread=False)
        else:
            self._db = sqlite3.connect(str(db_path), check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA secure_delete=ON")  # forgotten files' paths: zeroed, not just unlinked
            self._db.executescript(_SCHEMA)
            if not self._has_reason_key():  # a database from before keyed reasons
                self._db.execute("ALTER TABLE files ADD COLUMN reason_key TEXT NOT NULL DEFAULT ''")
            self._db.commit()
        self._columns = _COLUMNS + (", reason_key" if self._has_reason_key() else ", '' AS reason_key")

    def _has_reason_key(self) -> bool:
        return any(row[1] == "reason_key" for row in self._db.execute("PRAGMA table_info(files)"))

    def close(self) -> None:
        self._db.close()

    def all(self) -> dict[str, FileRecord]:
        rows = self._db.execute(f"SELECT {self._columns} FROM files").fetchall()
        return {r[0]: _record(r) for r in rows}

    def get(self, path: str) -> FileRecord | None:
        r = self._db.execute(f"SELECT {self._columns} FROM files WHERE path = ?", (path,)).fetchone()
        return _record(r) if r else None

    def by_hash(self, file_hash: str) -> list[FileRecord]:
        rows = self._db.execute(f"SELECT {self._columns} FROM files WHERE file_hash = ?", (file_hash,)).fetchall()
        return [_record(r) for r in rows]

    def put_many(self, records: Iterable[FileRecord]) -> None:
        with self._db:
            self._db.executemany(
                f"INSERT OR REPLACE INTO files ({_COLUMNS}, reason_key) VALUES (?,?,?,?,?,?,?,?,?,?)",
                [
                    (r.path, r.source, r.size, r.mtime_ns, r.file_hash, r.state, r.chunks, str(r.reason), r.indexed_at,
                     json.dumps(to_json(r.reason), ensure_ascii=False) if isinstance(r.reason, Msg) else "")
                    for r in records
                ],
            )

    def delete_many(self, paths: Iterable[str]) -> None:
        with self._db:
            self._db.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in paths])

    def rename(self, old: str, new: str) -> None:
        with self._db:
            self._db.execute("DELETE FROM files WHERE path = ?", (new,))
            self._db.execute("UPDATE files SET path = ? WHERE path = ?", (new, old))

    def vacuum(self) -> None:
        """Rewrite the database file, so no free page keeps a removed or renamed path
        (``secure_delete`` zeroes rows as they go; this drops the pages themselves)."""
        self._db.execute("VACUUM")

    def problems(self) -> Iterator[FileRecord]:
        for r in self._db.execute(
            f"SELECT {self._columns} FROM files WHERE state != 'indexed' ORDER BY path"
        ).fetchall():
            yield _record(r)

    def counts(self) -> dict[str, int]:
        out = {"files": 0, "indexed": 0, "partial": 0, "skipped": 0, "error": 0, "chunks": 0}
        for state, n, chunks in self._db.execute(
            "SELECT state, COUNT(*), COALESCE(SUM(chunks), 0) FROM files GROUP BY state"
        ):
            out[state] = n
            out["files"] += n
            out["chunks"] += chunks
        return out

    def get_meta(self, key: str) -> str | None:
        r = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return r[0] if r else None

    def set_meta(self, key: str, value: str) -> None:
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def clear(self) -> None:
        with self._db:
            self._db.execute("DELETE FROM files")


def _record(row: tuple[Any, ...]) -> FileRecord:
    """A row (the nine columns, then ``reason_key``) as a FileRecord whose reason is the keyed
    message it was stored from, when it was one (the window shows it in its language)."""
    reason: str = row[7]
    if row[9]:
        try:
            reason = from_json(json.loads(row[9])) or reason
        except ValueError:
            log.warning("%s: unreadable stored reason key %r", row[0], row[9])
    path, source, size, mtime_ns, file_hash, state, chunks, _, indexed_at = row[:9]
    return FileRecord(path, source, size, mtime_ns, file_hash, state, chunks, reason, indexed_at)


def record(path: str, source: str, size: int, mtime_ns: int, file_hash: str, state: str,
           chunks: int = 0, reason: str = "") -> FileRecord:
    return FileRecord(path, source, size, mtime_ns, file_hash, state, chunks, reason, time.time())
