"""The dataset's pure logic with literal texts: entries, privacy, examples, dedup, split, stats."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from twin.core.dataset.dedup import content_hash, deduplicate
from twin.core.dataset.entries import (
    entries_from_document,
    language,
    private_file,
    tag_pattern,
)
from twin.core.dataset.examples import (
    Voice,
    chat_example,
    entry_examples,
    split_head,
    spoken_date,
)
from twin.core.dataset.split import percentile, split_of, token_stats
from twin.core.memory.markdown import parse_markdown

MONTH = """---
title: March
---
# March 2024

## 15 марта 2024

Гулял в парке и долго думал о работе. Потом зашёл в кофейню на углу.

Вечером звонила сестра, говорили о поездке.

## 16 марта 2024 #private

Личное.

## 17 марта 2024

Читал книгу. Шёл дождь. #private

## 18 марта 2024

Ездили на дачу.
"""


def entries(text: str, path: str = "diary/march.md", **kw):  # type: ignore[no-untyped-def]
    return entries_from_document(parse_markdown(text), text, path, **kw)


def test_a_monthly_file_gives_one_entry_per_day_with_privacy_marks() -> None:
    es = entries(MONTH)
    assert [e.id for e in es] == ["diary/march.md#2024-03-15", "diary/march.md#2024-03-16",
                                  "diary/march.md#2024-03-17", "diary/march.md#2024-03-18"]
    assert es[0].text.startswith("Гулял в парке") and es[0].text.endswith("о поездке.")
    assert es[0].title == "15 марта 2024" and es[0].language == "ru"
    assert [e.private for e in es] == [False, True, True, False]  # tag in the heading, tag in the text


def test_front_matter_makes_a_whole_file_private() -> None:
    for fm in ("private: true", "private: yes", "tags: [diary, private]", "tags: diary, Private"):
        text = f"---\n{fm}\n---\n# 2024-01-02\n\nHello there.\n"
        assert all(e.private for e in entries(text)), fm
    assert not any(e.private for e in entries("---\nprivate: false\ntags: [privateish]\n---\nHello.\n"))
    assert private_file({"tags": ["secret"]}, "secret") and not private_file({}, "private")


def test_inline_tag_is_a_whole_word() -> None:
    p = tag_pattern("private")
    assert p.search("a #private b") and p.search("#Private")
    assert not p.search("#privateer") and not p.search("url.html#private") and not p.search("##private")


def test_undated_files_use_the_file_date_or_become_notes() -> None:
    dated = entries("Just text, no heading.\n", fallback_date=dt.date(2020, 5, 6))
    assert dated[0].id == "diary/march.md#2020-05-06" and dated[0].date == dt.date(2020, 5, 6)
    undated = entries("# Books\n\nI liked it.\n")
    assert undated[0].id == "diary/march.md#1" and undated[0].date is None and undated[0].title == "Books"


def test_language() -> None:
    assert language("Сегодня я гулял, and then home") == "ru"
    assert language("Today I walked home, потом") == "en"
    assert language("12345") == "en"


def test_day_examples_in_both_formats() -> None:
    e = entries(MONTH)[0]
    exs = entry_examples(e, [e.text])
    assert [x.kind for x in exs] == ["day", "continue"]
    day, cont = exs
    assert day.instruction == "Напиши о своём дне: пятница, 15 марта 2024."
    assert day.render("chat", Voice("Be me."))["messages"] == [
        {"role": "system", "content": "Be me."}, {"role": "user", "content": day.instruction},
        {"role": "assistant", "content": e.text}]
    assert day.render("completion", Voice()) == {"prompt": "# пятница, 15 марта 2024\n\n", "completion": e.text}
    # the continuation: the head in the prompt, the rest as the target, nothing lost
    assert cont.prefix.endswith("на углу. ") and cont.completion == "Вечером звонила сестра, говорили о поездке."
    assert cont.prefix + cont.completion == day.prefix + e.text.replace("углу.\n\n", "углу. ")
    assert {x.group for x in exs} == {e.id}
    json.dumps([x.render(f, Voice()) for x in exs for f in ("chat", "completion")], ensure_ascii=False)


def test_parts_and_english_notes() -> None:
    text = "# Books\n\nI liked the book a lot. It was long and slow but good in the end. I will read more.\n"
    e = entries(text)[0]
    exs = entry_examples(e, ["part one", "part two"], continuation=False)
    assert [x.instruction for x in exs] == ["Write a note titled “Books” (part 1 of 2).",
                                            "Write a note titled “Books” (part 2 of 2)."]
    assert [x.prefix for x in exs] == ["# Books\n\n", "# Books (continued)\n\n"]
    assert spoken_date(dt.date(2024, 3, 15), "en") == "Friday, 15 March 2024"


def test_split_head() -> None:
    assert split_head("Short.") is None
    text = "First sentence is here and long enough. Second one follows it now. Third comes last of all here."
    head, rest = split_head(text)  # type: ignore[misc]
    assert head == "First sentence is here and long enough." and rest.startswith("Second")


def test_chat_example_uses_the_transcript_labels() -> None:
    ex = chat_example("c1", 7, "What do you think of cats?", "I love them.", None, Voice(user_label="Ann",
                                                                                          twin_label="Me"), "en")
    assert ex.render("completion", Voice()) == {"prompt": "Ann: What do you think of cats?\nMe:",
                                                "completion": " I love them."}
    assert ex.group == "chat:c1" and ex.kind == "chat"


def test_dedup_exact_and_near() -> None:
    base = ("We walked along the river to the old mill, and the water was high after the rain; "
            "my brother told stories about the war and we laughed until the evening came. Then we "
            "went home through the fields, past the church and the school where our mother taught, "
            "and had supper with bread, cheese and the last of the apples from the cellar.")
    texts = [base, base.upper(), base.replace("laughed", "laught"), "Something else entirely, about the sea."]
    r = deduplicate(texts, threshold=0.8)
    assert r.keep == (0, 3) and r.exact == ((1, 0),) and r.near == ((2, 0),)
    assert deduplicate(texts, threshold=1.0).keep == (0, 2, 3)  # exact only
    assert content_hash("Ёлка, ёж!") == content_hash("елка ЕЖ")


def test_split_is_stable_and_close_to_the_share() -> None:
    groups = [f"diary/{i}.md#2024" for i in range(2000)]
    first = [split_of(g, 0.1) for g in groups]
    assert first == [split_of(g, 0.1) for g in groups]
    assert 150 < first.count("val") < 250
    assert all(split_of(g, 0.0) == "train" for g in groups[:50])


def test_token_stats() -> None:
    assert token_stats([5, 1, 3, 2, 4]) == {"count": 5, "min": 1, "median": 3, "p95": 5, "max": 5, "total": 15}
    assert token_stats([])["count"] == 0
    assert percentile(list(range(1, 101)), 95) == 95


@pytest.mark.parametrize("text", ["", "---\n: [bad\n---\nText here.\n", "---\n- a list\n---\nText.\n"])
def test_odd_front_matter_never_crashes(text: str) -> None:
    entries(text)
