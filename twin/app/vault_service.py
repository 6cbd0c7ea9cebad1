"""Encryption at rest, for the app: lock state, unlocking, and turning encryption on and off.

:class:`Vault` is the one object that knows whether the data dir is encrypted
(``data_dir/keys.json`` exists) and holds the data key while unlocked. The memory engine and
the conversations database ask it for their codec (:meth:`Vault.codec`); other features that
write user text into the data dir use :meth:`Vault.encode_bytes` / :meth:`Vault.decode_bytes`
(the profile's storage hooks) or :meth:`Vault.write_text` / :meth:`Vault.read_text`.

Turning encryption on (:func:`enable`) or off (:func:`disable`) converts what exists:

1. the key file is written first, marked ``enabling``/``disabling`` (so the data key is never
   lost, whatever happens next);
2. the conversations database is rewritten in ONE transaction (each value that is not yet in
   the target form is converted, so a rerun after a crash finishes the job), then its FTS
   index is optimised and the file vacuumed, so no old page keeps plaintext;
3. the memory index is copied row by row into ``index.converting`` with the new codec
   (vectors are kept: nothing is re-embedded), then swapped in and the old folder deleted;
4. the key file is marked ``on`` (or deleted, for :func:`disable`).

Files deleted or rewritten may survive in the disk's free blocks (SSD wear levelling,
journaling file systems); only full-disk encryption covers that, and the README says so.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from twin.atomic import write_atomic
from twin.core.crypto import (
    PLAIN,
    Codec,
    CryptoError,
    KdfParams,
    KeyFile,
    Keys,
    SealedCodec,
    TamperedData,
    VaultLocked,
)
from twin.paths import Paths

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
            raise CryptoError(f"Turning encryption {'on' if action == 'enable' else 'off'} was "
                              f"interrupted: run `twin encrypt {action}` again to finish it.")
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
            raise CryptoError("An encrypted file was found but encryption is off.")
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


# -- turning encryption on and off ------------------------------------------------------------


def enable(paths: Paths, passphrase: str, *, kdf: KdfParams | None = None) -> Vault:
    """Encrypt the data dir under ``passphrase`` (or finish an interrupted enable).

    Returns:
        The vault, unlocked.
    """
    vault = Vault(paths)
    kf = vault.key_file()
    if kf is not None and kf.status == "on":
        raise CryptoError("Encryption is already on (twin encrypt change-passphrase changes the passphrase).")
    if kf is not None and kf.status == "disabling":
        raise CryptoError("Turning encryption off was interrupted: run `twin encrypt disable` to finish it first.")
    # No backup here: one made now would keep the plaintext we are about to remove. The
    # conversion is crash-safe instead (key file first, idempotent steps, index swapped in).
    if kf is None:
        kf, keys = KeyFile.create(passphrase, kdf)
        kf.save(vault.key_path)  # first: whatever happens next, the key is on disk
        log.info("encryption: key file written, converting data")
    else:
        keys = kf.unlock(passphrase)  # resuming
    codec = SealedCodec(keys)
    with _writer(paths):
        _convert_conversations(paths, PLAIN, codec)
        renames = _convert_own_files(paths, keys, encrypt=True)
        _convert_index(paths, PLAIN, codec, renames)
        _convert_files(paths, keys, encrypt=True)
    kf.with_status("on").save(vault.key_path)
    vault._keys = keys
    log.info("encryption on")
    return vault


def prepare_enable(paths: Paths, passphrase: str, *, kdf: KdfParams | None = None) -> None:
    """Write the key file, marked ``enabling``, without converting anything yet.

    For the window, whose open stores cannot be converted under its feet: the conversion
    runs at the next start, right after the passphrase is given (:func:`unlock_or_finish`).
    """
    path = paths.data_dir / KEY_FILE
    if path.exists():
        raise CryptoError("Encryption is already on (or being turned on).")
    kf, _ = KeyFile.create(passphrase, kdf)
    kf.save(path)
    log.info("encryption prepared: the data is converted at the next start")


def unlock_or_finish(vault: Vault, passphrase: str) -> None:
    """Unlock ``vault``; when turning encryption on was started but not finished (by the
    window, or an interrupted ``twin encrypt enable``), finish it first."""
    kf = vault.key_file()
    if kf is not None and kf.status == "enabling":
        kf.unlock(passphrase)  # a wrong passphrase stops here, before anything is touched
        enable(vault.paths, passphrase)
    vault.unlock(passphrase)


def disable(paths: Paths, passphrase: str) -> None:
    """Decrypt the data dir (or finish an interrupted disable). Wrong passphrase: nothing changes."""
    vault = Vault(paths)
    kf = vault.key_file()
    if kf is None:
        raise CryptoError("Encryption is not on.")
    keys = kf.unlock(passphrase)
    _backup(paths, "before turning encryption off")
    if kf.status != "disabling":
        kf = kf.with_status("disabling")
        kf.save(vault.key_path)
    codec = SealedCodec(keys)
    with _writer(paths):
        _convert_conversations(paths, codec, PLAIN)
        renames = _convert_own_files(paths, keys, encrypt=False)
        _convert_index(paths, codec, PLAIN, renames)
        _convert_files(paths, keys, encrypt=False)
    vault.key_path.unlink()
    log.info("encryption off")


def change_passphrase(paths: Paths, old: str, new: str, *, kdf: KdfParams | None = None) -> None:
    """Rewrap the data key under ``new`` (no data is touched). Wrong ``old``: nothing changes."""
    path = paths.data_dir / KEY_FILE
    kf = KeyFile.load(path)
    if kf is None:
        raise CryptoError("Encryption is not on.")
    keys = kf.unlock(old)
    kf.rewrapped(keys, new, kdf).save(path)
    log.info("passphrase changed")


def _writer(paths: Paths) -> contextlib.AbstractContextManager[object]:
    """The index's one-writer lock (no other twin may write while data is converted)."""
    try:
        from twin.app.writer_lock import WriterLock
    except ImportError:  # pragma: no cover - the lock arrives separately
        return contextlib.nullcontext()
    lock = WriterLock(paths.data_dir, "twin encrypt")
    lock.acquire_or_raise(what="change encryption")
    return _Held(lock)


