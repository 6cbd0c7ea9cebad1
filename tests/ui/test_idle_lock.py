"""The idle lock and the unlock dialog in ``twin-gui`` itself: with encryption on, main()
asks for the passphrase before building the window (a wrong one is refused inline), and
after idle time the window closes its data, the key is forgotten, and the dialog asks again."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests.ui.gui_thread import elsewhere
from twin.app import encryption_switch
from twin.core.crypto import KdfParams
from twin.paths import resolve_paths
from twin.ui import main as gui_main
from twin.ui.app_shell import TwinApp
from twin.ui.idle_lock import IdleWatcher
from twin.ui.unlock_dialog import UnlockDialog

PASS = "a long enough passphrase"


def test_idle_watcher_fires_only_without_input(qtbot: Any) -> None:
    from PySide6.QtWidgets import QLineEdit

    field = QLineEdit()
    qtbot.addWidget(field)
    field.show()
    watcher = IdleWatcher(0.4)
    fired: list[bool] = []
    watcher.idle.connect(lambda: fired.append(True))
    for _ in range(4):  # typing keeps it awake
        qtbot.wait(200)
        QTest.keyClick(field, Qt.Key.Key_A)
    assert not fired
    qtbot.waitUntil(lambda: bool(fired), timeout=3000)
    watcher.stop()


def _type_into_dialog(passphrase: str, seen: list[str], then: Any = None) -> None:
    """Wait for an unlock dialog, type ``passphrase``, then run ``then`` (the next step), so
    the steps never race each other however slow the machine is."""
    dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, UnlockDialog) and w.isVisible()]
    dialog = dialogs[0] if dialogs else None
    if dialog is None:
        QTimer.singleShot(100, lambda: _type_into_dialog(passphrase, seen, then))
        return
    seen.append(f"dialog(unlocked={dialog.vault.unlocked})")
    dialog.passphrase.setText(passphrase)
    dialog.try_unlock()
    if dialog.isVisible():
        seen.append("refused: " + dialog.error.text())
    if then is not None:
        QTimer.singleShot(50, then)


@pytest.mark.timeout(180)  # a step that never happens fails here instead of hanging the run
def test_main_unlocks_then_locks_when_idle(qapp: Any, monkeypatch: pytest.MonkeyPatch, twin_home: Any,
                                           thread_guard: None) -> None:
    paths = resolve_paths()
    elsewhere(encryption_switch.enable, paths.ensure(), PASS, kdf=KdfParams.cheap())  # a key derivation
    seen: list[str] = []
    starts: list[TwinApp] = []
    original = TwinApp.start
    before = set(threading.enumerate())

    def start(self: TwinApp, show: bool = True) -> None:
        original(self, show)
        starts.append(self)
        seen.append(f"window(unlocked={self.controller.vault.unlocked})")
        if len(starts) == 1:
            QTimer.singleShot(200, lambda: _type_into_dialog(PASS, seen))  # the lock's dialog
        else:
            QTimer.singleShot(1000, lambda: self.tray.actions()["quit"].trigger())

    def idle_lock(shell: Any, settings: Any, vault: Any) -> Any:
        assert gui_main._idle_lock.__name__ == "idle_lock"
        if starts:  # the second window quits by the tray instead
            return None
        watcher = IdleWatcher(1.0, parent=shell)  # 1 s instead of minutes
        watcher.idle.connect(shell.lock)
        return watcher

    monkeypatch.setattr(TwinApp, "start", start)
    monkeypatch.setattr(gui_main, "_idle_lock", idle_lock)
    QTimer.singleShot(200, lambda: _type_into_dialog("wrong passphrase", seen,
                                                      then=lambda: _type_into_dialog(PASS, seen)))
    assert gui_main.main(["--fake", "--no-hotkey"]) == 0
    refused = "refused: Wrong passphrase: the data stays locked and nothing was changed."
    assert seen[:3] == ["dialog(unlocked=False)", refused, "dialog(unlocked=False)"]
    assert seen[3:] == ["window(unlocked=True)", "dialog(unlocked=False)", "window(unlocked=True)"]
    assert len(starts) == 2 and starts[0].lock_requested and not starts[1].lock_requested
    assert not [t for t in threading.enumerate() if t.name.startswith("twin-") and t not in before]
