"""Recall: "on this day" in earlier years, and what the user was doing in a period.

Both read dated chunks straight from the index (one date query, no file scan, no embedding):

* :meth:`RecallService.on_this_day`: entries dated on this month-day in earlier years,
  grouped by year, newest first (see :func:`twin.core.memory.timeline.on_this_day_keys`
  for 29 February).
* :meth:`RecallService.period`: the entries of a period, one per dated file and day, in
  order; :meth:`RecallService.summarise` asks the language model what the user was doing
  then, citing the entries as ``[1]``, ``[2]`` through the chat prompt machinery (persona,
  base-model transcript or the model's chat template, token budget). A long period is
  sampled evenly by week so that the prompt fits the context.

An *entry* is the chunks of one file on one date; it is shown by its first chunk.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twin.core.conversation.events import Thinking, Token
from twin.core.llm.engine import GenerationRequest, SamplingParams
from twin.core.memory.timeline import describe, on_this_day_keys, stratified
from twin.core.prompt import persona as P
from twin.core.prompt.assemble import assemble
from twin.core.prompt.budget import Budget, truncate_to_tokens
from twin.core.prompt.citations import Citation, cited_numbers
from twin.core.prompt.persona import PromptStyle
from twin.core.prompt.template import ChatTemplate
from twin.core.prompt.thinking import THINKING, ThinkSplitter
from twin.core.types import DateRange, Hit
from twin.errors import KnownError

if TYPE_CHECKING:
    from twin.core.llm.engine import Engine
    from twin.core.memory.store import Candidate, LanceStore
    from twin.llm_settings import ChatSettings

log = logging.getLogger("twin.recall")

#: Most chunks one recall query reads (a decade of daily entries is ~4,000).
MAX_ROWS = 20_000
#: Memory share of the context for a period summary (the question is short, history none).
SUMMARY_MEMORY_SHARE = 0.7
#: Tokens an entry gets at least in a summary prompt; fewer entries are sampled otherwise.
MIN_ENTRY_TOKENS = 64
#: A chunk of an entry text is cut to this many characters before exact token counting.
CHARS_PER_TOKEN = 6


class NoIndexError(KnownError):
    """Nothing is indexed yet, so there is nothing to recall."""


@dataclass(frozen=True)
class Entry:
    """The chunks of one file on one date, in order."""

    path: str
    date: dt.date
    heading: str
    text: str  # all its chunks' text, joined
    start_line: int
    end_line: int
    chunks: int

    @property
    def preview(self) -> str:
        """The first non-empty line of the text (for listings)."""
        return next((line.strip() for line in self.text.splitlines() if line.strip()), "")

    def hit(self, text: str | None = None) -> Hit:
        return Hit(self.path, self.heading, self.date, self.start_line, self.end_line, 0.0,
                   self.text if text is None else text)

    def to_json(self) -> dict[str, Any]:
        return {"date": self.date.isoformat(), "path": self.path, "heading": self.heading,
                "start_line": self.start_line, "end_line": self.end_line, "preview": self.preview}


@dataclass(frozen=True)
class YearGroup:
    year: int
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class PeriodSummary:
    """The end of a summary stream: the text and the entries it was given, numbered."""

    period: DateRange
    summary: str
    citations: tuple[Citation, ...]
    cited: tuple[int, ...]
    entries_total: int
    complete: bool
    finish_reason: str


def entries_of(rows: Sequence[Candidate]) -> list[Entry]:
    """Group chunks into entries (file + date), in the order of their first chunk."""
    groups: dict[tuple[str, dt.date], list[Candidate]] = {}
    for c in rows:
        if c.entry_date is not None:
            groups.setdefault((c.path, c.entry_date), []).append(c)
    out = []
    for (path, date), chunks in groups.items():
        chunks.sort(key=lambda c: c.ordinal)
        first = chunks[0]
        out.append(Entry(path, date, first.heading, "\n\n".join(c.text for c in chunks), first.start_line,
                         max(c.end_line for c in chunks), len(chunks)))
    return out


def open_index_for_reading(index_dir: Path, codec: Any = None) -> LanceStore:
    """The index as it was built, without loading its embedding model (model and dimension
    come from its ``meta.json``): for date queries, which need no vectors.

    Raises:
        NoIndexError: nothing has been indexed yet.
    """
    from twin.core.memory.store import META_FILE, LanceStore

    try:
        meta = json.loads((index_dir / META_FILE).read_text(encoding="utf-8"))
        model, dim = str(meta["model"]), int(meta["dim"])
    except (OSError, ValueError, KeyError, TypeError):
        raise NoIndexError("nothing is indexed yet: run `twin index FOLDER` first") from None
    kw = {"codec": codec} if codec is not None else {}
    return LanceStore(index_dir, model, dim, **kw)


def _fitted_hits(chosen: Sequence[Entry], room: int, count: Callable[[str, bool], int]) -> list[Hit]:
    """``chosen`` as hits whose texts are cut so that all of them share ``room`` tokens."""
    if not chosen:
        return []
    labels = [count(P.memory_label(i, e.hit("")) + "\n> \n\n", False) for i, e in enumerate(chosen, 1)]
    share = (room - sum(labels)) // len(chosen)
    hits = []
    for e in chosen:
        text = e.text[: max(0, share) * CHARS_PER_TOKEN]
        limit = share - text.count("\n")  # each quoted line costs a "> "
        hits.append(e.hit(truncate_to_tokens(text, limit, count) if limit > 0 else ""))
    return hits


class RecallService:
    """Date-based recall over an open store.

    Args:
        store: the index (only its date queries are used).
        today: the clock (tests).
    """

    def __init__(self, store: LanceStore, *, today: Callable[[], dt.date] = dt.date.today):
        self.store = store
        self._today = today

    # -- on this day ------------------------------------------------------------------------

    def on_this_day(self, day: dt.date | None = None, *, limit: int = 500) -> list[YearGroup]:
        """Entries from ``day``'s month-day in years before ``day``'s, newest year first."""
        day = day or self._today()
        rows = self.store.on_month_days(on_this_day_keys(day), MAX_ROWS, before=dt.date(day.year, 1, 1))
        entries = sorted(entries_of(rows), key=lambda e: (e.date, e.path), reverse=True)[:limit]
        years: dict[int, list[Entry]] = {}
        for e in entries:
            years.setdefault(e.date.year, []).append(e)
        return [YearGroup(y, tuple(sorted(es, key=lambda e: (e.date, e.path)))) for y, es in years.items()]

    # -- a period ---------------------------------------------------------------------------

    def period(self, period: DateRange) -> list[Entry]:
        """Every entry in ``period``, oldest first."""
        rows = self.store.by_date(period, MAX_ROWS)
        if len(rows) >= MAX_ROWS:
            log.warning("period %s: only the first %d chunks are read", describe(period), MAX_ROWS)
        return sorted(entries_of(rows), key=lambda e: (e.date, e.path))

    def summarise(self, period: DateRange, entries: Sequence[Entry], engine: Engine,
                  settings: ChatSettings, *, should_stop: Callable[[], bool] | None = None,
                  max_entries: int = 40) -> Iterator[Token | Thinking | PeriodSummary]:
        """Stream a summary of what the user was doing in ``period`` from ``entries``.

        Yields :class:`Token` (and :class:`Thinking`) pieces, then one :class:`PeriodSummary`.

        Raises:
            KnownError: e.g. the model is not loaded or the context is too small.
        """
        info = engine.info
        template = (ChatTemplate(info.chat_template, bos_token=info.bos_token, eos_token=info.eos_token)
                    if info.kind == "instruct" and info.chat_template else None)
        budget = Budget(info.n_ctx, settings.max_answer_tokens, SUMMARY_MEMORY_SHARE)

        def count(text: str, trusted: bool) -> int:
            return engine.count_tokens(text, trusted=trusted)

        room = min(budget.memory_limit, max(0, budget.prompt_limit - 300))  # 300: intro + question
        style = PromptStyle(persona=settings.persona, mode=settings.persona_mode, user_name=settings.user_name,
                            thinking=False, user_label=settings.user_label, twin_label=settings.twin_label)
        question = (f"What was I doing from {describe(period)}? Sum up that time in a short paragraph from "
                    "these memories, in date order, and cite them by number, like [1].")
        n = max(1, min(max_entries, room // MIN_ENTRY_TOKENS))
        for _ in range(4):  # token estimates may be off: fewer entries until all that were chosen fit
            chosen = stratified(list(entries), n, lambda e: e.date)
            hits = _fitted_hits(chosen, room - count(P.MEMORY_HEADER, False) - 4, count)
            prompt = assemble(question, hits, [], style=style, budget=budget, count=count, template=template)
            if len(prompt.citations) >= len(chosen) or n == 1:
                break
            n = max(1, min(n - 1, len(prompt.citations)))
        log.info("summarising %s: %d of %d entries, %d prompt tokens", describe(period), len(prompt.citations),
                 len(entries), prompt.prompt_tokens)
        params = SamplingParams(
            max_tokens=settings.max_answer_tokens, temperature=settings.temperature, top_p=settings.top_p,
            top_k=settings.top_k, min_p=settings.min_p, repeat_penalty=settings.repeat_penalty, seed=settings.seed,
            stop=prompt.stop)
        request = GenerationRequest(prompt.segments, prompt.messages, chat=prompt.chat, params=params,
                                    enable_thinking=prompt.enable_thinking)
        splitter = ThinkSplitter()
        gen = engine.generate(request, should_stop=should_stop)
        try:
            for piece in gen:
                for channel, part in splitter.feed(piece):
                    yield Thinking(part) if channel == THINKING else Token(part)
            for channel, part in splitter.finish():
                yield Thinking(part) if channel == THINKING else Token(part)
        except BaseException:
            gen.close()
            raise
        result = gen.result
        summary = splitter.answer.strip()
        yield PeriodSummary(period, summary, prompt.citations, tuple(cited_numbers(summary)), len(entries),
                            bool(result and result.complete), result.finish_reason if result else "error")
