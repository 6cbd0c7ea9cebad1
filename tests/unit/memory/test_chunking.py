"""Blocks → chunks: budgets, merging, sentence/list/code splits, exact lines, dates."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from twin.core.memory.chunking import chunk_document
from twin.core.memory.dates import date_from_path
from twin.core.memory.markdown import parse_markdown, parse_plain_text
from twin.core.types import Block, Chunk, ParsedDocument

D = dt.date


class WordCounter:
    """A fake tokenizer: one token a word; records every call."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def __call__(self, texts: Sequence[str]) -> list[int]:
        assert isinstance(texts, list), "count_tokens must get a list"
        self.calls.append(len(texts))
        return [len(t.split()) for t in texts]


def words(texts: Sequence[str]) -> list[int]:
    return [len(t.split()) for t in texts]


def block(text: str, start: int = 1, path: tuple[str, ...] = (), kind: str = "paragraph",
          date: dt.date | None = None) -> Block:
    return Block(kind, text, path, start, start + text.count("\n"), date)


def doc_of(*blocks: Block, date: dt.date | None = None) -> ParsedDocument:
    return ParsedDocument(tuple(blocks), date=date)


def source_lines(text: str, chunk: Chunk) -> str:
    return "\n".join(text.split("\n")[chunk.start_line - 1:chunk.end_line])


def assert_exact(source: str, chunks: list[Chunk]) -> None:
    """Every chunk (or each blank-line-joined part of it) lies within its source lines,
    starting on the first line and ending on the last."""
    for chunk in chunks:
        lines = source_lines(source, chunk)
        for part in chunk.text.split("\n\n"):
            assert part in lines, (chunk, lines)
        first, last = chunk.text.split("\n")[0], chunk.text.split("\n")[-1]
        assert first in source.split("\n")[chunk.start_line - 1]
        assert last in source.split("\n")[chunk.end_line - 1]


# -- basics ------------------------------------------------------------------------------------

def test_empty_document() -> None:
    counter = WordCounter()
    assert chunk_document(ParsedDocument(()), counter, 10) == []
    assert counter.calls == []


def test_whitespace_blocks_are_dropped() -> None:
    doc = doc_of(block("   \n  ", 1), block("real text", 4))
    assert [c.text for c in chunk_document(doc, words, 10)] == ["real text"]


def test_bad_budget() -> None:
    with pytest.raises(ValueError, match="max_tokens"):
        chunk_document(doc_of(block("x")), words, 0)


def test_small_neighbours_in_a_section_merge() -> None:
    doc = doc_of(block("one two", 1, ("A",)), block("three four", 3, ("A",)), block("five", 5, ("A",)))
    (chunk,) = chunk_document(doc, words, 10)
    assert chunk == Chunk("one two\n\nthree four\n\nfive", ("A",), 1, 5, None, 0)


def test_merging_stops_at_the_budget() -> None:
    doc = doc_of(*(block("w " * 4, 1 + 2 * i, ("A",)) for i in range(5)))  # 5 blocks of 4 words
    chunks = chunk_document(doc, words, 10)
    # 4 + 1 (join reserve) + 4 = 9 fits; a third would be 14
    assert [(c.start_line, c.end_line) for c in chunks] == [(1, 3), (5, 7), (9, 9)]
    assert [c.ordinal for c in chunks] == [0, 1, 2]


def test_sections_and_dates_never_mix() -> None:
    doc = doc_of(
        block("a", 1, ("A",)), block("b", 3, ("B",)), block("c", 5, ("B",), date=D(2024, 3, 15)),
        block("d", 7, ("B",), date=D(2024, 3, 16)), block("e", 9, ("B",), date=D(2024, 3, 16)),
    )
    chunks = chunk_document(doc, words, 100)
    assert [(c.text, c.heading_path, c.entry_date) for c in chunks] == [
        ("a", ("A",), None), ("b", ("B",), None), ("c", ("B",), D(2024, 3, 15)),
        ("d\n\ne", ("B",), D(2024, 3, 16)),
    ]
    assert chunks[0].heading == "A"