class _Held:
    def __init__(self, lock: object):
        self.lock = lock

    def __enter__(self) -> object:
        return self.lock

    def __exit__(self, *exc: object) -> None:
        self.lock.release()  # type: ignore[attr-defined]


def _backup(paths: Paths, reason: str) -> None:
    """A backup of the data dir (:func:`twin.app.backup.create_backup`) with the user's
    backup settings. The data is still encrypted at this point, so the backup is too."""
    from twin.app.backup import create_backup
    from twin.settings import load_settings

    cfg = load_settings(paths.settings_file).backup
    info = create_backup(paths, cfg, reason)
    log.info("backup %s made %s", info.name, reason)


# -- conversions ------------------------------------------------------------------------------

def _convert_value(value: str, purpose: str, old: Codec, new: Codec) -> str:
    """``value`` in ``new``'s form, whether it is already there or still in ``old``'s."""
    if isinstance(new, SealedCodec) and new.is_sealed(value, purpose):
        return value
    if isinstance(old, SealedCodec):
        if not old.is_sealed(value, purpose):
            return value if not new.encrypted else new.seal_text(value, purpose)
        value = old.open_text(value, purpose)
    return new.seal_text(value, purpose)


def _convert_conversations(paths: Paths, old: Codec, new: Codec) -> None:
    db_path = paths.conversations_db
    if not db_path.exists():
        return
    from twin.core.conversation.store import ConversationStore

    store = ConversationStore(db_path)  # runs migrations; values are converted as they are
    try:
        store.reencode(lambda value, purpose: _convert_value(value, purpose, old, new))
    finally:
        store.close()
    log.info("encryption: conversations converted")


