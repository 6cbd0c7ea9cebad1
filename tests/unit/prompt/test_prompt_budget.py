"""Budget policy: memory share, truncation, oldest-first history trimming with hysteresis."""

from __future__ import annotations

from twin.core.prompt.budget import Budget, fit_count, history_start, truncate_to_tokens


def words(text: str, _trusted: bool = False) -> int:
    return len(text.split())


def test_budget_limits() -> None:
    b = Budget(n_ctx=8192, max_answer_tokens=1024, memory_share=0.25)
    assert b.prompt_limit == 7168
    assert b.memory_limit == 2048
    small = Budget(n_ctx=1000, max_answer_tokens=1024)
    assert small.answer_reserve == 500  # never more than half the context
    assert small.prompt_limit == 500


def test_fit_count() -> None:
    assert fit_count([3, 3, 3], 6) == 2
    assert fit_count([3, 3, 3], 9) == 3
    assert fit_count([10], 5) == 0
    assert fit_count([], 5) == 0


def test_truncate_to_tokens() -> None:
    text = "one two three four five six seven eight"
    assert truncate_to_tokens(text, 100, words) == text
    cut = truncate_to_tokens(text, 4, words)
    assert cut == "one two three …"
    assert words(cut) <= 4
    assert truncate_to_tokens(text, 0, words) == ""


def test_history_kept_whole_when_it_fits() -> None:
    assert history_start([10, 10, 10], room=30) == 0


def test_history_trimmed_oldest_first_below_the_target() -> None:
    # 40 > room 35: trim to <= 75% of 35 = 26 -> drop the two oldest (10+10), keep 20
    assert history_start([10, 10, 10, 10], room=35) == 2


def test_history_start_never_goes_back() -> None:
    # plenty of room now, but turns 0-1 were dropped before: re-adding them would change the
    # prompt's prefix and cost a full re-read
    assert history_start([10, 10, 10, 10], room=1000, min_start=2) == 2


def test_trimming_leaves_room_for_the_next_turns() -> None:
    costs = [10] * 10
    room = 60
    start = history_start(costs, room)
    assert sum(costs[start:]) <= int(room * 0.75)
    # the next turn adds 10 tokens: still fits, same start, KV prefix intact
    assert history_start(costs + [10], room, min_start=start) == start


def test_history_that_cannot_fit_at_all() -> None:
    assert history_start([100, 100], room=50) == 2
