"""LanceStore on a real LanceDB in a tmp dir: schema, atomic replaces, moves, indexes, FTS."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from twin.core.memory.store import LanceStore, StoreRow, content_hash, sql_in, sql_str
from twin.core.types import Chunk, DateRange
from twin.errors import StoreError

DIM = 16
ROOT = Path(__file__).resolve().parents[2]

WEIRD = [
    "/notes/it's a \"quoted\" file.md",
    "/заметки/дневник ёжика 2024.md",
    "/notes/semi;colon -- % _ (parens) OR 1=1.md",
]


def vec(seed: int | str, dim: int = DIM) -> np.ndarray:
    rng = np.random.default_rng(abs(hash(seed)) % (2**32) if isinstance(seed, str) else seed)
    v = rng.standard_normal(dim).astype(np.float32)
    return v / np.linalg.norm(v)


def rows(path: str, n: int, tag: str = "v1", date: dt.date | None = None, text: str | None = None) -> list[StoreRow]:
    out = []
    for i in range(n):
        body = text or f"{tag} chunk {i} of {path}"
        h = content_hash(f"{body}#{i}")
        out.append(StoreRow(ordinal=i, text=body, hash=h, vector=vec(h), heading=f"H {i}",
                            entry_date=date, start_line=i * 10 + 1, end_line=i * 10 + 9, mtime=123.5))
    return out


@pytest.fixture
def store(tmp_path: Path) -> LanceStore:
    return LanceStore(tmp_path / "db", "test-model", DIM)


def texts_of(store: LanceStore, path: str) -> list[str]:
    return [c.text for c in store.rows_for_path(path)]


# -- schema and metadata ------------------------------------------------------------------


def test_schema_and_meta(store: LanceStore, tmp_path: Path) -> None:
    import pyarrow as pa

    sch = store._table.schema
    assert sch.names == ["id", "path", "ordinal", "heading", "text", "entry_date", "start_line",
                         "end_line", "mtime", "hash", "fts", "vector"]
    assert sch.field("ordinal").type == pa.int32()
    assert sch.field("entry_date").type == pa.date32()
    assert sch.field("mtime").type == pa.float64()
    assert sch.field("vector").type == pa.list_(pa.float32(), DIM)
    meta = (tmp_path / "db" / "meta.json").read_text(encoding="utf-8")
    assert '"model": "test-model"' in meta and f'"dim": {DIM}' in meta
    assert store.count() == 0 and store.paths() == {} and not store.model_changed


def test_rows_round_trip(store: LanceStore) -> None:
    d = dt.date(2024, 5, 1)
    store.replace_files({"/a.md": rows("/a.md", 2, date=d)})
    got = store.rows_for_path("/a.md")
    assert [c.ordinal for c in got] == [0, 1]
    c = got[1]
    assert (c.heading, c.entry_date, c.start_line, c.end_line) == ("H 1", d, 11, 19)
    assert c.id and c.path == "/a.md" and c.hash == rows("/a.md", 2)[1].hash
    tbl = store._table.to_arrow()
    assert tbl.column("mtime").to_pylist() == [123.5, 123.5]
    assert tbl.column("fts").to_pylist()[0] == "h 0 v1 chunk 0 md"  # "of", "a" are stop words


def test_sql_quoting() -> None:
    assert sql_str("it's") == "'it''s'"
    assert sql_in("path", ["a", "b'c"]) == "path IN ('a', 'b''c')"


# -- replace_files ------------------------------------------------------------------------


def test_replace_shrink_grow_delete_with_weird_paths(store: LanceStore) -> None:
    store.replace_files({p: rows(p, 3) for p in WEIRD})
    assert store.paths() == {p: 3 for p in WEIRD}
    # Shrink one, grow another, delete the third, all in one call.
    store.replace_files({WEIRD[0]: rows(WEIRD[0], 1, "v2"), WEIRD[1]: rows(WEIRD[1], 5, "v2"), WEIRD[2]: []})
    assert store.paths() == {WEIRD[0]: 1, WEIRD[1]: 5}
    assert texts_of(store, WEIRD[0]) == [f"v2 chunk 0 of {WEIRD[0]}"]
    assert all(t.startswith("v2") for t in texts_of(store, WEIRD[1]))
    # Only-deletes takes the delete path.
    store.replace_files({WEIRD[0]: []})
    assert store.paths() == {WEIRD[1]: 5}


def test_replace_is_one_commit_and_leaves_other_paths(store: LanceStore) -> None:
    store.replace_files({"/keep.md": rows("/keep.md", 2), "/x.md": rows("/x.md", 2)})
    before = store._table.version
    store.replace_files({"/x.md": rows("/x.md", 4, "v2"), "/new.md": rows("/new.md", 1)})
    assert store._table.version == before + 1
    assert store.paths() == {"/keep.md": 2, "/x.md": 4, "/new.md": 1}
    assert texts_of(store, "/keep.md")[0].startswith("v1")


def test_replace_unchanged_rows_is_idempotent(store: LanceStore) -> None:
    store.replace_files({"/a.md": rows("/a.md", 3)})
    store.replace_files({"/a.md": rows("/a.md", 3)})
    assert store.count() == 3


def test_bad_rows_change_nothing(store: LanceStore) -> None:
    store.replace_files({"/a.md": rows("/a.md", 2)})
    bad = rows("/b.md", 1)[0]
    with pytest.raises(ValueError):
        store.replace_files({"/a.md": [], "/b.md": [StoreRow(0, "t", "h", np.zeros(DIM + 1))]})
    with pytest.raises(ValueError):
        store.replace_files({"/a.md": [], "/b.md": [bad, bad]})
    assert store.paths() == {"/a.md": 2}


def test_dict_rows_and_from_chunk(store: LanceStore) -> None:
    chunk = Chunk("text of a chunk", ("Day", "Morning"), 3, 7, dt.date(2020, 1, 2), ordinal=0)
    row = StoreRow.from_chunk(chunk, vec(1), mtime=5.0)
    as_dict = {"id": "ignored", "path": "ignored", "ordinal": 1, "text": "dict row", "hash": "abc",
               "vector": vec(2), "heading": "", "entry_date": None, "start_line": 1, "end_line": 1,
               "mtime": 1.0}
    store.replace_files({"/c.md": [row, as_dict]})
    got = store.rows_for_path("/c.md")
    assert [c.text for c in got] == ["text of a chunk", "dict row"]
    assert got[0].heading == "Day › Morning" and got[0].hash == content_hash("text of a chunk")


def test_delete_paths(store: LanceStore) -> None:
    store.replace_files({p: rows(p, 2) for p in WEIRD})
    store.delete_paths([WEIRD[0], WEIRD[1], "/not/there.md"])
    assert store.paths() == {WEIRD[2]: 2}
    store.delete_paths([])
    assert store.count() == 2


_CHILD = textwrap.dedent("""
    import sys, numpy as np
    from pathlib import Path
    from twin.core.memory.store import LanceStore, StoreRow
    s = LanceStore(Path(sys.argv[1]), "m", 8)
    paths = [f"/d/file {i}'s.md" for i in range(6)]
    gen = 0
    print("ready", flush=True)
    while True:
        gen += 1
        n = 1 + gen % 5  # the chunk count changes every generation
        s.replace_files({p: [StoreRow(j, f"gen{gen}", f"{gen}-{j}", np.full(8, gen, np.float32))
                             for j in range(n)] for p in paths})
