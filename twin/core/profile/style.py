"""How the user writes, measured without a model (pure): typical phrases, languages, sentence length.

These ``style`` candidates come from counting over every entry, so they are exact and cheap
and need no model that could invent them; the model's own ``style`` facts (tone) join them
in the profile. Each cites the entries it rests on (at most :data:`MAX_SOURCES`, spread over
the years).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence

from twin.core.profile.entries import Entry
from twin.core.profile.model import Candidate, SourceRef

MAX_SOURCES = 12
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_SENTENCE = re.compile(r"[^.!?…]+[.!?…]")
_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)
_FUNCTION = frozenset(
    ["the", "a", "an", "and", "or", "but", "of", "to", "in", "on", "at", "by", "for", "from", "with", "as", "is", "was", "were", "be", "been", "it", "its", "this", "that", "these", "those", "i", "me", "my", "we", "our", "you", "he", "him", "his", "she", "her", "they", "them", "their", "there", "here", "not", "no", "so", "if", "then", "than", "which", "who", "what", "и", "в", "во", "не", "на", "я", "с", "со", "что", "он", "она", "они", "мы", "вы", "а", "но", "как", "к", "ко", "по", "из", "у", "за", "о", "об", "от", "до", "же", "бы", "ли", "это", "то"])


def _spread(entries: Sequence[Entry], limit: int = MAX_SOURCES) -> tuple[SourceRef, ...]:
    """At most ``limit`` of ``entries``, evenly spread over time."""
    ordered = sorted(entries, key=lambda e: (e.iso_date, e.path))
    if len(ordered) > limit:
        step = (len(ordered) - 1) / (limit - 1)
        ordered = [ordered[round(i * step)] for i in range(limit)]
    return tuple(sorted({SourceRef(e.iso_date, e.path) for e in ordered}))


def typical_phrases(entries: Sequence[Entry], *, top: int = 5, min_share: float = 0.05) -> list[tuple[str, int]]:
    """3- and 4-word phrases found in many entries (by the number of entries), not all function words."""
    df: Counter[str] = Counter()
    for e in entries:
        words = [w.casefold() for w in _WORD.findall(e.text)]
        grams = {" ".join(words[i:i + n]) for n in (3, 4) for i in range(len(words) - n + 1)}
        df.update(g for g in grams if not all(w in _FUNCTION for w in g.split()))
    floor = max(3, int(len(entries) * min_share))
    ranked = sorted(((g, n) for g, n in df.items() if n >= floor), key=lambda gn: (-gn[1], -len(gn[0]), gn[0]))
    chosen: list[tuple[str, int]] = []
    def pairs(g: str) -> set[str]:
        w = g.split()
        return {f"{a} {b}" for a, b in itertools.pairwise(w)}

    for g, n in ranked:  # overlapping phrases ("to supper and", "supper and to") say the same
        if any(pairs(g) & pairs(c) for c, _ in chosen):
            continue
        chosen.append((g, n))
        if len(chosen) >= top:
            break
    return chosen


def style_candidates(entries: Sequence[Entry]) -> list[Candidate]:
    """Measured ``style`` facts over ``entries`` (none for fewer than 3 entries)."""
    entries = [e for e in entries if e.text.strip()]
    if len(entries) < 3:
        return []
    out: list[Candidate] = []
    phrases = typical_phrases(entries)
    if phrases:
        flat = {id(e): " ".join(_WORD.findall(e.text.casefold())) for e in entries}
        with_phrase = [e for e in entries if any(p in flat[id(e)] for p, _ in phrases)]
        listed = ", ".join(f"“{p}” ({n} entries)" for p, n in phrases)
        out.append(Candidate("style", "typical phrases", f"Phrases I often use: {listed}.", _spread(with_phrase)))
    langs: Counter[str] = Counter()
    for e in entries:
        cyr, lat = len(_CYRILLIC.findall(e.text)), len(_LATIN.findall(e.text))
        total = cyr + lat or 1
        langs["mixed" if min(cyr, lat) / total > 0.2 else "Russian" if cyr > lat else "English"] += 1
    parts = [f"{name} in {n * 100 // len(entries)}% of entries" for name, n in langs.most_common()]
    names = {"mixed": "a mix of Russian and English"}
    head = names.get(langs.most_common(1)[0][0], langs.most_common(1)[0][0])
    out.append(Candidate("style", "languages", f"I write mostly in {head} ({'; '.join(parts)}).", _spread(entries)))
    sentences = [len(_WORD.findall(s)) for e in entries for s in _SENTENCE.findall(e.text)]
    sentences = [n for n in sentences if n]
    if sentences:
        avg = sum(sentences) / len(sentences)
        kind = "long" if avg > 25 else "short" if avg < 12 else "medium-length"
        words = sum(len(_WORD.findall(e.text)) for e in entries) // len(entries)
        out.append(Candidate("style", "sentences",
                             f"I write {kind} sentences (about {avg:.0f} words each); an entry has about {words} words.",
                             _spread(entries)))
    return out
