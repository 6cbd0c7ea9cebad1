"""The numbers of an eval run (pure): recall@k and MRR by kind, abstention, answer accuracy,
and the judge's prompt and verdict.

A hit *answers* a question when it comes from the question's entry: the same path and, for a
dated entry, the same date. A dated question ("what did I do on 2 September 1666?") is
answered by any entry of that date.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from twin.core.eval.questions import KINDS, Question, passage_text

DEFAULT_KS = (1, 3, 5, 10)


class HitLike(Protocol):
    path: str
    date: dt.date | None


def answers(hit: HitLike, q: Question) -> bool:
    """Whether ``hit`` comes from an entry that answers ``q``."""
    if q.kind == "dated":
        return hit.date is not None and hit.date == q.source.date
    return hit.path == q.source.path and (q.source.date is None or hit.date == q.source.date)


def first_rank(hits: Sequence[HitLike], q: Question) -> int | None:
    """The 1-based rank of the first hit that answers ``q``; None when none does."""
    return next((i for i, h in enumerate(hits, 1) if answers(h, q)), None)


@dataclass(frozen=True)
class Outcome:
    """What happened to one question in a run."""

    id: str
    kind: str
    answerable: bool
    rank: int | None  # first answering hit (answerable questions)
    abstained: bool | None = None  # retrieval said "not enough evidence" (None: not measured)
    answer_abstained: bool | None = None  # the twin's answer said the notes do not say (None: no answer)
    verdict: bool | None = None  # the judge: the answer is right (None: not judged / no verdict)
    control: bool | None = None  # the judge's verdict on a known-wrong answer (True: fooled)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "answerable": self.answerable, "rank": self.rank,
                "abstained": self.abstained, "answer_abstained": self.answer_abstained, "verdict": self.verdict, "control": self.control}


def recall_at(ranks: Sequence[int | None], k: int) -> float | None:
    """Share of questions whose first answering hit is within the top ``k`` (None: no questions)."""
    if not ranks:
        return None
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def mrr(ranks: Sequence[int | None]) -> float | None:
    """Mean reciprocal rank (a question with no answering hit counts 0)."""
    if not ranks:
        return None
    return sum(1.0 / r for r in ranks if r is not None) / len(ranks)


def share(flags: Iterable[bool | None]) -> tuple[float | None, int]:
    """Share of True among the measured (non-None) flags, and how many were measured."""
    measured = [f for f in flags if f is not None]
    return (sum(measured) / len(measured) if measured else None), len(measured)


def summarise(outcomes: Sequence[Outcome], ks: Sequence[int] = DEFAULT_KS) -> dict[str, Any]:
    """The run's numbers: per kind and overall recall@k, MRR; abstention; answer accuracy."""
    answerable = [o for o in outcomes if o.answerable]
    unanswerable = [o for o in outcomes if not o.answerable]
    retrieval: dict[str, Any] = {}
    for kind in (*KINDS, "all"):
        group = [o for o in answerable if kind == "all" or o.kind == kind]
        if not group:
            continue
        ranks = [o.rank for o in group]
        retrieval[kind] = {"n": len(group), **{f"recall@{k}": recall_at(ranks, k) for k in ks}, "mrr": mrr(ranks)}
    abst_un, n_un = share(o.abstained for o in unanswerable)
    refused, n_ans = share(o.abstained for o in answerable)
    ans_un, n_aun = share(o.answer_abstained for o in unanswerable)
    ans_ref, n_aans = share(o.answer_abstained for o in answerable)
    accuracy: dict[str, Any] = {}
    for kind in (*KINDS, "all"):
        acc, n = share(o.verdict for o in answerable if kind == "all" or o.kind == kind)
        if n:
            accuracy[kind] = {"n": n, "accuracy": acc}
    by_kind = {}
    for kind in KINDS:
        rate, n = share(o.abstained for o in unanswerable if o.kind == kind)
        if n:
            by_kind[kind] = {"n": n, "abstained": rate}
    fooled, n_control = share(o.control for o in answerable)
    judge = {"n_control": n_control, "false_yes": fooled}
    return {
        "questions": len(outcomes), "answerable": len(answerable), "unanswerable": len(unanswerable),
        "retrieval": retrieval,
        "abstention": {
            "measured": bool(n_un or n_ans),
            "unanswerable_abstained": abst_un, "n_unanswerable": n_un,
            "answerable_refused": refused, "n_answerable": n_ans,
            "answers_unanswerable_abstained": ans_un, "n_answers_unanswerable": n_aun,
            "answers_answerable_refused": ans_ref, "n_answers_answerable": n_aans,
            "unanswerable_by_kind": by_kind,
        },
        "accuracy": accuracy,
        "judge": judge,
    }


# -- the judge ------------------------------------------------------------------------------

JUDGE_TEMPLATE = (
    "You grade answers. A person asked their assistant a question about their own diary. Compare the "
    "assistant's answer with the diary passage that holds the true answer.\n"
    "Reply YES if the answer agrees with the passage and answers the question, and NO if it is wrong, "
    "made up, off topic or says the notes do not say.\n\n"
    "Passage: {passage}\n\nQuestion: {question}\n\nAnswer: {answer}\n\n"
    "Is the answer correct according to the passage? Reply YES or NO.\nVerdict:")
#: A llama.cpp grammar that allows only the verdict words.
JUDGE_GRAMMAR = 'root ::= " "? ("YES" | "NO")'


#: Wrong answers the judge is also shown (one per judged question): how often it says YES to
#: them tells how far its verdicts can be trusted (a 270M model says YES to nearly anything).
CONTROL_ANSWERS = (
    "I spent that day at the seaside building sandcastles with my cousins and ate ice cream.",
    "I was in Paris learning to paint watercolours and did not write to anyone.",
    "I stayed in bed all day with a cold and read a novel about pirates.",
)


def judge_prompt(question: str, passage: str, answer: str, *, template: str = JUDGE_TEMPLATE) -> str:
    return template.format(passage=passage_text(passage), question=" ".join(question.split()),
                           answer=" ".join(answer.split())[:1200] or "(no answer)")


def parse_verdict(text: str) -> bool | None:
    """YES → True, NO → False, anything else → None (no verdict)."""
    m = re.match(r"\W*(yes|no)\b", text.strip(), flags=re.IGNORECASE)
    return None if m is None else m.group(1).lower() == "yes"


# -- comparing runs -------------------------------------------------------------------------


def flat_metrics(summary: Mapping[str, Any]) -> dict[str, float | None]:
    """A run summary's numbers as ``name → value`` rows (for history and compare tables)."""
    out: dict[str, float | None] = {}
    for kind, row in summary.get("retrieval", {}).items():
        for name, value in row.items():
            if name != "n":
                out[f"{kind} {name}"] = value
    ab = summary.get("abstention", {})
    for name in ("unanswerable_abstained", "answerable_refused", "answers_unanswerable_abstained",
                 "answers_answerable_refused"):
        if ab.get(name) is not None:
            out[f"abstention {name}"] = ab[name]
    for kind, row in summary.get("accuracy", {}).items():
        out[f"{kind} answer accuracy"] = row.get("accuracy")
    if summary.get("judge", {}).get("false_yes") is not None:
        out["judge YES to a wrong answer"] = summary["judge"]["false_yes"]
    return out
