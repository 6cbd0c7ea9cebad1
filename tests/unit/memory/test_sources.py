"""Which files are indexed: filters and a walk that survives loops and unreadable folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from twin.core.memory.sources import FileFilter, source_of, walk_sources

EXT = [".md", ".markdown", ".txt", ".pdf", ".docx", ".html"]


@pytest.mark.parametrize(
    "rel, ok",
    [
        ("2024-03-15.md", True),
        ("notes/idea.markdown", True),
        ("a/b/c.TXT", True),
        ("image.png", False),
        (".git/HEAD.md", False),
        (".obsidian/workspace.md", False),
        (".trash/old.md", False),
        ("sub/.hidden/x.md", False),
        (".hidden.md", False),
        ("note.md.swp", False),
        (".note.md.swp", False),
        ("note.md~", False),
        (".#note.md", False),
        ("#note.md#", False),
        ("draft.tmp", False),
        ("~$report.docx", False),
        (".~lock.report.docx#", False),
        ("node_modules/x.md", False),
    ],
)
def test_default_filter(rel: str, ok: bool) -> None:
    assert FileFilter(EXT).accepts(rel) is ok


def test_user_exclusions() -> None:
    f = FileFilter(EXT, exclude=["private/**", "*.draft.md", "**/secret*"])
    assert not f.accepts("private/a.md")
    assert not f.accepts("private/deep/b.md")
    assert not f.accepts("x/y.draft.md")
    assert not f.accepts("x/secret-plans.md")
    assert f.accepts("public/a.md")
    assert f.skip_dir("private", "private")


def test_index_hidden_still_skips_tool_folders() -> None:
    f = FileFilter(EXT, index_hidden=True)
    assert f.accepts(".hidden/x.md")
    assert not f.accepts(".git/x.md")


def test_source_of_picks_deepest(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "a" / "b"
    assert source_of(b / "x.md", [a, b]) == b
    assert source_of(tmp_path / "z.md", [a, b]) is None


def test_walk_survives_symlink_loops_and_unreadable_dirs(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    (root / "sub").mkdir(parents=True)
    (root / "one.md").write_text("one")
    (root / "sub" / "two.md").write_text("two")
    (root / "sub" / "loop").symlink_to(root)  # folder loop
    (root / "self.md").symlink_to(root / "self.md")  # file loop (ELOOP)
    (root / "dangling.md").symlink_to(root / "missing.md")
    locked = root / "locked"
    locked.mkdir()
    (locked / "x.md").write_text("x")
    locked.chmod(0)
    errors: list[tuple[Path, str]] = []
    try:
        found = sorted(f.path.name for f in walk_sources([root], FileFilter(EXT), lambda p, w: errors.append((p, w))))
    finally:
        locked.chmod(0o755)
    assert found[:2] == ["one.md", "two.md"]
    reasons = {p.name: w for p, w in errors}
    assert reasons["self.md"] == "symlink loop"
    assert "dangling.md" in reasons
    if os.geteuid() != 0:  # root reads anything
        assert reasons["locked"] == "permission denied"
    else:
        assert "x.md" in found
