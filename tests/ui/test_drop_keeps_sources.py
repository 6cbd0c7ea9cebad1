"""A drop that adds a watched folder (in place) or the inbox (copies) is saved in settings.toml:
after a restart the folder is still watched; and once it is indexed the status bar does not stay
on "Indexing…" (both found by the installed-wheel first-run test)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from test_documents_drop import collect, drop

from twin.settings import load_settings


def wait(run_until: Any, seconds: float) -> None:
    end = time.monotonic() + seconds
    run_until(lambda: time.monotonic() > end, seconds + 5)


def test_dropped_folder_and_inbox_stay_sources_after_a_restart(shell: Any, run_until: Any, tmp_path: Path) -> None:
    folder = tmp_path / "travel"
    folder.mkdir()
    (folder / "japan.md").write_text("# Japan\n\nKyoto in autumn: red maples at Tofuku-ji temple.\n")
    settings_file = shell.paths.settings_file
    shell.ui_state.drop_mode = "in_place"
    done = collect(shell.window.documents.ingested)
    drop(shell.window, folder)
    run_until(lambda: done, what="the folder added")
    run_until(lambda: settings_file.exists() and str(folder) in load_settings(settings_file).memory.sources,
              what="the folder saved")
    loose = tmp_path / "loose.md"
    loose.write_text("# Loose\n\nA note dropped on its own.\n")
    shell.ui_state.drop_mode = "copy"
    drop(shell.window, loose)
    run_until(lambda: len(done) == 2, what="the copy added")
    run_until(lambda: str(shell.paths.inbox_dir) in load_settings(settings_file).memory.sources,
              what="the inbox saved")
    assert str(folder) in load_settings(settings_file).memory.sources  # still there


def test_status_after_a_drop_whose_indexed_event_beats_its_reply(shell: Any, run_until: Any, tmp_path: Path,
                                                                 monkeypatch: Any) -> None:
    """The memory engine may report "indexed" before the drop's own reply arrives: the status
    bar must end on "Added…", not on "Indexing…" (which stayed, as the installed app showed)."""
    from twin.app.documents_service import IngestResult
    from twin.ui.memory_host import DropOutcome

    folder = tmp_path / "ready"
    folder.mkdir()
    outcome = DropOutcome(IngestResult(queued=(), new_sources=(folder,), rejected=()))
    memory = shell.controller.memory

    async def add_documents(paths: Any, mode: str) -> DropOutcome:
        memory.documents_indexed.emit(outcome)  # the event first…
        return outcome  # …then the reply

    monkeypatch.setattr(shell.controller, "add_documents", add_documents)
    shell.ui_state.drop_mode = "in_place"
    done = collect(shell.window.documents.ingested)
    drop(shell.window, folder)
    run_until(lambda: done, what="the drop reported")
    wait(run_until, 0.3)
    assert shell.window.statusBar().currentMessage().startswith("Added 1 folder"), \
        shell.window.statusBar().currentMessage()
