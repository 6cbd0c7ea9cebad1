"""Measured style facts: typical phrases, language mix, sentence length (literal texts)."""

from __future__ import annotations

import datetime as dt

from twin.core.profile.entries import Entry
from twin.core.profile.style import style_candidates, typical_phrases


def entry(day: int, text: str) -> Entry:
    return Entry(f"/v/2020-01-{day:02d}.md", dt.date(2020, 1, day), text)


def test_phrases_found_in_many_entries_are_typical() -> None:
    es = [entry(d, f"Up early, to the office. Dinner {d}. And so to bed.") for d in range(1, 8)]
    es.append(entry(9, "A quiet day at home."))
    phrases = dict(typical_phrases(es))
    assert phrases.get("and so to bed") == 7
    assert all(not p.startswith("a quiet") for p in phrases)


def test_language_mix_and_sentences_cite_spread_entries() -> None:
    es = [entry(d, "Сегодня гуляли по набережной с Анной. Потом пили чай.") for d in range(1, 15)]
    es += [entry(d, "Went to the meetup, talked about Rust. Сказал Пете, что приду.") for d in range(15, 31)]
    by = {c.subject: c for c in style_candidates(es)}
    assert by["languages"].statement.startswith("I write mostly in a mix of Russian and English")
    assert "Russian in 46% of entries" in by["languages"].statement
    assert len(by["languages"].sources) == 12
    assert by["languages"].sources[0].date == "2020-01-01" and by["languages"].sources[-1].date == "2020-01-30"
    assert "short sentences" in by["sentences"].statement
    assert style_candidates(es[:2]) == []
