"""Encryption in the window: the first-run page and the settings section write the key file;
the next start's unlock dialog converts the data; a wrong passphrase changes nothing."""

from __future__ import annotations

from pathlib import Path

from tests.ui.gui_thread import conversation_title, create_conversation, elsewhere
from twin.app import vault_service
from twin.core.crypto import PLAIN, KeyFile
from twin.paths import resolve_paths
from twin.ui.encryption_panel import EncryptionBox, EncryptionPage
from twin.ui.unlock_dialog import UnlockDialog

PASS = "a long enough passphrase"


def test_settings_box_turns_on_then_unlock_finishes(qtbot, twin_home: Path) -> None:  # type: ignore[no-untyped-def]
    paths = resolve_paths({"TWIN_HOME": str(twin_home)}).ensure()
    cid = elsewhere(create_conversation, paths, PLAIN, "my secret trip")  # the test's own write
    box = EncryptionBox(paths)
    qtbot.addWidget(box)
    assert box.status.text().startswith("Off") and box.button.text() == "Encrypt my data"
    box.fields.first.setText(PASS)
    box.fields.second.setText(PASS + "x")
    box.act()  # refused before any work: no key derivation
    assert "differ" in box.fields.problem.text() and KeyFile.load(paths.data_dir / "keys.json") is None
    box.fields.second.setText(PASS)
    with qtbot.waitSignal(box.done, timeout=20000):  # the key derivation runs on a pool
        box.act()
        assert not box.button.isEnabled()
    assert box.button.isEnabled()
    kf = KeyFile.load(paths.data_dir / "keys.json")
    assert kf is not None and kf.status == "enabling" and "restart" in box.status.text()
    assert b"my secret trip" in paths.conversations_db.read_bytes()  # not converted yet

    dialog = UnlockDialog(vault_service.Vault(paths))
    qtbot.addWidget(dialog)
    dialog.passphrase.setText("wrong passphrase")
    dialog.try_unlock()
    assert "Wrong passphrase" in dialog.error.text()
    assert b"my secret trip" in paths.conversations_db.read_bytes()
    dialog.passphrase.setText(PASS)
    with qtbot.waitSignal(dialog.accepted, timeout=20000):
        dialog.try_unlock()
    assert b"my secret trip" not in paths.conversations_db.read_bytes()
    assert elsewhere(conversation_title, paths, dialog.vault.codec(), cid) == "my secret trip"

    box.refresh()
    assert box.status.text() == "On." and box.button.text() == "Change passphrase"
    box.old.setText(PASS)
    box.fields.first.setText("another passphrase")
    box.fields.second.setText("another passphrase")
    with qtbot.waitSignal(box.done, timeout=20000):
        box.act()
    assert box.fields.problem.text() == "Passphrase changed."
    elsewhere(vault_service.Vault(paths).unlock, "another passphrase")  # a key derivation: not here


def test_first_run_page_is_skippable(qtbot, twin_home: Path) -> None:  # type: ignore[no-untyped-def]
    paths = resolve_paths({"TWIN_HOME": str(twin_home)}).ensure()
    page = EncryptionPage(paths)
    qtbot.addWidget(page)
    outcomes: list[bool] = []
    assert page.isComplete()
    page.apply(None, outcomes.append)
    assert outcomes == [False]  # empty: skipped, at once
    page.fields.first.setText("short")
    assert not page.isComplete()
    page.fields.first.setText(PASS)
    page.fields.second.setText(PASS)
    assert page.isComplete()
    page.apply(None, outcomes.append)  # the key derivation runs off the GUI thread (strict here)
    qtbot.waitUntil(lambda: len(outcomes) == 2, timeout=20000)
    assert outcomes == [False, True]
    assert vault_service.Vault(paths).enabled


def test_a_wrong_current_passphrase_is_said_and_the_section_keeps_working(qtbot, twin_home: Path) -> None:  # type: ignore[no-untyped-def]
    from twin.app.encryption_switch import enable

    paths = resolve_paths({"TWIN_HOME": str(twin_home)}).ensure()
    elsewhere(enable, paths, PASS)
    box = EncryptionBox(paths)
    qtbot.addWidget(box)
    box.old.setText("not the passphrase")
    box.fields.first.setText("another passphrase")
    box.fields.second.setText("another passphrase")
    with qtbot.waitSignal(box.done, timeout=20000):
        box.act()
    assert "passphrase" in box.fields.problem.text().lower() and box.button.isEnabled()
    assert box.old.text() == "" and box.fields.first.text() == "another passphrase"  # kept to retry
    elsewhere(vault_service.Vault(paths).unlock, PASS)  # unchanged
