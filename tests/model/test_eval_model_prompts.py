"""`twin eval`'s one-shot prompts on real models: the judge's grammar gives a verdict through
the chat template of an instruct model (tiny Qwen3) and as plain text on a base model (Gemma
3 270M), and the paraphraser's answers are only ever usable questions or None."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest

from twin.app.eval_service import complete, model_paraphraser
from twin.core.eval.metrics import JUDGE_GRAMMAR, judge_prompt, parse_verdict
from twin.core.eval.questions import Passage, parse_question, usable_paraphrase
from twin.core.llm.llama import LlamaEngine

from model_support import config

pytestmark = pytest.mark.slow

PASSAGE = ("2nd (Lord's day). Jane called us up about three in the morning, to tell us of a great fire they "
           "saw in the City. So I rose and slipped on my nightgown, and went to her window.")


@pytest.fixture
def engine_of(request: pytest.FixtureRequest) -> Iterator[Callable[[str], LlamaEngine]]:
    """Open the model of a path fixture for this test only (closed after it)."""
    opened: list[LlamaEngine] = []

    def open_(path_fixture: str) -> LlamaEngine:
        opened.append(LlamaEngine.open(config(request.getfixturevalue(path_fixture))))
        return opened[-1]

    yield open_
    for e in opened:
        e.close()


@pytest.mark.parametrize("path_fixture", ["qwen_path", "gemma_path"])
def test_the_judge_always_gives_a_verdict(path_fixture: str, engine_of: Callable[[str], LlamaEngine]) -> None:
    engine = engine_of(path_fixture)
    assert engine.info.kind == ("instruct" if path_fixture == "qwen_path" else "base")
    prompt = judge_prompt("Who woke me up about the fire?", PASSAGE, "Jane woke me at three.")
    raw = complete(engine, prompt, max_tokens=3, grammar=JUDGE_GRAMMAR, stop=("\n",))
    assert raw in ("YES", "NO"), raw  # the grammar allows nothing else, even from random weights
    assert parse_verdict(raw) is (raw == "YES")


def test_gemma_paraphrases_are_questions_about_the_passage(engine_of: Callable[[str], LlamaEngine]) -> None:
    write = model_paraphraser(engine_of("gemma_path"))
    p = Passage("/v/1666-09-02.md", dt.date(1666, 9, 2), "c0", 0, 10, 12, "", PASSAGE)
    q = write(p)
    if q is not None:  # a 270M base model may fail both tries; what it returns must be usable
        assert parse_question(q) == q and usable_paraphrase(q, PASSAGE)
