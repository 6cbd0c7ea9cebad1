"""Memories from chats: facts the user states about themselves, offered and written as notes.

After each user message the chat service asks :meth:`ChatMemories.offers` which statements
to offer ("Remember: 'My sister's name is Anna.'?"). An accepted one becomes a Markdown note
in ``Paths.memories_dir``::

    ---
    date: 2026-11-30
    source: chat
    conversation: 3f2a…
    conversation_title: Planning the trip
    ---
    My sister's name is Anna.

That folder is always one of the memory sources (:attr:`twin.app.container.Memory.sources`),
so notes are indexed, searched, cited, edited and deleted like any diary file: the watcher
sees an edit or a deletion and updates the index the normal way.

Invariants:

* one statement, one note: a statement already in a note (compared by
  :func:`~twin.core.memory.self_facts.statement_key`) is never written twice nor offered again;
* a dismissed offer is not offered again in that conversation; with ``dismissed_file`` this
  holds across sessions (the file keeps only hashes of the statements, never their words);
* notes are written through one function, :data:`NoteWriter` (atomic by default), and read
  through one, :data:`NoteReader`, so that an encrypted vault can replace both.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from twin.atomic import write_atomic
from twin.core.memory.documents import SEALED_SUFFIX
from twin.core.memory.self_facts import detect_self_facts, fact_subject, statement_key
from twin.errors import KnownError

log = logging.getLogger("twin.memories")

#: Writes a note's text to its path (whole file, atomically).
NoteWriter = Callable[[Path, str], None]
#: Reads a note's text.
NoteReader = Callable[[Path], str]

SLUG_CHARS = 48
MAX_STATEMENT_CHARS = 2000


class MemoryNoteError(KnownError):
    """A memory note could not be written (disk full, read-only folder…) or is empty."""


def write_note_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a hidden temp file and a rename (no half-written note,
    and the watcher never indexes the temp file: hidden and ``*.tmp`` files are skipped)."""
    write_atomic(path, text)


def read_note(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


@dataclass(frozen=True)
class MemoryOffer:
    """A statement the app offers to remember."""

    statement: str
    kind: str
    conversation_id: str


@dataclass(frozen=True)
class RememberedNote:
    """The note that holds a statement; ``created`` False when it was already remembered."""

    path: Path
    statement: str
    created: bool


def _digest(key: str) -> str:
    """What is kept of a dismissed statement: a hash of its words."""
    return hashlib.blake2b(key.encode("utf-8"), digest_size=12).hexdigest()


def slug(text: str) -> str:
    """A file-name slug: lower-case words joined by ``-`` (any script), at most ``SLUG_CHARS``."""
    words = re.findall(r"[^\W_]+", text.lower())
    out = ""
    for w in words:
        nxt = f"{out}-{w}" if out else w
        if len(nxt) > SLUG_CHARS:
            break
        out = nxt
    return out or "memory"


def note_body(text: str) -> str:
    """A note's text without its YAML front matter."""
    m = re.match(r"\A\ufeff?---\r?\n.*?\r?\n---[ \t]*(?:\r?\n|\Z)", text, re.DOTALL)
    return text[m.end():] if m else text


def render_note(statement: str, when: dt.datetime, conversation_id: str = "", conversation_title: str = "",
                subject: str = "") -> str:
    """The Markdown of a memory note (front matter + the statement)."""
    meta: dict[str, object] = {"date": when.date().isoformat(), "time": when.strftime("%H:%M"), "source": "chat"}
    if conversation_id:
        meta["conversation"] = conversation_id
    if conversation_title:
        meta["conversation_title"] = conversation_title
    if subject:
        meta["subject"] = subject
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1000)
    return f"---\n{front}---\n{statement.strip()}\n"


def note_meta(text: str) -> dict[str, object]:
    """A note's front matter as a dict ({} when it has none or it is not valid YAML)."""
    body = note_body(text)
    head = text[: len(text) - len(body)].strip().strip("\ufeff").strip("-").strip()
    try:
        meta = yaml.safe_load(head) if head else {}
    except yaml.YAMLError:
        return {}
    return meta if isinstance(meta, dict) else {}


def set_meta(text: str, **values: object) -> str:
    """``text`` with its front matter updated by ``values`` (the statement kept as it is)."""
    body = note_body(text)
    meta = note_meta(text)
    meta.update(values)
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1000)
    return f"---\n{front}---\n{body.lstrip(chr(10))}"


@dataclass(frozen=True)
class NoteFact:
    """A remembered statement and when it held: from its note's date (or ``valid_from``)
    until ``valid_until``, set when a newer note about the same subject superseded it."""

    path: Path
    statement: str
    subject: str
    valid_from: str  # ISO date
    valid_until: str = ""
    superseded_by: str = ""  # the file name of the newer note

    def held_during(self, since: str, until: str) -> bool:
        if until and self.valid_from and self.valid_from > until:
            return False
        return not (since and self.valid_until and self.valid_until <= since)

    def line(self) -> str:
        span = (f"from {self.valid_from} until {self.valid_until}" if self.valid_until
                else f"since {self.valid_from}" if self.valid_from else "undated")
        return f"- {self.statement} ({span})"


