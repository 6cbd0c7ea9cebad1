"""Markdown and plain text → :class:`~twin.core.types.ParsedDocument` (pure: text in, blocks out).

Invariants:

* a block's text is the *original* source lines (list bullets, table pipes and code fences
  kept), so the chunker can cut it at exact line numbers;
* lines are 1-based and inclusive in the whole text, front matter included;
* front matter is never part of a block; headings are not blocks, except a heading with
  nothing under it (kind "heading"), so a note of bare headings is still findable;
* a block's ``entry_date`` comes from its nearest dated heading (``## 15 марта 2024``);
  falling back to front matter or the file name is the chunker's job.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.front_matter import front_matter_plugin

from twin.core.memory.dates import date_from_heading, heading_date, parse_date_value
from twin.core.types import Block, ParsedDocument

_BLOCK_KINDS = {
    "paragraph_open": "paragraph",
    "bullet_list_open": "list",
    "ordered_list_open": "list",
    "blockquote_open": "quote",
    "table_open": "table",
    "fence": "code",
    "code_block": "code",
    "html_block": "text",
}
#: A plain-text line this short that is a date starts a dated section.
_DATE_LINE_MAX = 60


@functools.cache
def _parser() -> MarkdownIt:
    # Built once: MarkdownIt.parse keeps its state per call, so sharing it is safe.
    return MarkdownIt("commonmark").use(front_matter_plugin).enable("table")


@dataclass
class _Heading:
    level: int
    text: str
    date: dt.date | None
    line: int  # 0-based index of the first line
    end: int  # 0-based index after the last line
    has_content: bool = False


def _normalise(text: str) -> str:
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _inline_text(token: Token) -> str:
    """A heading's text without markup: ``[15 марта](x) **2024**`` → ``15 марта 2024``."""
    parts: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type == "image":
            parts.append(child.content or "".join(c.content for c in child.children or []))
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return " ".join("".join(parts).split())


def _front_matter(raw: str) -> tuple[str | None, dt.date | None, tuple[str, ...]]:
    try:
        meta = yaml.safe_load(raw)
    # PyYAML builds dates itself: "date: 2024-13-45" is a ValueError, not a YAMLError;
    # absurd nesting exhausts the stack.
    except (yaml.YAMLError, ValueError, RecursionError):
        return None, None, ()
    if not isinstance(meta, dict):
        return None, None, ()
    raw_title = meta.get("title")
    title = (str(raw_title).strip() or None) if raw_title is not None else None
    date = parse_date_value(meta.get("date") if meta.get("date") is not None else meta.get("created"))
    tags_value = meta.get("tags", meta.get("tag"))
    if isinstance(tags_value, str):
        tags_value = re.split(r"[,;]", tags_value) if re.search(r"[,;]", tags_value) else tags_value.split()
    tags: tuple[str, ...] = ()
    if isinstance(tags_value, (list, tuple)):
        tags = tuple(t for t in (str(v).strip().lstrip("#").strip() for v in tags_value if v is not None) if t)
    return title, date, tags


def _span(lines: list[str], start: int, end: int) -> tuple[str, int, int] | None:
    """Source lines [start, end) without blank lines at either end: (text, first, last), 1-based."""
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    if start >= end:
        return None
    return "\n".join(lines[start:end]), start + 1, end


def _date_of(stack: list[_Heading]) -> dt.date | None:
    return next((h.date for h in reversed(stack) if h.date is not None), None)


def parse_markdown(text: str) -> ParsedDocument:
    """Parse markdown into structural blocks.

    Args:
        text: the whole file (CRLF and a BOM are fine; front matter is optional).

    Returns:
        Blocks in source order (paragraphs, whole lists, code, quotes, tables, HTML, and
        headings with nothing under them) plus the front matter's title, date and tags.
        Malformed front matter is ignored.
    """
    text = _normalise(text)
    lines = text.split("\n")
    tokens = _parser().parse(text)
    blocks: list[Block] = []
    stack: list[_Heading] = []
    title: str | None = None
    date: dt.date | None = None
    tags: tuple[str, ...] = ()

    def emit(kind: str, start: int, end: int) -> None:
        span = _span(lines, start, end)
        if span is None:
            return
        for heading in stack:
            heading.has_content = True
        block_text, first, last = span
        path = tuple(h.text for h in stack)
        blocks.append(Block(kind, block_text, path, first, last, _date_of(stack)))

    def close_to(level: int) -> None:
        while stack and stack[-1].level >= level:
            if not stack[-1].has_content:
                emit("heading", stack[-1].line, stack[-1].end)
            stack.pop()

    for i, token in enumerate(tokens):
        if token.level != 0 or token.nesting == -1 or token.map is None:
            continue
        start, end = token.map
        if token.type == "front_matter":
            title, date, tags = _front_matter(token.content)
        elif token.type == "heading_open":
            level = int(token.tag[1])
            close_to(level)
            heading_text = _inline_text(tokens[i + 1])
            stack.append(_Heading(level, heading_text, date_from_heading(heading_text), start, end))
        elif token.type in _BLOCK_KINDS:
            emit(_BLOCK_KINDS[token.type], start, end)
    close_to(0)
    blocks.sort(key=lambda b: b.start_line)
    return ParsedDocument(tuple(blocks), title, date, tags)


def _date_line(line: str) -> dt.date | None:
    """The date a plain-text line stands for, when the line is a short date and not a sentence."""
    stripped = line.strip()
    if not stripped or len(stripped) >= _DATE_LINE_MAX:
        return None
    if stripped[-1] in ".!?…" and not re.search(r"(?<![^\W\d_])г\.$", stripped):
        return None
    return heading_date(stripped.strip("#*=_- \t:"), max_extra_words=2)


def parse_plain_text(text: str) -> ParsedDocument:
    """Split plain text into paragraphs (blank-line separated) with dated sections.

    A short line that is a date (``15.03.2024``, ``Пятница, 15 марта 2024``) starts a new
    section: it is the ``heading_path`` and ``entry_date`` of the paragraphs below it and,
    like a markdown heading, becomes a block only when nothing follows it.

    Args:
        text: the whole file.

    Returns:
        Blocks of kind "paragraph" (and "heading" for a date line with nothing under it).
    """
    lines = _normalise(text).split("\n")
    blocks: list[Block] = []
    section: tuple[str, ...] = ()
    section_date: dt.date | None = None
    section_line: int | None = None
    section_used = True
    start: int | None = None

    def flush(end: int) -> None:
        nonlocal start, section_used
        if start is not None:
            span = _span(lines, start, end)
            if span:
                blocks.append(Block("paragraph", span[0], section, span[1], span[2], section_date))
                section_used = True
        start = None

    def close_section() -> None:
        if not section_used and section_line is not None:
            blocks.append(Block("heading", lines[section_line].strip(), section, section_line + 1,
                                section_line + 1, section_date))

    for i, line in enumerate(lines):
        date = _date_line(line)
        if date is not None:
            flush(i)
            close_section()
            section, section_date, section_line, section_used = (line.strip(),), date, i, False
        elif not line.strip():
            flush(i)
        elif start is None:
            start = i
    flush(len(lines))
    close_section()
    return ParsedDocument(tuple(blocks))
