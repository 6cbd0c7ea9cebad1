"""Files twin writes into the data dir (memory notes, inbox copies), sealed while encryption is on.

With encryption on, such a file is stored as ``<date>-<random id><real suffix>.twin-sealed``:
neither its name nor its bytes reveal the user's text. The bytes are
:meth:`Vault.encode_bytes` of a small header line (JSON: the real relative name) followed by
the content, so turning encryption off can restore the real name. The indexer and the source
viewer open such files in memory only (:meth:`SealedFiles.decode`, the ``decode`` hook of
:func:`twin.core.memory.documents.read_document`); the plaintext is never written.

:func:`convert_folder` turns a folder's plain files into sealed ones (or back), crash-safely:
the new file is written and fsynced, then the old one removed. It returns the renames so the
index can move its rows (vectors kept) instead of embedding again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, TypedDict

from twin.atomic import write_atomic
from twin.core.memory.documents import SEALED_SUFFIX, is_sealed

if TYPE_CHECKING:
    from twin.app.vault_service import Vault

log = logging.getLogger("twin.vault")

#: First bytes of a sealed file's payload (before its JSON header line).
HEADER_MAGIC = b"twin-sealed-file1 "

__all__ = ["SEALED_SUFFIX", "SealedFiles", "convert_folder", "is_sealed", "sealed_name"]


def sealed_name(real_name: str, when: dt.date | None = None, key: bytes | None = None) -> str:
    """A name that reveals only a date and the file type: ``2026-11-30-3f9a0c1b2d4e.md.twin-sealed``.

    The id is random, or with ``key`` a keyed hash of ``real_name`` (the same every time: a
    conversion rerun after a crash rewrites the same file instead of making a second one).
    """
    suffix = PurePosixPath(real_name).suffix.lower()
    day = (when or dt.date.today()).isoformat()
    if key is None:
        token = secrets.token_hex(6)
    else:
        token = hashlib.blake2b(real_name.encode("utf-8"), key=key[:64], person=b"twin-names",
                                digest_size=6).hexdigest()
    return f"{day}-{token}{suffix}{SEALED_SUFFIX}"


def pack(name: str, data: bytes) -> bytes:
    """The payload sealed: header (the real relative name) + content."""
    return HEADER_MAGIC + json.dumps({"name": name}, ensure_ascii=True).encode("ascii") + b"\n" + data


def unpack(payload: bytes) -> tuple[str, bytes]:
    """(real name, content) of a payload; a payload without header is all content."""
    if not payload.startswith(HEADER_MAGIC):
        return "", payload
    head, _, data = payload.partition(b"\n")
    try:
        name = str(json.loads(head[len(HEADER_MAGIC):]).get("name") or "")
    except ValueError:
        name = ""
    return name, data


def _write_durable(path: Path, data: bytes) -> None:
    """Write ``path`` atomically and durably (temp file, fsync, rename, fsync the folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, data)


