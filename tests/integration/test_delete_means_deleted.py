""""Delete" means deleted: a deleted conversation or forgotten note leaves no byte on disk.

Each test stores unique canary strings (English and Russian), first proves that a byte scan
of the data folder FINDS them (so the test can fail), deletes, and scans every file again.

LanceDB compresses string pages once they are large (a byte scan then sees nothing even
while the text is there), so the memory tests keep the table small enough for plain pages,
and also check structurally that every data and index file that existed while the canary
was stored is gone after the purge, and that the latest version holds no such row.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from twin.app.index_service import IndexService
from twin.core.conversation.store import ConversationStore
from twin.core.memory.filestate import FileState
from twin.core.memory.indexer import Indexer
from twin.core.memory.sources import FileFilter
from twin.core.memory.store import LanceStore

CANARIES = ("zebra-canary-7f3a", "зебра-канарейка-7f3a")
NEEDLES = [c.encode("utf-8") for c in CANARIES] + [c.encode("utf-16-le") for c in CANARIES]


def files_with_canary(root: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for p in root.rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            for needle, label in zip(NEEDLES, [f"{c} (utf-8)" for c in CANARIES] + [f"{c} (utf-16)" for c in CANARIES]):
                if needle in data:
                    found.setdefault(str(p.relative_to(root)), []).append(label)
    return found


# -- conversations ---------------------------------------------------------------------------


def test_deleted_conversation_is_gone_from_every_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    db = data / "conversations.sqlite3"
    store = ConversationStore(db)
    keep = store.create("groceries")
    store.add_user_message(keep.id, "milk, bread and apples")
    secret = store.create(f"about {CANARIES[0]}")
    store.add_user_message(secret.id, f"my password hint is {CANARIES[0]}", memories=f"[1] {CANARIES[1]}")
    mid = store.begin_assistant_message(secret.id, model="m")
    store.finish_assistant_message(mid, content=f"noted: {CANARIES[1]}", thinking=f"think {CANARIES[0]}",
                                   citations=(), complete=True, finish_reason="stop")
    # a second connection reading (another process would do the same): must not keep the text alive
    reader = sqlite3.connect(db)
    assert reader.execute("SELECT count(*) FROM messages").fetchone()[0] == 3
    assert store.search("zebra"), "FTS finds the canary before the delete"

    before = files_with_canary(data)
    assert before, "the canary must be visible on disk before the delete, or this test proves nothing"
    assert all(len(v) >= 2 for v in before.values()) or len(before) >= 1

    t0 = time.perf_counter()
    store.delete(secret.id)
    seconds = time.perf_counter() - t0
    assert files_with_canary(data) == {}, f"canary left on disk after delete ({seconds:.3f} s)"
    assert store.search("zebra") == [] and store.search("зебра") == []
    assert [m.content for m in store.messages(keep.id)] == ["milk, bread and apples"]
    assert reader.execute("SELECT count(*) FROM messages").fetchone()[0] == 1
    reader.close()
    store.close()
    assert files_with_canary(data) == {}


# -- memory ----------------------------------------------------------------------------------


def make_vault(root: Path) -> Path:
    root.mkdir(parents=True)
    for i in range(4):
        (root / f"2021-03-0{i + 1}.md").write_text(
            f"# Day {i}\n\nA walk by the river with the lantern, note {i}.\n", encoding="utf-8")
    secret = root / "private" / "secret.md"
    secret.parent.mkdir()
    secret.write_text(f"# Secret\n\nThe code word is {CANARIES[0]}.\n\nПо-русски: {CANARIES[1]}.\n",
                      encoding="utf-8")
    return secret


def lance_files(index: Path) -> set[str]:
    """The LanceDB files that hold row content: data fragments, indexes, deletion files."""
    return {str(p.relative_to(index)) for p in index.rglob("*")
            if p.is_file() and {"data", "_indices", "_deletions"} & set(p.relative_to(index).parts)}


def assert_purged(index: Path, store: LanceStore, old_files: set[str]) -> None:
    assert any(f.startswith("chunks.lance/data/") for f in old_files)
    assert any(f.startswith("chunks.lance/_indices/") for f in old_files)
    assert files_with_canary(index.parent) == {}
    left = old_files & lance_files(index)
    assert not left, f"files from before the purge survive: {sorted(left)}"
    assert store.search_fts("zebra canary", 5) == []
    assert all(CANARIES[0] not in r.text for p in store.paths() for r in store.rows_for_path(p))
    assert store.stats()["versions"] == 1


@pytest.fixture
def memory(tmp_path: Path, embedder):  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    store = LanceStore(data / "index", embedder.name, embedder.dim)
    state = FileState(data / "files.sqlite3")
    indexer = Indexer(store, embedder, state, FileFilter([".md"], [], False))
    yield data, store, state, indexer
    state.close()


def test_deleted_note_is_purged_from_the_index_files(tmp_path: Path, memory) -> None:  # type: ignore[no-untyped-def]
    data, store, _state, indexer = memory
    vault = tmp_path / "vault"
    secret = make_vault(vault)
    indexer.reconcile([vault])
    assert any(CANARIES[0] in h.text for h in store.search_fts("zebra canary", 5))
    before = files_with_canary(data)
    assert any("chunks.lance/data/" in f for f in before), (
        "the canary must be visible in a LanceDB data file before the delete", before)
    old_files = lance_files(data / "index")

    secret.unlink()
    report = indexer.reconcile([vault])
    assert report.files_removed == 1
    # a plain delete is not enough: LanceDB only marks the rows deleted
    assert files_with_canary(data), "expected the text to survive a plain delete (else the purge is untested)"
    t0 = time.perf_counter()
    purge = store.purge()
    seconds = time.perf_counter() - t0
    assert_purged(data / "index", store, old_files)
    assert sorted(store.paths()) == sorted(str(p) for p in vault.glob("*.md"))
    assert len(store.search_vector(indexer.embedder.embed_query("river lantern"), 3)) == 3
    print(f"purge of a {store.count()}-chunk index: {seconds:.3f} s {purge}")


def test_index_service_purges_after_a_watched_delete(tmp_path: Path, memory) -> None:  # type: ignore[no-untyped-def]
    data, store, state, indexer = memory
    vault = tmp_path / "vault"
    secret = make_vault(vault)
    service = IndexService(indexer, [vault], debounce_s=0.1)
    service.start(watch=True)
    try:
        assert service.wait_idle(120)
        assert files_with_canary(data), "canary must be on disk before the delete"
        old_files = lance_files(data / "index")
        shutil.rmtree(secret.parent)  # a folder with the note goes away
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and files_with_canary(data):
            time.sleep(0.2)
        assert service.wait_idle(60)
    finally:
        service.stop()
    assert_purged(data / "index", store, old_files)
    assert state.get(str(secret)) is None


def test_forget_excludes_deletes_and_purges(tmp_path: Path, memory) -> None:  # type: ignore[no-untyped-def]
    from twin.app.forget import forget, plan_forget
    from twin.settings import Settings

    data, store, state, indexer = memory
    vault = tmp_path / "vault"
    secret = make_vault(vault)
    indexer.reconcile([vault])
    assert files_with_canary(data)
    old_files = lance_files(data / "index")
    settings = Settings()
    settings.memory.sources = [str(vault)]
    plan = plan_forget(settings, [secret.parent.resolve()])
    plan.apply(settings)
    assert settings.memory.exclude == ["private/**"] and settings.memory.sources == [str(vault)]

    class Mem:  # what forget() uses of the app's Memory
        pass

    mem = Mem()
    mem.store, mem.state = store, state  # type: ignore[attr-defined]
    report = forget(mem, plan)  # type: ignore[arg-type]
    assert report["files"] == 1 and report["chunks"] >= 1
    assert_purged(data / "index", store, old_files)
    assert secret.exists()  # twin never deletes your notes
    # the exclusion keeps it out of the next index
    indexer.filter = FileFilter([".md"], settings.memory.exclude, False)
    indexer.reconcile([vault])
    assert files_with_canary(data) == {}


def test_purge_of_a_compressed_table(tmp_path: Path) -> None:
    """Large pages are compressed (the byte scan is blind there): the purge still rewrites
    every fragment and index that held the row, and no version keeps it."""
    import numpy as np

    from twin.core.memory.store import StoreRow

    rng = np.random.default_rng(1)

    def v() -> np.ndarray:
        x = rng.normal(size=16).astype("float32")
        return x / np.linalg.norm(x)

    store = LanceStore(tmp_path / "index", "test-model", 16)
    rows = {f"/n/{i}.md": [StoreRow(0, f"ordinary note {i} about the river and the lantern", f"h{i}", v())]
            for i in range(3000)}
    rows["/n/secret.md"] = [StoreRow(0, f"the word is {CANARIES[0]} / {CANARIES[1]}", "hs", v())]
    store.replace_files(rows)
    store.maintain(cleanup_older_than=__import__("datetime").timedelta(0))
    assert store.search_fts("zebra canary", 3)[0].path == "/n/secret.md"
    old_files = lance_files(tmp_path / "index")
    store.delete_paths(["/n/secret.md"])
    t0 = time.perf_counter()
    store.purge()
    seconds = time.perf_counter() - t0
    assert_purged(tmp_path / "index", store, old_files)
    assert store.count() == 3000
    print(f"purge of a 3000-chunk table: {seconds:.3f} s")
