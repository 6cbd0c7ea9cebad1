"""The map step: entries → batches → the model → validated facts, checkpointed batch by batch.

Incremental and resumable by construction: a unit (an entry, or a part of a long one) whose
key and content hash appear in the checkpoint is never mapped again, and every batch is
appended (fsynced) to the checkpoint as soon as it is done. A crash, a Ctrl-C or a stop
request loses at most the batch in flight; the next run maps what is left. An answer that
cannot be used is retried with a stricter prompt (``retries`` times), then recorded as a
failed batch (with its reason) so the job moves on; model errors that are the user's
environment (:class:`~twin.errors.KnownError`) are recorded the same way.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from twin.core.llm.engine import Engine, GenerationRequest, SamplingParams, Segment
from twin.core.profile.entries import Entry, Unit, make_batches, split_units
from twin.core.profile.extract import (
    END,
    ParseOutcome,
    chat_messages,
    chat_segments,
    completion_prompt,
    grammar,
    local_ids,
    names,
    parse_facts,
)
from twin.core.profile.storage import ProfileFiles
from twin.core.prompt.template import ChatTemplate
from twin.errors import KnownError

log = logging.getLogger("twin.profile")


@dataclass(frozen=True)
class JobConfig:
    """How the map step reads (see ``[profile]`` in the settings)."""

    batch_tokens: int = 1200  # entry text per batch, at most (also capped by the context)
    max_entries: int = 8  # units per batch, at most
    answer_tokens: int = 480  # the longest answer per batch
    max_facts: int = 6  # fact lines per batch, at most
    retries: int = 1  # extra attempts for an unusable answer
    use_grammar: bool = True  # constrain the answer's shape (llama.cpp engines)
    temperature: float = 0.0
    repeat_penalty: float = 1.15  # small models loop on one phrase without it


@dataclass(frozen=True)
class Progress:
    batches_done: int
    batches_total: int
    units_done: int
    units_total: int
    facts: int
    elapsed_s: float

    @property
    def eta_s(self) -> float | None:
        if self.batches_done <= 0 or self.batches_done >= self.batches_total:
            return None
        return self.elapsed_s / self.batches_done * (self.batches_total - self.batches_done)


@dataclass
class MapReport:
    """What one run of the map step did."""

    units_total: int = 0
    units_mapped: int = 0
    units_reused: int = 0
    batches: int = 0
    failed_batches: int = 0
    retries: int = 0
    facts_found: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cancelled: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0


class ProfileJob:
    """Runs the map step with one engine over one profile folder."""

    def __init__(self, engine: Engine, files: ProfileFiles, config: JobConfig | None = None):
        self.engine = engine
        self.files = files
        self.config = config or JobConfig()
        self._template: ChatTemplate | None = None
        info = engine.info
        if info.kind == "instruct" and info.chat_template:
            self._template = ChatTemplate(info.chat_template, bos_token=info.bos_token, eos_token=info.eos_token)

    def _count(self, text: str) -> int:
        return self.engine.count_tokens(text)

    def batch_budget(self) -> int:
        """Entry tokens per batch: the setting, capped so prompt + answer fit in the context."""
        overhead = self._prompt_tokens(self._request([], strict=True))
        room = self.engine.info.n_ctx - overhead - self.config.answer_tokens - 64
        return max(64, min(self.config.batch_tokens, room))

    def units(self, entries: Sequence[Entry]) -> list[Unit]:
        budget = self.batch_budget()
        return [u for e in entries for u in split_units(e, budget, self._count)]

    def run(self, entries: Sequence[Entry], *, on_progress: Callable[[Progress], None] | None = None,
            should_stop: Callable[[], bool] | None = None) -> MapReport:
        """Map every unit of ``entries`` not mapped yet; return what was done."""
        t0 = time.perf_counter()
        report = MapReport()
        units = self.units(entries)
        report.units_total = len(units)
        done = {(k, h) for rec in self.files.records() for k, h, *_ in rec.get("units", ())}
        todo = [u for u in units if (u.key, u.hash) not in done]
        report.units_reused = len(units) - len(todo)
        batches = make_batches(todo, self.batch_budget(), self.config.max_entries, self._count)
        log.info("profile map: %d units, %d already mapped, %d batches to run", len(units), report.units_reused,
                 len(batches))

        def progress() -> None:
            if on_progress is not None:
                on_progress(Progress(report.batches, len(batches), report.units_mapped, len(todo), report.facts_found,
                                     time.perf_counter() - t0))

        progress()
        for batch in batches:
            if should_stop is not None and should_stop():
                report.cancelled = True
                break
            record = self._map(batch, report, should_stop)
            if record is None:  # stopped mid-batch: nothing recorded, the next run redoes it
                report.cancelled = True
                break
            self.files.append_record(record)
            report.batches += 1
            report.units_mapped += len(batch)
            report.facts_found += len(record["facts"])
            progress()
        report.seconds = time.perf_counter() - t0
        return report

    def compact(self, current: dict[str, str]) -> int:
        """Drop checkpoint records (and units) no current unit needs; return records kept."""
        kept = []
        claimed: set[str] = set()
        for rec in reversed(self.files.records()):
            units = [u for u in rec.get("units", ()) if u[0] not in claimed and current.get(u[0]) == u[1]]
            claimed.update(u[0] for u in units)
            if units:
                kept.append({**rec, "units": units})
        kept.reverse()
        self.files.rewrite_records(kept)
        return len(kept)

    # -- one batch --------------------------------------------------------------------------

    def _request(self, batch: Sequence[Unit], *, strict: bool) -> GenerationRequest:
        c = self.config
        params = SamplingParams(
            max_tokens=c.answer_tokens, temperature=c.temperature, top_k=40, top_p=0.95,
            repeat_penalty=c.repeat_penalty, seed=7, stop=() if c.use_grammar and batch else (END, "\n### "),
            grammar=grammar(list(local_ids(batch)), c.max_facts, subjects=names([u.text for u in batch]),
                            dates=[u.date for u in batch]) if c.use_grammar and batch else "")
        if self._template is not None:
            msgs = chat_messages(batch, strict=strict)
            return GenerationRequest(tuple(chat_segments(self._template, msgs)), tuple(msgs), chat=True, params=params,
                                     enable_thinking=False)
        return GenerationRequest((Segment(completion_prompt(batch, strict=strict)),), chat=False, params=params)

    def _prompt_tokens(self, request: GenerationRequest) -> int:
        return sum(self.engine.count_tokens(s.text, trusted=s.trusted) for s in request.segments)

    def _map(self, batch: Sequence[Unit], report: MapReport,
             should_stop: Callable[[], bool] | None) -> dict[str, Any] | None:
        outcome = ParseOutcome()
        error: str | None = None
        for attempt in range(self.config.retries + 1):
            request = self._request(batch, strict=attempt > 0)
            try:
                gen = self.engine.generate(request, should_stop=should_stop)
                text = "".join(gen)
            except KnownError as e:
                error = str(e)
                log.warning("profile batch failed (%s): %s", batch[0].key, e)
                break
            result = gen.result
            if result is not None:
                report.prompt_tokens += result.usage.prompt_tokens
                report.completion_tokens += result.usage.completion_tokens
                if result.finish_reason == "cancelled":
                    return None
            outcome = parse_facts(text, batch)
            if outcome.problems:
                report.problems.extend(f"{batch[0].date or batch[0].path}: {p}" for p in outcome.problems[:5])
            if not outcome.malformed:
                error = None
                break
            error = "the model's answer held no usable fact: " + "; ".join(outcome.problems[:3])
            if attempt < self.config.retries:
                report.retries += 1
                log.info("profile batch %s: retrying with a stricter prompt (%s)", batch[0].key, error)
        if error:
            report.failed_batches += 1
        return {
            "units": [[u.key, u.hash, u.path, u.date] for u in batch],
            "facts": [c.to_json() for c in outcome.candidates],
            "error": error,
            "model": self.engine.info.model_id,
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
