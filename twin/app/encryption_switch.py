"""Turning encryption at rest on (:func:`enable`) and off (:func:`disable`), converting what exists.

1. the key file is written first, marked ``enabling``/``disabling`` (so the data key is never
   lost, whatever happens next);
2. the conversations database is rewritten in ONE transaction
   (:meth:`~twin.core.conversation.store.ConversationStore.reencode`: each value that is not
   yet in the target form is converted, so a rerun after a crash finishes the job), then its
   FTS index is rebuilt and the file vacuumed, so no old page keeps plaintext;
3. memory notes and inbox copies are sealed (or opened) and renamed, their file records follow
   (:meth:`~twin.core.memory.filestate.FileState.vacuum` drops the old names' pages);
4. the memory index is copied row by row into ``index.converting`` with the new codec
   (:meth:`~twin.core.memory.store.LanceStore.copy_to`: vectors are kept, nothing is
   re-embedded), then swapped in and the old folder deleted;
5. the profile's files are rewritten in the other form;
6. the key file is marked ``on`` (or deleted, for :func:`disable`).

All of it runs under the index's one-writer lock. Files deleted or rewritten may survive in
the disk's free blocks (SSD wear levelling, journaling file systems); only full-disk
encryption covers that, and the README says so.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import shutil
from collections.abc import Iterator

from twin.app.vault_service import FILE_PREFIX, KEY_FILE, Vault
from twin.atomic import fsync_dir, write_atomic
from twin.core.crypto import PLAIN, Codec, CryptoError, KdfParams, KeyFile, Keys, SealedCodec
from twin.paths import Paths
from twin.messages import msg

log = logging.getLogger("twin.vault")


def enable(paths: Paths, passphrase: str, *, kdf: KdfParams | None = None) -> Vault:
    """Encrypt the data dir under ``passphrase`` (or finish an interrupted enable).

    Returns:
        The vault, unlocked.
    """
    vault = Vault(paths)
    kf = vault.key_file()
    if kf is not None and kf.status == "on":
        raise CryptoError(msg("crypto.already_on_change"))
    if kf is not None and kf.status == "disabling":
        raise CryptoError(msg("crypto.disable_interrupted"))
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
    vault.unlock_with(keys)
    log.info("encryption on")
    return vault


def prepare_enable(paths: Paths, passphrase: str, *, kdf: KdfParams | None = None) -> None:
    """Write the key file, marked ``enabling``, without converting anything yet.

    For the window, whose open stores cannot be converted under its feet: the conversion
    runs at the next start, right after the passphrase is given (:func:`unlock_or_finish`).
    """
    path = paths.data_dir / KEY_FILE
    if path.exists():
        raise CryptoError(msg("crypto.already_on"))
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
        raise CryptoError(msg("crypto.not_on"))
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
        raise CryptoError(msg("crypto.not_on"))
    keys = kf.unlock(old)
    kf.rewrapped(keys, new, kdf).save(path)
    log.info("passphrase changed")


@contextlib.contextmanager
def _writer(paths: Paths) -> Iterator[None]:
    """The index's one-writer lock (no other twin may write while data is converted)."""
    from twin.app.writer_lock import WriterLock

    lock = WriterLock(paths.data_dir, "twin encrypt")
    lock.acquire_or_raise(what="change encryption")
    try:
        yield
    finally:
        lock.release()


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
    fsync_dir(index_dir.parent)  # the swap is durable before the old (plaintext or sealed) copy goes
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
