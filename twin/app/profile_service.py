"""ProfileService: builds, reviews and serves the self-profile (``data_dir/profile/``).

The build reads the source folders directly (the same filter and readers as the indexer),
turns files into dated entries, runs the incremental map step with the given engine, then
reduces everything into ``profile.json`` / ``profile.md``. Review actions (accept, edit,
reject) need no model: they re-merge from the checkpoint, which after each build holds
exactly the units that were current. Accepted and edited facts feed the persona part of
every chat prompt through :meth:`ProfileService.persona_text`.

Files are written under the profile's writer lock; a build holds it throughout, so a review
action while a build runs in another process fails with a clear message.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twin.core.llm.engine import Engine
from twin.core.memory.dates import date_from_path
from twin.core.memory.documents import read_document
from twin.core.memory.markdown import parse_markdown, parse_plain_text
from twin.core.memory.sources import FileFilter, walk_sources
from twin.core.profile import merge, render
from twin.core.profile.entries import Entry, entries_from_document
from twin.core.profile.job import JobConfig, MapReport, ProfileJob, Progress
from twin.core.profile.model import STATUSES, Candidate, Fact
from twin.core.profile.storage import Codec, ProfileFiles
from twin.core.profile.style import style_candidates
from twin.errors import DocumentError, KnownError
from twin.paths import Paths
from twin.settings import Settings

log = logging.getLogger("twin.profile")

SCHEDULES = {"manual": None, "daily": dt.timedelta(days=1), "weekly": dt.timedelta(days=7)}


class FactNotFoundError(KnownError):
    """A review command named a fact id that is not in the profile."""


class NoSourcesError(KnownError):
    """A profile build was asked for but no source folders are set."""


@dataclass(frozen=True)
class BuildReport:
    map: MapReport
    entries: int
    facts: int
    proposed: int


class ProfileService:
    """The self-profile over the settings' source folders.

    Args:
        encode, decode: byte transforms for the profile's files (encryption at rest).
    """

    def __init__(self, settings: Settings, paths: Paths, *, encode: Codec | None = None,
                 decode: Codec | None = None):
        self.settings = settings
        self.paths = paths
        self.files = ProfileFiles(paths.data_dir / "profile", encode=encode, decode=decode)
        self._cache: tuple[float, list[Fact]] | None = None

    @property
    def folder(self) -> Path:
        return self.files.folder

    # -- entries ----------------------------------------------------------------------------

    def entries(self, *, since: dt.date | None = None, until: dt.date | None = None,
                limit: int | None = None) -> list[Entry]:
        """Dated entries from the source folders, oldest first; a file that cannot be read is
        logged and skipped."""
        m = self.settings.memory
        sources = [Path(s).expanduser() for s in m.sources]
        if not sources:
            raise NoSourcesError("No source folders are set: add your diary folder with `twin sources add PATH` "
                                 "(or memory.sources in the settings).")
        ffilter = FileFilter(m.extensions, m.exclude, m.index_hidden)
        out: list[Entry] = []
        for found in walk_sources([s for s in sources if s.is_dir()], ffilter):
            try:
                doc = read_document(found.path, m.max_file_mb * 1024 * 1024)
            except DocumentError as e:
                log.warning("profile: skipping %s: %s", found.path, e)
                continue
            parsed = parse_markdown(doc.text) if doc.kind == "markdown" else parse_plain_text(doc.text)
            rel = found.path.relative_to(found.source).as_posix()
            out.extend(entries_from_document(str(found.path), parsed, date_from_path(rel)))
        out.sort(key=lambda e: (e.date or dt.date.max, e.path))
        chosen = [e for e in out if (since is None or (e.date and e.date >= since))
                  and (until is None or (e.date and e.date <= until))]
        return chosen[:limit] if limit else chosen

    def job_config(self) -> JobConfig:
        p = self.settings.profile
        return JobConfig(batch_tokens=p.batch_tokens, max_entries=p.max_entries, answer_tokens=p.answer_tokens,
                         retries=p.retries)

    # -- build ------------------------------------------------------------------------------

    def build(self, engine: Engine, *, since: dt.date | None = None, until: dt.date | None = None,
              limit: int | None = None, on_progress: Callable[[Progress], None] | None = None,
              should_stop: Callable[[], bool] | None = None, config: JobConfig | None = None) -> BuildReport:
        """Map new and changed entries (within ``since``/``until``/``limit``), then rebuild the profile.

        Raises:
            ProfileBusyError: another process holds the writer lock.
            NoSourcesError: no source folders are set.
        """
        with self.files.writer():
            job = ProfileJob(engine, self.files, config or self.job_config())
            every = self.entries()
            chosen = every if since is None and until is None and limit is None else \
                self.entries(since=since, until=until, limit=limit)
            report = job.run(chosen, on_progress=on_progress, should_stop=should_stop)
            job.compact({u.key: u.hash for u in job.units(every)})
            self.files.write_json(self.files.STYLE, [c.to_json() for c in style_candidates(every)])
            facts = self._publish(model=engine.info.model_id)
        log.info("profile build: %d entries, %d batches (%d failed) in %.1f s; %d facts",
                 len(chosen), report.batches, report.failed_batches, report.seconds, len(facts))
        return BuildReport(report, len(chosen), len(facts), sum(f.status == "proposed" for f in facts))

    def _current(self) -> dict[str, str]:
        current: dict[str, str] = {}
        for rec in self.files.records():
            for key, digest, *_ in rec.get("units", ()):
                current[key] = digest
        return current

    def _candidates(self) -> list[Candidate]:
        """The model's live facts and the measured style facts of the last build."""
        measured = self.files.read_json(self.files.STYLE) or []
        return merge.live_candidates(self.files.records(), self._current()) + [
            Candidate.from_json(c) for c in measured if isinstance(c, dict)]

    def _review(self) -> dict[str, Any]:
        review = self.files.read_json(self.files.REVIEW)
        return review if isinstance(review, dict) and "decisions" in review else merge.empty_review()

    def _publish(self, *, model: str | None = None) -> list[Fact]:
        """Re-merge and write profile.json and profile.md (the caller holds the lock)."""
        old = self.files.read_json(self.files.PROFILE) or {}
        facts = merge.merge(self._candidates(), self._review())
        built_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds") if model else old.get("built_at", "")
        model = model or old.get("model", "")
        self.files.write_json(self.files.PROFILE, {"version": 1, "built_at": built_at, "model": model,
                                                   "facts": [f.to_json() for f in facts]})
        roots = [str(Path(s).expanduser()) for s in self.settings.memory.sources]
        self.files.write_text(self.files.MARKDOWN,
                              render.markdown(facts, built_at=built_at, model=model, root=roots[0] if roots else ""))
        self._cache = None
        return facts

    # -- schedule ---------------------------------------------------------------------------

    def last_built(self) -> dt.datetime | None:
        data = self.files.read_json(self.files.PROFILE) or {}
        try:
            return dt.datetime.fromisoformat(data["built_at"]) if data.get("built_at") else None
        except (TypeError, ValueError):
            return None

    def due(self, now: dt.datetime) -> bool:
        """Whether the schedule asks for a build at ``now`` (aware datetime); never for 'manual'."""
        every = SCHEDULES.get(self.settings.profile.schedule)
        if every is None or not self.settings.memory.sources:
            return False
        last = self.last_built()
        return last is None or now - last >= every

    # -- review -----------------------------------------------------------------------------

    def facts(self, status: str | None = None) -> list[Fact]:
        path = self.folder / self.files.PROFILE
        try:
            mtime = os.stat(path).st_mtime
        except FileNotFoundError:
            return []
        if self._cache is None or self._cache[0] != mtime:
            data = self.files.read_json(self.files.PROFILE) or {}
            self._cache = (mtime, [Fact.from_json(f) for f in data.get("facts", ())])
        facts = self._cache[1]
        if status is not None:
            if status not in STATUSES:
                raise KnownError(f"unknown status {status!r}; one of: {', '.join(STATUSES)}")
            facts = [f for f in facts if f.status == status]
        return list(facts)

    def _find(self, facts: Sequence[Fact], ids: Iterable[str]) -> list[Fact]:
        out = []
        for fid in ids:
            match = [f for f in facts if f.id.startswith(fid.strip())] if fid.strip() else []
            if len(match) != 1:
                raise FactNotFoundError(f"no fact with id {fid!r}" if not match else f"id {fid!r} is ambiguous")
            out.append(match[0])
        return out

    def _decide(self, action: Callable[[dict[str, Any], list[Fact]], None], ids: Iterable[str] | None) -> list[Fact]:
        with self.files.writer():
            facts = merge.merge(self._candidates(), self._review())
            chosen = [f for f in facts if f.status == "proposed"] if ids is None else self._find(facts, ids)
            review = self._review()
            action(review, chosen)
            self.files.write_json(self.files.REVIEW, review)
            self._publish()
        return chosen

    def accept(self, ids: Iterable[str] | None) -> list[Fact]:
        """Accept the facts with these ids (unique prefixes); None: every proposed fact."""
        def act(review: dict[str, Any], facts: list[Fact]) -> None:
            for f in facts:
                merge.accept(review, f)

        return self._decide(act, ids)

    def reject(self, ids: Iterable[str]) -> list[Fact]:
        def act(review: dict[str, Any], facts: list[Fact]) -> None:
            for f in facts:
                merge.reject(review, f)

        return self._decide(act, list(ids))

    def edit(self, fid: str, statement: str) -> Fact:
        text = " ".join(statement.split())
        if not text:
            raise KnownError("the new statement is empty")
        return self._decide(lambda r, fs: merge.accept(r, fs[0], text), [fid])[0]

    # -- the persona feed -------------------------------------------------------------------

    def persona_text(self, n_ctx: int, count: Callable[[str], int]) -> str:
        """Accepted facts for the persona, within ``profile.prompt_share`` of ``n_ctx``."""
        share = self.settings.profile.prompt_share
        if share <= 0:
            return ""
        try:
            facts = self.facts()
        except (OSError, KnownError) as e:  # an unreadable profile must not stop chatting
            log.warning("profile unavailable for the prompt: %s", e)
            return ""
        return render.persona_text(facts, int(n_ctx * share), count)

    def period_text(self, since: dt.date | None, until: dt.date | None, count: Callable[[str], int],
                    max_tokens: int = 400) -> str:
        """The accepted facts that held between ``since`` and ``until`` (either open), with
        their dates, for a question about that period ("where did I live in 2019?")."""
        try:
            facts = self.facts()
        except (OSError, KnownError) as e:
            log.warning("profile unavailable for the prompt: %s", e)
            return ""
        return render.period_text(facts, since.isoformat() if since else "", until.isoformat() if until else "",
                                  max_tokens, count)
