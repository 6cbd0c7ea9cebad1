"""Durable, atomic file writes: the one place that replaces a file's content.

A write goes to a hidden temporary file in the same folder (``.<name>.<pid>.<random>.tmp``, so
the diary watcher and the backup skip it, and ``os.replace`` never crosses a file system), is
flushed and fsynced, renamed over the target with :func:`os.replace`, and then the folder is
fsynced so the rename itself survives a power cut. A reader sees the old content or the new one,
never half a file; an exception (or a crash) leaves the target untouched and no temporary file
behind (a crash between the write and the rename can leave one: it is hidden and ``*.tmp``).

Permissions: ``mode=None`` keeps the target's current permission bits when it exists, or the
usual ``0o666 & ~umask`` for a new file (what a plain ``open(path, "w")`` gives); an explicit
``mode`` (e.g. ``0o600`` for secrets) is applied exactly, whatever the umask.

This is a shared root module (like :mod:`twin.paths`): it imports nothing from twin's layers, so
:mod:`twin.settings`, ``twin.core`` and ``twin.app`` can all use it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Literal, overload

__all__ = ["write_atomic", "open_atomic", "fsync_dir"]


def write_atomic(path: str | os.PathLike[str], data: bytes | str, *, mode: int | None = None,
                 encoding: str = "utf-8") -> None:
    """Replace ``path``'s content with ``data`` atomically and durably.

    Args:
        path: the file to write; its folder must exist.
        data: bytes as they are, or text encoded with ``encoding`` (newlines are kept as
            given: no platform translation).
        mode: permission bits for the file (None: keep the existing file's, or the default).
        encoding: the encoding for text ``data``.

    Raises:
        OSError: the write or the rename failed; the target is unchanged and the temporary
            file is removed.
    """
    raw = data.encode(encoding) if isinstance(data, str) else data
    with open_atomic(path, binary=True, mode=mode) as f:
        f.write(raw)


@overload
def open_atomic(path: str | os.PathLike[str], *, binary: Literal[False] = ..., mode: int | None = ...,
                encoding: str = ..., newline: str | None = ...) -> contextlib.AbstractContextManager[IO[str]]: ...
@overload
def open_atomic(path: str | os.PathLike[str], *, binary: Literal[True], mode: int | None = ...,
                encoding: str = ..., newline: str | None = ...) -> contextlib.AbstractContextManager[IO[bytes]]: ...


def open_atomic(path: str | os.PathLike[str], *, binary: bool = False, mode: int | None = None,
                encoding: str = "utf-8", newline: str | None = "\n") -> contextlib.AbstractContextManager[IO[Any]]:
    """A file to stream into; on a clean exit it atomically and durably replaces ``path``.

    ``with open_atomic(p) as f: f.write(...)``: if the block raises, ``path`` is untouched and
    the temporary file is removed. Text mode writes ``\\n`` newlines unless ``newline`` says
    otherwise (``None``: the platform's).
    """
    return _open_atomic(Path(path), binary, mode, encoding, newline)


@contextlib.contextmanager
def _open_atomic(path: Path, binary: bool, mode: int | None, encoding: str,
                 newline: str | None) -> Iterator[IO[Any]]:
    if mode is None:
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except FileNotFoundError:
            pass
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o666 if mode is None else mode & 0o777)
    try:
        if mode is not None:
            # exact bits, whatever the umask (os.open's mode is masked by it)
            if hasattr(os, "fchmod"):
                os.fchmod(fd, mode)
            else:  # Windows: only the read-only bit means anything
                os.chmod(tmp, mode)
        f = os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding=encoding, newline=newline)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    try:
        with f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(folder: str | os.PathLike[str]) -> None:
    """Flush a folder's entries (a rename or a new file in it) to disk; best effort.

    Some platforms cannot open a folder (Windows) or fsync one (some network file systems):
    the rename has happened either way, so this never raises.
    """
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
