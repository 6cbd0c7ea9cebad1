"""Markdown and plain text → blocks with heading paths, exact lines and entry dates."""

from __future__ import annotations

import datetime as dt

import pytest

from twin.core.memory.markdown import parse_markdown, parse_plain_text
from twin.core.types import Block, ParsedDocument

D = dt.date


def spans(doc: ParsedDocument) -> list[tuple[str, int, int]]:
    return [(b.kind, b.start_line, b.end_line) for b in doc.blocks]


def test_front_matter_is_metadata_not_a_block() -> None:
    text = "---\ntitle: Мой день\ndate: 2024-03-15\ntags: [travel, \"#семья\"]\n---\n\nПервый абзац.\n"
    doc = parse_markdown(text)
    assert doc.title == "Мой день"
    assert doc.date == D(2024, 3, 15)
    assert doc.tags == ("travel", "семья")
    assert doc.blocks == (Block("paragraph", "Первый абзац.", (), 7, 7, None),)


def test_front_matter_variants() -> None:
    assert parse_markdown("---\ntags: a, b ,c\n---\nx").tags == ("a", "b", "c")
    assert parse_markdown("---\ntags: one two\n---\nx").tags == ("one", "two")
    assert parse_markdown("---\ndate: 2024-03-15T10:00\n---\nx").date == D(2024, 3, 15)
    assert parse_markdown("---\ndate: 2024-03-15 10:00:00\n---\nx").date == D(2024, 3, 15)
    assert parse_markdown("---\ncreated: 15.03.2024\n---\nx").date == D(2024, 3, 15)
    assert parse_markdown("---\ntitle: 2024\n---\nx").title == "2024"
    assert parse_markdown("---\ndate: someday\n---\nx").date is None


def test_malformed_front_matter_is_ignored() -> None:
    doc = parse_markdown("---\ntitle: [unclosed\ndate: : :\n---\nBody text.\n")
    assert (doc.title, doc.date, doc.tags) == (None, None, ())
    assert spans(doc) == [("paragraph", 5, 5)]


@pytest.mark.parametrize(
    "front",
    [
        "date: 2024-13-45",  # PyYAML raises ValueError building the date
        "date: 2024-02-30 10:00:00",
        "a: " + "[" * 3000,  # nesting deep enough to exhaust the stack
        "x: !!python/object:os.system ls",
        "k: \tv",
    ],
)
def test_front_matter_that_yaml_cannot_load(front: str) -> None:
    doc = parse_markdown(f"---\n{front}\n---\nBody\n")
    assert (doc.title, doc.date, doc.tags) == (None, None, ())
    assert [(b.text, b.start_line) for b in doc.blocks] == [("Body", 4)]


def test_front_matter_that_is_not_a_mapping() -> None:
    doc = parse_markdown("---\n- just\n- a list\n---\nBody\n")
    assert (doc.title, doc.tags) == (None, ())
    assert [b.text for b in doc.blocks] == ["Body"]


def test_only_front_matter() -> None:
    doc = parse_markdown("---\ntitle: Empty\n---\n")
    assert doc.title == "Empty" and doc.blocks == ()


def test_empty_and_blank() -> None:
    assert parse_markdown("") == ParsedDocument(())
    assert parse_markdown("\n\n   \n") == ParsedDocument(())


