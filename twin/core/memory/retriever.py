"""Query → memories: hybrid (vector + BM25) search, date-aware, diversified across files.

Pipeline of :meth:`Retriever.search`:

1. **Dates.** A date expression in the query ("в мае 2023", "last week") becomes an entry-date
   range (intersected with explicit ``since``/``until``) and is cut from the query text. A
   query that was only a date returns that period's entries in chronological order.
2. **Candidates.** ``candidates`` rows from the vector search (cosine) and as many from BM25
   over the Russian/English-stemmed ``fts`` column, both prefiltered by the date range.
3. **Fusion** (hybrid): z-score fusion. Each list's scores are standardised over that
   list (mean 0, standard deviation 1; a BM25 list shorter than the candidate depth is
   padded with zeros, the score of every row that does not match), a row missing from a
   list gets that list's floor, and the fused score is ``w_vec·z_vec + w_bm25·z_bm25``.
   Unlike reciprocal rank fusion it keeps *how far* a top hit stands out: a rare name that
   BM25 finds in one entry outweighs a vector list whose order is noise (an English-only
   embedder facing Russian). Weights (0.6, 1.0) were tuned with
   ``bench/retrieval_quality.py`` on SciFact, XQuAD ru/en and Cranfield: hybrid beats the
   better single list on SciFact/XQuAD-en/Cranfield and plain BM25 on XQuAD-ru even with a
   useless vector list. ``fusion="rrf"`` gives weighted RRF instead.
4. **Diversity.** At most ``per_file`` hits per path (0 = no limit), then the top ``k``.

:attr:`Retriever.last_timings` holds the last search's breakdown in milliseconds.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from twin.core.memory.textnorm import query_terms
from twin.core.types import DateRange, Hit

if TYPE_CHECKING:
    from twin.core.memory.embedder import Embedder
    from twin.core.memory.store import Candidate, LanceStore

MODES = ("hybrid", "vector", "bm25")
FUSIONS = ("zscore", "rrf")


def intersect(a: DateRange, b: DateRange) -> DateRange | None:
    """The overlap of two ranges (open ends are unbounded); None when they do not meet."""
    since = max((d for d in (a.since, b.since) if d is not None), default=None)
    until = min((d for d in (a.until, b.until) if d is not None), default=None)
    if since is not None and until is not None and since > until:
        return None
    return DateRange(since, until)


def zscores(cands: Sequence[Candidate], depth: int, pad: float | None) -> tuple[dict[str, float], float]:
    """Standardised scores of one ranked list, and the floor for rows not in it.

    ``pad``: the score of rows the search did not return (0 for BM25: they do not match);
    a list shorter than ``depth`` is padded with it before the mean and deviation are taken.
    None: no padding (the vector list always returns its ``depth`` nearest).
    """
    scores = [c.score for c in cands]
    if not scores:
        return {}, 0.0
    ref = scores + [pad] * (depth - len(scores)) if pad is not None else scores
    mean = sum(ref) / len(ref)
    sd = (sum((x - mean) ** 2 for x in ref) / len(ref)) ** 0.5
    if sd < 1e-9:
        return {c.id: 0.0 for c in cands}, 0.0
    floor = (min(ref) - mean) / sd
    return {c.id: (c.score - mean) / sd for c in cands}, floor


def zfuse(vec: Sequence[Candidate], lex: Sequence[Candidate], depth: int, w_vec: float,
          w_bm25: float) -> list[tuple[Candidate, float]]:
    """Z-score fusion of a vector list and a BM25 list; best first."""
    zv, fv = zscores(vec, depth, None)
    zb, fb = zscores(lex, depth, 0.0)
    rows = {c.id: c for c in lex}
    rows.update((c.id, c) for c in vec)
    fused = {i: w_vec * zv.get(i, fv) + w_bm25 * zb.get(i, fb) for i in rows}
    return sorted(((rows[i], s) for i, s in fused.items()), key=lambda cs: (-cs[1], cs[0].id))


def rrf(lists: Iterable[tuple[Sequence[Candidate], float]], rrf_k: float) -> list[tuple[Candidate, float]]:
    """Weighted reciprocal rank fusion of ranked lists; best first."""
    fused: dict[str, float] = {}
    rows: dict[str, Candidate] = {}
    for cands, weight in lists:
        for rank, c in enumerate(cands):
            fused[c.id] = fused.get(c.id, 0.0) + weight / (rrf_k + rank + 1)
            rows.setdefault(c.id, c)
    return sorted(((rows[i], s) for i, s in fused.items()), key=lambda cs: (-cs[1], cs[0].id))


def diversify(ranked: Iterable[tuple[Candidate, float]], k: int, per_file: int) -> list[tuple[Candidate, float]]:
    """The first ``k`` of ``ranked`` with at most ``per_file`` per path (0 = no limit)."""
    out: list[tuple[Candidate, float]] = []
    per: dict[str, int] = {}
    for c, s in ranked:
        if per_file and per.get(c.path, 0) >= per_file:
            continue
        per[c.path] = per.get(c.path, 0) + 1
        out.append((c, s))
        if len(out) >= k:
            break
    return out


class Retriever:
    """Searches a :class:`~twin.core.memory.store.LanceStore` with an embedder.

    Args:
        store: the memory index.
        embedder: the model the index was built with (embeds the query).
        k: hits returned by default.
        per_file: at most this many hits from one file (0 = no limit).
        mode: default mode, one of "hybrid", "vector", "bm25".
        candidates: rows taken from each search before fusion.
        fusion: "zscore" (default) or "rrf".
        vector_weight, bm25_weight: weights of the two lists in hybrid fusion.
        rrf_k: the RRF constant (larger = flatter rank weights), for ``fusion="rrf"``.
        today: the date "today" for relative date expressions (tests pin it).
    """

    def __init__(
        self,
        store: LanceStore,
        embedder: Embedder,
        k: int = 8,
        per_file: int = 2,
        *,
        mode: str = "hybrid",
        candidates: int = 64,
        fusion: str = "zscore",
        vector_weight: float = 0.6,
        bm25_weight: float = 1.0,
        rrf_k: float = 60.0,
        today: Callable[[], dt.date] = dt.date.today,
    ):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        self.store = store
        self.embedder = embedder
        self.k = k
        self.per_file = per_file
        self.mode = mode
        self.candidates = candidates
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, not {fusion!r}")
        self.fusion = fusion
        self.rrf_k = rrf_k
        self.vector_weight = vector_weight
        self.bm25_weight = bm25_weight
        self.today = today
        self.last_timings: dict[str, float] = {}

    def search(
        self,
        query: str,
        k: int | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        use_query_dates: bool = True,
        mode: str | None = None,
        query_vector: Any = None,
    ) -> list[Hit]:
        """The best ``k`` memories for ``query``, best first.

        Args:
            query: the user's words (may hold a date expression, see the module doc).
            k: how many hits (default: the retriever's ``k``).
            since, until: an inclusive entry-date range; rows without a date are left out
                when a range is given.
            use_query_dates: read a date range out of the query text.
            mode: "hybrid" (default), "vector" or "bm25".
            query_vector: a precomputed query embedding (benchmarks; skips the embedder).
        """
        mode = mode or self.mode
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        k = self.k if k is None else k
        timings = {"dates_ms": 0.0, "embed_ms": 0.0, "vector_ms": 0.0, "fts_ms": 0.0, "fuse_ms": 0.0}
        self.last_timings = timings
        t_start = time.perf_counter()
        dates: DateRange | None = DateRange(since, until)
        text = query
        if use_query_dates:
            from twin.core.memory.query_dates import extract_query_dates

            t0 = time.perf_counter()
            found, text = extract_query_dates(query, self.today())
            dates = intersect(dates, found) if found else dates
            timings["dates_ms"] = _ms(t0)
        if dates is None or k <= 0:
            timings["total_ms"] = _ms(t_start)
            return []
        if not query_terms(text) and (dates or not any(ch.isalnum() for ch in text)):
            # Only a date ("в мае 2023", "what did I do in May?"): that period, in order.
            hits = self._by_date(dates, k) if dates else []
            timings["total_ms"] = _ms(t_start)
            return hits

        vec: list[Candidate] = []
        lex: list[Candidate] = []
        n = max(self.candidates, k)
        if mode in ("hybrid", "vector"):
            t0 = time.perf_counter()
            qvec = query_vector if query_vector is not None else self.embedder.embed_query(text)
            timings["embed_ms"] = _ms(t0)
            t0 = time.perf_counter()
            vec = self.store.search_vector(qvec, n, dates)
            timings["vector_ms"] = _ms(t0)
        if mode in ("hybrid", "bm25"):
            t0 = time.perf_counter()
            lex = self.store.search_fts(text, n, dates)
            timings["fts_ms"] = _ms(t0)

        t0 = time.perf_counter()
        if mode == "vector":
            ranked = [(c, c.score) for c in vec]
        elif mode == "bm25":
            ranked = [(c, c.score) for c in lex]
        elif self.fusion == "rrf":
            ranked = rrf([(vec, self.vector_weight), (lex, self.bm25_weight)], self.rrf_k)
        else:
            ranked = zfuse(vec, lex, n, self.vector_weight, self.bm25_weight)
        top = diversify(ranked, k, self.per_file)
        timings["fuse_ms"] = _ms(t0)
        timings["total_ms"] = _ms(t_start)
        return [_hit(c, s) for c, s in top]

    def _by_date(self, dates: DateRange, k: int) -> list[Hit]:
        """A date-only query: that period's entries, oldest first, spread across files."""
        rows = self.store.by_date(dates, max(k * 8, 64))
        top = diversify(((c, 0.0) for c in rows), k, self.per_file)
        return [_hit(c, 1.0 / (i + 1)) for i, (c, _) in enumerate(top)]


def _hit(c: Candidate, score: float) -> Hit:
    return Hit(path=c.path, heading=c.heading, date=c.entry_date, start_line=c.start_line,
               end_line=c.end_line, score=float(score), text=c.text, chunk_id=c.id)


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000.0
