"""UnlockDialog: asks for the passphrase when twin's data is encrypted.

Shown by ``twin.ui.main`` before anything opens the data. A wrong passphrase shows an inline
error and changes nothing (the key file is only read); Cancel quits the app.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QEventLoop, QMetaObject, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from twin.app.encryption_switch import unlock_or_finish
from twin.app.vault_service import Vault
from twin.core.crypto import CryptoError
from twin.ui.i18n import shown
from twin.ui.jobs import submit_off_gui

log = logging.getLogger("twin.ui")


class UnlockDialog(QDialog):
    """Passphrase field, inline error, Unlock / Quit. Accepted once ``vault`` is unlocked."""

    def __init__(self, vault: Vault, parent: QWidget | None = None):
        super().__init__(parent)
        self.vault = vault
        self.setWindowTitle(self.tr("Unlock twin"))
        self.setModal(True)
        layout = QVBoxLayout(self)
        intro = QLabel(self.tr("Your conversations and memory index are encrypted.\n"
                               "Enter your passphrase to open them."))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setPlaceholderText(self.tr("Passphrase"))
        self.passphrase.setObjectName("unlock_passphrase")
        layout.addWidget(self.passphrase)
        self.error = QLabel("")
        self.error.setObjectName("unlock_error")
        self.error.setStyleSheet("color: #c0392b;")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QDialogButtonBox()
        self.unlock_button = buttons.addButton(self.tr("Unlock"), QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.tr("Quit"), QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.try_unlock)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.passphrase.returnPressed.connect(self.try_unlock)
        self.passphrase.setFocus(Qt.FocusReason.OtherFocusReason)

    def try_unlock(self) -> None:
        """Unlock with the typed passphrase; on failure show why and stay open."""
        text = self.passphrase.text()
        if not text:
            self._fail(self.tr("Enter the passphrase."))
            return
        try:
            # ~0.3 s of Argon2; when encryption was turned on in the window, the data is
            # converted now (before anything opens it): both on a worker thread.
            self.error.setText(self.tr("Unlocking…"))
            self.error.show()
            self._wait_for(lambda: unlock_or_finish(self.vault, text))
        except CryptoError as e:
            log.info("unlock failed: %s", e.__class__.__name__)
            self._fail(shown(e))
            return
        self.passphrase.clear()
        self.accept()

    def _wait_for(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on a worker thread while this dialog's own event loop keeps the window
        painted (its fields disabled); ``fn``'s exception is raised here."""
        # (HD: a reconstruction of HA's lost version, see /work/notes/HD-TO-HA-unlock_dialog.md)
        loop = QEventLoop(self)
        self.passphrase.setEnabled(False)
        self.unlock_button.setEnabled(False)
        try:
            job = submit_off_gui(None, fn)
            # the worker asks this thread's loop to end (a queued call: safe from any thread)
            job.add_done_callback(lambda _: QMetaObject.invokeMethod(loop, "quit", Qt.ConnectionType.QueuedConnection))
            if not job.done():
                loop.exec()
            job.result()
        finally:
            self.passphrase.setEnabled(True)
            self.unlock_button.setEnabled(True)

    def _fail(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()
        self.passphrase.selectAll()
        self.passphrase.setFocus()
