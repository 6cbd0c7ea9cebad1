"""Token budget of one prompt: how much context memories and history may take (pure).

Policy:
- The prompt never exceeds ``n_ctx - max_answer_tokens`` (room is kept for the answer).
- Memories take at most ``memory_share`` of the context; the best-ranked come first and a
  memory that does not fit whole is cut to what is left (if a useful amount is left).
- History is kept whole from a start turn onward and trimmed oldest-first. Trimming goes
  down to ``trim_target`` of the room, not just below it, so that the next turns fit
  without trimming again: every trim changes the prompt's start and costs a full re-read of
  the context (the KV cache reuses only an unchanged prefix).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

# (text, trusted) -> number of tokens
TokenCounter = Callable[[str, bool], int]

MIN_USEFUL_MEMORY_TOKENS = 48


@dataclass(frozen=True)
class Budget:
    """Limits for one prompt."""

    n_ctx: int
    max_answer_tokens: int = 1024
    memory_share: float = 0.25
    trim_target: float = 0.75

    @property
    def prompt_limit(self) -> int:
        """Most tokens the prompt may take."""
        return max(0, self.n_ctx - self.answer_reserve)

    @property
    def answer_reserve(self) -> int:
        # never let the answer reserve eat more than half of a small context
        return min(self.max_answer_tokens, self.n_ctx // 2)

    @property
    def memory_limit(self) -> int:
        return int(self.n_ctx * self.memory_share)


def fit_count(costs: Sequence[int], limit: int) -> int:
    """How many items, in order, fit within ``limit`` tokens together."""
    total = 0
    for i, cost in enumerate(costs):
        total += cost
        if total > limit:
            return i
    return len(costs)


def truncate_to_tokens(text: str, limit: int, count: TokenCounter, *, suffix: str = " …") -> str:
    """The longest prefix of ``text`` (cut at a word boundary when possible) plus ``suffix``
    that takes at most ``limit`` tokens; "" if not even the suffix fits."""
    if count(text, False) <= limit:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # binary search on characters: tokens grow monotonically with the prefix
        mid = (lo + hi + 1) // 2
        if count(text[:mid] + suffix, False) <= limit:
            lo = mid
        else:
            hi = mid - 1
    if lo == 0:
        return ""
    cut = text[:lo]
    space = cut.rfind(" ")
    if space > lo * 0.8:
        cut = cut[:space]
    return cut.rstrip() + suffix


def history_start(turn_costs: Sequence[int], room: int, *, min_start: int = 0,
                  trim_target: float = 0.75) -> int:
    """Index of the oldest past turn to keep.

    Args:
        turn_costs: Tokens of each past turn, oldest first.
        room: Tokens available for history.
        min_start: The start used last turn: never go back to older turns (that would
            change the prompt's prefix again).
        trim_target: When trimming is needed, keep at most this share of ``room``.
    """
    n = len(turn_costs)
    start = min(max(0, min_start), n)
    if sum(turn_costs[start:]) <= room:
        return start
    target = int(room * trim_target)
    total = sum(turn_costs[start:])
    while start < n and total > target:
        total -= turn_costs[start]
        start += 1
    return start
