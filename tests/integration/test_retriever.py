"""Retriever over a real LanceStore with the real MiniLM embedder (small corpora, seconds)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from twin.core.memory.retriever import (
    Retriever,
    diversify,
    intersect,
    rrf,
    zfuse,
    zscores,
)
from twin.core.memory.store import Candidate, LanceStore, StoreRow, content_hash
from twin.core.types import DateRange, Hit

TODAY = dt.date(2024, 6, 10)

# path → (date, [(heading, text), …])
CORPUS: dict[str, tuple[dt.date | None, list[tuple[str, str]]]] = {
    "/diary/2023-05-03.md": (dt.date(2023, 5, 3), [
        ("Morning", "Our dog Rex had a high fever, so we drove him to the veterinarian before work."),
        ("Evening", "Cooked pasta with tomatoes and watched an old film."),
    ]),
    "/diary/2023-05-20.md": (dt.date(2023, 5, 20), [
        ("Trip", "Hiked up the mountain trail with Anna; the view over the valley was stunning."),
    ]),
    "/diary/2023-06-11.md": (dt.date(2023, 6, 11), [
        ("Work", "Finally fixed the flaky deployment: the serial code XJ-4417 was wrong in the config."),
    ]),
    "/diary/2024-01-02.md": (dt.date(2024, 1, 2), [
        ("Утро", "Гуляли с собакой по заснеженному парку, потом пили горячий чай."),
        ("Вечер", "Читал книгу о путешествиях по Северу."),
    ]),
    "/notes/recipes.md": (None, [
        ("Soup", "Borscht: beets, cabbage, potatoes, carrots, a spoon of sour cream."),
        ("Bread", "Sourdough needs a long cold proof overnight in the fridge."),
    ]),
    "/notes/garden.md": (None, [
        (f"Bed {i}", f"Garden note {i}: watered the tomato plants and tied them to stakes.")
        for i in range(6)
    ]),
}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory, embedder) -> LanceStore:  # type: ignore[no-untyped-def]
    store = LanceStore(tmp_path_factory.mktemp("retr") / "db", embedder.name, embedder.dim)
    texts = [f"{h}\n{t}" for _, chunks in CORPUS.values() for h, t in chunks]
    vecs = dict(zip(texts, embedder.embed_passages(texts)))
    rows = {}
    for path, (date, chunks) in CORPUS.items():
        rows[path] = [
            StoreRow(ordinal=i, text=t, hash=content_hash(f"{h}\n{t}"), vector=vecs[f"{h}\n{t}"], heading=h,
                     entry_date=date, start_line=3 + 4 * i, end_line=5 + 4 * i)
            for i, (h, t) in enumerate(chunks)
        ]
    store.replace_files(rows)
    store.maintain()
    return store


@pytest.fixture
def retr(indexed: LanceStore, embedder) -> Retriever:  # type: ignore[no-untyped-def]
    return Retriever(indexed, embedder, k=5, per_file=2, today=lambda: TODAY)


def paths(hits: list[Hit]) -> list[str]:
    return [h.path for h in hits]


def test_hit_fields(retr: Retriever) -> None:
    hits = retr.search("serial code XJ-4417", use_query_dates=False)
    h = hits[0]
    assert h.path == "/diary/2023-06-11.md"
    assert h.heading == "Work" and h.date == dt.date(2023, 6, 11)
    assert (h.start_line, h.end_line) == (3, 5)
    assert h.text.startswith("Finally fixed the flaky deployment")
    assert h.chunk_id and h.score > 0
    assert [x.score for x in hits] == sorted((x.score for x in hits), reverse=True)


def test_hybrid_ranks_lexical_and_semantic_matches(retr: Retriever) -> None:
    # "XJ-4417" is lexical only; "pet … sick … animal doctor" shares no word with the Rex entry.
    hits = retr.search("XJ-4417 my pet was sick and saw the animal doctor", use_query_dates=False)
    assert set(paths(hits[:2])) == {"/diary/2023-06-11.md", "/diary/2023-05-03.md"}
    assert paths(retr.search("pet sick animal doctor", mode="vector", use_query_dates=False))[0] == \
        "/diary/2023-05-03.md"
    assert paths(retr.search("XJ-4417", mode="bm25", use_query_dates=False)) == ["/diary/2023-06-11.md"]


def test_russian_bm25_through_retriever(retr: Retriever) -> None:
    hits = retr.search("прогулки с собаками", use_query_dates=False)
    assert hits[0].path == "/diary/2024-01-02.md" and hits[0].heading == "Утро"


def test_per_file_diversity(retr: Retriever, indexed: LanceStore, embedder) -> None:  # type: ignore[no-untyped-def]
    hits = retr.search("watering tomato plants in the garden", k=5, use_query_dates=False)
    assert paths(hits).count("/notes/garden.md") == 2
    unlimited = Retriever(indexed, embedder, k=5, per_file=0)
    hits = unlimited.search("watering tomato plants in the garden", use_query_dates=False)
    assert paths(hits).count("/notes/garden.md") == 5


def test_explicit_date_range(retr: Retriever) -> None:
    hits = retr.search("dog", since=dt.date(2023, 5, 1), until=dt.date(2023, 5, 31), use_query_dates=False)
    assert set(paths(hits)) <= {"/diary/2023-05-03.md", "/diary/2023-05-20.md"}
    assert hits[0].path == "/diary/2023-05-03.md"
    assert all(h.date is not None for h in retr.search("dog", since=dt.date(2000, 1, 1), use_query_dates=False))


def test_query_dates(retr: Retriever) -> None:
    hits = retr.search("dog in May 2023")
    assert hits and set(paths(hits)) <= {"/diary/2023-05-03.md", "/diary/2023-05-20.md"}
    assert hits[0].path == "/diary/2023-05-03.md"
    # A query that is only a date lists that period's entries in order.
    only = retr.search("май 2023")
    assert [(h.path, h.heading) for h in only] == [
        ("/diary/2023-05-03.md", "Morning"), ("/diary/2023-05-03.md", "Evening"), ("/diary/2023-05-20.md", "Trip")]
    assert paths(retr.search("what did I do in May 2023?"))[0] == "/diary/2023-05-03.md"
    # Query dates intersect explicit ones; disjoint ranges give nothing.
    assert retr.search("dog in May 2023", since=dt.date(2024, 1, 1)) == []
    assert paths(retr.search("dog in May 2023", use_query_dates=False))[0] == "/diary/2023-05-03.md"


def test_a_date_and_filler_words_is_that_day(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """ "What happened on 20 May 2023?" asks for that day, even when another day's note holds
    "happened" and "2023" (the eval's dated questions fell to R@1 0.56 when it did not)."""
    store = LanceStore(tmp_path / "db", embedder.name, embedder.dim)
    notes = {"/d/2023-05-20.md": (dt.date(2023, 5, 20), "Hiked up the mountain trail with Anna."),
             "/d/2023-05-22.md": (dt.date(2023, 5, 22),
                                  "Something strange happened at work on the 20th: the 2023 budget vanished."),
             "/d/2023-05-23.md": (dt.date(2023, 5, 23), "Wrote letters all day and noted the rain in my diary.")}
    vecs = embedder.embed_passages([t for _, t in notes.values()])
    store.replace_files({path: [StoreRow(ordinal=0, text=t, hash=content_hash(t), vector=v, heading="", entry_date=d,
                                         start_line=1, end_line=1)]
                         for (path, (d, t)), v in zip(notes.items(), vecs)})
    r = Retriever(store, embedder, k=3, per_file=1, today=lambda: TODAY)
    for q in ("What happened on 20 May 2023?", "What did I write on 2023-05-20?", "Что я писал 20 мая 2023?",
              "Что произошло 20.05.2023?"):
        assert paths(r.search(q)) == ["/d/2023-05-20.md"], q
    # a real question about that day still searches it, and beyond it when the day has no answer
    assert paths(r.search("What happened to the budget on 20 May 2023?"))[0] == "/d/2023-05-22.md"
    assert paths(r.search("Who hiked with me on 20 May 2023?"))[0] == "/d/2023-05-20.md"


def test_modes_and_timings(retr: Retriever) -> None:
    for mode in ("hybrid", "vector", "bm25"):
        assert retr.search("mountain hike with Anna", mode=mode, use_query_dates=False)[0].path == \
            "/diary/2023-05-20.md"
        assert {"embed_ms", "vector_ms", "fts_ms", "fuse_ms", "total_ms"} <= set(retr.last_timings)
    assert retr.last_timings["embed_ms"] == 0.0  # bm25 mode does not embed
    with pytest.raises(ValueError):
        retr.search("x", mode="magic")


def test_empty_and_degenerate(tmp_path: Path, embedder, retr: Retriever) -> None:  # type: ignore[no-untyped-def]
    empty = Retriever(LanceStore(tmp_path / "db", embedder.name, embedder.dim), embedder)
    assert empty.search("anything", use_query_dates=False) == []
    assert retr.search("", use_query_dates=False) == []
    assert retr.search('"(*:', use_query_dates=False) == []
    assert retr.search("dog", k=0) == []


# -- pure helpers -------------------------------------------------------------------------


def _c(i: int, path: str = "/p.md", score: float = 0.0) -> Candidate:
    return Candidate(id=f"c{i}", path=path, ordinal=i, heading="", text="", entry_date=None,
                     start_line=0, end_line=0, hash="", score=score)


def test_rrf_and_diversify() -> None:
    a, b, c = _c(1, "/a"), _c(2, "/b"), _c(3, "/a")
    fused = rrf([([a, b, c], 1.0), ([b, c], 1.0)], 60)
    assert [x.id for x, _ in fused] == ["c2", "c3", "c1"]
    assert [x.id for x, _ in diversify(fused, 5, 1)] == ["c2", "c3"]
    assert [x.id for x, _ in diversify(fused, 2, 0)] == ["c2", "c3"]


def test_intersect() -> None:
    d = dt.date
    assert intersect(DateRange(d(2020, 1, 1)), DateRange(None, d(2020, 2, 1))) == DateRange(d(2020, 1, 1), d(2020, 2, 1))
    assert intersect(DateRange(d(2021, 1, 1)), DateRange(None, d(2020, 2, 1))) is None
    assert intersect(DateRange(), DateRange()) == DateRange()


def test_zscores_pad_bm25_lists() -> None:
    z, floor = zscores([_c(1, score=9.0)], depth=10, pad=0.0)
    assert z["c1"] == pytest.approx(3.0) and floor == pytest.approx(-1 / 3)
    z, floor = zscores([_c(1, score=0.5), _c(2, score=0.5)], depth=2, pad=None)
    assert z == {"c1": 0.0, "c2": 0.0} and floor == 0.0
    assert zscores([], 10, 0.0) == ({}, 0.0)


def test_zfuse_keeps_a_standout_lexical_hit() -> None:
    """A flat (noisy) vector list must not bury the one row BM25 is sure about."""
    vec = [_c(i, f"/v{i}", 0.6 - 0.001 * i) for i in range(50)]
    lex = [_c(40, "/v40", 12.0)] + [_c(100 + i, f"/l{i}", 2.0 - 0.01 * i) for i in range(20)]
    fused = zfuse(vec, lex, 50, 0.6, 1.0)
    assert fused[0][0].id == "c40"


def test_bad_arguments(indexed: LanceStore, embedder) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        Retriever(indexed, embedder, mode="magic")
    with pytest.raises(ValueError):
        Retriever(indexed, embedder, fusion="magic")
    rrf_retr = Retriever(indexed, embedder, fusion="rrf")
    assert rrf_retr.search("XJ-4417", use_query_dates=False)[0].path == "/diary/2023-06-11.md"
