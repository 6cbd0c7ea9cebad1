"""Backups of the data folder: consistent snapshots, kept N, restored by swapping folders.

A backup is a folder ``<backups>/<YYYYmmdd-HHMMSS>-<reason>/`` holding a copy of every entry
of the data folder (the memory index, the SQLite databases, the inbox of dropped documents
and whatever else lives there) and a ``manifest.json`` (what, sizes, schema versions).

Invariants:

* **Consistent.** SQLite files are copied with SQLite's online backup API (a transactionally
  consistent snapshot, WAL included). The LanceDB index is copied while holding the index
  writer lock when it is free; when another process owns it, the version manifests are
  copied first and the data files after (LanceDB writes data before the manifest that names
  it), and the copy is then opened and read in full to prove it whole.
* **Atomic.** A backup is built under a hidden ``.tmp-*`` name and renamed into place when
  complete; listing ignores hidden folders, so a crash never leaves a half backup in the list.
* **Not backed up:** ``models/`` (downloaded GGUF files: re-downloadable, and large), the
  lock files, SQLite ``-wal``/``-shm`` side files (folded into the copies) and ``backups/``
  itself. Settings live in the config folder and are not part of a backup.
* **Restore never loses the present.** It takes the writer lock (refusing while another
  process owns the index), backs up the current state, stages the copy inside the data
  folder, checks each SQLite copy, then renames entry by entry, moving each current entry
  aside first and putting everything back if any step fails.
* **Backups are snapshots.** Text deleted after a backup was taken stays in that backup
  until it is pruned (:func:`prune`, ``twin backup prune``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twin import __version__
from twin.app.writer_lock import LOCK_FILE, OWNER_FILE, WriterLock
from twin.atomic import fsync_dir
from twin.errors import ConfigError, KnownError
from twin.paths import Paths
from twin.settings import BackupSettings

log = logging.getLogger("twin.backup")

MANIFEST = "manifest.json"
#: Entries of the data folder never copied (see the module docstring).
SKIP_NAMES = frozenset({"models", "backups", LOCK_FILE, OWNER_FILE})
SKIP_SUFFIXES = ("-wal", "-shm", "-journal", ".tmp")
_STAGING = ".restore-"
_SQLITE_MAGIC = b"SQLite format 3\x00"


class BackupError(KnownError):
    """A backup could not be made or restored; the data folder is as it was."""


@dataclass(frozen=True)
class BackupInfo:
    """One backup: its folder and manifest."""

    name: str
    path: Path
    created: float
    reason: str
    bytes: int
    manifest: dict[str, Any] = field(default_factory=dict, compare=False)


def backups_dir(paths: Paths, cfg: BackupSettings) -> Path:
    """The backups folder: ``cfg.folder`` or ``<data>/backups``."""
    return Path(cfg.folder).expanduser() if cfg.folder.strip() else paths.data_dir / "backups"


def _check_keep(cfg: BackupSettings) -> int:
    if cfg.keep < 1:
        raise ConfigError("'backup.keep' must be at least 1")
    return cfg.keep


def _entries(data_dir: Path, exclude: Path) -> list[Path]:
    out = []
    for p in sorted(data_dir.iterdir()) if data_dir.is_dir() else []:
        if p.name in SKIP_NAMES or p.name.startswith(".") or p.name.endswith(SKIP_SUFFIXES):
            continue
        if p.resolve() == exclude.resolve():
            continue
        out.append(p)
    return out


def _is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(16) == _SQLITE_MAGIC
    except OSError:
        return False


def _copy_sqlite(src: Path, dst: Path) -> dict[str, Any]:
    """Online backup of one SQLite database; returns its schema versions."""
    source = sqlite3.connect(str(src), timeout=30)
    target = sqlite3.connect(str(dst))
    try:
        source.backup(target)
        info: dict[str, Any] = {"user_version": target.execute("PRAGMA user_version").fetchone()[0]}
        if target.execute("SELECT 1 FROM sqlite_master WHERE name = '_migrations'").fetchone():
            info["migrations"] = [r[0] for r in target.execute(
                "SELECT name FROM _migrations ORDER BY applied_at, name")]
        return info
    finally:
        target.close()
        source.close()


def _copy_index(src: Path, dst: Path) -> None:
    """Copy a LanceDB folder: version manifests first, then the files they name."""
    dst.mkdir(parents=True, exist_ok=True)
    files = [p for p in src.rglob("*") if p.is_file() or p.is_symlink()]
    # Manifests (and their transaction files) first: a data file written after we listed the
    # manifests belongs to a version we do not have, and is harmless extra.
    files.sort(key=lambda p: (0 if "_versions" in p.parts or "_transactions" in p.parts else 1, str(p)))
    for p in files:
        rel = p.relative_to(src)
        if rel.name.endswith(".tmp"):
            continue
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copy2(p, dst / rel)
        except FileNotFoundError:  # an old version's file cleaned up meanwhile
            log.info("backup: %s vanished while copying", rel)


def _copy_entry(src: Path, dst: Path, *, index_dir: Path, locked: bool) -> dict[str, Any]:
    item: dict[str, Any] = {"name": src.name}
    if src.is_dir():
        if src.resolve() == index_dir.resolve():
            item["kind"] = "index"
            if locked:
                shutil.copytree(src, dst, symlinks=True)
            else:
                _copy_index(src, dst)
            meta = dst / "meta.json"
            if meta.exists():
                try:
                    item["schema"] = json.loads(meta.read_text(encoding="utf-8"))
                except ValueError:
                    pass
            from twin.core.memory.store import table_rows

            try:
                item["rows"] = table_rows(dst)
            except (OSError, RuntimeError, ValueError) as e:
                raise BackupError(f"the copy of the memory index is not readable ({e}); "
                                  "try again when indexing is idle") from e
        else:
            item["kind"] = "folder"
            shutil.copytree(src, dst, symlinks=True)
    elif _is_sqlite(src):
        item["kind"] = "sqlite"
        item["schema"] = _copy_sqlite(src, dst)
    else:
        item["kind"] = "file"
        shutil.copy2(src, dst)
    item["bytes"] = _size(dst)
    return item


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _slug(reason: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", reason.lower()).strip("-")[:40] or "backup"


def create_backup(paths: Paths, cfg: BackupSettings, reason: str, *,
                  lock: WriterLock | None = None, protect: str = "") -> BackupInfo:
    """Snapshot the data folder into a new backup, then keep only ``cfg.keep`` backups.

    Args:
        paths: where the data lives.
        cfg: the backup settings (folder, how many to keep).
        reason: why ("manual", "before m004_x", "before re-index"…): part of the name.
        lock: the index writer lock when the caller holds it; otherwise it is taken for the
            copy if free (and the index copied carefully if not).
        protect: a backup name that pruning must not remove (the one being restored).

    Raises:
        BackupError: the copy failed (nothing is left behind).
    """
    keep = _check_keep(cfg)
    t0 = time.perf_counter()
    folder = backups_dir(paths, cfg)
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now()
    name = f"{now:%Y%m%d-%H%M%S}-{_slug(reason)}"
    n = 2
    while (folder / name).exists():
        name = f"{now:%Y%m%d-%H%M%S}-{_slug(reason)}-{n}"
        n += 1
    tmp = folder / f".tmp-{name}"
    own: WriterLock | None = None
    if lock is None or not lock.held:
        own = WriterLock(paths.data_dir, "twin backup")
        if not own.try_acquire():
            own = None
    locked = (lock is not None and lock.held) or own is not None
    try:
        tmp.mkdir(parents=True)
        items = [_copy_entry(p, tmp / p.name, index_dir=paths.index_dir, locked=locked)
                 for p in _entries(paths.data_dir, folder)]
        manifest = {
            "name": name,
            "created": time.time(),
            "created_iso": now.isoformat(timespec="seconds"),
            "reason": reason,
            "twin_version": __version__,
            "items": items,
            "bytes": sum(i["bytes"] for i in items),
            "index_locked_while_copying": locked,
            "not_included": ["models/ (downloaded models: re-downloadable)", "settings (config folder)"],
            "seconds": round(time.perf_counter() - t0, 3),
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, folder / name)
        fsync_dir(folder)  # the finished backup's name survives a power cut
    except (OSError, sqlite3.Error) as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise BackupError(f"cannot back up {paths.data_dir} to {folder}: {e}") from e
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if own is not None:
            own.release()
    log.info("backup %s: %d bytes in %.2f s (%s)", name, manifest["bytes"], manifest["seconds"], reason)
    prune(paths, cfg, keep=keep, protect=protect or name)
    return _info(folder / name)


def _info(path: Path) -> BackupInfo:
    try:
        m = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        m = {}
    return BackupInfo(path.name, path, float(m.get("created", path.stat().st_mtime)),
                      str(m.get("reason", "?")), int(m.get("bytes", 0)), m)


def list_backups(paths: Paths, cfg: BackupSettings) -> list[BackupInfo]:
    """Complete backups, oldest first."""
    folder = backups_dir(paths, cfg)
    if not folder.is_dir():
        return []
    found = [_info(p) for p in folder.iterdir()
             if p.is_dir() and not p.name.startswith(".") and (p / MANIFEST).exists()]
    return sorted(found, key=lambda b: (b.created, b.name))


def prune(paths: Paths, cfg: BackupSettings, *, keep: int | None = None, protect: str = "") -> list[str]:
    """Delete the oldest backups beyond ``keep`` (default: the setting); returns their names."""
    keep = _check_keep(cfg) if keep is None else keep
    if keep < 0:
        raise ConfigError("keep must be 0 or more")
    backups = list_backups(paths, cfg)
    extra = len(backups) - keep
    removed = []
    for b in backups:
        if extra <= 0:
            break
        if b.name == protect:
            continue
        shutil.rmtree(b.path)
        removed.append(b.name)
        extra -= 1
    if removed:
        log.info("pruned backups: %s", ", ".join(removed))
    return removed


def find_backup(paths: Paths, cfg: BackupSettings, name: str) -> BackupInfo:
    for b in list_backups(paths, cfg):
        if b.name == name:
            return b
    known = ", ".join(b.name for b in list_backups(paths, cfg)[-5:]) or "none yet"
    raise BackupError(f"no backup named {name!r} (latest: {known}; see `twin backup list`)")


def restore_backup(paths: Paths, cfg: BackupSettings, name: str, *, lock: WriterLock | None = None,
                   wait: bool = False) -> BackupInfo:
    """Replace the data folder's entries by those of backup ``name``.

    Returns:
        The backup of the state before the restore (to undo it).

    Raises:
        IndexLocked: another process owns the index (close it first).
        BackupError: the backup is damaged or a rename failed (everything is put back).
    """
    backup = find_backup(paths, cfg, name)
    own = lock is None or not lock.held
    if own:
        lock = WriterLock(paths.data_dir, "twin restore")
        lock.acquire_or_raise(wait=wait, picked_up=False, what="Close it, then restore")
    assert lock is not None
    try:
        before = create_backup(paths, cfg, f"before restore of {name}", lock=lock, protect=name)
        _swap_in(paths, backup)
        log.info("restored backup %s (previous state in %s)", name, before.name)
        return before
    finally:
        if own:
            lock.release()


def _swap_in(paths: Paths, backup: BackupInfo) -> None:
    data = paths.data_dir
    stamp = f"{time.time_ns()}"
    staging = data / f"{_STAGING}{stamp}"
    aside = data / f"{_STAGING}old-{stamp}"
    names = [i["name"] for i in backup.manifest.get("items", [])]
    try:
        shutil.copytree(backup.path, staging, symlinks=True)
        for n in names:
            p = staging / n
            if not p.exists():
                raise BackupError(f"backup {backup.name} is missing {n}")
            if _is_sqlite(p):
                con = sqlite3.connect(str(p))
                try:
                    ok = con.execute("PRAGMA quick_check").fetchone()[0]
                finally:
                    con.close()
                if ok != "ok":
                    raise BackupError(f"backup {backup.name}: {n} is damaged ({ok})")
    except (OSError, sqlite3.Error) as e:
        shutil.rmtree(staging, ignore_errors=True)
        raise BackupError(f"cannot read backup {backup.name}: {e}") from e
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    aside.mkdir()
    moved: list[tuple[Path, Path]] = []  # (from, to) renames done, for the way back
    try:
        for n in names:
            target = data / n
            # the entry and its SQLite side files (stale WAL pages must not meet the old file)
            for p in [target, *(data / (n + s) for s in ("-wal", "-shm", "-journal"))]:
                if p.exists() or p.is_symlink():
                    os.replace(p, aside / p.name)
                    moved.append((p, aside / p.name))
            os.replace(staging / n, target)
            moved.append((staging / n, target))
    except OSError as e:
        for src, dst in reversed(moved):
            try:
                os.replace(dst, src)
            except OSError as e2:  # pragma: no cover - disk vanished under us
                log.error("restore rollback: cannot move %s back to %s: %s", dst, src, e2)
        shutil.rmtree(staging, ignore_errors=True)
        raise BackupError(f"restore of {backup.name} failed, nothing changed: {e}") from e
    fsync_dir(data)  # the swapped-in entries' names are durable before the old ones go
    shutil.rmtree(aside, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)


def before_migration(paths: Paths, cfg: BackupSettings) -> Callable[[list[str]], None]:
    """A ``ConversationStore(before_migrate=...)`` hook: back up the data folder first."""
    def hook(pending: list[str]) -> None:
        try:
            info = create_backup(paths, cfg, f"before {pending[0]}")
        except BackupError as e:
            raise BackupError(f"not upgrading the conversations database ({', '.join(pending)}): {e}") from e
        log.warning("upgrading the conversations database (%s); backup: %s", ", ".join(pending), info.path)
    return hook