""")


@pytest.mark.slow
def test_sigkill_never_leaves_a_mix(tmp_path: Path) -> None:
    """Kill a writer at random moments: each path holds exactly one generation's chunks."""
    db = tmp_path / "db"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rng = np.random.default_rng(7)
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(db)], stdout=subprocess.PIPE, env=env)
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        time.sleep(0.3 + float(rng.random()) * 0.7)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        store = LanceStore(db, "m", 8)
        for path in [f"/d/file {i}'s.md" for i in range(6)]:
            got = store.rows_for_path(path)
            gens = {c.text for c in got}
            assert len(gens) <= 1, (path, gens)
            if got:
                gen = int(next(iter(gens))[3:])
                assert [c.ordinal for c in got] == list(range(1 + gen % 5))


# -- moves --------------------------------------------------------------------------------


def test_rename_keeps_vectors(store: LanceStore) -> None:
    old, new = WEIRD[0], "/moved/новое имя's.md"
    store.replace_files({old: rows(old, 3), "/other.md": rows("/other.md", 1)})
    before = {c.ordinal: c for c in store.rows_for_path(old)}
    vecs = store.vectors_for_hashes(c.hash for c in before.values())
    v0 = store._table.version
    assert store.rename_path(old, new) == 3
    assert store._table.version == v0 + 1
    assert store.paths() == {new: 3, "/other.md": 1}
    after = store.rows_for_path(new)
    assert [c.hash for c in after] == [before[i].hash for i in range(3)]
    assert all(c.id != before[c.ordinal].id for c in after)
    for h, v in store.vectors_for_hashes(c.hash for c in after).items():
        np.testing.assert_array_equal(v, vecs[h])
    # Moving onto an existing file replaces it; moving a missing path changes nothing.
    assert store.rename_path("/other.md", new) == 1
    assert store.paths() == {new: 1}
    assert store.rename_path("/nope.md", new) == 0
    assert store.paths() == {new: 1}


