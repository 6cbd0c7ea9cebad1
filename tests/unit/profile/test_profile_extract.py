"""Parsing the map step's answers (literal strings in, candidates out) and the prompts' shape."""

from __future__ import annotations

import json

from twin.core.profile.entries import Unit
from twin.core.profile.extract import (
    END,
    completion_prompt,
    grammar,
    names,
    parse_facts,
)

BATCH = [
    Unit("/v/2021-03-01.md#2021-03-01#0", "/v/2021-03-01.md", "2021-03-01",
         "Dinner with my wife Elizabeth at Whitehall. I wrote letters till midnight.", "h1"),
    Unit("/v/2021-03-02.md#2021-03-02#0", "/v/2021-03-02.md", "2021-03-02",
         "Гуляли с Анной по Невскому. Я снова пишу по-русски и по-английски.", "h2"),
]


def line(**kw: object) -> str:
    base = {"kind": "person", "subject": "Elizabeth", "relation": "wife",
            "statement": "Elizabeth is my wife; we dine together.", "when": "2021-03", "sources": ["e1"]}
    base.update(kw)
    return json.dumps(base, ensure_ascii=False)


def test_valid_lines_become_candidates_cited_to_path_and_date() -> None:
    out = parse_facts(line() + "\n" + line(kind="place", subject="Whitehall", relation="",
                                           statement="I often dine at Whitehall.") + f"\n{END}", BATCH)
    assert [c.subject for c in out.candidates] == ["Elizabeth", "Whitehall"]
    assert out.candidates[0].sources[0].path == "/v/2021-03-01.md"
    assert out.candidates[0].sources[0].date == "2021-03-01"
    assert out.candidates[0].relation == "wife" and out.candidates[1].relation == ""
    assert not out.problems and not out.malformed


def test_malformed_and_partial_output_keeps_the_good_lines() -> None:
    text = "Sure! Here are the facts:\n" + line() + "\n{\"kind\": \"place\", \"subject\": \"Whiteh"  # cut off
    out = parse_facts(text, BATCH)
    assert [c.subject for c in out.candidates] == ["Elizabeth"]
    garbage = parse_facts("{not json at all", BATCH)
    assert garbage.candidates == [] and garbage.malformed


def test_json_array_and_code_fences_and_loose_id_forms() -> None:
    arr = "```json\n[" + line(sources=["[e1]", 2]) + ", " + line(subject="Анна", relation="friend",
                                                              statement="Анна — моя подруга, мы гуляем.",
                                                              sources="e2") + "]\n```"
    out = parse_facts(arr, BATCH)
    assert len(out.candidates) == 2
    assert {s.date for s in out.candidates[0].sources} == {"2021-03-01", "2021-03-02"}
    assert out.candidates[1].subject == "Анна"  # Russian: grounded by the inflected "Анной"


def test_wrong_ids_unknown_kinds_empty_and_huge_strings_are_dropped() -> None:
    text = "\n".join([
        line(sources=["e9"]),  # not in the batch
        line(sources=[]),
        line(kind="spaceship"),
        line(subject=" "),
        line(statement="x" * 5000),
        line(subject="Bob", statement="Bob is my brother and we fish."),  # Bob is in no entry
        line(statement="Elizabeth"),  # says nothing
    ])
    out = parse_facts(text, BATCH)
    assert out.candidates == []
    assert len(out.problems) == 7
    assert any("cites no entry" in p for p in out.problems)
    assert any("too long" in p for p in out.problems)
    assert any("in none of the entries" in p for p in out.problems)


def test_a_name_cited_to_the_wrong_entry_is_cited_to_the_entries_naming_it() -> None:
    out = parse_facts(line(subject="Whitehall", kind="place", relation="", statement="I dine at Whitehall often.",
                           sources=["e2"]), BATCH)
    assert [s.date for s in out.candidates[0].sources] == ["2021-03-01"]


def test_copied_example_and_duplicates_are_dropped() -> None:
    copied = line(subject="Anna", relation="sister", statement="Anna is my sister; she is moving to Berlin in May 2019.")
    out = parse_facts("\n".join([copied, line(), line()]), BATCH)
    assert [c.subject for c in out.candidates] == ["Elizabeth"]
    assert any("example" in p for p in out.problems)
    assert not parse_facts(copied, BATCH).malformed  # well-formed: a stricter retry would not help


def test_kind_synonyms_and_control_characters() -> None:
    out = parse_facts(line(kind="People", subject="Eliza\u0000beth", statement="My wife\nElizabeth dines with me."),
                      BATCH)
    assert out.candidates and out.candidates[0].kind == "person"
    assert "\n" not in out.candidates[0].statement


def test_names_are_mid_sentence_capitalized_phrases() -> None:
    found = names(["So I went with Mr Pepys to Whitehall. The King was there.", "Гуляли с Анной по Невскому."])
    assert {"Whitehall", "Невскому", "Mr Pepys"} <= set(found)
    assert "So" not in found and "The" not in found


def test_grammar_lists_only_batch_ids_and_names() -> None:
    g = grammar(["e1", "e2"], 5, subjects=["Whitehall", "Анна"], dates=["2021-03-01"])
    assert 'src ::= "\\"e1\\"" | "\\"e2\\""' in g
    assert '"Анна"' in g and "2021-03-01" in g
    assert g.startswith("root ::= fact{0,5}")


def test_completion_prompt_ends_in_an_open_facts_section() -> None:
    prompt = completion_prompt(BATCH)
    assert prompt.endswith("### Facts\n")
    assert "[e1] 2021-03-01\n> Dinner with my wife" in prompt
