"""The profile's files in ``data_dir/profile/``: the only module that reads or writes them.

Layout (plain files the user can read and back up):

* ``profile.json`` — the merged facts with their status, sources and history (rebuilt after
  every build and every review action);
* ``profile.md`` — the same, rendered for reading;
* ``review.json`` — the user's decisions: accepted and edited facts (a snapshot each, so they
  survive even when their entries change) and the keys of rejected statements;
* ``style.json`` — the measured style facts (phrases, languages, sentences) of the last build;
* ``map.jsonl`` — the map step's checkpoint: one line per mapped batch (units read, with
  content hashes, and the facts found), appended and fsynced as each batch ends, so a crash
  loses at most the batch in flight; compacted at the end of a build;
* ``.lock`` — held while a build or a review action writes (one writer at a time).

Every whole-file write goes through :meth:`ProfileFiles.write_text` (temporary file, fsync,
``os.replace``): a crash never leaves a half-written file. The ``encode``/``decode`` hooks are
where encryption at rest plugs in: all bytes pass through them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from twin.atomic import write_atomic
from twin.errors import KnownError

log = logging.getLogger("twin.profile")

Codec = Callable[[bytes], bytes]


class ProfileBusyError(KnownError):
    """Another twin process is writing the profile (a build is running)."""


class ProfileFiles:
    """Reads and writes the profile folder.

    Args:
        folder: ``data_dir/profile``; created on first write.
        encode, decode: byte transforms applied to everything written/read (identity by
            default; encryption at rest replaces them). ``map.jsonl`` lines are encoded one by one.
    """

    PROFILE = "profile.json"
    MARKDOWN = "profile.md"
    REVIEW = "review.json"
    CHECKPOINT = "map.jsonl"
    STYLE = "style.json"

    def __init__(self, folder: Path, *, encode: Codec | None = None, decode: Codec | None = None):
        self.folder = folder
        self._encode: Codec = encode or (lambda b: b)
        self._decode: Codec = decode or (lambda b: b)

    # -- locking ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def writer(self, timeout_s: float = 2.0) -> Iterator[None]:
        """Hold the profile's writer lock (re-entrant within a process)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.folder / ".lock"))
        try:
            lock.acquire(timeout=timeout_s)
        except Timeout as e:
            raise ProfileBusyError("The profile is being written by another twin process (a profile build?). "
                                   "Try again when it has finished.") from e
        try:
            yield
        finally:
            lock.release()

    # -- whole files ------------------------------------------------------------------------

    def read_text(self, name: str) -> str | None:
        try:
            data = (self.folder / name).read_bytes()
        except FileNotFoundError:
            return None
        return self._decode(data).decode("utf-8")

    def write_text(self, name: str, text: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        write_atomic(self.folder / name, self._encode(text.encode("utf-8")))

    def read_json(self, name: str) -> Any:
        """The JSON in ``name``; None when missing. A corrupt file is set aside (``.bad``) and
        reported in the log, never fatal: the profile can always be rebuilt."""
        text = self.read_text(name)
        if text is None:
            return None
        try:
            return json.loads(text)
        except ValueError:
            bad = self.folder / (name + ".bad")
            os.replace(self.folder / name, bad)
            log.warning("profile file %s was corrupt; moved to %s", name, bad)
            return None

    def write_json(self, name: str, value: Any) -> None:
        self.write_text(name, json.dumps(value, ensure_ascii=False, indent=1) + "\n")

    # -- the checkpoint ---------------------------------------------------------------------

    def append_record(self, record: dict[str, Any]) -> None:
        """Append one checkpoint line and fsync it (it survives a crash right after)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        line = self._encode(json.dumps(record, ensure_ascii=False).encode("utf-8")).hex() \
            if self._is_encoded else json.dumps(record, ensure_ascii=False)
        with open(self.folder / self.CHECKPOINT, "a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())

    def records(self) -> list[dict[str, Any]]:
        """The checkpoint's records, oldest first; a torn last line (a crash mid-write) is skipped."""
        try:
            raw = (self.folder / self.CHECKPOINT).read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        out = []
        for n, line in enumerate(raw.splitlines(), 1):
            if not line.strip():
                continue
            try:
                # a line starting with "{" was written before encryption was turned on
                text = self._decode(bytes.fromhex(line)).decode("utf-8") if not line.startswith("{") else line
                rec = json.loads(text)
            except ValueError:
                log.warning("profile checkpoint line %d unreadable (a crash mid-write?): skipped", n)
                continue
            if isinstance(rec, dict):
                out.append(rec)
        return out

    def rewrite_records(self, records: list[dict[str, Any]]) -> None:
        """Replace the checkpoint with ``records`` (compaction), atomically."""
        if self._is_encoded:
            lines = [self._encode(json.dumps(r, ensure_ascii=False).encode("utf-8")).hex() for r in records]
        else:
            lines = [json.dumps(r, ensure_ascii=False) for r in records]
        self.write_text_plain(self.CHECKPOINT, "".join(line + "\n" for line in lines))

    def write_text_plain(self, name: str, text: str) -> None:
        """Atomic write without the codec (for content already encoded line by line)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        write_atomic(self.folder / name, text)

    @property
    def _is_encoded(self) -> bool:
        return self._encode(b"x") != b"x"
