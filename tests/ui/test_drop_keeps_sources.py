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
    wait(run_until, 0.5)  # the drop's reply, if it comes after the "indexed" event
    assert not shell.window.statusBar().currentMessage().startswith("Indexing")  # done: not stuck on it
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
