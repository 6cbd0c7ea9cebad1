"""The eval metric math on literal inputs, and the question builder on hand-made passages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from twin.core.eval.metrics import (
    Outcome,
    answers,
    first_rank,
    flat_metrics,
    judge_prompt,
    mrr,
    parse_verdict,
    recall_at,
    summarise,
)
from twin.core.eval.questions import (
    Passage,
    Question,
    Source,
    build_question_set,
    distinctive_terms,
    document_frequencies,
    dumps,
    group_entries,
    keyword_question,
    loads,
    parse_question,
)

D = dt.date


@dataclass
class H:
    path: str
    date: dt.date | None


def q(kind: str, path: str = "a.md", date: dt.date | None = D(1666, 9, 2), answerable: bool = True) -> Question:
    return Question(f"{kind}-1", kind, "?", answerable, Source(path, date))


def test_recall_and_mrr_on_literal_ranks() -> None:
    ranks = [1, 3, None, 2, 10]
    assert recall_at(ranks, 1) == pytest.approx(1 / 5)
    assert recall_at(ranks, 3) == pytest.approx(3 / 5)
    assert recall_at(ranks, 5) == pytest.approx(3 / 5)
    assert recall_at(ranks, 10) == pytest.approx(4 / 5)
    assert mrr(ranks) == pytest.approx((1 + 1 / 3 + 0 + 1 / 2 + 1 / 10) / 5)
    assert recall_at([], 5) is None and mrr([]) is None


def test_a_hit_answers_by_entry_and_a_dated_question_by_date() -> None:
    kw = q("keyword", "a.md", D(1666, 9, 2))
    assert answers(H("a.md", D(1666, 9, 2)), kw)
    assert not answers(H("a.md", D(1666, 9, 3)), kw)  # same file, another entry
    assert not answers(H("b.md", D(1666, 9, 2)), kw)
    undated = q("keyword", "notes.md", None)
    assert answers(H("notes.md", None), undated) and answers(H("notes.md", D(2020, 1, 1)), undated)
    dated = q("dated", "a.md", D(1666, 9, 2))
    assert answers(H("b.md", D(1666, 9, 2)), dated)  # any entry of that day
    assert not answers(H("a.md", None), dated)
    assert first_rank([H("x.md", None), H("b.md", D(1666, 9, 1)), H("a.md", D(1666, 9, 2))], kw) == 3
    assert first_rank([H("x.md", None)], kw) is None


def test_summary_by_kind_abstention_and_accuracy() -> None:
    outcomes = [
        Outcome("d1", "dated", True, 1, abstained=False),
        Outcome("d2", "dated", True, None, abstained=True, answer_abstained=True, verdict=False),
        Outcome("k1", "keyword", True, 2, abstained=False, answer_abstained=False, verdict=True),
        Outcome("k2", "keyword", True, 4, abstained=False, answer_abstained=False, verdict=None),
        Outcome("u1", "keyword", False, None, abstained=True, answer_abstained=True),
        Outcome("u2", "dated", False, None, abstained=False),
        Outcome("u3", "dated", False, None, abstained=True),
    ]
    s = summarise(outcomes, ks=(1, 3))
    assert (s["questions"], s["answerable"], s["unanswerable"]) == (7, 4, 3)
    assert s["retrieval"]["dated"] == {"n": 2, "recall@1": 0.5, "recall@3": 0.5, "mrr": 0.5}
    assert s["retrieval"]["keyword"] == {"n": 2, "recall@1": 0.0, "recall@3": 0.5, "mrr": pytest.approx(0.375)}
    assert s["retrieval"]["all"]["recall@3"] == 0.5 and s["retrieval"]["all"]["mrr"] == pytest.approx(1.75 / 4)
    assert "paraphrase" not in s["retrieval"]
    ab = s["abstention"]
    assert ab["unanswerable_abstained"] == pytest.approx(2 / 3) and ab["n_unanswerable"] == 3
    assert ab["answerable_refused"] == 0.25 and ab["n_answerable"] == 4
    assert ab["answers_unanswerable_abstained"] == 1.0 and ab["n_answers_unanswerable"] == 1
    assert ab["answers_answerable_refused"] == pytest.approx(1 / 3) and ab["n_answers_answerable"] == 3
    assert ab["unanswerable_by_kind"] == {"dated": {"n": 2, "abstained": 0.5}, "keyword": {"n": 1, "abstained": 1.0}}
    # the judge: only verdicts given count (k2 had no verdict)
    assert s["accuracy"]["all"] == {"n": 2, "accuracy": 0.5}
    assert s["accuracy"]["dated"] == {"n": 1, "accuracy": 0.0}
    flat = flat_metrics(s)
    assert flat["all recall@3"] == 0.5 and flat["abstention answerable_refused"] == 0.25
    assert flat["all answer accuracy"] == 0.5


def test_abstention_not_measured_is_none() -> None:
    s = summarise([Outcome("d1", "dated", True, 1), Outcome("u1", "dated", False, None)])
    assert s["abstention"]["measured"] is False and s["abstention"]["unanswerable_abstained"] is None


def test_verdicts_and_judge_prompt() -> None:
    assert parse_verdict(" YES") is True and parse_verdict("no.") is False and parse_verdict("Yes, it is")
    assert parse_verdict("maybe") is None and parse_verdict("") is None and parse_verdict("yesterday") is None
    p = judge_prompt("Where did the fire start?", "The fire began in Pudding Lane.", "In Pudding Lane.")
    assert "Passage: The fire began in Pudding Lane." in p and "Answer: In Pudding Lane." in p
    assert p.rstrip().endswith("Verdict:")


def test_parse_question() -> None:
    assert parse_question(" Who went with me to the Tower that morning?\nPassage: x") == \
        "Who went with me to the Tower that morning?"
    assert parse_question('Question: "Where did I bury my wine?" I think') == "Where did I bury my wine?"
    assert parse_question("The fire was big.") is None
    assert parse_question("Why?") is None
    assert parse_question("") is None


def _passages() -> list[Passage]:
    words = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike".split()
    out = []
    for i in range(12):
        day = D(1666, 9, i + 1)
        rare = f"Zanzibar{chr(97 + i)}x"  # one word only this entry has
        text = (f"Today I walked with {rare} to the {words[i]} market and we talked of the weather "
                f"and of many things, the office, the river, the boats and the {words[i + 1]} dinner at home "
                f"with my wife and the servants.")
        out.append(Passage(f"/v/{day}.md", day, f"c{i}", 0, 10, 12, "", text))
    out.append(Passage("/v/notes.md", None, "n0", 0, 1, 3, "", "short"))  # too short to be a source
    return out


def test_build_is_deterministic_and_holds_entries_apart() -> None:
    ps = _passages()
    a = build_question_set(ps, seed=3, dated=5, keyword=5, unanswerable=3)
    b = build_question_set(ps, seed=3, dated=5, keyword=5, unanswerable=3)
    assert dumps(a) == dumps(b)
    assert dumps(build_question_set(ps, seed=4, dated=5, keyword=5, unanswerable=3)) != dumps(a)
    counts = a.counts()
    assert counts["dated"] == 5 and counts["keyword"] == 5
    assert sum(v for k, v in counts.items() if k.startswith("unanswerable")) == 3
    held = set(a.held_apart)
    assert len(held) == 3 and ("/v/notes.md", None) not in held
    for question in a.questions:
        assert (question.source.entry in held) == (not question.answerable), question
    for question in a.questions:
        if question.kind == "keyword":
            assert question.text == keyword_question(question.terms) and len(question.terms) >= 2
            if not question.answerable:  # words no other entry has
                df = document_frequencies(group_entries(ps))
                assert all(df[t.lower()] == 1 for t in question.terms if t.lower() in df)
                assert any(t.startswith("Zanzibar") for t in question.terms)
    again = loads(dumps(a))
    assert again.questions == a.questions and again.held_apart == a.held_apart and again.meta == a.meta


def test_paraphraser_is_used_and_bad_answers_skipped() -> None:
    calls: list[str] = []

    def para(p: Passage) -> str | None:
        calls.append(p.chunk_id)
        return None if len(calls) % 2 else f"What did I buy at the market ({p.chunk_id})?"

    qs = build_question_set(_passages(), seed=1, dated=0, keyword=0, paraphrase=2, unanswerable=0, paraphraser=para)
    assert [x.kind for x in qs.questions] == ["paraphrase", "paraphrase"] and len(calls) == 4
    assert all(x.answerable and x.source.chunk_id in x.text for x in qs.questions)


def test_distinctive_terms_prefer_rare_names() -> None:
    entries = group_entries(_passages())
    df = document_frequencies(entries)
    terms = distinctive_terms(entries[("/v/1666-09-01.md", D(1666, 9, 1))][0].text, df)
    assert terms[0] == "Zanzibarax" and "walked" not in terms


def test_a_damaged_set_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="line 1"):
        loads("{not json")
    with pytest.raises(ValueError, match="header"):
        loads('{"type": "question", "id": "x", "kind": "dated", "text": "?", "answerable": true, '
              '"source": {"path": "a"}}\n')
