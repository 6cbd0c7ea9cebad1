"""Time-aware profile facts over real files: a newer statement about the same (kind, subject)
supersedes the older one (valid_until, superseded_by), questions about a period get the
facts of that period, and files written before these fields existed still read right."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

from profile_support import batch_entries

from twin.app.profile_service import ProfileService
from twin.core.llm.engine import Generation, GenerationRequest
from twin.core.llm.fake import FakeEngine
from twin.core.profile import merge
from twin.core.profile.job import JobConfig
from twin.core.profile.model import Candidate, Fact, SourceRef
from twin.core.profile.render import period_text
from twin.paths import resolve_paths
from twin.settings import Settings

CONFIG = JobConfig(max_entries=2, use_grammar=False)


class HomeEngine(FakeEngine):
    """Per entry: the morning habit (one subject, its statement changes over time) and the
    city the entry names (a place: its own subject)."""

    def generate(self, request: GenerationRequest, *, should_stop: Callable[[], bool] | None = None,
                 on_piece: Callable[[str], None] | None = None) -> Generation:
        lines = []
        for i, d, w in batch_entries(request):
            habit = "swim" if d < "2021" else "run"
            lines.append(json.dumps({"kind": "habit", "subject": "mornings", "statement": f"I {habit} every morning.",
                                     "sources": [i]}))
            lines.append(json.dumps({"kind": "place", "subject": w, "statement": f"I live in {w}.", "sources": [i]}))
        self.enqueue("\n".join(lines) + "\n### End")
        return super().generate(request, should_stop=should_stop, on_piece=on_piece)


def words(text: str) -> int:
    return len(text.split())


def make(tmp_path: Path) -> ProfileService:
    vault = tmp_path / "vault"
    vault.mkdir()
    for day, city in (("2019-03-01", "Paris"), ("2019-11-20", "Paris"), ("2021-06-05", "Berlin"),
                      ("2023-02-01", "Berlin")):
        (vault / f"{day}.md").write_text(f"# {day}\n\n{city} again today: the flat, the street, the rain.\n",
                                         encoding="utf-8")
    settings = Settings()
    settings.memory.sources = [str(vault)]
    return ProfileService(settings, resolve_paths({"TWIN_HOME": str(tmp_path / "home")}).ensure())


def test_a_newer_statement_supersedes_the_older_in_the_files(tmp_path: Path) -> None:
    svc = make(tmp_path)
    eng = HomeEngine()
    try:
        svc.build(eng, config=CONFIG)
    finally:
        eng.close()
    (habit,) = [f for f in svc.facts() if f.kind == "habit"]
    swim, run = habit.history
    assert (swim.statement, swim.valid_from, swim.valid_until) == ("I swim every morning.", "2019-03-01", "2021-06-05")
    assert swim.superseded_by == run.key and not swim.current
    assert (run.statement, run.valid_from, run.valid_until, run.current) == \
        ("I run every morning.", "2021-06-05", "", True)
    assert (habit.valid_from, habit.valid_until) == ("2019-03-01", "")
    data = json.loads((svc.folder / "profile.json").read_text(encoding="utf-8"))
    (saved,) = [f for f in data["facts"] if f["kind"] == "habit"]
    assert saved["history"][0]["valid_until"] == "2021-06-05" and saved["history"][0]["superseded_by"]

    # only accepted facts go into prompts
    assert svc.period_text(dt.date(2019, 1, 1), dt.date(2019, 12, 31), words) == ""
    svc.accept(None)
    in_2019 = svc.period_text(dt.date(2019, 1, 1), dt.date(2019, 12, 31), words)
    assert "- mornings: I swim every morning. (from 2019-03-01 until 2021-06-05)" in in_2019
    assert "I run" not in in_2019
    # a place is its own subject: nothing supersedes it, it is shown with the dates it was noted
    assert "- Paris: I live in Paris. (noted 2019-03-01)" in in_2019 and "Berlin" not in in_2019
    in_2023 = svc.period_text(dt.date(2023, 1, 1), dt.date(2023, 12, 31), words)
    assert "- mornings: I run every morning. (noted 2021-06-05)" in in_2023 and "swim" not in in_2023
    assert "- Berlin: I live in Berlin. (noted 2021-06-05)" in in_2023
    both = svc.period_text(dt.date(2020, 1, 1), dt.date(2021, 12, 31), words)
    assert "swim" in both and "run" in both
    assert svc.period_text(dt.date(2010, 1, 1), dt.date(2010, 12, 31), words) == ""  # before anything held


def test_old_profile_files_without_validity_read_with_the_chain(tmp_path: Path) -> None:
    svc = make(tmp_path)
    eng = HomeEngine()
    try:
        svc.build(eng, config=CONFIG)
    finally:
        eng.close()
    path = svc.folder / "profile.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    for f in data["facts"]:
        for h in f["history"]:
            for key in ("valid_from", "valid_until", "superseded_by"):
                del h[key]
    path.write_text(json.dumps(data), encoding="utf-8")
    svc._cache = None
    (habit,) = [f for f in svc.facts() if f.kind == "habit"]
    assert [(h.valid_from, h.valid_until) for h in habit.history] == [("2019-03-01", "2021-06-05"),
                                                                     ("2021-06-05", "")]


def test_undated_statements_stay_open_and_a_single_one_shows_the_accepted_text() -> None:
    cands = [Candidate("person", "Anna", "Anna is my sister.", (SourceRef("", "/v/notes.md"),), "sister")]
    (anna,) = merge.merge(cands, merge.empty_review())
    assert anna.history[0].valid_until == "" and anna.held_during("2019-01-01", "2019-12-31")
    anna.status = "edited"
    anna.statement = "Anna is my younger sister."
    text = period_text([anna], "2019-01-01", "2019-12-31", 100, words)
    assert "- Anna (sister): Anna is my younger sister. (undated)" in text
    assert period_text([anna], "2019-01-01", "2019-12-31", 3, words) == ""  # nothing fits: nothing at all
    assert isinstance(anna, Fact)
