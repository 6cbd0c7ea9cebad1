"""Follow-ups rewritten into standalone questions by the loaded model, for the memory search
(see :mod:`twin.core.prompt.rewrite`), with a small cache: the same follow-up after the same
turns is rewritten once."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence

from twin.core.llm.engine import Engine, GenerationRequest, SamplingParams
from twin.core.prompt import rewrite as R
from twin.core.prompt.assemble import PastTurn
from twin.core.prompt.template import ChatTemplate, TemplateError
from twin.errors import KnownError

log = logging.getLogger("twin.chat")

CACHE_SIZE = 256
MAX_TOKENS = 48


class FollowUpRewriter:
    """Rewrites follow-ups with ``engine`` (instruct models only: a base model cannot follow
    the instruction), caching the results."""

    def __init__(self, engine: Engine, cache_size: int = CACHE_SIZE):
        self.engine = engine
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[object, ...], str] = OrderedDict()
        self.calls = 0  # generations run (the rest came from the cache)

    def standalone(self, text: str, history: Sequence[PastTurn], template: ChatTemplate | None,
                   should_stop: Callable[[], bool] | None = None) -> str:
        """``text`` as a standalone question, or "" (not a follow-up, no chat template, an
        unusable rewrite, an engine error: the caller searches with the plain query)."""
        if template is None or not R.is_follow_up(text, [t.question for t in history]):
            return ""
        turns = [(t.question, t.answer[:300]) for t in history[-2:]]
        key = (tuple(turns), text)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        msgs = R.rewrite_messages(turns, text)
        try:
            request = GenerationRequest(tuple(template.render(msgs, enable_thinking=False)), tuple(msgs), chat=True,
                                        params=SamplingParams(max_tokens=MAX_TOKENS, temperature=0.0, stop=("\n",)),
                                        enable_thinking=False)
            self.calls += 1
            out = "".join(self.engine.generate(request, should_stop=should_stop))
        except (KnownError, TemplateError) as e:
            log.warning("follow-up rewrite skipped: %s", e)
            return ""
        result = R.parse_rewrite(out, text)
        log.info("follow-up rewritten for the search: %r -> %r", text, result)
        self._cache[key] = result
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return result