def test_blocks_follow_structure_with_exact_lines() -> None:
    text = "\n".join([
        "# Journal",                    # 1
        "",                             # 2
        "Intro paragraph that",         # 3
        "spans two lines.",             # 4
        "",                             # 5
        "- item one",                   # 6
        "- item two",                   # 7
        "  - nested",                   # 8
        "",                             # 9
        "  continued item two",         # 10
        "- item three",                 # 11
        "",                             # 12
        "1. first",                     # 13
        "2. second",                    # 14
        "",                             # 15
        "```python",                    # 16
        "print('hi')",                  # 17
        "```",                          # 18
        "",                             # 19
        "> a quote",                    # 20
        "> more",                       # 21
        "",                             # 22
        "| a | b |",                    # 23
        "|---|---|",                    # 24
        "| 1 | 2 |",                    # 25
        "",                             # 26
        "<div>raw html</div>",          # 27
        "",                             # 28
        "---",                          # 29 (a rule: not a block)
        "",                             # 30
        "    indented code",            # 31
    ])
    doc = parse_markdown(text)
    assert spans(doc) == [
        ("paragraph", 3, 4), ("list", 6, 11), ("list", 13, 14), ("code", 16, 18),
        ("quote", 20, 21), ("table", 23, 25), ("text", 27, 27), ("code", 31, 31),
    ]
    lines = text.split("\n")
    for block in doc.blocks:  # text is the original source, markup kept
        assert block.text == "\n".join(lines[block.start_line - 1:block.end_line])
        assert block.heading_path == ("Journal",)
    assert doc.blocks[1].text.startswith("- item one\n- item two\n  - nested")


def test_heading_path_nesting_and_inline_markup() -> None:
    text = (
        "# Top *one*\n\nA\n\n## Sub [link](http://x.org) `code`\n\nB\n\n### Deep **bold**\n\nC\n\n"
        "## Sibling ![img](a.png)\n\nD\n\n# Second top\n\nE\n"
    )
    paths = [(b.text, b.heading_path) for b in parse_markdown(text).blocks]
    assert paths == [
        ("A", ("Top one",)),
        ("B", ("Top one", "Sub link code")),
        ("C", ("Top one", "Sub link code", "Deep bold")),
        ("D", ("Top one", "Sibling img")),
        ("E", ("Second top",)),
    ]


def test_setext_headings_and_skipped_levels() -> None:
    text = "Title\n=====\n\nText.\n\n### Jumped\n\nMore.\n\nSection\n-------\n\nLast.\n"
    paths = [(b.text, b.heading_path, b.start_line) for b in parse_markdown(text).blocks]
    assert paths == [("Text.", ("Title",), 4), ("More.", ("Title", "Jumped"), 8), ("Last.", ("Title", "Section"), 13)]


def test_empty_headings_become_heading_blocks() -> None:
    text = "# Ideas\n\n## Garden\n\n## Kitchen\n\nTiles.\n\n## Roof\n\n# Later\n"
    doc = parse_markdown(text)
    assert [(b.kind, b.text, b.heading_path, b.start_line) for b in doc.blocks] == [
        ("heading", "## Garden", ("Ideas", "Garden"), 3),
        ("paragraph", "Tiles.", ("Ideas", "Kitchen"), 7),
        ("heading", "## Roof", ("Ideas", "Roof"), 9),
        ("heading", "# Later", ("Later",), 11),
    ]


def test_note_of_only_headings_is_not_empty() -> None:
    doc = parse_markdown("# One\n## Two\n")
    assert [(b.kind, b.heading_path) for b in doc.blocks] == [("heading", ("One", "Two"))]


def test_dated_sections() -> None:
    text = (
        "---\ndate: 2024-03-01\n---\n"
        "# Март 2024\n\nОбщие мысли.\n\n"
        "## 15 марта 2024\n\nУтро.\n\n### Вечер\n\nКино.\n\n"
        "## Пятница, 16 марта 2024 г.\n\n- список\n\n"
        "## Планы на 2024\n\nМного.\n"
    )
    doc = parse_markdown(text)
    assert doc.date == D(2024, 3, 1)
    assert [(b.text, b.entry_date) for b in doc.blocks] == [
        ("Общие мысли.", None),  # the chunker falls back to the front matter
        ("Утро.", D(2024, 3, 15)),
        ("Кино.", D(2024, 3, 15)),  # nearest dated ancestor
        ("- список", D(2024, 3, 16)),
        ("Много.", None),
    ]


def test_pepys_style_heading() -> None:
    text = "---\ndate: 1666-09-02\n---\n\n# 1666-09-02 — Sunday 2 September 1666\n\n2nd (Lord’s day). Fire.\n"
    (block,) = parse_markdown(text).blocks
    assert block.entry_date == D(1666, 9, 2)
    assert block.heading_path == ("1666-09-02 — Sunday 2 September 1666",)
    assert (block.start_line, block.end_line) == (7, 7)


