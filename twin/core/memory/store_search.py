"""Every read of the ``chunks`` table: lookups (by path, hash, date) and the two searches.

:class:`Search` is a part of :class:`~twin.core.memory.store.LanceStore` (which delegates its
read methods here): it reads the store's current table, so a :meth:`LanceStore.reset`
needs nothing from it. Searches:

* **vector**: cosine distance over unit vectors, ANN (IVF) once built, else exact;
  score = cosine similarity;
* **full text**: BM25 over the stemmed ``fts`` column; the query goes through the same
  normalisation as the stored text, so it can never inject FTS syntax.

Both take ``dates`` and a :class:`~twin.core.types.Scope` as a *pre*filter: the ``k`` best
within them, not the best ``k`` filtered afterwards. Imports ``lancedb.query`` lazily.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from twin.core.memory.scope import combine, date_filter, scope_filter
from twin.core.memory.store_rows import RESULT_COLUMNS, Candidate, candidates, sql_in, sql_str
from twin.core.memory.textnorm import query_terms
from twin.core.types import DateRange, Scope

if TYPE_CHECKING:
    import numpy as np

    from twin.core.memory.store import LanceStore

#: No date filter.
ALL_DATES = DateRange()

#: How many values go into one ``IN (...)`` list when looking rows up.
_IN_BATCH = 1000


class Search:
    """The reads of ``store``; ``ensure_fts`` makes the FTS index (False: nothing to index)."""

    def __init__(self, store: LanceStore, ensure_fts: Callable[[], bool]):
        self._store = store
        self._ensure_fts = ensure_fts

    # -- lookups ----------------------------------------------------------------------------

    def count(self) -> int:
        """Number of chunks."""
        return int(self._store._ready().count_rows())

    def paths(self) -> dict[str, int]:
        """Every indexed path with its number of chunks."""
        tbl = self._store._ready().search().select(["path"]).limit(None).to_arrow()
        if tbl.num_rows == 0:
            return {}
        counts = tbl.column("path").value_counts()
        return {str(v): int(c) for v, c in zip(counts.field("values").to_pylist(),
                                                 counts.field("counts").to_pylist())}

    def vectors_for_hashes(self, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        """Stored vectors by content hash, for the hashes that are in the index."""
        store = self._store
        plain_of = {store.codec.hash(h): h for h in hashes}  # stored (maybe keyed) → given
        wanted = list(plain_of)
        out: dict[str, np.ndarray] = {}
        table = store._ready()
        for i in range(0, len(wanted), _IN_BATCH):
            batch = wanted[i:i + _IN_BATCH]
            tbl = (table.search().where(sql_in("hash", batch))
                   .select(["hash", "vector"]).limit(None).to_arrow())
            if tbl.num_rows == 0:
                continue
            vecs = tbl.column("vector").combine_chunks().flatten().to_numpy(zero_copy_only=False)
            vecs = vecs.reshape(-1, store.dim)
            for j, h in enumerate(tbl.column("hash").to_pylist()):
                h = plain_of[h]
                if h not in out:
                    out[h] = vecs[j].copy()
        return out

    def rows_for_path(self, path: str) -> list[Candidate]:
        """The chunks of one path, in ordinal order (score 0)."""
        tbl = (self._store._ready().search().where(f"path = {sql_str(path)}")
               .select(RESULT_COLUMNS).limit(None).to_arrow())
        return sorted(candidates(tbl, None, self._store.codec), key=lambda c: c.ordinal)

    def by_date(self, dates: DateRange, k: int, *, newest_first: bool = False,
                scope: Scope | None = None) -> list[Candidate]:
        """Up to ``k`` dated chunks in ``dates`` (and ``scope``), in chronological order (score 0)."""
        where = combine(date_filter(dates) or "entry_date IS NOT NULL", scope_filter(scope))
        tbl = (self._store._ready().search().where(where)
               .select(RESULT_COLUMNS).limit(None).to_arrow())
        rows = sorted(candidates(tbl, None, self._store.codec),
                      key=lambda c: (c.entry_date, c.path, c.ordinal), reverse=newest_first)
        return rows[:k]

    def on_month_days(self, month_days: Iterable[tuple[int, int]], k: int, *,
                      before: dt.date | None = None) -> list[Candidate]:
        """Up to ``k`` chunks dated on any of ``month_days`` (``(month, day)``) of any year
        before ``before``, newest first (score 0): "on this day" in one query."""
        days = " OR ".join(f"(date_part('month', entry_date) = {int(m)} AND date_part('day', entry_date) = {int(d)})"
                           for m, d in dict.fromkeys(month_days))
        if not days:
            return []
        where = f"entry_date IS NOT NULL AND ({days})"
        if before is not None:
            where += f" AND entry_date < date '{before.isoformat()}'"
        tbl = self._store._ready().search().where(where).select(RESULT_COLUMNS).limit(None).to_arrow()
        rows = sorted(candidates(tbl, None, self._store.codec),
                      key=lambda c: (c.entry_date, c.path, -c.ordinal), reverse=True)
        return rows[:k]

    # -- searches ---------------------------------------------------------------------------

    def vector(self, qvec: Any, k: int, dates: DateRange = ALL_DATES,
               scope: Scope | None = None) -> list[Candidate]:
        """The ``k`` chunks nearest to ``qvec`` (cosine), best first; score = similarity.
        ``dates`` and ``scope`` prefilter (the ``k`` nearest *within* them)."""
        import numpy as np

        store = self._store
        q = np.asarray(qvec, dtype=np.float32).reshape(-1)
        if q.shape[0] != store.dim:
            raise ValueError(f"query vector of {q.shape[0]} floats, the index holds {store.dim}")
        builder = (store._ready().search(q, vector_column_name="vector")
                   .distance_type("cosine")
                   .nprobes(store.nprobes)
                   .refine_factor(store.refine_factor))
        where = combine(date_filter(dates), scope_filter(scope))
        if where:
            builder = builder.where(where, prefilter=True)
        tbl = builder.select([*RESULT_COLUMNS, "_distance"]).limit(k).to_arrow()
        return candidates(tbl, "_distance", store.codec)

    def fts(self, query_text: str, k: int, dates: DateRange = ALL_DATES,
            scope: Scope | None = None) -> list[Candidate]:
        """BM25 over the stemmed ``fts`` column, best first; score = BM25 score. ``dates``
        and ``scope`` prefilter.

        ``query_text`` is raw user text: it goes through the same normalisation as the
        stored text, which also strips any query syntax.
        """
        from lancedb.query import FullTextOperator, MatchQuery

        store = self._store
        terms = store.codec.terms(query_terms(query_text))
        table = store._ready()
        if not terms or not self._ensure_fts():
            return []
        query = MatchQuery(" ".join(terms), "fts", operator=FullTextOperator.OR)  # type: ignore[call-arg]  # a pydantic dataclass: mypy misses its Field defaults
        builder = table.search(query, query_type="fts")
        where = combine(date_filter(dates), scope_filter(scope))
        if where:
            builder = builder.where(where, prefilter=True)
        tbl = builder.select([*RESULT_COLUMNS, "_score"]).limit(k).to_arrow()
        return candidates(tbl, "_score", store.codec)
