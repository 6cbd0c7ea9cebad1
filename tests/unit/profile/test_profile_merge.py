"""Reduce: history over time, retraction of changed entries, and the review overlay."""

from __future__ import annotations

from twin.core.profile import merge
from twin.core.profile.model import Candidate, SourceRef, fact_id
from twin.core.profile.render import persona_text


def cand(subject: str, statement: str, date: str, kind: str = "place", relation: str = "") -> Candidate:
    return Candidate(kind, subject, statement, (SourceRef(date, f"/v/{date}.md"),), relation)


def record(units: list[tuple[str, str]], facts: list[Candidate]) -> dict[str, object]:
    return {"units": [[f"/v/{d}.md#{d}#0", h, f"/v/{d}.md", d] for d, h in units],
            "facts": [f.to_json() for f in facts]}


def test_changes_over_time_keep_a_dated_history() -> None:
    cands = [cand("home", "I live in Lyon.", "2019-05-01"), cand("home", "I live in Berlin.", "2022-01-10"),
             cand("Home", "I live in Lyon!", "2020-12-31")]
    (fact,) = merge.merge(cands, merge.empty_review())
    assert [h.statement for h in fact.history] == ["I live in Lyon.", "I live in Berlin."]
    assert fact.history[0].first == "2019-05-01" and fact.history[0].last == "2020-12-31"
    assert fact.statement == "I live in Lyon. (2019-05-01 – 2020-12-31); then I live in Berlin. (from 2022-01-10)"
    assert len(fact.sources) == 3 and fact.id == fact_id("place", "HOME")


def test_changed_or_removed_entries_retract_their_facts() -> None:
    records = [record([("2019-05-01", "a"), ("2019-05-02", "b")],
                      [cand("Lyon", "I live in Lyon.", "2019-05-01"), cand("Anna", "Anna is my sister.", "2019-05-02",
                                                                           "person", "sister")])]
    assert len(merge.live_candidates(records, {"/v/2019-05-01.md#2019-05-01#0": "a",
                                               "/v/2019-05-02.md#2019-05-02#0": "b"})) == 2
    live = merge.live_candidates(records, {"/v/2019-05-01.md#2019-05-01#0": "a",
                                           "/v/2019-05-02.md#2019-05-02#0": "CHANGED"})
    assert [c.subject for c in live] == ["Lyon"]
    # the re-mapped entry's newer record wins for that unit
    records.append(record([("2019-05-02", "CHANGED")], [cand("Anna", "Anna is my cousin.", "2019-05-02", "person")]))
    live = merge.live_candidates(records, {"/v/2019-05-01.md#2019-05-01#0": "a",
                                           "/v/2019-05-02.md#2019-05-02#0": "CHANGED"})
    assert sorted(c.statement for c in live) == ["Anna is my cousin.", "I live in Lyon."]


def test_rejected_statements_never_come_back_but_new_ones_do() -> None:
    review = merge.empty_review()
    (fact,) = merge.merge([cand("Lyon", "I live in Lyon.", "2019-05-01")], review)
    merge.reject(review, fact)
    assert merge.merge([cand("Lyon", "I live in Lyon.", "2019-05-01"), cand("lyon", "I LIVE in Lyon", "2023-01-01")],
                       review) == []
    (again,) = merge.merge([cand("Lyon", "I work in Lyon.", "2023-01-01")], review)
    assert again.status == "proposed" and again.statement == "I work in Lyon."


def test_accepted_and_edited_facts_survive_their_entries_and_flag_news() -> None:
    review = merge.empty_review()
    a, b = merge.merge([cand("Lyon", "I live in Lyon.", "2019-05-01"),
                        cand("Anna", "Anna is my sister.", "2019-05-02", "person", "sister")], review)
    merge.accept(review, a)  # Anna (person) sorts first
    merge.accept(review, b, "I have lived in Lyon since 2015.")
    facts = {f.subject: f for f in merge.merge([], review)}  # every entry gone
    assert facts["Anna"].status == "accepted" and facts["Anna"].statement == "Anna is my sister."
    assert facts["Lyon"].status == "edited" and facts["Lyon"].statement == "I have lived in Lyon since 2015."
    assert facts["Lyon"].sources  # the snapshot keeps where it came from
    news = {f.subject: f for f in merge.merge([cand("Lyon", "I moved to Berlin.", "2022-01-01")], review)}
    assert news["Lyon"].changed and news["Lyon"].statement == "I have lived in Lyon since 2015."


def test_persona_text_has_accepted_facts_only_people_first_within_budget() -> None:
    review = merge.empty_review()
    facts = merge.merge([cand("Lyon", "I live in Lyon.", "2019-05-01"),
                         cand("Anna", "Anna is my sister.", "2019-05-02", "person", "sister"),
                         cand("swim", "I swim every morning.", "2019-05-03", "habit")], review)
    by = {f.subject: f for f in facts}
    merge.accept(review, by["Lyon"])
    merge.accept(review, by["Anna"])
    facts = merge.merge([], review)
    count = len  # one token per character: easy to reason about
    text = persona_text(facts, 1000, count)
    assert text.index("Anna (sister)") < text.index("Lyon")
    assert "swim" not in text
    budget = len("What I know about myself from my diaries:\n") + len("- Anna (sister): Anna is my sister.\n")
    small = persona_text(facts, budget, count)
    assert "Anna" in small and "Lyon" not in small and len(small) <= budget
    assert persona_text(facts, 10, count) == ""


def test_rewordings_share_one_history_item_and_are_rejected_together() -> None:
    cands = [cand("home", "I live in Lyon with my wife.", "2019-05-01"),
             cand("home", "I live in Lyon with my wife now.", "2019-06-01")]
    review = merge.empty_review()
    (fact,) = merge.merge(cands, review)
    assert len(fact.history) == 1 and len(fact.history[0].all_keys) == 2 and len(fact.sources) == 2
    merge.reject(review, fact)
    assert merge.merge(cands[1:], review) == []
