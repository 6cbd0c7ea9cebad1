"""Fusing the vector list and the BM25 list into one ranking (pure functions).

**Z-score fusion** (:func:`zfuse`): each list's scores are standardised over that list (mean
0, standard deviation 1; a BM25 list shorter than the candidate depth is padded with zeros,
the score of every row that does not match), a row missing from a list gets that list's
floor, and the fused score is ``c·w_vec·z_vec + w_bm25·z_bm25``.

**Vector-list confidence** ``c`` (:func:`list_confidence`). Z-scores make every list look equally
sure of itself: they stretch a flat list, whose order is noise, to the same spread as a
list whose top hit stands far out. That is how hybrid used to lose hits that BM25 alone
ranked first with a clear margin: with an English-only embedder facing Russian text the
cosines of the 100 nearest chunks lie within ~0.03 of each other, yet their z-scores reach
3, enough (times ``w_vec``) to push BM25's clear winner below rows that BM25 ranked lower.
So each list is weighted by how peaked it is: ``g = (s_1 - s_10) / sd`` (how many standard
deviations the top score stands above the 10th; scale-free, so it works for cosines and
BM25 points alike), mapped linearly from ``lo`` (no confidence) to ``hi`` (full). Measured
on the bench's collections with MiniLM: the vector list's ``g`` is ~1.9 (median) on
XQuAD-ru, where it finds the right paragraph first 8% of the time, and ~4.0 on XQuAD-en,
where it does 88% of the time. ``lo, hi = 1.0, 2.5`` were chosen on those lists (all 1,190
XQuAD questions each way, Cranfield's 225; recall@5 / nDCG@10, plain z-score → with
confidence): XQuAD-ru 0.970/0.932 → 0.971/0.942 (BM25 alone 0.971/0.947), XQuAD-en
0.996/0.980 → 0.995/0.979, Cranfield 0.330/0.433 → 0.326/0.423 (a stricter (1.5, 3.0) gets
XQuAD-ru to 0.972/0.946 but costs Cranfield 0.017 nDCG). BM25 gets no such factor: it returns only rows that share
a term with the query and its list is padded with the zeros of all the rows that do not, so
its z-scores already say how far a row stands out of the whole index (weighting it by its
peakedness too lost 2.5 points of recall@5 on XQuAD-ru: long BM25 lists are flat at the top).

**BM25's clear winner** (``protect``): the confidence only scales the vector list down; a
noise list that happens to look peaked can still outvote BM25. So when BM25's first row
stands ``protect`` standard deviations (of the padded BM25 list) above its second, it is put
first whatever the vectors say: a rare word that one note alone contains is the strongest
signal a search gets. At 1.5 it moved the bench's sets by at most 0.001 (XQuAD-ru
0.971/0.943, XQuAD-en 0.995/0.979, Cranfield 0.326/0.423): it rules the failure out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol


class Scored(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def score(self) -> float: ...


#: Default ``(lo, hi)`` of :func:`list_confidence` (see the module doc).
CONFIDENCE = (1.0, 2.5)
#: Default BM25 margin (in standard deviations) that puts BM25's first row first.
PROTECT = 1.5


def zscores(cands: Sequence[Scored], depth: int, pad: float | None) -> tuple[dict[str, float], float]:
    """Standardised scores of one ranked list, and the floor for rows not in it.

    ``pad``: the score of rows the search did not return (0 for BM25: they do not match);
    a list shorter than ``depth`` is padded with it before the mean and deviation are taken.
    None: no padding (the vector list always returns its ``depth`` nearest).
    """
    scores = [c.score for c in cands]
    if not scores:
        return {}, 0.0
    ref = _padded(scores, depth, pad)
    mean = sum(ref) / len(ref)
    sd = (sum((x - mean) ** 2 for x in ref) / len(ref)) ** 0.5
    if sd < 1e-9:
        return {c.id: 0.0 for c in cands}, 0.0
    floor = (min(ref) - mean) / sd
    return {c.id: (c.score - mean) / sd for c in cands}, floor


def _padded(scores: list[float], depth: int, pad: float | None) -> list[float]:
    return scores + [pad] * (depth - len(scores)) if pad is not None else scores


def top_gap(cands: Sequence[Scored], depth: int, pad: float | None, nth: int = 10) -> float:
    """How many standard deviations the top score stands above the ``nth`` (padded as in
    :func:`zscores`); 0 for lists too short or flat to say."""
    ref = _padded([c.score for c in cands], depth, pad)
    if len(ref) < 2:
        return 0.0
    mean = sum(ref) / len(ref)
    sd = (sum((x - mean) ** 2 for x in ref) / len(ref)) ** 0.5
    if sd < 1e-9:
        return 0.0
    return (ref[0] - ref[min(nth, len(ref)) - 1]) / sd


def list_confidence(cands: Sequence[Scored], depth: int, pad: float | None,
                    bounds: tuple[float, float] | None = CONFIDENCE) -> float:
    """How much a ranked list is worth in the fusion, in [0, 1] (see the module doc).
    ``bounds`` None: always 1 (plain z-score fusion)."""
    if bounds is None:
        return 1.0
    lo, hi = bounds
    g = top_gap(cands, depth, pad)
    return min(1.0, max(0.0, (g - lo) / (hi - lo)))


def zfuse(vec: Sequence[Scored], lex: Sequence[Scored], depth: int, w_vec: float, w_bm25: float,
          confidence: tuple[float, float] | None = None,
          protect: float | None = None) -> list[tuple[Scored, float]]:
    """Z-score fusion of a vector list and a BM25 list; best first.

    ``confidence``: ``(lo, hi)`` of :func:`list_confidence` for the vector list; None (the
    default here, for callers that tune the weights themselves) weights it as given.
    """
    zv, fv = zscores(vec, depth, None)
    zb, fb = zscores(lex, depth, 0.0)
    if confidence is not None:
        w_vec *= list_confidence(vec, depth, None, confidence)
    rows = {c.id: c for c in lex}
    rows.update((c.id, c) for c in vec)
    fused = {i: w_vec * zv.get(i, fv) + w_bm25 * zb.get(i, fb) for i in rows}
    if protect is not None and len(lex) >= 1:
        top, second = lex[0].id, (zb[lex[1].id] if len(lex) > 1 else fb)
        if zb[top] - second >= protect:  # BM25's clear winner: first, whatever the vectors say
            fused[top] = max(fused.values()) + 1e-6
    return sorted(((rows[i], s) for i, s in fused.items()), key=lambda cs: (-cs[1], cs[0].id))


def rrf(lists: Iterable[tuple[Sequence[Scored], float]], rrf_k: float) -> list[tuple[Scored, float]]:
    """Weighted reciprocal rank fusion of ranked lists; best first."""
    fused: dict[str, float] = {}
    rows: dict[str, Scored] = {}
    for cands, weight in lists:
        for rank, c in enumerate(cands):
            fused[c.id] = fused.get(c.id, 0.0) + weight / (rrf_k + rank + 1)
            rows.setdefault(c.id, c)
    return sorted(((rows[i], s) for i, s in fused.items()), key=lambda cs: (-cs[1], cs[0].id))


def max_merge(lists: Iterable[Sequence[Scored]]) -> list[Scored]:
    """Several ranked lists of the same search (one per query variant) → one, each row at
    its best score, best first."""
    best: dict[str, Scored] = {}
    for cands in lists:
        for c in cands:
            if c.id not in best or c.score > best[c.id].score:
                best[c.id] = c
    return sorted(best.values(), key=lambda c: (-c.score, c.id))
