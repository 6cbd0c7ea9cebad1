"""A parsed file → diary entries: one per dated section (or the whole file when undated).

Pure: text and a :class:`~twin.core.types.ParsedDocument` in, :class:`Entry` records out.

- A block's date is its dated heading's, else the front matter's, else the file name's; a
  run of consecutive blocks with the same date is one entry (a monthly file with
  ``## 15 марта 2024`` sections gives one entry per day).
- Privacy: a file is private when its front matter says ``private: true`` (or ``yes``) or
  lists the private tag in ``tags``; an entry is private when its text or heading carries the
  inline tag (``#private``). Private entries are returned marked, so the caller can count them.
- An entry's id is stable across runs (``<file>#<date>``, or ``<file>#<n>`` when undated): the
  train/validation split is keyed on it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import yaml

from twin.core.types import Block, ParsedDocument

_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LETTER = re.compile(r"[^\W\d_]")
_TRUE = {"true", "yes", "1", "on", "да"}
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~10x faster


@dataclass(frozen=True)
class Entry:
    """One diary entry (or undated note) with what the dataset needs to know about it."""

    id: str
    path: str  # the file, relative to its source folder's parent (``diary/2024-03-15.md``)
    date: dt.date | None
    title: str
    text: str
    blocks: tuple[Block, ...]
    private: bool
    language: str  # "ru" | "en"


def front_matter(text: str) -> dict[str, object]:
    """The YAML front matter as a dict ({} when absent or malformed)."""
    m = _FRONT_MATTER.match(text)
    if not m:
        return {}
    try:
        meta = yaml.load(m.group(1), Loader=_LOADER)  # noqa: S506 - a safe loader
    except (yaml.YAMLError, ValueError, RecursionError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _truthy(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUE if value is not None else False


def private_file(meta: dict[str, object], tag: str) -> bool:
    """Whether front matter marks the whole file private (``private: true`` or the tag)."""
    if _truthy(meta.get("private")):
        return True
    tags = meta.get("tags", meta.get("tag"))
    if isinstance(tags, str):
        tags = re.split(r"[,;\s]+", tags)
    if isinstance(tags, (list, tuple)):
        return any(str(t).strip().lstrip("#").lower() == tag.lower() for t in tags if t is not None)
    return False


def tag_pattern(tag: str) -> re.Pattern[str]:
    """``#tag`` as a whole inline tag (not ``#tagged``, not part of a URL fragment ``a#tag``)."""
    return re.compile(r"(?<![\w#/])#" + re.escape(tag) + r"(?![\w-])", re.IGNORECASE)


def language(text: str) -> str:
    """"ru" when Cyrillic letters are at least a third of the letters, else "en"."""
    letters = len(_LETTER.findall(text))
    if not letters:
        return "en"
    return "ru" if len(_CYRILLIC.findall(text)) * 3 >= letters else "en"


def entries_from_document(doc: ParsedDocument, raw_text: str, path: str, *,
                          fallback_date: dt.date | None = None, private_tag: str = "private",
                          title: str = "") -> list[Entry]:
    """Split ``doc`` (parsed from ``raw_text``) into entries.

    Args:
        doc: the parsed file.
        raw_text: the file's text (for the front matter's privacy flag).
        path: the file's display path (becomes part of the entry ids).
        fallback_date: the date in the file name, for blocks without a dated heading.
        private_tag: the tag that marks private text (``private`` → ``#private``).
        title: a title for undated entries without a heading (e.g. the file's stem).
    """
    head = _FRONT_MATTER.match(raw_text)
    # parse the front matter only when it can say "private" (most files: no YAML work at all)
    file_private = head is not None and any(w in head.group(1).lower() for w in ("private", private_tag.lower())) \
        and private_file(front_matter(raw_text), private_tag)
    inline = tag_pattern(private_tag)
    groups: list[tuple[dt.date | None, list[Block]]] = []
    for block in doc.blocks:
        if block.kind == "heading" or not block.text.strip():
            continue
        date = block.entry_date or doc.date or fallback_date
        if groups and groups[-1][0] == date:
            groups[-1][1].append(block)
        else:
            groups.append((date, [block]))
    entries: list[Entry] = []
    used: dict[str, int] = {}
    undated = 0
    for date, blocks in groups:
        if date is not None:
            key = date.isoformat()
        else:
            undated += 1
            key = str(undated)
        n = used.get(key, 0)
        used[key] = n + 1
        entry_id = f"{path}#{key}" + (f"-{n + 1}" if n else "")
        text = "\n\n".join(b.text.strip("\n") for b in blocks)
        headings = blocks[0].heading_path
        private = file_private or bool(inline.search(text)) or any(
            inline.search(h) for b in blocks for h in b.heading_path)
        entries.append(Entry(
            id=entry_id, path=path, date=date,
            title=(headings[-1] if headings else "") or doc.title or title,
            text=text, blocks=tuple(blocks), private=private, language=language(text)))
    return entries