def _iso(value: object) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value or "")


class ChatMemories:
    """Offers and remembered notes over one memories folder (thread-safe).

    Args:
        folder: ``Paths.memories_dir``.
        write: how a note is written (an encrypted vault may replace it).
        read: how a note is read back (for duplicate checks).
        on_written: called with a note's path after it is written (index it now).
        dismissed_file: a JSON file that keeps dismissals across sessions (None: this session).
        now: the clock (tests).
        name: a new note's file name from its plain one (``date-slug.md``) and the time; an
            encrypted vault gives one that does not reveal the statement
            (:meth:`twin.app.sealed_files.SealedFiles.note_name`).
    """

    def __init__(self, folder: Path, *, write: NoteWriter = write_note_atomic, read: NoteReader = read_note,
                 on_written: Callable[[Path], None] | None = None, dismissed_file: Path | None = None,
                 now: Callable[[], dt.datetime] = dt.datetime.now,
                 name: Callable[[str, dt.datetime], str] | None = None):
        self.folder = Path(folder)
        self._name = name
        self._write = write
        self._read = read
        self.on_written = on_written
        self.dismissed_file = dismissed_file
        self._now = now
        self._lock = threading.Lock()
        self._dismissed: dict[str, set[str]] = self._load_dismissed()

    # -- what is remembered -----------------------------------------------------------------

    def notes(self) -> list[Path]:
        """The note files, oldest name first."""
        try:
            found = [*self.folder.glob("*.md"), *self.folder.glob("*.md" + SEALED_SUFFIX)]
            return sorted(p for p in found if p.is_file() and not p.name.startswith("."))
        except OSError:
            return []

    def _known(self) -> dict[str, Path]:
        known: dict[str, Path] = {}
        for p in self.notes():
            try:
                body = note_body(self._read(p))
            except (OSError, ValueError) as e:
                log.warning("cannot read memory note %s: %s", p, e)
                continue
            for line in body.splitlines():
                key = statement_key(line)
                if key:
                    known.setdefault(key, p)
        return known

    def find(self, statement: str) -> Path | None:
        """The note that already holds ``statement`` (by its words), if any."""
        return self._known().get(statement_key(statement))

    # -- offers -----------------------------------------------------------------------------

    def offers(self, conversation_id: str, text: str) -> list[MemoryOffer]:
        """What to offer to remember from the user's ``text``: the self-facts it states, minus
        those already remembered and those dismissed in this conversation."""
        facts = detect_self_facts(text)
        if not facts:
            return []
        with self._lock:
            dismissed = set(self._dismissed.get(conversation_id, ()))
        known = self._known()
        return [MemoryOffer(f.statement, f.kind, conversation_id) for f in facts
                if _digest(f.key) not in dismissed and f.key not in known]

    def dismiss(self, conversation_id: str, statement: str) -> None:
        """Do not offer ``statement`` again in this conversation."""
        with self._lock:
            keys = self._dismissed.setdefault(conversation_id, set())
            digest = _digest(statement_key(statement))
            if digest in keys:
                return
            keys.add(digest)
            self._save_dismissed()

    def _load_dismissed(self) -> dict[str, set[str]]:
        if self.dismissed_file is None:
            return {}
        try:
            data = json.loads(self.dismissed_file.read_text(encoding="utf-8"))
            return {str(cid): {str(d) for d in digests} for cid, digests in dict(data).items()}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, TypeError) as e:
            log.warning("ignoring unreadable %s: %s", self.dismissed_file, e)
            return {}

    def _save_dismissed(self) -> None:
        if self.dismissed_file is None:
            return
        data = {cid: sorted(d) for cid, d in self._dismissed.items()}
        try:
            write_atomic(self.dismissed_file, json.dumps(data))
        except OSError as e:  # a lost dismissal costs one more offer: not worth failing over
            log.warning("cannot save %s: %s", self.dismissed_file, e)

    # -- remembering ------------------------------------------------------------------------

    def remember(self, statement: str, *, conversation_id: str = "", conversation_title: str = "") -> RememberedNote:
        """Write ``statement`` as a new note (or return the note that already holds it).

        Raises:
            MemoryNoteError: the statement is empty or too long, or the note cannot be written.
        """
        statement = " ".join(statement.split())
        if not statement_key(statement):
            raise MemoryNoteError("nothing to remember: the text is empty")
        if len(statement) > MAX_STATEMENT_CHARS:
            raise MemoryNoteError(f"too long to remember as one fact ({len(statement)} characters; "
                                  f"at most {MAX_STATEMENT_CHARS})")
        with self._lock:
            existing = self.find(statement)
            if existing is not None:
                return RememberedNote(existing, statement, False)
            when = self._now()
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                stem = f"{when.date().isoformat()}-{slug(statement)}"
                name = self._name(f"{stem}.md", when) if self._name is not None else ""
                path = self.folder / name if name and name != f"{stem}.md" else self._free_path(stem)
                if path.exists():
                    raise MemoryNoteError(f"a memory note named {path.name} already exists")
                subject = fact_subject(statement)
                self._write(path, render_note(statement, when, conversation_id, conversation_title, subject))
            except OSError as e:
                raise MemoryNoteError(f"cannot write the memory note in {self.folder}: {e.strerror or e}") from e
            superseded = self._supersede(subject, path, when.date()) if subject else []
        log.info("remembered %s", path.name)
        if self.on_written is not None:
            for old in superseded:
                self.on_written(old)
        if conversation_id:
            self.dismiss(conversation_id, statement)  # answered: not offered again either way
        if self.on_written is not None:
            self.on_written(path)
        return RememberedNote(path, statement, True)

    # -- time -------------------------------------------------------------------------------

    def facts(self) -> list[NoteFact]:
        """Every remembered statement with when it held, oldest first. Notes written before
        ``subject``/``valid_until`` existed read as holding from their date, still current."""
        out: list[NoteFact] = []
        for p in self.notes():
            try:
                text = self._read(p)
            except (OSError, ValueError) as e:
                log.warning("cannot read memory note %s: %s", p, e)
                continue
            meta = note_meta(text)
            statement = " ".join(note_body(text).split())
            if not statement:
                continue
            subject = str(meta.get("subject") or fact_subject(statement))
            out.append(NoteFact(p, statement, subject, _iso(meta.get("valid_from") or meta.get("date")),
                                _iso(meta.get("valid_until")), str(meta.get("superseded_by") or "")))
        return sorted(out, key=lambda f: (f.valid_from, f.path.name))

    def _supersede(self, subject: str, newer: Path, on: dt.date) -> list[Path]:
        """Mark the current notes about ``subject`` (other than ``newer``) as held until ``on``,
        superseded by ``newer``; returns the notes rewritten (the caller holds the lock)."""
        changed = []
        for f in self.facts():
            if f.path == newer or f.subject != subject or f.valid_until:
                continue
            try:
                text = self._read(f.path)
                self._write(f.path, set_meta(text, valid_until=on.isoformat(), superseded_by=newer.name))
            except (OSError, ValueError) as e:  # the new note is written: a stale old one is logged, not fatal
                log.warning("cannot mark %s as superseded: %s", f.path.name, e)
                continue
            log.info("%s superseded by %s", f.path.name, newer.name)
            changed.append(f.path)
        return changed

    def period_text(self, since: str, until: str) -> str:
        """The remembered statements that held in ``since``..``until`` (ISO, "" = open), dated."""
        lines = [f.line() for f in self.facts() if f.held_during(since, until)]
        return "\n".join(["What I told you about myself then (remembered from chats):", *lines]) if lines else ""

    def validity(self) -> dict[str, NoteFact]:
        """Superseded notes by path (str): what a memory's label should say about them."""
        return {str(f.path): f for f in self.facts() if f.valid_until}

    def _own(self, path: Path) -> Path:
        path = Path(path)
        if path.parent.resolve() != self.folder.resolve() or path not in self.notes():
            raise MemoryNoteError(f"not a memory note: {path.name}")
        return path

    def edit(self, path: Path, statement: str) -> RememberedNote:
        """Replace the statement of note ``path`` (its front matter is kept), through the
        same writer (so a sealed note stays sealed); the index follows like after
        :meth:`remember`.

        Raises:
            MemoryNoteError: not a note of this folder, empty or too long, or not writable.
        """
        statement = " ".join(statement.split())
        if not statement_key(statement):
            raise MemoryNoteError("nothing to remember: the text is empty")
        if len(statement) > MAX_STATEMENT_CHARS:
            raise MemoryNoteError(f"too long to remember as one fact ({len(statement)} characters)")
        with self._lock:
            path = self._own(path)
            try:
                text = self._read(path)
                body = note_body(text)
                self._write(path, text[: len(text) - len(body)] + statement + "\n")
            except (OSError, ValueError) as e:
                raise MemoryNoteError(f"cannot rewrite the memory note {path.name}: {e}") from e
        if self.on_written is not None:
            self.on_written(path)
        return RememberedNote(path, statement, True)

    def delete(self, path: Path) -> None:
        """Delete note ``path`` (the watcher, or the next scan, takes it out of the index)."""
        with self._lock:
            path = self._own(path)
            try:
                path.unlink()
            except OSError as e:
                raise MemoryNoteError(f"cannot delete the memory note {path.name}: {e.strerror or e}") from e
        log.info("forgot memory note %s", path.name)

    def _free_path(self, stem: str) -> Path:
        path = self.folder / f"{stem}.md"
        n = 2
        while path.exists():
            path = self.folder / f"{stem}-{n}.md"
            n += 1
        return path