def test_entry_date_fallbacks() -> None:
    blocks = (block("dated", 1, ("X",), date=D(2024, 1, 1)), block("undated", 3, ("Y",)))
    with_front = chunk_document(ParsedDocument(blocks, date=D(2023, 5, 5)), words, 50, fallback_date=D(2020, 2, 2))
    assert [c.entry_date for c in with_front] == [D(2024, 1, 1), D(2023, 5, 5)]
    no_front = chunk_document(ParsedDocument(blocks), words, 50, fallback_date=D(2020, 2, 2))
    assert [c.entry_date for c in no_front] == [D(2024, 1, 1), D(2020, 2, 2)]
    assert [c.entry_date for c in chunk_document(ParsedDocument(blocks), words, 50)] == [D(2024, 1, 1), None]


def test_block_that_fits_exactly_stays_whole() -> None:
    (chunk,) = chunk_document(doc_of(block("a b c d e", 7)), words, 5)
    assert (chunk.text, chunk.start_line, chunk.end_line) == ("a b c d e", 7, 7)


# -- splitting prose -------------------------------------------------------------------------

PROSE = (
    "Утром я проснулся рано. Было холодно и темно!\n"
    "Потом пришёл Mr. Smith, т.е. наш сосед. Он принёс письмо от A. S. Pushkin и газету.\n"
    "В 2024 г. Мы всё ещё… «Ну и ну», сказал он. — Пора идти? Да.\n"
    "Последняя строка абзаца без точки"
)


def test_long_paragraph_splits_at_sentences_with_exact_lines() -> None:
    source = "Заголовок\n\n" + PROSE + "\n"
    chunks = chunk_document(parse_plain_text(source), words, 8)
    assert [(c.text, c.start_line, c.end_line) for c in chunks] == [
        ("Заголовок", 1, 1),  # 1 + 1 (join) + 8 would not fit
        ("Утром я проснулся рано. Было холодно и темно!", 3, 3),
        # "Mr." and "т.е." are no sentence ends; 10 words: cut at the next real one
        ("Потом пришёл Mr. Smith, т.е. наш сосед. Он", 4, 4),
        ("принёс письмо от A. S. Pushkin и газету.", 4, 4),  # initials stay
        ("В 2024 г. Мы всё ещё…", 5, 5),  # "г." is no sentence end
        ("«Ну и ну», сказал он. — Пора идти?", 5, 5),
        ("Да.\nПоследняя строка абзаца без точки", 5, 6),
    ]
    assert [c.ordinal for c in chunks] == list(range(7))
    assert_exact(source, chunks)


def test_sentence_pieces_span_lines() -> None:
    text = "One two three.\nFour five six. Seven\neight nine. Ten eleven twelve."
    chunks = chunk_document(parse_plain_text(text), words, 5)
    assert [(c.text, c.start_line, c.end_line) for c in chunks] == [
        ("One two three.", 1, 1),
        ("Four five six.", 2, 2),
        ("Seven\neight nine.", 2, 3),
        ("Ten eleven twelve.", 3, 3),
    ]


def test_sentences_pack_greedily() -> None:
    text = " ".join(f"Sentence number {i}." for i in range(30))  # 3 words each
    chunks = chunk_document(doc_of(block(text, 10)), words, 10)
    assert all(words([c.text])[0] <= 10 for c in chunks)
    assert [words([c.text])[0] for c in chunks][:-1] == [9] * (len(chunks) - 1)
    assert all(c.start_line == c.end_line == 10 for c in chunks)
    assert " ".join(c.text for c in chunks) == text


def test_no_split_before_lowercase_or_digit() -> None:
    text = "He paid 3.50 for it. and then? nothing. 2 more words here. End."
    chunks = chunk_document(doc_of(block(text)), words, 6)
    # no sentence starts before "and", "nothing" or "2": the first 7-word "sentence" is cut at words
    assert [c.text for c in chunks] == ["He paid 3.50 for it. and", "then? nothing. 2 more words here.", "End."]


def test_long_sentence_splits_at_clauses_first() -> None:
    text = "so up and to the office; there all the morning: and then home to dinner with my wife"
    chunks = chunk_document(doc_of(block(text)), words, 7)
    # the last clause (8 words) is cut at words, and packing fills each chunk up
    assert [c.text for c in chunks] == [
        "so up and to the office;", "there all the morning: and then home", "to dinner with my wife"]


def test_single_sentence_over_budget_splits_at_words() -> None:
    sentence = " ".join(f"w{i}" for i in range(25)) + "."
    chunks = chunk_document(doc_of(block(sentence, 3)), words, 10)
    assert [len(c.text.split()) for c in chunks] == [10, 10, 5]
    assert " ".join(c.text for c in chunks) == sentence


