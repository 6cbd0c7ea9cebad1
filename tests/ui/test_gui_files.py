"""``twin-gui FILE…`` (the .desktop entry's ``%F``, "Open with twin"): the files are dropped
into the window as a drag would; a name that does not exist is reported, never a crash;
``--tray`` starts hidden; ``--help`` works without a display."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer

from twin.ui import main as gui_main
from twin.ui.app_shell import TwinApp
from twin.ui.documents_flow import DocumentsFlow


def test_files_on_the_command_line_are_dropped_into_the_window(qapp: Any, monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path, thread_guard: None) -> None:
    note = tmp_path / "trip notes.md"
    note.write_text("# Trip\n\nWe walked along the river.\n", encoding="utf-8")
    folder = tmp_path / "diary"
    folder.mkdir()
    dropped: list[list[Path]] = []
    rejected: list[list[tuple[str, str]]] = []
    seen: dict[str, Any] = {}
    original = TwinApp.start

    def start(self: TwinApp, show: bool = True) -> None:
        original(self, show)
        seen["visible"] = self.window.isVisible()
        self.window.documents.show_messages = False
        self.window.documents.rejected.connect(rejected.append)
        QTimer.singleShot(800, lambda: self.tray.actions()["quit"].trigger())

    monkeypatch.setattr(TwinApp, "start", start)
    monkeypatch.setattr(DocumentsFlow, "dropped", lambda self, paths: dropped.append(list(paths)))
    monkeypatch.chdir(tmp_path)
    code = gui_main.main(["--fake", "--no-hotkey", "--tray", "trip notes.md", str(folder), "missing.md"])
    assert code == 0
    assert seen["visible"], "files asked for: the window shows even with --tray"
    assert dropped == [[note, folder]]
    assert rejected == [[(str(tmp_path / "missing.md"), "no such file or folder")]]


def test_tray_option_starts_hidden(qapp: Any, monkeypatch: pytest.MonkeyPatch, thread_guard: None) -> None:
    seen: dict[str, Any] = {}
    original = TwinApp.start

    def start(self: TwinApp, show: bool = True) -> None:
        original(self, show)
        seen["visible"] = self.window.isVisible()
        QTimer.singleShot(500, lambda: self.tray.actions()["quit"].trigger())

    monkeypatch.setattr(TwinApp, "start", start)
    assert gui_main.main(["--fake", "--no-hotkey", "--tray"]) == 0
    assert seen == {"visible": False}


def test_help_lists_files_and_tray_without_a_display(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = subprocess.run([sys.executable, "-c", "import sys; from twin.ui.main import main; sys.exit(main())",
                          "--help"], capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "FILE" in out.stdout and "--tray" in out.stdout


def test_a_second_twin_gui_hands_its_files_to_the_running_window(qapp: Any, monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path, thread_guard: None) -> None:
    """"Open with twin" while the window runs (e.g. autostarted in the tray): the second process
    sends the files over the local socket and exits at once; the first window takes them."""
    note = tmp_path / "letter.md"
    note.write_text("# Letter\n\nDear Anna, the garden is in bloom.\n", encoding="utf-8")
    dropped: list[list[Path]] = []
    second: dict[str, Any] = {}
    original = TwinApp.start

    def launch_second() -> None:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        second["proc"] = subprocess.Popen(
            [sys.executable, "-c", "import sys; from twin.ui.main import main; sys.exit(main())", "letter.md"],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def start(self: TwinApp, show: bool = True) -> None:
        original(self, show)
        second["visible_before"] = self.window.isVisible()
        QTimer.singleShot(200, launch_second)

        def check() -> None:  # quit once the file arrived (or after 60 s)
            if dropped or second.get("waited", 0) > 300:
                self.tray.actions()["quit"].trigger()
                return
            second["waited"] = second.get("waited", 0) + 1
            QTimer.singleShot(200, check)
        QTimer.singleShot(400, check)

    monkeypatch.setattr(TwinApp, "start", start)
    monkeypatch.setattr(DocumentsFlow, "dropped", lambda self, paths: dropped.append(list(paths)))
    assert gui_main.main(["--fake", "--no-hotkey", "--tray"]) == 0
    out, err = second["proc"].communicate(timeout=60)
    assert second["proc"].returncode == 0, err[-2000:]
    assert second["visible_before"] is False
    assert dropped == [[note]]
    log_text = (Path(os.environ["TWIN_HOME"]) / "logs" / "twin.log").read_text(encoding="utf-8")
    assert "handed 1 file(s) to the running window" in log_text
    assert "another twin-gui handed over 1 file(s)" in log_text
