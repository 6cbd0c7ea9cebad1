"""The loaded chat model as the plain ``prompt -> reply`` callable that query expansion
(:mod:`twin.core.memory.expand`) and LLM reranking (:mod:`twin.core.memory.rerank`) take.

Short, greedy completions of a plain (non-chat) prompt: a translation or a list of passage
numbers needs no sampling, and the same prompt gives the same reply (so caching is sound).
Called on the engine's own thread (a chat turn's job), the generation runs inline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def engine_completer(engine: Any, max_tokens: int = 48,
                     should_stop: Callable[[], bool] | None = None) -> Callable[[str], str]:
    """``prompt -> reply`` over a :class:`twin.core.llm.engine.Engine` (greedy, stops at a
    blank line). ``should_stop`` is polled while it generates (a cancelled chat turn)."""
    from twin.core.llm.engine import GenerationRequest, SamplingParams, Segment

    params = SamplingParams(max_tokens=max_tokens, temperature=0.0, top_k=1, stop=("\n\n",))

    def complete(prompt: str) -> str:
        gen = engine.generate(GenerationRequest(segments=(Segment(prompt),), chat=False, params=params),
                              should_stop=should_stop)
        for _ in gen:
            pass
        return gen.result.text if gen.result is not None else ""

    return complete
