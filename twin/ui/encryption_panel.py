"""Encryption at rest in the window: passphrase fields, the settings section, the wizard page.

Turning encryption on from the window writes the key file at once (marked ``enabling``,
:func:`twin.app.encryption_switch.prepare_enable`); the data is converted at the next start,
right after the unlock dialog takes the passphrase, because the running app has its
databases open. Changing the passphrase only rewraps the key: it works at any time.
"""

from __future__ import annotations

import logging

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from PySide6.QtCore import QCoreApplication, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from twin.app.background import Background
from twin.app.encryption_switch import change_passphrase, prepare_enable
from twin.app.vault_service import Vault
from twin.core.crypto import MIN_PASSPHRASE, CryptoError
from twin.paths import Paths
from twin.ui.i18n import shown
from twin.ui.jobs import Delivery, submit_off_gui

log = logging.getLogger("twin.ui")

#: What encryption covers and leaves, for the window (the README and `twin encrypt status`
#: say the same).
def explanation() -> str:
    return QCoreApplication.translate(
        "EncryptionPanel",
        "With a passphrase, twin encrypts what it stores about you: your conversations, the text "
        "of your memory index and your profile (AES-256-GCM, key derived with Argon2id). Without "
        "the passphrase nobody can read them, and neither can you: if you lose it, the "
        "conversations are gone (the index can be rebuilt from your folders).\n\n"
        "Stays readable: file names and paths, dates, sizes and counts, and the embedding "
        "vectors (numbers from which the topic of a passage could be roughly guessed). Your own "
        "diary folders, notes remembered from chats and copies of dropped documents are plain "
        "files twin indexes: use full-disk encryption for them.")


def _password_field(placeholder: str) -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setPlaceholderText(placeholder)
    return field


