"""Drag and drop of real files onto the window: indexed (copy or in place), rejected, or attached."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from twin.core.llm.fake import FakeEngine


def drop(widget: Any, *paths: Path) -> None:
    """A synthetic drag of local files onto ``widget``, then the drop (what a file manager sends).

    Qt delivers a Drop only to a widget that accepted the drag's DragEnter, as in a real drag.
    """
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    args = (QPointF(200, 200), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(QPoint(200, 200), *args[1:])  # PySide6 6.11: DragEnter takes a QPoint
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted(), "the window refused the drag"
    assert widget.drop_zone.overlay.isVisible()
    QApplication.sendEvent(widget, QDropEvent(*args))
    assert not widget.drop_zone.overlay.isVisible()


def collect(signal: Any) -> list[Any]:
    seen: list[Any] = []
    signal.connect(lambda *args: seen.append(args[0] if len(args) == 1 else args))
    return seen


def test_dropped_documents_are_copied_indexed_and_cited(shell: Any, run_until: Any, tmp_path: Path,
                                                        fake_engine: FakeEngine) -> None:
    outside = tmp_path / "downloads"
    outside.mkdir()
    recipe = outside / "borscht.md"
    recipe.write_text("# Borscht\n\nGrandma's borscht: beetroot, cabbage, dill and a spoon of smetana.\n")
    bad = outside / "photo.png"
    bad.write_bytes(b"\x89PNG...")
    shell.ui_state.drop_mode = "copy"
    flow = shell.window.documents
    done, rejected = collect(flow.ingested), collect(flow.rejected)
    drop(shell.window, recipe, bad)
    run_until(lambda: done, what="the dropped document indexed")
    assert rejected and "unsupported file type .png" in rejected[0][0][1]
    inbox = shell.paths.inbox_dir
    assert (inbox / "borscht.md").read_text().startswith("# Borscht")
    assert str(inbox) in shell.controller.settings.memory.sources  # the inbox is a source folder now
    hits = shell.controller.memory.search("beetroot soup with dill", 3)
    assert hits and hits[0].path == str(inbox / "borscht.md")
    # ... and the next answer gets it as a source
    fake_engine.enqueue("Beetroot and dill [1].")
    w = shell.window
    w.pane.composer.edit.setPlainText("What goes into grandma's borscht?")
    w.pane.composer.submitted.emit(w.pane.composer.text())
    run_until(lambda: w.pane.turn is None and w.pane.view.last_answer() is not None)
    assert any(c.path == str(inbox / "borscht.md") for c in w.pane.view.last_answer().citations)
    assert "smetana" in fake_engine.requests[-1].text


def test_a_folder_dropped_in_place_becomes_a_watched_source(shell: Any, run_until: Any, tmp_path: Path) -> None:
    folder = tmp_path / "travel"
    folder.mkdir()
    (folder / "japan.md").write_text("# Japan\n\nKyoto in autumn: red maples at Tofuku-ji temple.\n")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    shell.ui_state.drop_mode = "in_place"
    flow = shell.window.documents
    done, problems = collect(flow.ingested), collect(flow.rejected)
    drop(shell.window, folder)
    run_until(lambda: done, what="the folder indexed")
    assert str(folder) in shell.controller.settings.memory.sources
    hits = shell.controller.memory.search("maple trees in Kyoto", 3)
    assert hits and hits[0].path == str(folder / "japan.md")
    assert not (shell.paths.inbox_dir / "japan.md").exists()  # indexed where it is
    # the unreadable PDF is reported with its reason, and listed in the memory panel
    assert problems and any("broken.pdf" in p and reason for p, reason in problems[0])
    run_until(lambda: shell.window.memory_panel.problems.topLevelItemCount() >= 1, what="the problems list")


def test_a_drop_while_typing_attaches_the_document_to_that_question(shell: Any, run_until: Any, tmp_path: Path,
                                                                    fake_engine: FakeEngine) -> None:
    doc = tmp_path / "report.txt"
    doc.write_text("Quarterly report. Revenue grew 12 percent; the Oslo office opened in March.")
    w = shell.window
    w.pane.composer.edit.setPlainText("Summarize this")
    attached = collect(w.documents.attached)
    drop(w, doc)
    run_until(lambda: attached, what="the attachment")
    assert [a.name for a in w.pane.composer.attachments] == ["report.txt"]
    fake_engine.enqueue("Revenue grew and Oslo opened.")
    w.pane.composer.submitted.emit(w.pane.composer.text())
    run_until(lambda: w.pane.turn is None and w.pane.view.last_answer() is not None)
    assert "Oslo office opened in March" in fake_engine.requests[-1].text
    question = w.pane.view.bubbles()[-2]
    assert question.attachment.isVisible() and "report.txt" in question.attachment.text()
    assert "Oslo" not in question.body.toPlainText()  # the bubble shows the question, the chip the file
    assert not w.pane.composer.attachments  # for that question only
    # not indexed: attaching is not remembering
    assert not (shell.paths.inbox_dir / "report.txt").exists()
