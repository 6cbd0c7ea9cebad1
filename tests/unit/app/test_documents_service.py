"""DocumentsService: what a drop does (copy, re-index, new folders, rejections) and attachments."""

from __future__ import annotations

from pathlib import Path

from twin.app.documents_service import DocumentsService, attach_text, split_attachment
from twin.core.memory.sources import FileFilter

EXTS = [".md", ".txt", ".pdf"]


def make(tmp_path: Path) -> tuple[DocumentsService, Path, Path]:
    inbox, source = tmp_path / "inbox", tmp_path / "notes"
    source.mkdir()
    return DocumentsService(inbox, FileFilter(EXTS)), inbox, source


def test_loose_files_are_copied_and_unsupported_ones_rejected(tmp_path: Path) -> None:
    docs, inbox, source = make(tmp_path)
    a = tmp_path / "a.md"
    a.write_text("# A")
    (inbox).mkdir()
    (inbox / "a.md").write_text("older")
    png = tmp_path / "p.png"
    png.write_bytes(b"x")
    notified: list[tuple[str, Path]] = []
    result = docs.ingest([a, png, tmp_path / "gone.md"], "copy", [source, inbox], lambda k, p: notified.append((k, p)))
    assert result.queued == (inbox / "a (2).md",)  # never overwrites
    assert (inbox / "a (2).md").read_text() == "# A" and (inbox / "a.md").read_text() == "older"
    reasons = {r.path.name: r.reason for r in result.rejected}
    assert reasons["p.png"].startswith("unsupported file type .png") and reasons["gone.md"] == "not found"
    assert notified == [("changed", inbox / "a (2).md")]


def test_folders_copy_with_structure_or_become_sources_in_place(tmp_path: Path) -> None:
    docs, inbox, source = make(tmp_path)
    trip = tmp_path / "trip"
    (trip / "day1").mkdir(parents=True)
    (trip / "day1" / "x.md").write_text("x")
    (trip / "photo.jpg").write_bytes(b"x")
    copy = docs.plan([trip], "copy", [source])
    assert [(s.name, d.relative_to(inbox).as_posix()) for s, d in copy.copy] == [("x.md", "trip/day1/x.md")]
    in_place = docs.plan([trip], "in_place", [source])
    assert in_place.new_sources == (trip,) and not in_place.copy
    empty = tmp_path / "empty"
    empty.mkdir()
    assert docs.plan([empty], "copy", [source]).rejected[0].reason == "the folder holds no supported documents"


def test_files_already_in_a_source_are_reindexed_not_copied(tmp_path: Path) -> None:
    docs, _inbox, source = make(tmp_path)
    note = source / "n.md"
    note.write_text("n")
    for mode in ("copy", "in_place"):
        plan = docs.plan([note], mode, [source])
        assert plan.reindex == (note,) and not plan.copy


def test_attachments_round_trip_and_are_cut() -> None:
    text = attach_text("Summarize this", "report.txt", "x" * 100, max_chars=40)
    question, name = split_attachment(text)
    assert question == "Summarize this" and name == "report.txt"
    assert "[… cut: the document is 100 characters long]" in text
    assert split_attachment("plain question") == ("plain question", None)
