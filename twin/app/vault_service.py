"""Encryption at rest, for the app: the lock state and the data key (:class:`Vault`).

:class:`Vault` is the one object that knows whether the data dir is encrypted
(``data_dir/keys.json`` exists) and holds the data key while unlocked. The memory engine and
the conversations database ask it for their codec (:meth:`Vault.codec`); other features that
write user text into the data dir use :meth:`Vault.encode_bytes` / :meth:`Vault.decode_bytes`
(the profile's storage hooks) or :meth:`Vault.write_text` / :meth:`Vault.read_text`.

Turning encryption on and off (converting what exists) is :mod:`twin.app.encryption_switch`.
"""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from twin.atomic import write_atomic
from twin.core.crypto import (
    PLAIN,
    Codec,
    CryptoError,
    KeyFile,
    Keys,
    SealedCodec,
    TamperedData,
    VaultLocked,
)
from twin.paths import Paths
from twin.messages import msg

if TYPE_CHECKING:
    from twin.app.container import Memory
    from twin.settings import Settings

log = logging.getLogger("twin.vault")

KEY_FILE = "keys.json"
#: Environment variable scripts and tests use to give the passphrase.
PASSPHRASE_ENV = "TWIN_PASSPHRASE"
#: Marks a sealed file (or one sealed line of a ``.jsonl``).
FILE_PREFIX = b"\x01twin-e1:"

LOCKED_MESSAGE = (
    "twin's data is encrypted and locked. Give the passphrase when asked (run in a terminal), "
    f"or set {PASSPHRASE_ENV} for scripts."
)


def env_passphrase() -> str | None:
    """The passphrase from :data:`PASSPHRASE_ENV`, if set."""
    value = os.environ.get(PASSPHRASE_ENV)
    return value if value else None


class Vault:
    """The data dir's encryption state and, while unlocked, its key.

    Args:
        paths: twin's folders (the key file is ``data_dir/keys.json``).
        ask: called for the passphrase when data is needed while locked (the CLI prompts on
            the terminal); returns None to stay locked. Default: :func:`env_passphrase`.
    """

    def __init__(self, paths: Paths, ask: Callable[[], str | None] | None = None):
        self.paths = paths
        self.key_path = paths.data_dir / KEY_FILE
        self._ask = ask if ask is not None else env_passphrase
        self._keys: Keys | None = None
        self._lock_listeners: list[Callable[[], None]] = []

    # -- state ------------------------------------------------------------------------------

    @classmethod
    def from_key(cls, paths: Paths, dek: bytes | None) -> Vault:
        """A vault already unlocked with ``dek`` (the memory engine's child process gets the
        data key from the window that way, over its private pipe), or a plain one."""
        vault = cls(paths, ask=lambda: None)
        if dek is not None:
            vault._keys = Keys(dek)
        return vault

    @property
    def dek(self) -> bytes | None:
        """The data key while unlocked (only to hand to the memory child process)."""
        return self._keys.dek if self._keys is not None else None

    def key_file(self) -> KeyFile | None:
        return KeyFile.load(self.key_path)

    @property
    def enabled(self) -> bool:
        """Whether the data dir is encrypted (a key file exists)."""
        return self.key_path.exists()

    @property
    def unlocked(self) -> bool:
        return self._keys is not None

    @property
    def locked(self) -> bool:
        return self.enabled and self._keys is None

    def unlock(self, passphrase: str) -> None:
        """Open the key file with ``passphrase``.

        Raises:
            WrongPassphrase: nothing was read or changed.
            CryptoError: the key file is damaged, or a conversion was interrupted (the message
                says which command finishes it).
        """
        kf = self.key_file()
        if kf is None:
            return
        keys = kf.unlock(passphrase)
        if kf.status != "on":
            action = "enable" if kf.status == "enabling" else "disable"
            raise CryptoError(msg("crypto.enable_interrupted" if action == "enable" else "crypto.disable_unfinished"))
        self._keys = keys
        log.info("data unlocked")

    def lock(self) -> None:
        """Forget the key (callers close their data handles first)."""
        if self._keys is not None:
            self._keys = None
            log.info("data locked")
            for fn in list(self._lock_listeners):
                fn()

    def on_lock(self, fn: Callable[[], None]) -> None:
        self._lock_listeners.append(fn)

    def unlock_with(self, keys: Keys) -> None:
        """Unlocked with keys the caller already opened (the encryption switch, which unlocked
        the key file itself to convert the data)."""
        self._keys = keys
        log.info("data unlocked")

    def ensure_unlocked(self) -> None:
        """Unlock with the ``ask`` callback if needed; :class:`VaultLocked` if it gives none."""
        if not self.locked:
            return
        passphrase = self._ask()
        if not passphrase:
            raise VaultLocked(LOCKED_MESSAGE)
        self.unlock(passphrase)

    def codec(self) -> Codec:
        """The codec stores must use now: plain when off, sealed when unlocked.

        Raises:
            VaultLocked: encrypted, and the ``ask`` callback gave no passphrase.
            WrongPassphrase: it gave a wrong one.
        """
        if not self.enabled:
            return PLAIN
        self.ensure_unlocked()
        assert self._keys is not None
        return SealedCodec(self._keys)

    # -- files ------------------------------------------------------------------------------

    def encode_bytes(self, data: bytes) -> bytes:
        """The bytes to write for a file with user content: sealed while encryption is on
        (one line of ASCII, no newline: safe per line of a ``.jsonl``), else ``data``.

        This and :meth:`decode_bytes` are the ``encode``/``decode`` hooks of
        :class:`twin.core.profile.storage.ProfileFiles`.
        """
        if not self.enabled:
            return data
        codec = self.codec()
        assert isinstance(codec, SealedCodec)
        return FILE_PREFIX + base64.b64encode(codec.keys.seal(data, "file"))

    def decode_bytes(self, data: bytes) -> bytes:
        """What :meth:`encode_bytes` was given. Plain bytes (written while encryption was
        off) pass through; sealed bytes need the key (:class:`VaultLocked` otherwise)."""
        if not data.startswith(FILE_PREFIX):
            return data
        codec = self.codec()
        if not isinstance(codec, SealedCodec):
            raise CryptoError(msg("crypto.sealed_but_off"))
        try:
            blob = base64.b64decode(data[len(FILE_PREFIX):].strip(), validate=True)
        except ValueError:
            raise TamperedData("an encrypted file is damaged") from None
        return codec.keys.open(blob, "file")

    def write_text(self, path: Path, text: str) -> None:
        """Write a text file with user content, atomically, through :meth:`encode_bytes`."""
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, self.encode_bytes(text.encode("utf-8")))

    def read_text(self, path: Path) -> str:
        """The text :meth:`write_text` wrote (FileNotFoundError if none)."""
        return self.decode_bytes(path.read_bytes()).decode("utf-8")


def vault_memory_factory(paths: Paths, dek: bytes | None) -> Callable[[Settings, Paths], Memory]:
    """A ``Memory`` factory whose stores use ``dek`` (plain Memory when ``dek`` is None)."""
    from twin.app.container import Memory

    if dek is None:
        return Memory
    vault = Vault.from_key(paths, dek)

    def make(settings: Settings, p: Paths) -> Memory:
        return Memory(settings, p, vault)

    return make