def test_crlf_and_bom() -> None:
    text = "\ufeff---\r\ntitle: T\r\n---\r\n# H\r\n\r\nLine one\r\nline two\r\n"
    doc = parse_markdown(text)
    assert doc.title == "T"
    assert doc.blocks == (Block("paragraph", "Line one\nline two", ("H",), 6, 7, None),)


def test_unclosed_code_fence_runs_to_the_end() -> None:
    doc = parse_markdown("Text\n\n```\ncode\n# not a heading\n")
    assert spans(doc) == [("paragraph", 1, 1), ("code", 3, 5)]
    assert doc.blocks[1].heading_path == ()


def test_heading_inside_list_or_quote_is_content() -> None:
    doc = parse_markdown("# Real\n\n> # quoted heading\n> text\n")
    assert [(b.kind, b.heading_path) for b in doc.blocks] == [("quote", ("Real",))]


def test_horizontal_rule_is_not_front_matter_in_the_middle() -> None:
    doc = parse_markdown("Para\n\n---\ntitle: no\n---\n")
    assert doc.title is None
    assert [b.kind for b in doc.blocks][0] == "paragraph"


# -- plain text --------------------------------------------------------------------------------

def test_plain_paragraphs() -> None:
    text = "First paragraph\nstill first.\n\n\nSecond.\n   \nThird\n"
    doc = parse_plain_text(text)
    assert [(b.kind, b.text, b.start_line, b.end_line) for b in doc.blocks] == [
        ("paragraph", "First paragraph\nstill first.", 1, 2),
        ("paragraph", "Second.", 5, 5),
        ("paragraph", "Third", 7, 7),
    ]
    assert all(b.heading_path == () and b.entry_date is None for b in doc.blocks)


def test_plain_dated_sections() -> None:
    text = (
        "Дневник за март\n\n"
        "15.03.2024\nСегодня было хорошо.\nИ ещё.\n\nВторой абзац.\n\n"
        "Пятница, 16 марта 2024\n\n"
        "March 17, 2024\nEnglish entry.\n"
    )
    doc = parse_plain_text(text)
    assert [(b.kind, b.text, b.heading_path, b.start_line, b.end_line, b.entry_date) for b in doc.blocks] == [
        ("paragraph", "Дневник за март", (), 1, 1, None),
        ("paragraph", "Сегодня было хорошо.\nИ ещё.", ("15.03.2024",), 4, 5, D(2024, 3, 15)),
        ("paragraph", "Второй абзац.", ("15.03.2024",), 7, 7, D(2024, 3, 15)),
        ("heading", "Пятница, 16 марта 2024", ("Пятница, 16 марта 2024",), 9, 9, D(2024, 3, 16)),
        ("paragraph", "English entry.", ("March 17, 2024",), 12, 12, D(2024, 3, 17)),
    ]


def test_plain_sentence_with_a_date_is_not_a_heading() -> None:
    text = "Встретились с Петей 15.03.2024.\nПотом пошли домой.\n\nWe met on March 15, 2024 at the station and talked.\n"
    doc = parse_plain_text(text)
    assert all(b.heading_path == () and b.entry_date is None for b in doc.blocks)
    assert len(doc.blocks) == 2


def test_plain_date_line_with_year_suffix_and_decoration() -> None:
    doc = parse_plain_text("=== 15 марта 2024 г. ===\nТекст.\n")
    assert doc.blocks[0].entry_date == D(2024, 3, 15)


def test_plain_crlf_bom_and_empty() -> None:
    assert parse_plain_text("") == ParsedDocument(())
    assert parse_plain_text("\n \n") == ParsedDocument(())
    doc = parse_plain_text("\ufeffa\r\nb\r\n\r\nc")
    assert [(b.text, b.start_line, b.end_line) for b in doc.blocks] == [("a\nb", 1, 2), ("c", 4, 4)]


def test_plain_markdown_syntax_is_just_text() -> None:
    doc = parse_plain_text("# not a heading\n- not a list\n")
    assert [(b.kind, b.heading_path) for b in doc.blocks] == [("paragraph", ())]
