"""Query → memories: hybrid (vector + BM25) search, date-aware, diversified across files.

Pipeline of :meth:`Retriever.search`:

1. **Scope.** A :class:`~twin.core.types.Scope` (folder, document, date range, none) is a
   prefilter on every search below: the top ``k`` are the top ``k`` inside it.
2. **Dates.** A date expression in the query ("в мае 2023", "last week") becomes an entry-date
   range (intersected with explicit ``since``/``until``) and is cut from the query text. A
   query that was only a date, or a date and words that ask for nothing more ("what happened
   on 22 July 1665?", "что я писал 3 мая?": :func:`~twin.core.memory.textnorm.only_period_words`),
   returns that period's entries in chronological order. A date found in the query *narrows*
   the search only when that period's notes hold evidence (:mod:`twin.core.memory.abstain`);
   otherwise the whole index is searched with the full question too, and its hits alternate
   with the period's: the wide search's first when it found evidence (a question *about* 2015,
   "how many interceptions in 2015?", must still find an undated note, or one written later;
   without this, 5 of the first 40 XQuAD-ru questions found nothing), the period's first
   when nothing answers better.
3. **Expansion** (``variants`` given to the search, e.g. the loaded LLM's translation made in
   another process, and the optional ``expander``: query → variants,
   :mod:`twin.core.memory.expand`): the variants' terms join the BM25 query (both languages'
   stems) and each variant is embedded and searched too, every chunk at its best similarity.
4. **Candidates.** ``candidates`` rows from the vector search (cosine) and as many from BM25
   over the Russian/English-stemmed ``fts`` column.
5. **Fusion** (hybrid): z-score fusion with a vector-list confidence (:mod:`twin.core.memory.fusion`):
   a flat vector list (an English-only embedder facing Russian) weighs nothing, so hybrid
   never loses what BM25 alone ranks first with a clear margin. ``fusion="rrf"`` gives
   weighted RRF instead.
6. **Diversity.** At most ``per_file`` hits per path (0 = no limit).
7. **Reranking** (optional ``reranker``, :mod:`twin.core.memory.rerank`): the first
   ``rerank_depth`` hits re-ordered by a cross-encoder or the LLM; then the top ``k``.
8. **Evidence.** Each hit gets :attr:`Hit.evidence` (absolute, in [0, 1]):
   :func:`twin.core.memory.abstain.enough_evidence` tells whether anything found answers.

:attr:`Retriever.last_timings` holds the last search's breakdown in milliseconds.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from twin.core.memory import abstain
from twin.core.memory.fusion import CONFIDENCE, PROTECT, list_confidence, max_merge, rrf, zfuse, zscores
from twin.core.memory.textnorm import only_period_words, query_terms
from twin.core.types import DateRange, Hit, Scope

if TYPE_CHECKING:
    from twin.core.memory.embedder import Embedder
    from twin.core.memory.rerank import Reranker
    from twin.core.memory.store import Candidate, LanceStore

__all__ = ["MODES", "FUSIONS", "Retriever", "diversify", "intersect", "rrf", "zfuse", "zscores"]

MODES = ("hybrid", "vector", "bm25")
FUSIONS = ("zscore", "rrf")


def intersect(a: DateRange, b: DateRange) -> DateRange | None:
    """The overlap of two ranges (open ends are unbounded); None when they do not meet."""
    since = max((d for d in (a.since, b.since) if d is not None), default=None)
    until = min((d for d in (a.until, b.until) if d is not None), default=None)
    if since is not None and until is not None and since > until:
        return None
    return DateRange(since, until)


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
        confidence: ``(lo, hi)`` of the vector list's confidence
            (:func:`twin.core.memory.fusion.list_confidence`); None = plain z-score fusion.
        bm25_margin: BM25's first row goes first when it leads the second by this many
            standard deviations (:mod:`twin.core.memory.fusion`); None = off.
        rrf_k: the RRF constant (larger = flatter rank weights), for ``fusion="rrf"``.
        expander: query → other wordings (a translation), e.g. a
            :class:`~twin.core.memory.expand.CachedExpander` over the loaded LLM; None = off.
        reranker: a second stage over the first ``rerank_depth`` hits
            (:mod:`twin.core.memory.rerank`); None = off.
        evidence_threshold: what counts as enough evidence for keeping a query's date as a
            filter (default :data:`twin.core.memory.abstain.DEFAULT_THRESHOLD`).
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
        confidence: tuple[float, float] | None = CONFIDENCE,
        bm25_margin: float | None = PROTECT,
        rrf_k: float = 60.0,
        expander: Callable[[str], list[str]] | None = None,
        reranker: Reranker | None = None,
        rerank_depth: int = 20,
        evidence_threshold: float | None = None,
        today: Callable[[], dt.date] = dt.date.today,
    ):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, not {fusion!r}")
        self.store = store
        self.embedder = embedder
        self.k = k
        self.per_file = per_file
        self.mode = mode
        self.candidates = candidates
        self.fusion = fusion
        self.rrf_k = rrf_k
        self.vector_weight = vector_weight
        self.bm25_weight = bm25_weight
        self.confidence = confidence
        self.bm25_margin = bm25_margin
        self.expander = expander
        self.reranker = reranker
        self.rerank_depth = rerank_depth
        self.evidence_threshold = evidence_threshold
        self.today = today
        self.cosine_range = abstain.cosine_range(getattr(embedder, "name", ""))
        self.last_timings: dict[str, float] = {}
        #: The other wordings the last search used (given ones first, then the expander's).
        self.last_variants: list[str] = []

    def search(
        self,
        query: str,
        k: int | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        use_query_dates: bool = True,
        mode: str | None = None,
        query_vector: Any = None,
        *,
        scope: Scope | None = None,
        expand: bool = True,
        rerank: bool = True,
        variants: Sequence[str] = (),
    ) -> list[Hit]:
        """The best ``k`` memories for ``query``, best first, each with its evidence.

        Args:
            query: the user's words (may hold a date expression, see the module doc).
            k: how many hits (default: the retriever's ``k``).
            since, until: an inclusive entry-date range, a hard filter; rows without a date
                are left out when a range is given.
            use_query_dates: read a date range out of the query text.
            mode: "hybrid" (default), "vector" or "bm25".
            query_vector: a precomputed embedding of the query (benchmarks; skips the
                embedder for the query itself, not for expansion variants).
            scope: which memories to search (:class:`~twin.core.types.Scope`): all (None or
                ``Scope.all()``), a folder, one document, a date range, or none (returns []).
            expand: use the retriever's expander, if it has one.
            rerank: use the retriever's reranker, if it has one.
            variants: other wordings computed elsewhere (the window's chat model translates
                the question in the main process): searched like the expander's, before them.
        """
        mode = mode or self.mode
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        k = self.k if k is None else k
        timings = {"dates_ms": 0.0, "expand_ms": 0.0, "embed_ms": 0.0, "vector_ms": 0.0, "fts_ms": 0.0,
                   "fuse_ms": 0.0, "rerank_ms": 0.0, "evidence_ms": 0.0}
        self.last_timings = timings
        self.last_variants = []
        t_start = time.perf_counter()
        explicit: DateRange | None = DateRange(since, until)
        if scope is not None and scope.kind == "none":
            explicit = None
        elif scope is not None and scope.kind == "dates":
            explicit = intersect(explicit, scope.date_range)
        dates, text, found = explicit, query, None
        if use_query_dates and explicit is not None:
            from twin.core.memory.query_dates import extract_query_dates

            t0 = time.perf_counter()
            found, text = extract_query_dates(query, self.today())
            dates = intersect(explicit, found) if found else explicit
            timings["dates_ms"] = _ms(t0)
        if dates is None or k <= 0:
            timings["total_ms"] = _ms(t_start)
            return []
        if (found and only_period_words(text)) or (
                not query_terms(text) and (dates or not any(ch.isalnum() for ch in text))):
            # Only a date ("в мае 2023", "what did I do in May?"): that period, in order.
            hits = self._by_date(dates, k, scope) if dates else []
            timings["total_ms"] = _ms(t_start)
            return hits

        given = [v.strip() for v in variants if isinstance(v, str) and v.strip()]
        hits = self._search_once(text, dates, scope, mode, k, query_vector, expand, rerank, given)
        if found and explicit is not None and not abstain.enough_evidence(hits, self.evidence_threshold):
            # The period named in the question holds nothing that answers it: the question may
            # be *about* that period (undated notes, notes written later). Search everything.
            # When the period has entries, they and the wide search's hits alternate: the period's
            # first when nothing anywhere answers better ("what happened on 22 July?"), the wide
            # search's first when it found evidence the period lacks.
            wide = self._search_once(query, explicit, scope, mode, k, query_vector, expand, rerank, given)
            if hits and not abstain.enough_evidence(wide, self.evidence_threshold):
                hits = _alternate(hits, wide)[:k]
            else:
                hits = _alternate(wide, hits)[:k]
        timings["total_ms"] = _ms(t_start)
        return hits

    def _variants(self, text: str, expand: bool, given: Sequence[str]) -> list[str]:
        """The given variants, then the expander's (no repeats, never the query itself)."""
        found = list(given)
        if expand and self.expander:
            t0 = time.perf_counter()
            found += [v for v in self.expander(text) if v.strip()]
            self.last_timings["expand_ms"] += _ms(t0)
        out: list[str] = []
        for v in found:
            if v.strip().lower() != text.strip().lower() and v.strip() not in out:
                out.append(v.strip())
        self.last_variants = out
        return out

    def _search_once(self, text: str, dates: DateRange, scope: Scope | None, mode: str, k: int,
                     query_vector: Any, expand: bool, rerank: bool, given: Sequence[str] = ()) -> list[Hit]:
        timings = self.last_timings
        variants = self._variants(text, expand, given)
        use_reranker = bool(rerank and self.reranker)
        depth = max(k, self.rerank_depth) if use_reranker else k
        n = max(self.candidates, depth)
        vec: list[Candidate] = []
        lex: list[Candidate] = []
        if mode in ("hybrid", "vector"):
            t0 = time.perf_counter()
            qvecs = [query_vector if query_vector is not None else self.embedder.embed_query(text)]
            qvecs += [self.embedder.embed_query(v) for v in variants]
            timings["embed_ms"] += _ms(t0)
            t0 = time.perf_counter()
            lists = [self.store.search_vector(q, n, dates, scope) for q in qvecs]
            vec = lists[0] if len(lists) == 1 else max_merge(lists)[:n]
            timings["vector_ms"] += _ms(t0)
        if mode in ("hybrid", "bm25"):
            t0 = time.perf_counter()
            lex = self.store.search_fts(" ".join([text, *variants]), n, dates, scope)
            timings["fts_ms"] += _ms(t0)

        t0 = time.perf_counter()
        ranked: Sequence[tuple[Any, float]]
        if mode == "vector":
            ranked = [(c, c.score) for c in vec]
        elif mode == "bm25":
            ranked = [(c, c.score) for c in lex]
        elif self.fusion == "rrf":
            ranked = rrf([(vec, self.vector_weight), (lex, self.bm25_weight)], self.rrf_k)
        else:
            ranked = zfuse(vec, lex, n, self.vector_weight, self.bm25_weight, self.confidence,
                           self.bm25_margin)
        top = diversify(ranked, depth, self.per_file)
        timings["fuse_ms"] += _ms(t0)
        if use_reranker and self.reranker is not None:
            from twin.core.memory.rerank import rerank as run_reranker

            t0 = time.perf_counter()
            top = run_reranker(self.reranker, text, top, lambda cs: _passage(cs[0]))
            timings["rerank_ms"] += _ms(t0)
        top = top[:k]
        t0 = time.perf_counter()
        # A flat vector list (an English-only model facing Russian: every cosine ~0.65) is no
        # evidence of anything: its cosines count in proportion to the list's confidence.
        trust = list_confidence(vec, n, None, self.confidence or CONFIDENCE)
        cosines = {c.id: c.score for c in vec}
        evidence = self._evidence(text, variants, [c for c, _ in ranked[:50]], [c for c, _ in top], cosines,
                                  trust)
        timings["evidence_ms"] += _ms(t0)
        return [_hit(c, s, e) for (c, s), e in zip(top, evidence)]

    def _evidence(self, text: str, variants: Sequence[str], pool: Sequence[Candidate],
                  hits: Sequence[Candidate], cosines: dict[str, float], trust: float) -> list[float]:
        """:attr:`Hit.evidence` of ``hits`` (see :mod:`twin.core.memory.abstain`)."""
        from twin.core.memory.textnorm import iter_terms

        terms_of: dict[str, set[str]] = {}
        for c in [*pool, *hits]:
            if c.id not in terms_of:
                terms_of[c.id] = set(iter_terms(_passage(c)))
        sets = list(terms_of.values())
        weights = [abstain.term_weights(query_terms(q), sets) for q in [text, *variants]]
        out = []
        for c in hits:
            lexical = max((abstain.lexical_evidence(w, terms_of[c.id]) for w in weights), default=0.0)
            semantic = trust * abstain.semantic_evidence(cosines.get(c.id), self.cosine_range)
            out.append(max(lexical, semantic))
        return out

    def _by_date(self, dates: DateRange, k: int, scope: Scope | None = None) -> list[Hit]:
        """A date-only query: that period's entries, oldest first, spread across files."""
        rows = self.store.by_date(dates, max(k * 8, 64), scope=scope)
        top = diversify(((c, 0.0) for c in rows), k, self.per_file)
        # The user asked for this period: every entry of it is relevant evidence.
        return [_hit(c, 1.0 / (i + 1), 1.0) for i, (c, _) in enumerate(top)]


def _passage(c: Candidate) -> str:
    return f"{c.heading}\n{c.text}" if c.heading else c.text


def _alternate(first: Sequence[Hit], second: Sequence[Hit]) -> list[Hit]:
    """``first[0], second[0], first[1], …`` without repeating a chunk."""
    out: list[Hit] = []
    seen: set[str] = set()
    for i in range(max(len(first), len(second))):
        for h in [*first[i:i + 1], *second[i:i + 1]]:
            if h.chunk_id not in seen:
                seen.add(h.chunk_id)
                out.append(h)
    return out


def _hit(c: Candidate, score: float, evidence: float | None = None) -> Hit:
    return Hit(path=c.path, heading=c.heading, date=c.entry_date, start_line=c.start_line,
               end_line=c.end_line, score=float(score), text=c.text, chunk_id=c.id, evidence=evidence)


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000.0
