"""Is anything found relevant enough to answer from? An evidence score per hit, and the test.

A hit's ``score`` only orders one query's hits (fused z-scores, BM25 points, cosines): it
says nothing about whether the best hit answers the question at all. :attr:`Hit.evidence`
is an absolute measure in [0, 1], set by the retriever, that the answer side compares with
one calibrated threshold (:func:`enough_evidence`):

* **lexical coverage**: the share of the query's information that the hit contains: each
  distinct query term (stemmed, stop words out, :mod:`twin.core.memory.textnorm`) weighs its
  inverse document frequency estimated over the retrieved pool (``log((N + 1) / (df + 0.5))``,
  normalised), so a rare name that no note contains weighs most, and "год"/"year" little.
  With a query expansion (a translation), the best-covered variant counts.
* **semantic similarity**: the cosine of the hit to the query, mapped through the
  embedder's own range (``cos_floor`` → 0, ``cos_full`` → 1) since each model has its own
  scale (MiniLM: unrelated ~0.1, a paraphrase ~0.6; e5: everything 0.7–0.9), and weighted
  by the vector list's confidence (:func:`twin.core.memory.fusion.list_confidence`): an
  English-only model facing Russian gives every chunk a cosine near 0.65, a flat list that
  proves nothing.

``evidence = max(lexical, semantic)``: either kind of match is enough on its own, and a
question whose rare words are in no note and whose meaning is near no note has neither.

The threshold was calibrated with ``bench/retrieval_quality.py`` (its abstention table) on
questions whose answers are in no note (half of XQuAD's articles held out of the index)
against answerable ones, MiniLM, first 200 questions: at 0.4, 96% of unanswerable English
questions are flagged and 1% of answerable ones wrongly; Russian (lexical evidence only: the
English-only embedder proves nothing there) 36% and 7%. 0.5 flags more (98% / 52%) at a
cost of 3% / 17% answerable questions refused: a refused answerable question costs the
user more than a hedged answer (the answer side still shows the closest notes).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from twin.core.types import Hit

#: The calibrated default (see the module doc and the bench's abstention table).
DEFAULT_THRESHOLD = 0.4

#: Per embedder family: the cosine that means "unrelated" and the one that means "same
#: topic", for :func:`semantic_evidence` (matched on the model name, lower-cased).
COSINE_RANGES: dict[str, tuple[float, float]] = {
    "e5": (0.78, 0.90),
    "minilm": (0.30, 0.65),
    "": (0.30, 0.65),
}


def cosine_range(model_name: str) -> tuple[float, float]:
    """``(cos_floor, cos_full)`` for an embedder (by family name; default MiniLM-like)."""
    name = (model_name or "").lower()
    for key, rng in COSINE_RANGES.items():
        if key and key in name:
            return rng
    return COSINE_RANGES[""]


def semantic_evidence(cosine: float | None, rng: tuple[float, float]) -> float:
    """A cosine mapped linearly onto [0, 1] through ``rng`` (None → 0)."""
    if cosine is None:
        return 0.0
    lo, hi = rng
    return min(1.0, max(0.0, (cosine - lo) / (hi - lo)))


def term_weights(query_terms: Iterable[str], pool: Sequence[set[str]]) -> dict[str, float]:
    """IDF-like weights of ``query_terms`` over ``pool`` (the term sets of the retrieved rows)."""
    n = len(pool)
    out = {}
    for t in dict.fromkeys(query_terms):
        df = sum(1 for terms in pool if t in terms)
        out[t] = math.log((n + 1) / (df + 0.5))
    return out


def lexical_evidence(weights: Mapping[str, float], hit_terms: set[str]) -> float:
    """The weighted share of the query's terms that ``hit_terms`` contains, in [0, 1]."""
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    return sum(w for t, w in weights.items() if t in hit_terms) / total


def top_evidence(hits: Sequence[Hit]) -> float | None:
    """The largest evidence among ``hits``: 0 for no hits, None when none was measured."""
    if not hits:
        return 0.0
    measured = [h.evidence for h in hits if h.evidence is not None]
    return max(measured) if measured else None


def enough_evidence(hits: Sequence[Hit], threshold: float | None = None) -> bool:
    """Whether ``hits`` (a search's result) hold something relevant enough to answer from.

    False for no hits; True when no hit carries an evidence score (hits not made by
    :class:`~twin.core.memory.retriever.Retriever`: nothing to judge by, so no refusal).

    Args:
        hits: the retriever's hits for the question, best first.
        threshold: the evidence a hit needs (default :data:`DEFAULT_THRESHOLD`, calibrated).
    """
    best = top_evidence(hits)
    if best is None:
        return True
    return best >= (DEFAULT_THRESHOLD if threshold is None else threshold)