def test_word_longer_than_budget_is_cut() -> None:
    def chars(texts: Sequence[str]) -> list[int]:
        return [len(t) for t in texts]

    blob = "x" * 100
    chunks = chunk_document(doc_of(block(f"short {blob} tail")), chars, 30)
    assert all(len(c.text) <= 30 for c in chunks)
    assert "".join(c.text.replace(" ", "") for c in chunks) == "short" + blob + "tail"


def test_multiline_paragraph_without_punctuation_splits_at_lines() -> None:
    poem = "\n".join(["roses are red and", "violets are blue and", "sugar is sweet and", "so are you"])
    chunks = chunk_document(parse_plain_text(poem), words, 8)
    assert [(c.start_line, c.end_line) for c in chunks] == [(1, 2), (3, 4)]


# -- lists and code ----------------------------------------------------------------------------

def test_list_splits_between_items_with_lines() -> None:
    text = "# Shopping\n\n- apples and pears\n- bread\n  - rye\n  - white\n- milk and cheese\n- eggs\n"
    chunks = chunk_document(parse_markdown(text), words, 7)
    # top-level items are the first cut: the nested items stay with "bread"
    assert [(c.text, c.start_line, c.end_line, c.heading_path) for c in chunks] == [
        ("- apples and pears", 3, 3, ("Shopping",)),
        ("- bread\n  - rye\n  - white", 4, 6, ("Shopping",)),
        ("- milk and cheese\n- eggs", 7, 8, ("Shopping",)),
    ]
    assert_exact(text, chunks)


def test_nested_item_over_budget_splits_inside() -> None:
    text = "- top\n  - a b c\n  - d e f\n  - g h i\n- last\n"
    chunks = chunk_document(parse_markdown(text), words, 5)
    assert [(c.text, c.start_line) for c in chunks] == [
        ("- top", 1), ("- a b c", 2), ("- d e f", 3), ("- g h i", 4), ("- last", 5)]
    assert_exact(text, chunks)


def test_code_splits_between_lines() -> None:
    code = "```python\n" + "\n".join(f"x{i} = compute({i}, a, b)" for i in range(12)) + "\n```"
    text = "## Code\n\n" + code + "\n"
    chunks = chunk_document(parse_markdown(text), words, 12)
    assert [(c.start_line, c.end_line) for c in chunks] == [(3, 5), (6, 7), (8, 9), (10, 11), (12, 13), (14, 16)]
    assert chunks[0].text == "```python\nx0 = compute(0, a, b)\nx1 = compute(1, a, b)"
    assert chunks[-1].text.endswith("x11 = compute(11, a, b)\n```")
    assert all(c.heading_path == ("Code",) for c in chunks)
    assert_exact(text, chunks)


# -- token counting ----------------------------------------------------------------------------

def test_count_tokens_is_batched() -> None:
    counter = WordCounter()
    doc = doc_of(*(block(f"para {i}", 1 + 2 * i, ("S",)) for i in range(200)))
    chunks = chunk_document(doc, counter, 50)
    assert len(counter.calls) <= 2  # one for the blocks, one to verify the merged chunks
    assert counter.calls[0] == 200
    assert sum(len(c.text.split()) for c in chunks) == 400


def test_long_block_costs_few_calls() -> None:
    counter = WordCounter()
    text = " ".join(f"This is sentence {i}." for i in range(500))
    chunks = chunk_document(doc_of(block(text)), counter, 40)
    assert len(counter.calls) <= 4
    assert all(len(c.text.split()) <= 40 for c in chunks)


def test_a_tokenizer_that_counts_more_when_joined_is_respected() -> None:
    def greedy_joiner(texts: Sequence[str]) -> list[int]:
        # "\n\n" costs 3 tokens and a space between sentences 1: more than the estimate
        return [len(t.split()) + 3 * t.count("\n\n") + t.count(". ") for t in texts]

    doc = doc_of(*(block("a b c. d e f. g h", 1 + 2 * i, ("S",)) for i in range(6)))
    chunks = chunk_document(doc, greedy_joiner, 12)
    assert all(greedy_joiner([c.text])[0] <= 12 for c in chunks)
    assert sum(c.text.count("a b c") for c in chunks) == 6