def test_rename_prefix(store: LanceStore) -> None:
    files = ["/vault/дневник/a.md", "/vault/дневник/sub/b's.md", "/vault/дневник2/c.md", "/vault/x.md"]
    store.replace_files({p: rows(p, 2) for p in files})
    hashes = {c.hash for c in store.rows_for_path(files[1])}
    assert store.rename_prefix("/vault/дневник", "/vault/journal") == 4
    assert store.paths() == {"/vault/journal/a.md": 2, "/vault/journal/sub/b's.md": 2,
                             "/vault/дневник2/c.md": 2, "/vault/x.md": 2}
    assert {c.hash for c in store.rows_for_path("/vault/journal/sub/b's.md")} == hashes
    assert store.rename_prefix("/vault/none/", "/vault/else/") == 0


# -- hashes -------------------------------------------------------------------------------


def test_vectors_for_hashes_batches(store: LanceStore) -> None:
    many = [StoreRow(i, f"t{i}", f"h{i:05d}", vec(i)) for i in range(2500)]
    store.replace_files({"/big.md": many, "/dup.md": [StoreRow(0, "t0", "h00000", vec(0))]})
    store.maintain()
    wanted = [f"h{i:05d}" for i in range(0, 2500, 2)] + ["missing", "it's"]
    t0 = time.perf_counter()
    got = store.vectors_for_hashes(wanted)
    elapsed = time.perf_counter() - t0
    assert len(got) == 1250 and "missing" not in got
    np.testing.assert_allclose(got["h00042"], vec(42))
    assert elapsed < 2.0
    assert store.vectors_for_hashes([]) == {}


# -- model change -------------------------------------------------------------------------


def test_model_change_detected_and_reset(tmp_path: Path) -> None:
    s = LanceStore(tmp_path / "db", "model-a", DIM)
    s.replace_files({"/a.md": rows("/a.md", 2)})
    same = LanceStore(tmp_path / "db", "model-a", DIM)
    assert not same.model_changed and same.count() == 2

    other = LanceStore(tmp_path / "db", "model-b", 8)
    assert other.model_changed
    with pytest.raises(StoreError, match="model-a"):
        other.replace_files({"/a.md": []})
    with pytest.raises(StoreError):
        other.search_fts("chunk", 5)
    other.reset()
    assert not other.model_changed and other.count() == 0
    other.replace_files({"/b.md": [StoreRow(0, "t", "h", np.ones(8))]})
    again = LanceStore(tmp_path / "db", "model-b", 8)
    assert not again.model_changed and again.paths() == {"/b.md": 1}
    assert LanceStore(tmp_path / "db", "model-b", 16).model_changed