def _convert_own_files(paths: Paths, keys: Keys, *, encrypt: bool) -> dict[str, str]:
    """Memory notes and inbox copies sealed (or opened) and renamed
    (:func:`twin.app.sealed_files.convert_folder`); the file records follow the renames
    (the index's rows follow in :func:`_convert_index`), so nothing is embedded again."""
    from twin.app.sealed_files import convert_folder

    vault = Vault.from_key(paths, keys.dek)  # the key file exists throughout: it is "enabled"
    renames: dict[str, str] = {}
    for folder in (paths.memories_dir, paths.inbox_dir):
        renames.update(convert_folder(vault, folder, encrypt=encrypt))
    if renames and paths.state_db.exists():
        from twin.core.memory.filestate import FileState

        state = FileState(paths.state_db)  # secure_delete: the old names are zeroed
        try:
            for old, new in renames.items():
                state.rename(old, new)
                # size and mtime changed: the next scan re-reads the file (same chunks, same
                # vectors: nothing is embedded again)
            state.vacuum()
        finally:
            state.close()
    return renames


def _convert_index(paths: Paths, old: Codec, new: Codec, renames: dict[str, str] | None = None) -> None:
    """Copy the memory index into a new folder with ``new``'s codec, then swap it in
    (rows of a file in ``renames`` move to its new path, vectors kept)."""
    import datetime as dt
    import json

    from twin.core.memory.store import META_FILE, LanceStore

    index_dir = paths.index_dir
    old_dir = index_dir.with_name(index_dir.name + ".old")
    # An interrupted swap: put the old index back (converted again below), or finish the
    # removal of the old one (its plaintext must not stay).
    if old_dir.exists() and not index_dir.exists():
        os.replace(old_dir, index_dir)
    elif old_dir.exists():
        shutil.rmtree(old_dir)
    meta_path = index_dir / META_FILE
    if not meta_path.exists():
        return
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if (meta.get("codec") or "") == new.id:
        return  # already converted (a resumed run)
    model, dim = meta.get("model"), meta.get("dim")
    if not model or not dim:
        shutil.rmtree(index_dir)  # unknown origin: rebuilt from the sources on the next index
        return
    src = LanceStore(index_dir, model, int(dim), codec=old)
    work = index_dir.with_name(index_dir.name + ".converting")
    if work.exists():
        shutil.rmtree(work)
    if src.model_changed:
        shutil.rmtree(index_dir)
        return
    dst = LanceStore(work, model, int(dim), codec=new,
                     vector_index_threshold=src.vector_index_threshold)
    src.copy_to(dst, renames)  # vectors kept: nothing is embedded again
    dst.maintain(cleanup_older_than=dt.timedelta(0))
    del src, dst
    os.replace(index_dir, old_dir)
    os.replace(work, index_dir)
    shutil.rmtree(old_dir)
    log.info("encryption: memory index converted")


def _convert_files(paths: Paths, keys: Keys, *, encrypt: bool) -> None:
    """The profile folder's files into the other form (``.jsonl`` files line by line, as
    :class:`~twin.core.profile.storage.ProfileFiles` reads them), each rewritten atomically."""
    root = paths.data_dir / "profile"
    if not root.is_dir():
        return
    vault = Vault.from_key(paths, keys.dek)
    for f in sorted(root.rglob("*")):
        if not f.is_file() or f.name.startswith(".") or f.suffix in (".tmp", ".lock", ".bad"):
            continue
        data = f.read_bytes()
        parts = data.splitlines(keepends=False) if f.suffix == ".jsonl" else [data]
        out = []
        for part in parts:
            sealed = part.startswith(FILE_PREFIX)
            if encrypt and not sealed and part:
                part = FILE_PREFIX + base64.b64encode(keys.seal(part, "file"))
            elif not encrypt and sealed:
                part = vault.decode_bytes(part)
            out.append(part)
        new = b"".join(p + b"\n" for p in out) if f.suffix == ".jsonl" else out[0]
        if new != data:
            write_atomic(f, new)


def vault_memory_factory(paths: Paths, dek: bytes | None) -> Callable[..., object]:
    """A ``Memory`` factory whose stores use ``dek`` (plain Memory when ``dek`` is None)."""
    from twin.app.container import Memory

    if dek is None:
        return Memory
    vault = Vault.from_key(paths, dek)
    return lambda settings, p: Memory(settings, p, vault)
