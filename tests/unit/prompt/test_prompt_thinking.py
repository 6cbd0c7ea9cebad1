"""<think> separation while streaming."""

from __future__ import annotations

import pytest

from twin.core.prompt.thinking import ThinkSplitter


def split(pieces: list[str]) -> tuple[str, str]:
    s = ThinkSplitter()
    events = []
    for p in pieces:
        events += s.feed(p)
    events += s.finish()
    thinking = "".join(t for c, t in events if c == "thinking")
    answer = "".join(t for c, t in events if c == "answer")
    assert (thinking, answer) == (s.thinking, s.answer)  # events and totals agree
    return thinking, answer


FULL = "<think>\nLet me recall.\nThe sea trip.\n</think>\n\nWe went to the sea [1]."


@pytest.mark.parametrize("chunking", ["whole", "chars", "pairs"])
def test_thinking_block_is_separated_however_it_is_split(chunking: str) -> None:
    if chunking == "whole":
        pieces = [FULL]
    elif chunking == "chars":
        pieces = list(FULL)
    else:
        pieces = [FULL[i:i + 2] for i in range(0, len(FULL), 2)]
    assert split(pieces) == ("Let me recall.\nThe sea trip.", "We went to the sea [1].")


def test_empty_block_from_thinking_off() -> None:
    assert split(["<think>\n\n</think>\n\n", "Answer"]) == ("", "Answer")


def test_no_block() -> None:
    assert split(["Hello", " there"]) == ("", "Hello there")


def test_think_tag_later_in_the_answer_is_text() -> None:
    assert split(["Hi ", "<think> is a tag"]) == ("", "Hi <think> is a tag")


def test_partial_open_tag_that_is_not_a_tag() -> None:
    assert split(["<", "b>bold"]) == ("", "<b>bold")


def test_unfinished_thinking_stays_thinking() -> None:
    assert split(["<think>\nstill going"]) == ("still going", "")


def test_leading_whitespace_before_the_block() -> None:
    assert split(["\n", "<think>x</think>", "y"]) == ("x", "y")


def test_only_whitespace() -> None:
    assert split(["\n", " "]) == ("", "")


def test_thinking_streams_before_the_close_tag() -> None:
    s = ThinkSplitter()
    out = s.feed("<think>\nfirst part of a long thought")
    assert out == [("thinking", "first part of a long thought")]