# -- maintenance --------------------------------------------------------------------------


def test_compaction_reduces_versions_and_fragments(store: LanceStore) -> None:
    expected = {}
    for i in range(30):
        path = f"/f{i % 7}.md"
        store.replace_files({path: rows(path, 1 + i % 3, f"g{i}")})
        expected[path] = 1 + i % 3
    before = store.stats()
    assert before["versions"] > 30 and before["fragments"] > 5
    report = store.maintain(cleanup_older_than=dt.timedelta(0))
    after = store.stats()
    assert after["fragments"] == 1 and after["versions"] <= 2, (report, after)
    assert {"fts_idx", "path_idx", "hash_idx", "id_idx"} <= set(after["indices"])
    assert store.paths() == expected
    # Maintenance is idempotent and keeps working after more writes.
    store.replace_files({"/f0.md": []})
    store.maintain(cleanup_older_than=dt.timedelta(0))
    assert "/f0.md" not in store.paths()
    # Nothing left to do: no new commit (optimize costs seconds at 100k rows even then).
    version = store._table.version
    assert store.maintain(cleanup_older_than=dt.timedelta(0))["optimize_s"] == 0.0
    assert store._table.version == version


def test_default_cleanup_keeps_recent_versions(store: LanceStore) -> None:
    for i in range(5):
        store.replace_files({"/a.md": rows("/a.md", 1, f"g{i}")})
    store.maintain()  # cleanup_older_than defaults to a minute: nothing is old enough
    assert store.stats()["versions"] > 5


@pytest.mark.parametrize("kind", ["ivf_sq", "ivf_pq", "ivf_hnsw_sq"])
def test_vector_index_above_threshold(tmp_path: Path, kind: str) -> None:
    store = LanceStore(tmp_path / "db", "m", DIM, vector_index_threshold=500, vector_index=kind)
    data = {f"/f{i}.md": [StoreRow(j, f"text {i} {j}", f"{i}-{j}", vec(i * 100 + j)) for j in range(10)]
            for i in range(40)}
    store.replace_files(data)
    assert "vector_idx" not in store.stats()["indices"]
    report = store.maintain()
    assert "vector_index_s" not in report  # 400 rows < 500
    store.replace_files({f"/g{i}.md": [StoreRow(0, f"g{i}", f"g{i}", vec(10_000 + i))] for i in range(150)})
    report = store.maintain()
    assert "vector_index_s" in report
    assert "vector_idx" in store.stats()["indices"]
    assert "vector_index_s" not in store.maintain()  # not rebuilt until the table doubles
    # The nearest neighbour of a stored vector is still itself.
    for seed, path in [(1203, "/f12.md"), (10_007, "/g7.md")]:
        top = store.search_vector(vec(seed), 5)
        assert top[0].path == path and top[0].score == pytest.approx(1.0, abs=0.02)
    # Rows added after the index are found too.
    store.replace_files({"/late.md": [StoreRow(0, "late", "late", vec(999_999))]})
    assert store.search_vector(vec(999_999), 3)[0].path == "/late.md"


# -- search -------------------------------------------------------------------------------


def _text_rows(texts: list[str], date: dt.date | None = None) -> list[StoreRow]:
    return [StoreRow(i, t, content_hash(t), vec(t), entry_date=date) for i, t in enumerate(texts)]


