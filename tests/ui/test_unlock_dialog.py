"""The unlock dialog: a wrong passphrase shows an inline error and changes nothing; the right
one unlocks the vault; the window then reads the encrypted conversations."""

from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import Qt

from tests.ui.gui_thread import conversation_title, create_conversation, elsewhere
from twin.app import encryption_switch, vault_service
from twin.core.crypto import KdfParams
from twin.paths import resolve_paths
from twin.ui.unlock_dialog import UnlockDialog

PASS = "a long enough passphrase"


def _digest(root: Path) -> dict[str, str]:
    return {str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(root.rglob("*")) if f.is_file()}


def test_wrong_then_right_passphrase(qtbot, twin_home: Path) -> None:  # type: ignore[no-untyped-def]
    paths = resolve_paths({"TWIN_HOME": str(twin_home)}).ensure()
    unlocked = elsewhere(encryption_switch.enable, paths, PASS, kdf=KdfParams.cheap())
    cid = elsewhere(create_conversation, paths, unlocked.codec(), "secret title")  # the test's own write
    before = _digest(paths.data_dir)

    vault = vault_service.Vault(paths)
    dialog = UnlockDialog(vault)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.passphrase, "not it at all")
    qtbot.keyClick(dialog.passphrase, Qt.Key.Key_Return)
    assert dialog.isVisible() and not dialog.error.isHidden()
    assert "Wrong passphrase" in dialog.error.text() and vault.locked
    assert _digest(paths.data_dir) == before

    dialog.passphrase.clear()
    qtbot.keyClicks(dialog.passphrase, PASS)
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        qtbot.keyClick(dialog.passphrase, Qt.Key.Key_Return)
    assert vault.unlocked and dialog.passphrase.text() == ""
    assert elsewhere(conversation_title, paths, vault.codec(), cid) == "secret title"


def test_empty_passphrase_is_an_inline_error(qtbot, twin_home: Path) -> None:  # type: ignore[no-untyped-def]
    paths = resolve_paths({"TWIN_HOME": str(twin_home)}).ensure()
    elsewhere(encryption_switch.enable, paths, PASS, kdf=KdfParams.cheap())
    dialog = UnlockDialog(vault_service.Vault(paths))
    qtbot.addWidget(dialog)
    dialog.try_unlock()
    assert dialog.error.text() == "Enter the passphrase." and dialog.result() == 0