# -- realistic input ---------------------------------------------------------------------------

LONG_ENTRY = (
    "Up betimes, and by water to White Hall, where I found the Duke of York and Mr. Coventry "
    "discoursing of the business of the fleet; and thence with Sir W. Batten to the Exchange, where "
    "I met Mr. Creed, who told me much news of the Dutch. So home to dinner, and after dinner to my "
    "office till late, writing letters. Then home, and to supper and to bed. "
) * 12


@pytest.mark.slow
def test_real_tokenizer_never_exceeds_budget(embedder) -> None:  # type: ignore[no-untyped-def]
    russian = ("Утром ходили на рынок, купили яблок и мёда. Вечером читали вслух «Войну и мир», "
               "т.е. первые главы. ") * 20
    text = f"# 1663-01-01 — Thursday 1 January 1663\n\n{LONG_ENTRY}\n\n- one\n- two\n\n{russian}\n"
    doc = parse_markdown(text)
    budget = embedder.max_tokens
    chunks = chunk_document(doc, embedder.count_tokens, budget)
    counts = embedder.count_tokens([c.text for c in chunks])
    assert max(counts) <= budget
    assert len(chunks) > 3
    assert all(c.entry_date == D(1663, 1, 1) for c in chunks)
    assert_exact(text, chunks)


@pytest.fixture(scope="session")
def pepys_dir(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    """The Pepys diary as one markdown file a day (about 3,400 files, a second to make)."""
    out = tmp_path_factory.mktemp("pepys")
    subprocess.run(
        [sys.executable, str(shared_data / "make_diary_corpus.py"),
         "--src-dir", str(shared_data / "raw" / "pepys_se_text"), "--out", str(out)],
        check=True, capture_output=True, timeout=120,
    )
    return out


def test_pepys_great_fire(pepys_dir: Path) -> None:
    path = pepys_dir / "1666-09-02.md"
    text = path.read_text(encoding="utf-8")
    doc = parse_markdown(text)
    assert doc.date == D(1666, 9, 2)
    assert all("date_gregorian" not in b.text and "Samuel Pepys" not in b.text[:40] for b in doc.blocks)
    chunks = chunk_document(doc, words, 120, fallback_date=date_from_path(path.name))
    assert len(chunks) > 5
    assert all(len(c.text.split()) <= 120 for c in chunks)
    assert all(c.heading_path == ("1666-09-02 — Sunday 2 September 1666",) for c in chunks)
    assert all(c.entry_date == D(1666, 9, 2) for c in chunks)
    assert all(c.start_line >= 10 for c in chunks)  # never in the front matter
    assert_exact(text, chunks)
    assert chunks[0].text.startswith("2nd (Lord’s day).")
    assert "Sir J. Robinson’s little son" in " ".join(c.text for c in chunks)


def test_pepys_sample_of_entries(pepys_dir: Path) -> None:
    files = sorted(pepys_dir.glob("*.md"))
    assert len(files) > 3000
    sample = files[::97] + sorted(files, key=lambda p: p.stat().st_size)[-3:]  # include the longest
    for path in sample:
        text = path.read_text(encoding="utf-8")
        doc = parse_markdown(text)
        heading_date = date_from_path(path.name)
        chunks = chunk_document(doc, words, 150, fallback_date=heading_date)
        assert chunks, path
        assert all(len(c.text.split()) <= 150 for c in chunks), path
        assert all(c.entry_date == heading_date for c in chunks), path
        assert not any(re.match(r"(date|license|source):", c.text) for c in chunks), path
        assert_exact(text, chunks)
        body = text.split("\n---\n", 1)[1]
        body_words = [w for line in body.split("\n") if not line.startswith("# ") for w in line.split()]
        assert [w for c in chunks for w in c.text.split()] == body_words, path


@pytest.mark.slow
def test_pepys_longest_entry_with_real_tokenizer(pepys_dir: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    path = max(pepys_dir.glob("*.md"), key=lambda p: p.stat().st_size)
    text = path.read_text(encoding="utf-8")
    chunks = chunk_document(parse_markdown(text), embedder.count_tokens, embedder.max_tokens)
    assert max(embedder.count_tokens([c.text for c in chunks])) <= embedder.max_tokens
    assert_exact(text, chunks)
