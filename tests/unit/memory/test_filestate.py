"""File records in real SQLite."""

from __future__ import annotations

from pathlib import Path

from twin.core.memory.filestate import FileState, record


def test_put_get_rename_delete_counts(tmp_path: Path) -> None:
    db = FileState(tmp_path / "f.sqlite3")
    db.put_many([
        record("/v/a.md", "/v", 10, 1, "h1", "indexed", 3),
        record("/v/b.md", "/v", 5, 2, "h2", "error", 0, "permission denied"),
        record("/v/c.bin.md", "/v", 5, 2, "", "skipped", 0, "binary file, not text"),
    ])
    assert db.get("/v/a.md").chunks == 3
    assert [r.path for r in db.by_hash("h1")] == ["/v/a.md"]
    db.rename("/v/a.md", "/v/z.md")
    assert db.get("/v/a.md") is None and db.get("/v/z.md").file_hash == "h1"
    assert {r.path: r.reason for r in db.problems()} == {
        "/v/b.md": "permission denied", "/v/c.bin.md": "binary file, not text"}
    c = db.counts()
    assert (c["files"], c["indexed"], c["error"], c["skipped"], c["chunks"]) == (3, 1, 1, 1, 3)
    db.delete_many(["/v/b.md"])
    assert db.get("/v/b.md") is None
    db.set_meta("k", "v")
    assert db.get_meta("k") == "v"
    db.close()
    # persisted
    again = FileState(tmp_path / "f.sqlite3")
    assert set(again.all()) == {"/v/z.md", "/v/c.bin.md"}
    again.close()


def test_a_keyed_reason_is_still_keyed_after_a_restart(tmp_path: Path) -> None:
    """A reason that was a keyed message comes back as that message (the window translates
    it), not only as its English; a plain reason comes back as it was."""
    from twin.messages import Msg, msg

    db = FileState(tmp_path / "f.sqlite3")
    db.put_many([
        record("/v/enc.pdf", "/v", 5, 1, "", "skipped", 0, msg("doc.pdf_broken", error="EOF marker not found")),
        record("/v/b.md", "/v", 5, 2, "h2", "error", 0, "permission denied"),
    ])
    db.close()
    db = FileState(tmp_path / "f.sqlite3", readonly=True)
    reasons = {r.path: r.reason for r in db.problems()}
    db.close()
    pdf = reasons["/v/enc.pdf"]
    assert isinstance(pdf, Msg) and pdf.key == "doc.pdf_broken" and pdf.params == {"error": "EOF marker not found"}
    assert pdf == "broken PDF (EOF marker not found)"
    assert reasons["/v/b.md"] == "permission denied" and not isinstance(reasons["/v/b.md"], Msg)


def test_a_database_from_before_keyed_reasons_opens_and_keeps_its_rows(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "f.sqlite3"
    old = sqlite3.connect(path)
    old.executescript("""
        CREATE TABLE files (path TEXT PRIMARY KEY, source TEXT NOT NULL, size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL, file_hash TEXT NOT NULL DEFAULT '', state TEXT NOT NULL,
            chunks INTEGER NOT NULL DEFAULT 0, reason TEXT NOT NULL DEFAULT '', indexed_at REAL NOT NULL);
        INSERT INTO files VALUES ('/v/a.md', '/v', 10, 1, 'h1', 'skipped', 0, 'binary file, not text', 1.0);
    """)
    old.close()
    reader = FileState(path, readonly=True)  # a reader (another process) before any writer upgraded it
    assert reader.get("/v/a.md").reason == "binary file, not text"
    reader.close()
    db = FileState(path)
    assert db.get("/v/a.md").reason == "binary file, not text"
    db.put_many([record("/v/b.md", "/v", 1, 1, "", "skipped", 0, "x")])
    assert set(db.all()) == {"/v/a.md", "/v/b.md"}
    db.close()
