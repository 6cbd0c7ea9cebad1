"""Blocks → chunks sized for the embedding model (pure: blocks in, chunks out).

Invariants:

* no chunk counts more than ``max_tokens`` by ``count_tokens``: every chunk made of
  several parts is counted again as a whole, and split if the estimate was wrong (only a
  lone character over the budget could escape, which no real tokenizer produces);
* a chunk's text is exact source text, so its 1-based ``start_line``/``end_line`` are
  exact: a whole block, a contiguous slice of one block, or neighbouring blocks of one
  section joined by a blank line;
* a chunk never mixes sections: its parts share ``heading_path`` and entry date;
* ``count_tokens`` gets lists, a few calls per document and per oversized block, never
  one call per sentence.

An oversized block is cut at the coarsest boundary that works: list items, then lines
(code, tables) or sentences, lines and clauses (prose), then words, then halves of a word.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Callable, Sequence

from twin.core.types import Block, Chunk, ParsedDocument

CountTokens = Callable[[Sequence[str]], list[int]]
Span = tuple[int, int]
Splitter = Callable[[str, int, int], list[Span]]

#: Tokens reserved for each "\n\n" between merged blocks (one for BPE vocabularies).
_JOIN_TOKENS = 1
#: A block longer than this many characters per budget token is cut up without counting
#: it whole first (saves a third of the tokenizer work on long diary entries). Safe
#: either way: if the pieces fit together after all, packing puts them back together.
_SURELY_LONG = 12
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st sr jr vs cf e.g i.e fig vol no nos pp ch sec approx capt col gen lt sgt rev hon "
    "т.е т.к т.д т.п т.н т.ч им ул д стр см гг др пр проф акад тов рис напр ок млн млрд тыс руб коп "
    "н.э ср илл прим ред изд".split()
)
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s)")
_WORD = re.compile(r"\S+")
_CLAUSE_END = re.compile(r"[;:](?=\s)")
_OPENERS = "«\"“„'‘([—–-"
_ITEM = re.compile(r"[ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")


def _strip(text: str, s: int, e: int) -> Span | None:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return (s, e) if s < e else None


def _cut(text: str, s: int, cuts: list[int], e: int) -> list[Span]:
    """Spans between consecutive cut offsets in [s, e), stripped, empty ones dropped."""
    bounds = [s, *cuts, e]
    return [span for a, b in zip(bounds, bounds[1:]) if (span := _strip(text, a, b))]


def _line_starts(text: str, s: int, e: int) -> list[int]:
    starts = []
    p = text.find("\n", s, e)
    while p != -1:
        if p + 1 < e:
            starts.append(p + 1)
        p = text.find("\n", p + 1, e)
    return starts


def _lines(text: str, s: int, e: int) -> list[Span]:
    return _cut(text, s, _line_starts(text, s, e), e)


def _items(text: str, s: int, e: int, top_only: bool) -> list[Span]:
    """Cut a list before each item (top-level items only, or items at any depth)."""
    starts = [s, *_line_starts(text, s, e)]
    first = next((p for p in starts if text[p:e].strip()), s)
    base = len(text[first:e]) - len(text[first:e].lstrip(" \t"))
    cuts = []
    for p in starts[1:]:
        m = _ITEM.match(text, p, e)
        if m and (not top_only or len(m.group()) - len(m.group().lstrip(" \t")) == base):
            cuts.append(p)
    return _cut(text, s, cuts, e)


def _is_abbreviation(before: str) -> bool:
    token = before.rsplit(None, 1)[-1] if before.strip() else ""
    token = token.lstrip(_OPENERS).lower()
    if len(token) == 1 and token.isalpha():
        return True  # an initial: "A. S. Pushkin", "Sir J. Robinson"
    return token in _ABBREVIATIONS


def _sentences(text: str, s: int, e: int) -> list[Span]:
    """Cut after . ! ? … when whitespace and a capital letter, quote or dash follow."""
    cuts = []
    for m in _SENTENCE_END.finditer(text, s, e):
        nxt = m.end()
        while nxt < e and text[nxt].isspace():
            nxt += 1
        if nxt >= e or not (text[nxt].isupper() or text[nxt] in _OPENERS):
            continue
        if m.group().rstrip("\"'”’»)]") == "." and _is_abbreviation(text[max(s, m.start() - 40):m.start()]):
            continue
        cuts.append(m.end())
    return _cut(text, s, cuts, e)


def _clauses(text: str, s: int, e: int) -> list[Span]:
    """Cut after ; and : (a 17th-century diarist's sentence can run for a page)."""
    return _cut(text, s, [m.end() for m in _CLAUSE_END.finditer(text, s, e)], e)


def _words(text: str, s: int, e: int) -> list[Span]:
    return [m.span() for m in _WORD.finditer(text, s, e)]


def _halves(text: str, s: int, e: int) -> list[Span]:
    return _cut(text, s, [(s + e) // 2], e)


_PROSE: tuple[Splitter, ...] = (_sentences, _lines, _clauses, _words)
_LEVELS: dict[str, tuple[Splitter, ...]] = {
    "list": (lambda t, s, e: _items(t, s, e, True), lambda t, s, e: _items(t, s, e, False), *_PROSE),
    "code": (_lines, _words),
    "table": (_lines, _words),
}


def _fit(text: str, kind: str, count_tokens: CountTokens, max_tokens: int) -> list[tuple[int, int, int]]:
    """Cut ``text`` into spans of at most ``max_tokens`` each: [(start, end, tokens)], in order.

    Breadth first, so each round is one ``count_tokens`` call over all spans still too long.
    """
    levels = _LEVELS.get(kind, _PROSE)
    whole = _strip(text, 0, len(text))
    todo: list[tuple[int, int, int]] = [(*whole, 0)] if whole else []
    if whole and len(text) > _SURELY_LONG * max_tokens:
        first = levels[0](text, *whole)
        if len(first) > 1:
            todo = [(s, e, 1) for s, e in first]
    done: list[tuple[int, int, int]] = []
    while todo:
        counts = count_tokens([text[s:e] for s, e, _ in todo])
        later: list[tuple[int, int, int]] = []
        for (s, e, level), n in zip(todo, counts):
            if n <= max_tokens or e - s <= 1:
                done.append((s, e, n))
                continue
            parts: list[Span] = [(s, e)]
            while len(parts) <= 1 and level < len(levels):
                parts = levels[level](text, s, e)
                level += 1
            if len(parts) <= 1:
                parts = _halves(text, s, e)
            later.extend((a, b, level) for a, b in parts)
        todo = later
    done.sort()
    return done


def _greedy(tokens: Sequence[int], keys: Sequence[object], max_tokens: int, join: int) -> list[Span]:
    """Index ranges [i, j) of neighbours with equal keys whose estimated total fits."""
    groups: list[Span] = []
    i = 0
    while i < len(tokens):
        total, j = tokens[i], i + 1
        while j < len(tokens) and keys[j] == keys[i] and total + join + tokens[j] <= max_tokens:
            total += join + tokens[j]
            j += 1
        groups.append((i, j))
        i = j
    return groups


def _verify(groups: list[Span], render: Callable[[int, int], str], tokens: Sequence[int],
            count_tokens: CountTokens, max_tokens: int) -> list[tuple[int, int, int]]:
    """Count every multi-part group as a whole; halve the ones over budget until all fit."""
    final: list[tuple[int, int, int]] = []
    pending = groups
    while pending:
        multi = [g for g in pending if g[1] - g[0] > 1]
        counted = dict(zip(multi, count_tokens([render(i, j) for i, j in multi]))) if multi else {}
        later: list[Span] = []
        for i, j in pending:
            n = counted.get((i, j), tokens[i])
            if n > max_tokens and j - i > 1:
                mid = (i + j) // 2
                later += [(i, mid), (mid, j)]
            else:
                final.append((i, j, n))
        pending = later
    final.sort()
    return final


def _split_block(block: Block, count_tokens: CountTokens, max_tokens: int) -> list[tuple[str, int, int, int]]:
    """An oversized block as [(text, start_line, end_line, tokens)] slices of its text."""
    text = block.text
    spans = _fit(text, block.kind, count_tokens, max_tokens)
    groups = _greedy([n for _, _, n in spans], [0] * len(spans), max_tokens, join=0)
    packed = _verify(groups, lambda i, j: text[spans[i][0]:spans[j - 1][1]], [n for _, _, n in spans],
                     count_tokens, max_tokens)
    newlines = [m.start() for m in re.finditer("\n", text)]
    pieces = []
    for i, j, n in packed:
        s, e = spans[i][0], spans[j - 1][1]
        first = block.start_line + bisect.bisect_left(newlines, s)
        last = block.start_line + bisect.bisect_left(newlines, e - 1)
        pieces.append((text[s:e], first, last, n))
    return pieces


def chunk_document(doc: ParsedDocument, count_tokens: CountTokens, max_tokens: int,
                   fallback_date: dt.date | None = None) -> list[Chunk]:
    """Turn a parsed document into chunks of at most ``max_tokens`` tokens.

    Args:
        doc: the parsed document.
        count_tokens: the embedder's token counter; called with lists of texts.
        max_tokens: the chunk budget (``Embedder.max_tokens``).
        fallback_date: the entry date when neither a heading nor the front matter gives
            one (usually the date in the file name).

    Returns:
        Chunks in document order, ``ordinal`` 0..n-1; whitespace-only text is dropped.

    Raises:
        ValueError: ``max_tokens`` is below 1.
    """
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, not {max_tokens}")
    blocks = [b for b in doc.blocks if b.text.strip()]
    short = [b.text for b in blocks if len(b.text) <= _SURELY_LONG * max_tokens]
    short_counts = iter(count_tokens(short) if short else [])
    counts = [next(short_counts) if len(b.text) <= _SURELY_LONG * max_tokens else max_tokens + 1 for b in blocks]
    # Parts: (key, text, start_line, end_line, tokens); key = (heading_path, date).
    parts: list[tuple[tuple[tuple[str, ...], dt.date | None], str, int, int, int]] = []
    for block, n in zip(blocks, counts):
        key = (block.heading_path, block.entry_date or doc.date or fallback_date)
        if n <= max_tokens:
            parts.append((key, block.text.strip("\n"), block.start_line, block.end_line, n))
        else:
            parts.extend((key, *piece) for piece in _split_block(block, count_tokens, max_tokens))
    tokens = [p[4] for p in parts]
    groups = _greedy(tokens, [p[0] for p in parts], max_tokens, join=_JOIN_TOKENS)

    def render(i: int, j: int) -> str:
        return "\n\n".join(p[1] for p in parts[i:j])

    chunks: list[Chunk] = []
    for i, j, _ in _verify(groups, render, tokens, count_tokens, max_tokens):
        text = render(i, j)
        if text.strip():
            (path, date), first, last = parts[i][0], parts[i][2], parts[j - 1][3]
            chunks.append(Chunk(text, path, first, last, date, len(chunks)))
    return chunks

