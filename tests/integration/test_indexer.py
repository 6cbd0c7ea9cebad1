"""The indexer end to end: real files, real MiniLM, real LanceDB and SQLite in tmp dirs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from twin.core.memory.filestate import FileState
from twin.core.memory.indexer import Indexer
from twin.core.memory.retriever import Retriever
from twin.core.memory.sources import FileFilter
from twin.core.memory.store import LanceStore

EXT = [".md", ".markdown", ".txt", ".pdf", ".docx", ".html", ".htm"]


class CountingEmbedder:
    """The real embedder, counting the passages it embeds."""

    def __init__(self, inner):
        self.inner = inner
        self.embedded = 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def embed_passages(self, texts):
        self.embedded += len(texts)
        return self.inner.embed_passages(texts)


def write_vault(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "2024").mkdir()
    (root / "2024" / "2024-03-15.md").write_text(
        "---\ntitle: Friday\ntags: [walk]\n---\n# Friday\n\nI walked the dog along the frozen river "
        "and thought about the lighthouse project.\n", encoding="utf-8")
    (root / "дневник.md").write_text(
        "# Март\n\n## 15 марта 2023\n\nСегодня мы с Анной ездили на дачу и сажали яблони.\n\n"
        "## 16 марта 2023\n\nВесь день писал отчёт, вечером читал Чехова.\n", encoding="utf-8")
    (root / "ideas.txt").write_text("Build a telescope from an old camera lens.\n\nLearn to bake sourdough bread.\n",
                                    encoding="utf-8")
    return root


@pytest.fixture
def make_indexer(tmp_path: Path, embedder):
    made: list[tuple] = []

    def make(model=None) -> tuple[Indexer, CountingEmbedder, LanceStore, FileState]:
        emb = CountingEmbedder(model or embedder)
        store = LanceStore(tmp_path / "index", emb.name, emb.dim)
        state = FileState(tmp_path / "files.sqlite3")
        idx = Indexer(store, emb, state, FileFilter(EXT))
        made.append((state,))
        return idx, emb, store, state

    yield make
    for (state,) in made:
        state.close()


def rows(store: LanceStore) -> list[dict]:
    return store._ready().to_arrow().select(["id", "path", "ordinal", "hash"]).to_pylist()


def test_index_then_noop_then_change_then_rename_then_delete(tmp_path: Path, make_indexer) -> None:
    vault = write_vault(tmp_path / "vault")
    idx, emb, store, state = make_indexer()
    r1 = idx.reconcile([vault])
    assert r1.files_seen == 3 and r1.files_indexed == 3 and not r1.errors
    total = store.count()
    assert total >= 4 and emb.embedded == r1.chunks_embedded == total
    hits = Retriever(store, emb, per_file=0).search("яблони дача", k=5, use_query_dates=False)
    dated = {h.text: h.date for h in hits if h.path == str(vault / "дневник.md")}
    assert {str(d) for t, d in dated.items() if "яблони" in t} == {"2023-03-15"}
    assert {str(d) for t, d in dated.items() if "Чехова" in t} <= {"2023-03-16"}

    # no-op: nothing parsed, nothing embedded
    r2 = idx.reconcile([vault])
    assert (r2.files_unchanged, r2.files_indexed, r2.chunks_embedded, emb.embedded) == (3, 0, 0, total)

    # touch without change: nothing embedded, chunks kept
    os.utime(vault / "ideas.txt", ns=(1, 1))
    r3 = idx.reconcile([vault])
    assert r3.chunks_embedded == 0 and store.count() == total

    # change one paragraph: only the changed chunk is embedded
    f = vault / "ideas.txt"
    f.write_text("Build a telescope from an old camera lens.\n\nLearn to play the cello.\n", encoding="utf-8")
    r4 = idx.reconcile([vault])
    assert r4.files_indexed == 1 and 1 <= r4.chunks_embedded <= 2
    hits = Retriever(store, emb).search("cello", k=1, mode="bm25")
    assert hits and "cello" in hits[0].text and hits[0].path == str(f)

    # rename (a move): not re-embedded, old path gone
    before = emb.embedded
    f.rename(vault / "2024" / "ideas-moved.txt")
    idx.reconcile([vault])
    assert emb.embedded == before
    paths = set(store.paths())
    assert str(f) not in paths and str(vault / "2024" / "ideas-moved.txt") in paths

    # delete: chunks removed, record removed
    (vault / "2024" / "ideas-moved.txt").unlink()
    r6 = idx.reconcile([vault])
    assert r6.files_removed == 1
    assert str(vault / "2024" / "ideas-moved.txt") not in store.paths()
    assert state.get(str(vault / "2024" / "ideas-moved.txt")) is None
    ids = [r["id"] for r in rows(store)]
    assert len(ids) == len(set(ids))


def test_removed_source_drops_its_chunks(tmp_path: Path, make_indexer) -> None:
    a = write_vault(tmp_path / "a")
    b = tmp_path / "b"
    b.mkdir()
    (b / "note.md").write_text("A note about whales.\n", encoding="utf-8")
    idx, emb, store, state = make_indexer()
    idx.reconcile([a, b])
    assert str(b / "note.md") in store.paths()
    idx.reconcile([a])
    assert str(b / "note.md") not in store.paths()
    assert all(p.startswith(str(a)) for p in store.paths())


def test_model_change_reembeds_everything(tmp_path: Path, make_indexer, embedder) -> None:
    vault = write_vault(tmp_path / "vault")
    idx, emb, store, _ = make_indexer()
    idx.reconcile([vault])
    n = store.count()

    class Renamed(CountingEmbedder):
        @property
        def name(self):
            return "another-model"

    other = Renamed(embedder)
    store2 = LanceStore(tmp_path / "index", other.name, other.dim)
    assert store2.model_changed
    state2 = FileState(tmp_path / "files.sqlite3")
    r = Indexer(store2, other, state2, FileFilter(EXT)).reconcile([vault])
    assert r.chunks_embedded == n and other.embedded == n and store2.count() == n
    state2.close()


def test_bad_inputs_never_stop_the_indexer(tmp_path: Path, make_indexer) -> None:
    vault = write_vault(tmp_path / "vault")
    (vault / "binary.md").write_bytes(bytes(range(256)) * 64)
    (vault / "bad-utf8.md").write_bytes("Valid start. ".encode() + b"\xff\xfe\xfa broken \xc3 bytes. " + "Конец.".encode())
    (vault / "empty.md").write_bytes(b"")
    (vault / "cp1251.txt").write_bytes("Сегодня я купил новый самовар на ярмарке.".encode("cp1251"))
    (vault / "koi8.txt").write_bytes("Вчера шёл сильный снег, и мы играли в снежки.".encode("koi8_r"))
    (vault / "utf16.md").write_text("Заметка в UTF-16 about kites.", encoding="utf-16")
    (vault / "bom.md").write_bytes("\ufeff# Заголовок\n\nText with BOM about owls.".encode("utf-8"))
    big = vault / "big.md"
    with big.open("w", encoding="utf-8") as fh:
        para = "This is a long diary line about nothing in particular. " * 20 + "\n\n"
        while fh.tell() < 50 * 1024 * 1024:
            fh.write(para)
    (vault / "loop.md").symlink_to(vault / "loop.md")
    locked = vault / "locked.md"
    locked.write_text("secret")
    locked.chmod(0)
    (vault / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj <<>> garbage without xref")
    idx, emb, store, state = make_indexer()
    idx.max_file_bytes = 1024 * 1024  # keep the 50 MB file cheap: read the first 1 MB
    try:
        report = idx.reconcile([vault])
    finally:
        locked.chmod(0o644)
    problems = {Path(e.path).name: (e.state, e.reason) for e in report.errors}
    assert problems["binary.md"][0] == "skipped" and "binary" in problems["binary.md"][1]
    assert problems["loop.md"] == ("error", "symlink loop")
    assert problems["broken.pdf"][0] in ("error", "skipped")
    assert problems["big.md"][0] == "partial" and "truncated" in problems["big.md"][1]
    assert problems["bad-utf8.md"][0] == "partial"
    if os.geteuid() != 0:
        assert problems["locked.md"] == ("error", "permission denied")
    stored = store.paths()
    for name in ("2024/2024-03-15.md", "дневник.md", "ideas.txt", "bad-utf8.md", "cp1251.txt", "koi8.txt",
                 "utf16.md", "bom.md", "big.md"):
        assert str(vault / name) in stored, name
    assert str(vault / "binary.md") not in stored
    r = Retriever(store, emb, per_file=0)
    assert any(h.path.endswith("cp1251.txt") for h in r.search("самовар", k=3, mode="bm25"))
    assert any(h.path.endswith("koi8.txt") for h in r.search("снег", k=3, mode="bm25"))
    assert any(h.path.endswith("utf16.md") for h in r.search("kites", k=3, mode="bm25"))
    # every problem is recorded for `twin status`
    recorded = {Path(p.path).name for p in state.problems()}
    assert {"binary.md", "broken.pdf", "big.md", "bad-utf8.md"} <= recorded


def test_file_deleted_while_indexing_is_not_fatal(tmp_path: Path, make_indexer, monkeypatch) -> None:
    vault = write_vault(tmp_path / "vault")
    victim = vault / "ideas.txt"
    import twin.core.memory.indexer as indexer_mod

    real = indexer_mod.read_document

    def vanish(path, max_bytes, *rest):
        if path == victim:
            path.unlink()
        return real(path, max_bytes, *rest)

    monkeypatch.setattr(indexer_mod, "read_document", vanish)
    idx, emb, store, state = make_indexer()
    report = idx.reconcile([vault])
    assert report.files_indexed == 2
    assert [e.reason for e in report.errors if e.path == str(victim)]
    r2 = idx.reconcile([vault])
    assert r2.files_removed == 1 and state.get(str(victim)) is None


def test_index_paths_for_watcher_events(tmp_path: Path, make_indexer) -> None:
    vault = write_vault(tmp_path / "vault")
    idx, emb, store, state = make_indexer()
    idx.reconcile([vault])
    new = vault / "new.md"
    new.write_text("# Holiday\n\nWe swam in the warm sea near Sochi.\n", encoding="utf-8")
    idx.index_paths([new], [vault])
    assert str(new) in store.paths()
    moved = vault / "2024" / "new.md"
    before = emb.embedded
    shutil.move(new, moved)
    idx.index_paths([new, moved], [vault])
    assert emb.embedded == before
    assert str(new) not in store.paths() and str(moved) in store.paths()
    ignored = vault / "x.md.swp"
    ignored.write_text("swap")
    idx.index_paths([ignored], [vault])
    assert str(ignored) not in store.paths()
