"""``twin-gui`` itself: main() runs the app on a qasync loop and returns 0 after Quit."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from PySide6.QtCore import QTimer

from twin.ui import main as gui_main
from twin.ui.app_shell import TwinApp


def test_main_starts_the_window_and_quits_cleanly(qapp: Any, monkeypatch: pytest.MonkeyPatch,
                                                  thread_guard: None) -> None:
    seen: dict[str, Any] = {}
    original = TwinApp.start
    before = set(threading.enumerate())  # earlier tests' engines may still idle in the process

    def start(self: TwinApp, show: bool = True) -> None:
        original(self, show)
        seen["visible"] = self.window.isVisible()
        seen["first_run"] = self.first_run
        QTimer.singleShot(1500, lambda: self.tray.actions()["quit"].trigger())  # Quit from the tray menu

    monkeypatch.setattr(TwinApp, "start", start)
    assert gui_main.main(["--fake", "--no-hotkey"]) == 0
    assert seen == {"visible": True, "first_run": True}
    assert not [t for t in threading.enumerate() if t.name.startswith("twin-") and t not in before]