def test_fts_russian_and_english_stemming(store: LanceStore) -> None:
    store.replace_files({
        "/ru.md": _text_rows(["Сегодня гуляли с собакой в парке у реки."]),
        "/ru2.md": _text_rows(["Ёлка стояла в углу, пахло мандаринами."]),
        "/en.md": _text_rows(["We were walking along the river all morning."]),
        "/mixed.md": _text_rows(["Meeting with Андрей about the deployment, потом обед."]),
        "/noise.md": _text_rows(["Nothing relevant here at all."]),
    })
    assert [c.path for c in store.search_fts("собаками", 5)] == ["/ru.md"]
    assert [c.path for c in store.search_fts("walked", 5)] == ["/en.md"]
    assert [c.path for c in store.search_fts("елки", 5)] == ["/ru2.md"]
    assert [c.path for c in store.search_fts("Андрея deployments", 5)] == ["/mixed.md"]
    assert [c.path for c in store.search_fts("обеды and meetings", 5)] == ["/mixed.md"]
    assert store.search_fts("the and of", 5) == []  # only stop words


NASTY = ['"', "'", "it's", 'say "hello', "a:b", "title:walk", "*", "walk*", "-walk", "- - -", "(", ")",
         "(walk OR run) AND NOT dog", "AND", "OR", "NOT", "+walk", "~", "walk~2", "^3", "\\", "[a TO z]",
         "{}", "/regex/", "собак* OR", "'; DROP TABLE chunks; --", "", "   ", "\x00", "🙂"]


@pytest.mark.parametrize("query", NASTY)
def test_fts_nasty_queries_never_raise(store: LanceStore, query: str) -> None:
    store.replace_files({"/a.md": _text_rows(["walk the dog; say hello; it's AND OR NOT"])})
    hits = store.search_fts(query, 5)
    assert all(c.path == "/a.md" for c in hits)


def test_fts_finds_rows_added_after_index(store: LanceStore) -> None:
    store.replace_files({"/a.md": _text_rows(["первая запись про кота"])})
    store.maintain()
    store.replace_files({"/b.md": _text_rows(["вторая запись про котов"])})
    assert {c.path for c in store.search_fts("коты", 5)} == {"/a.md", "/b.md"}


def test_date_filtered_search(store: LanceStore) -> None:
    store.replace_files({
        "/2023-05-01.md": _text_rows(["picnic in the park"], dt.date(2023, 5, 1)),
        "/2023-06-01.md": _text_rows(["picnic by the lake"], dt.date(2023, 6, 1)),
        "/undated.md": _text_rows(["picnic memories"]),
    })
    may = DateRange(dt.date(2023, 5, 1), dt.date(2023, 5, 31))
    assert [c.path for c in store.search_fts("picnic", 5, may)] == ["/2023-05-01.md"]
    assert [c.path for c in store.search_vector(vec("picnic by the lake"), 5, may)] == ["/2023-05-01.md"]
    since = DateRange(since=dt.date(2023, 5, 15))
    assert [c.path for c in store.search_fts("picnic", 5, since)] == ["/2023-06-01.md"]
    assert len(store.search_fts("picnic", 5)) == 3
    top = store.search_vector(vec("picnic by the lake"), 5)
    assert top[0].path == "/2023-06-01.md" and len(top) == 3
    assert [c.path for c in store.by_date(DateRange(until=dt.date(2024, 1, 1)), 5)] == [
        "/2023-05-01.md", "/2023-06-01.md"]


def test_two_handles_see_each_other(tmp_path: Path) -> None:
    a = LanceStore(tmp_path / "db", "m", DIM)
    b = LanceStore(tmp_path / "db", "m", DIM)
    a.replace_files({"/a.md": rows("/a.md", 2)})
    assert b.paths() == {"/a.md": 2}
    b.replace_files({"/a.md": rows("/a.md", 1, "v2"), "/b.md": rows("/b.md", 1)})
    assert a.paths() == {"/a.md": 1, "/b.md": 1}
    assert a.stats()["rows"] == 2
