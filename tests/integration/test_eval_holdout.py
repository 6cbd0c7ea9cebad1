"""The true hold-out behind the Pepys abstention set (twin.core.eval.holdout, bench/pepys_holdout.py):
20 days of Pepys's diary plus a two-day note, indexed by the real Indexer into LanceDB with
MiniLM; a question set built as `twin eval build` builds it; the held-apart entries left out
of a copy of the index; the abstention rates measured on the real retriever."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import pytest

from twin.app.eval_service import HeldApartRetriever, indexed_passages
from twin.core.eval.holdout import abstention_rates, recall_at, score_questions, without_entries
from twin.core.eval.questions import build_question_set
from twin.core.memory.filestate import FileState
from twin.core.memory.indexer import Indexer
from twin.core.memory.retriever import Retriever
from twin.core.memory.sources import FileFilter
from twin.core.memory.store import LanceStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
from pepys_vault import make_vault  # noqa: E402

TWO_DAYS = """# Two days at the office

## 1666-10-01

Up betimes and to the office, where Sir William Coventry and I talked long of the victualling
of the fleet and the want of money for the seamen's tickets, which troubles me mightily.

## 1666-10-02

To Deptford by water with Mr. Gauden, where we viewed the new storehouse and the ropeyard,
and so home by coach in the evening, and to supper and to bed.
"""


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> tuple[Path, LanceStore]:
    root = tmp_path_factory.mktemp("holdout")
    vault = make_vault(root, first="1666-09-01", count=20)
    (vault / "two days.md").write_text(TWO_DAYS, encoding="utf-8")
    store = LanceStore(root / "index", embedder.name, embedder.dim)
    state = FileState(root / "files.sqlite3")
    try:
        Indexer(store, embedder, state, FileFilter([".md"], [], False)).reconcile([vault])
    finally:
        state.close()
    return vault, store


def rows_by_path(store: LanceStore) -> dict[str, list[tuple[int, dt.date | None, str]]]:
    return {p: [(r.ordinal, r.entry_date, r.text) for r in store.rows_for_path(p)] for p in store.paths()}


def test_the_hold_out_index_lacks_exactly_the_held_entries(indexed: tuple[Path, LanceStore], tmp_path: Path,
                                                           embedder: Any) -> None:
    vault, full = indexed
    before = rows_by_path(full)
    two_days = str(vault / "two days.md")
    assert {d for _, d, _ in before[two_days]} == {dt.date(1666, 10, 1), dt.date(1666, 10, 2)}
    qs = build_question_set(indexed_passages(full), seed=3, dated=6, keyword=6, unanswerable=4)
    held = list(qs.held_apart) + [(two_days, dt.date(1666, 10, 2))]  # one entry of a two-entry file
    assert len(qs.held_apart) == 4 and sum(not q.answerable for q in qs.questions) == 4

    dst = LanceStore(tmp_path / "held-out", embedder.name, embedder.dim)
    left_out = without_entries(full, dst, held)

    assert rows_by_path(full) == before  # the source index is untouched
    after = rows_by_path(dst)
    held_paths = {p for p, _ in qs.held_apart}
    assert not held_paths & set(after)
    assert after[two_days] == [r for r in before[two_days] if r[1] == dt.date(1666, 10, 1)]
    for path, rows in before.items():
        if path not in held_paths and path != two_days:
            assert after[path] == rows
    assert left_out == sum(len(before[p]) for p in held_paths) + sum(
        1 for r in before[two_days] if r[1] == dt.date(1666, 10, 2)) > 0
    assert dst.count() == full.count() - left_out
    # the vectors came along: a search by meaning finds the kept half of the two-day note
    hits = dst.search_vector(embedder.embed_query("victualling the fleet, money for seamen's tickets"), 3)
    assert hits and hits[0].path == two_days
    # the held entries' own words are nowhere in the hold-out index (they were, before)
    for q in qs.questions:
        if not q.answerable and q.kind == "keyword":
            assert full.search_fts(" ".join(q.terms), 5) and not dst.search_fts(" ".join(q.terms), 5)


def test_abstention_rates_on_the_hold_out_and_the_filter(indexed: tuple[Path, LanceStore], tmp_path: Path,
                                                         embedder: Any) -> None:
    _, full = indexed
    qs = build_question_set(indexed_passages(full), seed=3, dated=6, keyword=6, unanswerable=4)
    dst = LanceStore(tmp_path / "held-out", embedder.name, embedder.dim)
    without_entries(full, dst, qs.held_apart)

    true_ho = score_questions(lambda q: Retriever(dst, embedder, k=8, per_file=2).search(q, 10), qs.questions, 8)
    filt = HeldApartRetriever(Retriever(full, embedder, k=8, per_file=2), qs.held_apart)
    filtered = score_questions(lambda q: filt.search(q, 10), qs.questions, 8)

    for scored in (true_ho, filtered):
        assert [s.question.id for s in scored] == [q.id for q in qs.questions]
        assert all(0.0 <= s.evidence <= 1.0 for s in scored)
        assert all(s.rank is None for s in scored if not s.question.answerable)
        # dated and keyword questions name their entry's date or rarest words: found
        assert recall_at(scored, 5) is not None and recall_at(scored, 5) >= 0.8
        rates = abstention_rates(scored, (0.0, 0.4, 1.01))
        assert rates[0.0]["unanswerable_flagged"] == 0.0 and rates[0.0]["answerable_refused"] == 0.0
        assert rates[1.01]["unanswerable_flagged"] == 1.0 and rates[1.01]["answerable_refused"] == 1.0
        row = rates[0.4]
        assert row["n_unanswerable"] == 4 and row["n_answerable"] == 12
        assert sum(n for _, n in row["flagged_by_kind"].values()) == 4
        # what the bench reports: most unanswerable flagged, few answerable refused
        assert row["unanswerable_flagged"] >= 0.5 and row["answerable_refused"] <= 0.25
    # a day whose only entry was never indexed has no evidence at all in the hold-out index
    for s in true_ho:
        if not s.question.answerable and s.question.kind == "dated":
            assert s.evidence < 0.4
