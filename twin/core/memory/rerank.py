"""Optional second stage: re-order the top candidates with a stronger, slower judge.

Two judges, one small interface (:class:`Reranker`: ``order(query, texts) -> indices``):

* :class:`CrossEncoderReranker`: sentence-transformers' ``CrossEncoder`` reads query and
  passage together (a multilingual one by default, ``settings.search.rerank_model``). It is
  loaded lazily from the local cache or a folder, never downloaded here: when it is not
  there, :func:`load_cross_encoder` logs one line and returns None (reranking stays off).
* :class:`LlmReranker`: the loaded chat model, given the query and the numbered passages in
  one prompt, answers with the numbers of the relevant ones, best first. Passages it does
  not name keep their fused order after the named ones; an answer without numbers changes
  nothing.

A reranker that fails (an exception) leaves the fused order as it was, with a log line.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger("twin.rerank")

#: Default cross-encoder (multilingual: Russian and English).
DEFAULT_CROSS_ENCODER = "cross-encoder/mmarco-mMiniLMv2-L12-H384-v1"


class Reranker(Protocol):
    name: str

    def order(self, query: str, texts: Sequence[str]) -> list[int]:
        """Indices into ``texts``, best first (every index at most once; missing ones keep
        their order after the returned ones)."""
        ...


def complete_order(order: Sequence[int], n: int) -> list[int]:
    """``order`` cleaned (in range, no repeats) and completed with the missing indices."""
    seen: dict[int, None] = {}
    for i in order:
        if 0 <= i < n:
            seen.setdefault(i, None)
    return list(seen) + [i for i in range(n) if i not in seen]


#: Cost budget of one query's cross-encoding on the CPU, in tokens (query + passage, all
#: pairs together). A cross-encoder's time grows with the tokens it reads. Measured at 100k
#: chunks on a busy 2-core CPU (bench/search_latency.py --rerank minilm-proxy, MiniLM-L6 size,
#: depth 20): hybrid search p50 with reranking on / off = 53x with no budget, 15x at 512
#: tokens, 2.3-8.4x at 256 (2 pairs of 128 tokens; two runs): the 2x target of issue 12 is not
#: reachable on such a CPU with any budget that still reorders something. On a GPU (device
#: other than cpu) there is no budget.
CPU_TOKEN_BUDGET = 256
#: The fewest tokens a (query, passage) pair is cut to under the budget: fewer pairs, not
#: shorter ones, below this.
MIN_PAIR_TOKENS = 96


class CrossEncoderReranker:
    """A sentence-transformers ``CrossEncoder`` (a model folder or a cached hub name).

    ``token_budget`` (None: none) bounds the work per query: only the first
    ``token_budget // MIN_PAIR_TOKENS`` passages are scored (the rest keep their fused order
    after them), each pair cut to ``token_budget // pairs`` tokens."""

    def __init__(self, model: Any, name: str = "cross-encoder", batch_size: int = 16,
                 token_budget: int | None = None):
        self.model = model
        self.name = name
        self.batch_size = batch_size
        self.token_budget = token_budget

    def scores(self, query: str, texts: Sequence[str]) -> list[float]:
        out = self.model.predict([(query, t) for t in texts], batch_size=self.batch_size,
                                 show_progress_bar=False)
        return [float(x) for x in out]

    def budgeted(self, query: str, texts: Sequence[str]) -> list[str]:
        """The passages scored under the budget: the first ones, cut to fit."""
        if not self.token_budget:
            return list(texts)
        pairs = min(len(texts), max(1, self.token_budget // MIN_PAIR_TOKENS))
        per_pair = self.token_budget // pairs
        tok = self.model.tokenizer
        room = max(8, per_pair - len(tok(query, add_special_tokens=False)["input_ids"]) - 3)  # [CLS] [SEP] [SEP]
        out = []
        for t in texts[:pairs]:
            enc = tok(t, add_special_tokens=False, truncation=True, max_length=room, return_offsets_mapping=True)
            offsets = enc["offset_mapping"]
            out.append(t[: offsets[-1][1]] if offsets and len(offsets) >= room else t)
        return out

    def order(self, query: str, texts: Sequence[str]) -> list[int]:
        s = self.scores(query, self.budgeted(query, texts))
        head = sorted(range(len(s)), key=lambda i: -s[i])
        return head + list(range(len(s), len(texts)))


def load_cross_encoder(name_or_path: str, device: str = "cpu", max_length: int = 512,
                       token_budget: int | None = -1) -> CrossEncoderReranker | None:
    """The cross-encoder, from a folder or the local model cache only; None (and one log
    line) when it is not available here. Never goes to the network. ``token_budget``: -1 =
    :data:`CPU_TOKEN_BUDGET` on the CPU, none elsewhere; None = none."""
    if not name_or_path:
        return None
    try:
        from sentence_transformers import CrossEncoder

        local = Path(name_or_path).expanduser()
        kwargs: dict[str, Any] = {"device": device, "max_length": max_length}
        if not local.is_dir():
            kwargs["local_files_only"] = True
        model = CrossEncoder(str(local) if local.is_dir() else name_or_path, **kwargs)
    except Exception as e:  # noqa: BLE001 - any failure means "no reranker", never a crash
        log.info("reranking off: cross-encoder %s is not available locally (%s)", name_or_path,
                 str(e).splitlines()[0][:200] if str(e) else type(e).__name__)
        return None
    if token_budget == -1:
        token_budget = CPU_TOKEN_BUDGET if device == "cpu" else None
    log.info("reranking with cross-encoder %s (token budget %s)", name_or_path, token_budget)
    return CrossEncoderReranker(model, name=f"cross-encoder:{Path(name_or_path).name}", token_budget=token_budget)


_NUMBER = re.compile(r"\d+")

LLM_PROMPT = (
    "Which passages help answer the question? Reply with the passage numbers only, most "
    "relevant first, separated by commas (for example: 3, 1). Reply 0 if none helps.\n\n"
    "Question: {query}\n\n{passages}\n\nRelevant passage numbers:"
)


class LlmReranker:
    """Listwise reranking by a chat model in one prompt (see the module doc).

    Args:
        complete: prompt → the model's reply (a short, greedy completion).
        max_chars: each passage is cut to this many characters in the prompt.
    """

    def __init__(self, complete: Callable[[str], str], *, max_chars: int = 300, name: str = "llm"):
        self.complete = complete
        self.max_chars = max_chars
        self.name = name

    def prompt(self, query: str, texts: Sequence[str]) -> str:
        parts = []
        for i, t in enumerate(texts, 1):
            t = " ".join(t.split())
            if len(t) > self.max_chars:
                t = t[: self.max_chars].rsplit(" ", 1)[0] + " …"
            parts.append(f"[{i}] {t}")
        return LLM_PROMPT.format(query=" ".join(query.split()), passages="\n".join(parts))

    def order(self, query: str, texts: Sequence[str]) -> list[int]:
        reply = self.complete(self.prompt(query, texts))
        named = [int(m) - 1 for m in _NUMBER.findall(reply or "")]
        return complete_order(named, len(texts))


def rerank(reranker: Reranker, query: str, ranked: Sequence[Any], text_of: Callable[[Any], str]) -> list[Any]:
    """``ranked`` re-ordered by ``reranker`` (the fused order when it fails)."""
    if len(ranked) < 2:
        return list(ranked)
    try:
        order = complete_order(reranker.order(query, [text_of(r) for r in ranked]), len(ranked))
    except Exception as e:  # noqa: BLE001 - the fused order is a fine answer
        log.warning("reranker %s failed, keeping the fused order: %s", getattr(reranker, "name", "?"), e)
        return list(ranked)
    return [ranked[i] for i in order]
