"""Exact and near-duplicate texts (the same entry saved twice, a copy in another folder, a
re-exported note with a typo fixed).

Exact: the SHA-256 of the text case-folded, with punctuation dropped and whitespace collapsed.
Near: MinHash over word 3-shingles with datasketch's LSH index (Jaccard >= ``threshold``,
estimated from ``num_perm`` permutations; 0.8 catches an edited copy, not two different
days that share a template). The first text of a duplicate set is kept (the caller sorts).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class DedupResult:
    keep: tuple[int, ...]  # indices into the input, in order
    exact: tuple[tuple[int, int], ...]  # (dropped, kept)
    near: tuple[tuple[int, int], ...]


def normalized(text: str) -> str:
    return " ".join(_WORD.findall(text.casefold().replace("ё", "е")))


def content_hash(text: str) -> str:
    return hashlib.sha256(normalized(text).encode("utf-8")).hexdigest()


def shingles(text: str, n: int = 3) -> set[str]:
    words = normalized(text).split()
    if len(words) <= n:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}


def deduplicate(texts: Sequence[str], *, threshold: float = 0.8, num_perm: int = 128) -> DedupResult:
    """Indices of the texts to keep; ``threshold`` >= 1 turns near-duplicate search off."""
    keep: list[int] = []
    exact: list[tuple[int, int]] = []
    near: list[tuple[int, int]] = []
    seen: dict[str, int] = {}
    lsh = None
    if threshold < 1.0:
        from datasketch import MinHash, MinHashLSH

        lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        first = MinHash(num_perm=num_perm, seed=1)  # its permutations are reused: half the cost
    for i, text in enumerate(texts):
        h = content_hash(text)
        if h in seen:
            exact.append((i, seen[h]))
            continue
        seen[h] = i
        if lsh is not None:
            grams = shingles(text)
            mh = MinHash(num_perm=num_perm, seed=1, permutations=first.permutations, scheme=first.scheme)
            mh.update_batch([g.encode("utf-8") for g in grams])
            similar = lsh.query(mh)
            if similar:
                near.append((i, min(int(s) for s in similar)))
                continue
            lsh.insert(str(i), mh)
        keep.append(i)
    return DedupResult(tuple(keep), tuple(exact), tuple(near))
