"""Train/validation split by a stable hash, and token-length statistics.

The split is a function of the group id alone (an entry's ``<file>#<date>``): re-exporting
after new entries were written keeps every old entry on its side, and all the parts and
kinds of one entry stay together (no near-copy of a validation text in training).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import Any


def split_of(group: str, val_share: float, *, salt: str = "twin-dataset-v1") -> str:
    """"val" for about ``val_share`` of the groups, else "train"; stable across runs."""
    if val_share <= 0:
        return "train"
    digest = hashlib.sha256(f"{salt}:{group}".encode()).digest()
    return "val" if int.from_bytes(digest[:8], "big") / 2**64 < val_share else "train"


def percentile(sorted_values: Sequence[int], q: float) -> int:
    """Nearest-rank percentile (``q`` in 0..100) of already sorted values (0 when empty)."""
    if not sorted_values:
        return 0
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return int(sorted_values[min(rank, len(sorted_values)) - 1])


def token_stats(counts: Sequence[int]) -> dict[str, Any]:
    """count, min, median, p95, max and total of token counts."""
    s = sorted(counts)
    return {"count": len(s), "min": s[0] if s else 0, "median": percentile(s, 50),
            "p95": percentile(s, 95), "max": s[-1] if s else 0, "total": sum(s)}