class PassphraseFields(QWidget):
    """A new passphrase typed twice, with an inline problem label."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.first = _password_field(self.tr("at least %n characters", "", MIN_PASSPHRASE))
        self.second = _password_field(self.tr("the same again"))
        form.addRow(self.tr("Passphrase"), self.first)
        form.addRow(self.tr("Repeat"), self.second)
        self.problem = QLabel("")
        self.problem.setStyleSheet("color: #c0392b;")
        self.problem.setWordWrap(True)
        form.addRow("", self.problem)

    def value(self) -> str | None:
        """The passphrase; None (and a shown problem) if it is unusable; "" if left empty."""
        a, b = self.first.text(), self.second.text()
        if not a and not b:
            self.problem.setText("")
            return ""
        if a != b:
            self.problem.setText(self.tr("The two passphrases differ."))
            return None
        if len(a) < MIN_PASSPHRASE:
            self.problem.setText(self.tr("Use at least %n characters.", "", MIN_PASSPHRASE))
            return None
        self.problem.setText("")
        return a


def _failure_shown(job: Future[Any], fields: PassphraseFields, what: str) -> BaseException | None:
    """A key job's error, shown under ``fields`` (a wrong passphrase, a short one…) and logged
    when it is not a crypto error the user can fix; None when the job succeeded."""
    error = job.exception()
    if error is not None:
        if not isinstance(error, CryptoError):
            log.error("%s", what, exc_info=error)
        fields.problem.setText(shown(error))
    return error


class EncryptionPage(QWizardPage):
    """First-run page: strongly suggests a passphrase; leaving it empty skips encryption."""

    def __init__(self, paths: Paths, parent: QWidget | None = None):
        super().__init__(parent)
        self.paths = paths
        self.setTitle(self.tr("Protect your data with a passphrase (recommended)"))
        layout = QVBoxLayout(self)
        text = QLabel(explanation() + "\n\n" + self.tr(
            "twin finishes encrypting when it next starts (restart it after this wizard). Leave both "
            "fields empty to skip: the settings (Privacy) or `twin encrypt enable` can turn it on later."))
        text.setWordWrap(True)
        layout.addWidget(text)
        self.fields = PassphraseFields()
        layout.addWidget(self.fields)
        self.fields.first.textChanged.connect(lambda _: self.completeChanged.emit())
        self.fields.second.textChanged.connect(lambda _: self.completeChanged.emit())
        self._delivery = Delivery(self)

    def isComplete(self) -> bool:
        a, b = self.fields.first.text(), self.fields.second.text()
        return (not a and not b) or (a == b and len(a) >= MIN_PASSPHRASE)

    def apply(self, background: Background | None, on_done: Callable[[bool], None]) -> None:
        """Write the key file if a passphrase was given, then ``on_done(True)`` (on the GUI
        thread); ``on_done(False)`` when skipped or it failed. Deriving the key (Argon2id) is
        a second of CPU: it runs on the pool, never on the GUI thread."""
        passphrase = self.fields.value()
        if not passphrase:
            on_done(False)
            return

        def landed(job: Future[Any]) -> None:
            on_done(_failure_shown(job, self.fields, "could not set up encryption") is None)

        paths = self.paths  # the job refers to no widget (twin.ui.jobs)
        self._delivery.deliver(submit_off_gui(background, lambda: prepare_enable(paths, passphrase)), landed)


class EncryptionBox(QGroupBox):
    """Settings section: status, what stays readable, turn on / change the passphrase.

    Signals:
        done(): an action (turn on, change the passphrase) ended and the section shows its outcome.
    """

    done = Signal()

    def __init__(self, paths: Paths, parent: QWidget | None = None, *, background: Background | None = None):
        super().__init__(parent)
        self.setTitle(self.tr("Encryption at rest"))
        self.paths = paths
        self.background = background  # the app's pool (None: a pool of its own per action)
        self._delivery = Delivery(self)
        layout = QVBoxLayout(self)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        about = QLabel(explanation())
        about.setWordWrap(True)
        layout.addWidget(about)
        self.old = _password_field(self.tr("current passphrase"))
        layout.addWidget(self.old)
        self.fields = PassphraseFields()
        layout.addWidget(self.fields)
        self.button = QPushButton("")
        self.button.clicked.connect(self.act)
        layout.addWidget(self.button)
        self.refresh()

    def refresh(self) -> None:
        kf = Vault(self.paths).key_file()
        on = kf is not None
        if kf is None:
            self.status.setText(self.tr("Off: your conversations and index are stored as plain text."))
        elif kf.status == "enabling":
            self.status.setText(self.tr("Being turned on: restart twin to finish (the passphrase is asked at start)."))
        else:
            self.status.setText(self.tr("On."))
        self.old.setVisible(on)
        self.fields.setVisible(kf is None or kf.status == "on")
        self.button.setVisible(kf is None or kf.status == "on")
        self.button.setText(self.tr("Change passphrase") if on else self.tr("Encrypt my data"))

    def act(self) -> None:
        """Turn encryption on or change the passphrase. The key derivation (Argon2id, about a
        second of CPU, twice for a change) runs on the pool; the button waits, then :attr:`done`."""
        new = self.fields.value()
        if not new:
            if new == "":
                self.fields.problem.setText(self.tr("Type the new passphrase twice."))
            return
        old = self.old.text()
        self.old.clear()
        paths = self.paths  # the job refers to no widget (twin.ui.jobs)
        changing = Vault(paths).enabled

        def work() -> None:
            if changing:
                change_passphrase(paths, old, new)
            else:
                prepare_enable(paths, new)

        self.button.setEnabled(False)
        self.fields.problem.setText(self.tr("Working…"))
        self._delivery.deliver(submit_off_gui(self.background, work), lambda job: self._acted(job, changing))

    def _acted(self, job: Future[Any], changing: bool) -> None:
        self.button.setEnabled(True)
        if _failure_shown(job, self.fields, "encryption action failed") is None:
            self.fields.problem.setText(self.tr("Passphrase changed.") if changing else "")
            self.fields.first.clear()
            self.fields.second.clear()
            self.refresh()
        self.done.emit()
