"""Backups of the data folder: snapshot, keep N, restore, and the backup before a migration.

Real SQLite, a real LanceDB store (random unit vectors: no model needed), real files.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from twin.app.backup import (
    BackupError,
    before_migration,
    create_backup,
    list_backups,
    prune,
    restore_backup,
)
from twin.app.writer_lock import IndexLocked, WriterLock
from twin.core.conversation import migrations
from twin.core.conversation import store as conv_store
from twin.core.conversation.migrations import MigrationError
from twin.core.conversation.store import ConversationStore
from twin.core.memory.filestate import FileState, record
from twin.core.memory.store import LanceStore, StoreRow
from twin.paths import Paths
from twin.settings import BackupSettings


def vec(rng: np.random.Generator, dim: int = 8) -> np.ndarray:
    v = rng.normal(size=dim).astype("float32")
    return v / np.linalg.norm(v)


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths(tmp_path / "config", tmp_path / "data", tmp_path / "cache", tmp_path / "logs").ensure()


def fill(paths: Paths, n_files: int = 20, tag: str = "v1") -> None:
    rng = np.random.default_rng(0)
    store = LanceStore(paths.index_dir, "test-model", 8)
    store.replace_files({f"/notes/{tag}-{i}.md": [StoreRow(0, f"{tag} note {i}", f"{tag}{i}", vec(rng))]
                         for i in range(n_files)})
    state = FileState(paths.state_db)
    state.put_many([record(f"/notes/{tag}-{i}.md", "/notes", 10, 1, "h", "indexed", 1) for i in range(n_files)])
    state.close()
    convs = ConversationStore(paths.conversations_db)
    c = convs.create(f"conversation {tag}")
    convs.add_user_message(c.id, f"hello {tag}")
    convs.close()
    paths.inbox_dir.mkdir(exist_ok=True)
    (paths.inbox_dir / "dropped.txt").write_text(f"dropped {tag}", encoding="utf-8")
    (paths.models_dir).mkdir(exist_ok=True)
    (paths.models_dir / "big.gguf").write_bytes(b"\0" * 1000)


def contents(paths: Paths) -> dict[str, object]:
    store = LanceStore(paths.index_dir, "test-model", 8)
    con = sqlite3.connect(paths.conversations_db)
    try:
        titles = sorted(r[0] for r in con.execute("SELECT title FROM conversations"))
    finally:
        con.close()
    state = FileState(paths.state_db, readonly=True)
    try:
        files = sorted(state.all())
    finally:
        state.close()
    return {"chunks": sorted(store.paths()), "titles": titles, "files": files,
            "inbox": (paths.inbox_dir / "dropped.txt").read_text(encoding="utf-8")}


def test_backup_is_a_consistent_snapshot_without_models(paths: Paths) -> None:
    fill(paths)
    cfg = BackupSettings(keep=3)
    info = create_backup(paths, cfg, "manual")
    names = {i["name"]: i for i in info.manifest["items"]}
    assert set(names) == {"index", "files.sqlite3", "conversations.sqlite3", "inbox"}
    assert "models" not in names and not (info.path / "models").exists()
    assert names["index"]["rows"] == 20 and names["index"]["schema"]["model"] == "test-model"
    assert names["conversations.sqlite3"]["schema"]["migrations"][:3] == [
        "m001_conversations", "m002_messages", "m003_fts"]
    assert info.manifest["index_locked_while_copying"] is True
    assert info.bytes > 0 and info.path.parent == paths.data_dir / "backups"
    # the copies open on their own: no -wal side files needed
    con = sqlite3.connect(info.path / "conversations.sqlite3")
    assert con.execute("SELECT title FROM conversations").fetchone()[0] == "conversation v1"
    con.close()
    assert not list(info.path.glob("*-wal"))


def test_keep_n_and_prune(paths: Paths) -> None:
    fill(paths, n_files=3)
    cfg = BackupSettings(keep=2)
    made = [create_backup(paths, cfg, f"b{i}").name for i in range(4)]
    assert [b.name for b in list_backups(paths, cfg)] == made[-2:]
    assert prune(paths, cfg, keep=0) == made[-2:]
    assert list_backups(paths, cfg) == []


def test_backup_while_another_process_owns_the_index(paths: Paths) -> None:
    fill(paths, n_files=5)
    other = WriterLock(paths.data_dir, "twin watch")
    assert other.try_acquire()
    try:
        info = create_backup(paths, BackupSettings(), "manual")
    finally:
        other.release()
    assert info.manifest["index_locked_while_copying"] is False
    assert {i["name"]: i for i in info.manifest["items"]}["index"]["rows"] == 5


def test_restore_swaps_back_and_keeps_the_present(paths: Paths) -> None:
    fill(paths, tag="v1")
    cfg = BackupSettings(keep=5)
    v1 = create_backup(paths, cfg, "manual")
    before = contents(paths)
    # the present moves on: more notes, another conversation, a changed inbox file
    fill(paths, tag="v2")
    assert contents(paths) != before

    other = WriterLock(paths.data_dir, "the twin window")
    assert other.try_acquire()
    with pytest.raises(IndexLocked, match="the twin window"):
        restore_backup(paths, cfg, v1.name)
    other.release()
    assert contents(paths)["inbox"] == "dropped v2"  # refused: nothing changed

    undo = restore_backup(paths, cfg, v1.name)
    assert contents(paths) == before
    assert undo.reason == f"before restore of {v1.name}"
    assert (paths.models_dir / "big.gguf").exists()  # not part of backups, left alone
    assert not [p for p in paths.data_dir.iterdir() if p.name.startswith(".restore-")]
    # and the undo backup brings the v2 state back
    restore_backup(paths, cfg, undo.name)
    assert contents(paths)["inbox"] == "dropped v2"
    with pytest.raises(BackupError, match="no backup named"):
        restore_backup(paths, cfg, "nope")


def _bad_migration(db: sqlite3.Connection) -> None:
    """Changes schema and data, then fails halfway."""
    db.execute("CREATE TABLE half_done (x INTEGER)")
    db.execute("ALTER TABLE messages ADD COLUMN broken TEXT")
    db.execute("UPDATE messages SET content = 'CLOBBERED'")
    raise sqlite3.OperationalError("disk full (injected)")


def test_failed_migration_leaves_data_intact_and_a_backup(paths: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    fill(paths, n_files=2)
    con = sqlite3.connect(paths.conversations_db)
    schema_before = sorted(r[0] for r in con.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL"))
    con.close()
    bad = (*migrations.MIGRATIONS, ("m900_bad", _bad_migration))
    monkeypatch.setattr(conv_store, "migrate", functools.partial(migrations.migrate, migrations=bad))
    cfg = BackupSettings(keep=5)
    with pytest.raises(MigrationError, match="m900_bad failed: disk full .*left exactly as it was"):
        ConversationStore(paths.conversations_db, before_migrate=before_migration(paths, cfg))

    [backup] = list_backups(paths, cfg)
    assert backup.reason == "before m900_bad"
    con = sqlite3.connect(paths.conversations_db)
    try:
        assert sorted(r[0] for r in con.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL")) == schema_before
        assert [r[0] for r in con.execute("SELECT content FROM messages")] == ["hello v1"]
        assert "m900_bad" not in {r[0] for r in con.execute("SELECT name FROM _migrations")}
    finally:
        con.close()
    # the app still opens the database with the shipped migrations, untouched
    monkeypatch.undo()
    store = ConversationStore(paths.conversations_db, before_migrate=before_migration(paths, cfg))
    assert store.list_conversations()[0].title == "conversation v1"
    store.close()
    assert len(list_backups(paths, cfg)) == 1  # nothing pending: no new backup


def test_no_backup_for_a_new_database(paths: Paths) -> None:
    cfg = BackupSettings()
    ConversationStore(paths.conversations_db, before_migrate=before_migration(paths, cfg)).close()
    assert list_backups(paths, cfg) == []


def test_cli_backup_list_restore(paths: Paths, tmp_path: Path, twin_home: Path) -> None:
    home_paths = Paths(twin_home / "config", twin_home / "data", twin_home / "cache", twin_home / "logs").ensure()
    fill(home_paths, n_files=4)

    def twin(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "twin", *args], capture_output=True, text=True, timeout=120,
                              check=False)

    made = twin("backup", "--json")
    assert made.returncode == 0, made.stderr
    name = json.loads(made.stdout)["name"]
    listed = twin("backup", "list", "--json")
    assert [b["name"] for b in json.loads(listed.stdout)] == [name]
    refused = twin("restore", name)  # no terminal to confirm on
    assert refused.returncode == 2 and "--yes" in refused.stderr
    done = twin("restore", name, "--yes")
    assert done.returncode == 0, done.stderr
    assert f"restored {name}" in done.stdout
    assert len(json.loads(twin("backup", "list", "--json").stdout)) == 2


def test_backup_before_a_full_reindex(paths: Paths, embedder, minilm_path: str) -> None:  # type: ignore[no-untyped-def]
    """A new embedding model empties the index: the old one is backed up first."""
    from twin.app.container import Memory
    from twin.settings import Settings

    rng = np.random.default_rng(2)
    old = LanceStore(paths.index_dir, "old-model", 8)
    old.replace_files({f"/n/{i}.md": [StoreRow(0, f"old {i}", f"o{i}", vec(rng))] for i in range(7)})
    settings = Settings()
    settings.embedding.model = minilm_path
    mem = Memory(settings, paths)
    mem.__dict__["embedder"] = embedder
    try:
        assert mem.store.model_changed
        _ = mem.indexer  # resets the store for the new model
        assert mem.store.count() == 0
    finally:
        mem.close()
    [backup] = list_backups(paths, settings.backup)
    assert backup.reason == "before re-index"
    index = {i["name"]: i for i in backup.manifest["items"]}["index"]
    assert index["rows"] == 7 and index["schema"]["model"] == "old-model"