class SealedFiles:
    """Writing and reading twin's own files through a vault (plain while encryption is off)."""

    def __init__(self, vault: Vault):
        self.vault = vault
        self._plain_names: dict[str, str] = {}  # sealed note name → its plain name

    @property
    def active(self) -> bool:
        """Whether new files are sealed (encryption on)."""
        return self.vault.enabled

    def decode(self, blob: bytes) -> bytes:
        """A sealed file's content (the ``decode`` hook of ``read_document``)."""
        return unpack(self.vault.decode_bytes(blob))[1]

    def real_name(self, path: Path) -> str:
        """The name a sealed file had (its relative name in the inbox), or its own name."""
        if not is_sealed(path):
            return path.name
        try:
            return unpack(self.vault.decode_bytes(path.read_bytes()))[0] or path.name
        except (OSError, ValueError) as e:
            log.warning("cannot read %s: %s", path.name, e)
            return path.name

    # -- memory notes (the hooks of ChatMemories) -------------------------------------------

    def note_name(self, plain_name: str, when: dt.datetime) -> str:
        """The file name of a new note: the plain ``date-slug.md`` or a sealed one."""
        if not self.active:
            return plain_name
        name = sealed_name(plain_name, when.date())
        self._plain_names[name] = plain_name  # kept inside the sealed file (for disable)
        return name

    def write_note(self, path: Path, text: str) -> None:
        data = text.encode("utf-8")
        if is_sealed(path):
            plain = self._plain_names.pop(path.name, "") or path.name[: -len(SEALED_SUFFIX)]
            data = self.vault.encode_bytes(pack(plain, data))
        _write_durable(path, data)

    def read_note(self, path: Path) -> str:
        data = path.read_bytes()
        if is_sealed(path):
            data = self.decode(data)
        return data.decode("utf-8", errors="replace")

    # -- inbox copies (the hook of DocumentsService) ----------------------------------------

    def copy_into(self, inbox: Path) -> Callable[[Path, Path], Path]:
        """A copier for :class:`~twin.app.documents_service.DocumentsService`: with encryption
        on, the copy lands sealed directly in ``inbox`` (a dropped folder's structure is kept
        only inside the payload); off, a plain copy. Returns the path written."""

        def copy(src: Path, dest: Path) -> Path:
            if not self.active:
                import shutil

                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest)
                return dest
            try:
                rel = dest.relative_to(inbox).as_posix()
            except ValueError:
                rel = dest.name
            target = inbox / sealed_name(rel)
            _write_durable(target, self.vault.encode_bytes(pack(rel, src.read_bytes())))
            return target

        return copy


def convert_folder(vault: Vault, folder: Path, *, encrypt: bool) -> dict[str, str]:
    """Seal every plain file under ``folder`` (or open every sealed one), crash-safely.

    Hidden and temporary files are left alone. A rerun after a crash finishes the job: a file
    already in the target form is skipped (at worst both forms exist for a moment, never none).

    Returns:
        ``{old path: new path}`` for the files converted (the index renames its rows).
    """
    renames: dict[str, str] = {}
    if not folder.is_dir():
        return renames
    for f in sorted(folder.rglob("*")):
        rel = f.relative_to(folder)
        if not f.is_file() or any(p.startswith(".") for p in rel.parts) or f.suffix in (".tmp", ".part"):
            continue
        if encrypt == is_sealed(f):
            continue
        try:
            data = f.read_bytes()
            if encrypt:
                try:
                    when = dt.date.fromisoformat(f.name[:10])
                except ValueError:
                    when = dt.date.fromtimestamp(f.stat().st_mtime)
                name = rel.as_posix()
                new = folder / sealed_name(name, when, vault.dek)
                _write_durable(new, vault.encode_bytes(pack(name, data)))
            else:
                name, content = unpack(vault.decode_bytes(data))
                name = name or f.name[: -len(SEALED_SUFFIX)]
                new = folder / PurePosixPath(name)
                if folder.resolve() not in new.resolve().parents:  # a damaged header: stay inside
                    new = folder / Path(name).name
                if not (new.is_file() and new.read_bytes() == content):  # else: written by a crashed run
                    new = _free(new)
                    _write_durable(new, content)
        except OSError as e:
            log.warning("cannot convert %s: %s", f.name, e)
            continue
        f.unlink()
        renames[str(f)] = str(new)
    for d in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if encrypt and not any(d.iterdir()):
            d.rmdir()  # an emptied dropped folder: its name is user text too
    if renames:
        log.info("encryption: %d files in %s %s", len(renames), folder.name, "sealed" if encrypt else "opened")
    return renames


def _free(path: Path) -> Path:
    candidate, n = path, 2
    while candidate.exists():
        candidate = path.with_name(f"{path.stem} ({n}){path.suffix}")
        n += 1
    return candidate


class NoteHooks(TypedDict):
    """The keyword arguments :func:`note_hooks` gives :class:`~twin.app.chat_memories.ChatMemories`."""

    write: Callable[[Path, str], None]
    read: Callable[[Path], str]
    name: Callable[[str, dt.datetime], str]


def note_hooks(vault: Vault) -> NoteHooks:
    """``write``/``read``/``name`` for :class:`~twin.app.chat_memories.ChatMemories` over ``vault``."""
    sealed = SealedFiles(vault)
    return {"write": sealed.write_note, "read": sealed.read_note, "name": sealed.note_name}
