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
