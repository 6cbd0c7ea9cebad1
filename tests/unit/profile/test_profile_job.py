"""The map step over a scripted engine: incremental, resumable, retried, never crashing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from profile_support import ProfileEngine

from twin.core.llm.errors import LlmError
from twin.core.llm.fake import FakeEngine
from twin.core.profile.entries import Entry
from twin.core.profile.job import JobConfig, ProfileJob, Progress
from twin.core.profile.storage import ProfileFiles

CONFIG = JobConfig(max_entries=2, use_grammar=False)


def entries(n: int, changed: int | None = None) -> list[Entry]:
    return [Entry(f"/v/2021-03-{d:02d}.md", dt.date(2021, 3, d),
                  f"Walked with Elizabeth to Whitehall{' again' if d == changed else ''}. Day {d}.")
            for d in range(1, n + 1)]


def test_maps_every_entry_once_with_progress(tmp_path: Path) -> None:
    eng = ProfileEngine()
    files = ProfileFiles(tmp_path)
    seen: list[Progress] = []
    report = ProfileJob(eng, files, CONFIG).run(entries(5), on_progress=seen.append)
    assert report.batches == 3 and report.units_mapped == 5 and report.facts_found == 5
    assert [p.batches_done for p in seen] == [0, 1, 2, 3] and seen[-1].batches_total == 3
    assert seen[1].eta_s is not None and seen[-1].eta_s is None
    assert len(files.records()) == 3
    again = ProfileJob(eng, files, CONFIG).run(entries(5))
    assert again.batches == 0 and again.units_reused == 5 and len(eng.batches) == 3
    eng.close()


def test_a_changed_or_new_entry_is_mapped_alone(tmp_path: Path) -> None:
    eng = ProfileEngine()
    files = ProfileFiles(tmp_path)
    ProfileJob(eng, files, CONFIG).run(entries(4))
    eng.batches.clear()
    report = ProfileJob(eng, files, CONFIG).run(entries(5, changed=2))
    assert eng.batches == [["2021-03-02", "2021-03-05"]]
    assert report.units_mapped == 2 and report.units_reused == 3
    eng.close()


def test_a_crash_mid_job_resumes_without_redoing_a_batch(tmp_path: Path) -> None:
    files = ProfileFiles(tmp_path)
    crashing = ProfileEngine(fail_after=2)
    with pytest.raises(RuntimeError, match="simulated crash"):
        ProfileJob(crashing, files, CONFIG).run(entries(7))
    assert len(files.records()) == 2
    with open(tmp_path / "map.jsonl", "a", encoding="utf-8") as f:
        f.write('{"units": [["torn')  # a write cut short by the crash
    fresh = ProfileEngine()
    report = ProfileJob(fresh, files, CONFIG).run(entries(7))
    done_before = {d for b in crashing.batches for d in b}
    assert report.batches == 2 and report.units_reused == 4
    assert not done_before & {d for b in fresh.batches for d in b}
    crashing.close()
    fresh.close()


def test_unusable_answers_are_retried_then_recorded_and_the_job_goes_on(tmp_path: Path) -> None:
    eng = ProfileEngine(garbage=1)
    files = ProfileFiles(tmp_path)
    report = ProfileJob(eng, files, CONFIG).run(entries(2))
    assert report.retries == 1 and report.failed_batches == 0 and report.facts_found == 2
    assert "Answer with JSON lines only" in eng.requests[1].text or "exactly like the example" in eng.requests[1].text
    eng2 = ProfileEngine(garbage=3)
    report = ProfileJob(eng2, ProfileFiles(tmp_path / "b"), CONFIG).run(entries(4))
    assert report.failed_batches == 1 and report.batches == 2 and report.facts_found == 2
    rec = ProfileFiles(tmp_path / "b").records()[0]
    assert rec["error"] and rec["facts"] == []
    eng.close()
    eng2.close()


def test_engine_errors_are_recorded_not_raised(tmp_path: Path) -> None:
    class Broken(FakeEngine):
        def generate(self, request, *, should_stop=None):  # type: ignore[no-untyped-def]
            raise LlmError("llama.cpp failed to read the prompt")

    eng = Broken(kind="base")
    report = ProfileJob(eng, ProfileFiles(tmp_path), CONFIG).run(entries(3))
    assert report.failed_batches == 2 and report.batches == 2
    eng.close()


def test_a_stop_request_ends_between_batches(tmp_path: Path) -> None:
    eng = ProfileEngine()
    stop: list[bool] = []
    report = ProfileJob(eng, ProfileFiles(tmp_path), CONFIG).run(
        entries(6), should_stop=lambda: bool(stop), on_progress=lambda p: stop.append(True) if p.batches_done == 2 else None)
    assert report.cancelled and report.batches == 2 and len(ProfileFiles(tmp_path).records()) == 2
    eng.close()


def test_long_entries_are_split_and_batches_fit_the_context(tmp_path: Path) -> None:
    eng = ProfileEngine(n_ctx=2048)
    job = ProfileJob(eng, ProfileFiles(tmp_path), JobConfig(batch_tokens=400, answer_tokens=300, use_grammar=False))
    long = Entry("/v/long.md", dt.date(2021, 1, 1), "\n\n".join(f"Paragraph {i} " + "word " * 60 for i in range(20)))
    units = job.units([long])
    assert len(units) > 3 and all(eng.count_tokens(u.text) <= job.batch_budget() for u in units)
    assert len({u.key for u in units}) == len(units)
    report = job.run([long])
    assert report.failed_batches == 0 and report.units_mapped == len(units)
    assert max(r.params.max_tokens for r in eng.requests) == 300
    eng.close()
