"""The self-profile in the window: builds on the user's schedule in the background, yields to
chat, and accepted facts reach the prompt (real memory, a scripted engine that answers map
batches with valid fact lines: tests/unit/profile/profile_support.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.unit.profile.profile_support import ProfileEngine, write_vault
from twin.settings import Settings


def _app(qapp: Any, paths: Any, minilm_path: str, memory_factory: Any, vault: Path, engine: Any) -> Any:
    from twin.ui.app_shell import TwinApp

    s = Settings()
    s.memory.sources = [str(vault)]
    s.embedding.model = minilm_path
    s.embedding.device = "cpu"
    s.profile.schedule = "daily"
    return TwinApp(qapp, paths, s, engine_factory=lambda llm, on_progress=None: engine,
                   memory_factory=memory_factory, watch=False, hotkey=False, first_run=False)


def test_scheduled_build_runs_in_the_background_and_accepted_facts_reach_the_prompt(
        qapp: Any, qloop: Any, run_until: Any, paths: Any, minilm_path: str, memory_factory: Any,
        tmp_path: Path, thread_guard: None) -> None:
    engine = ProfileEngine(n_ctx=8192)
    app = _app(qapp, paths, minilm_path, memory_factory, write_vault(tmp_path / "diary", 3), engine)
    c = app.controller
    app.start()
    run_until(lambda: c.model.is_ready and c.memory.is_ready, 60, "model and memory")
    assert c.profile.due(__import__("datetime").datetime.now(__import__("datetime").timezone.utc))
    assert c.maybe_build_profile()  # the schedule is checked off the GUI thread: due, so it builds
    assert not c.maybe_build_profile()  # one build at a time
    run_until(lambda: c.tasks.get("profile") is None, 60, "the build")
    assert c.profile_builds == 1
    facts = [f for f in c.profile.facts() if f.kind == "theme"]  # (+ "how I write" facts, counted)
    assert len(facts) == 3 and {f.status for f in facts} == {"proposed"}
    batches = len(engine.batches)
    assert c.maybe_build_profile()  # a check starts…
    run_until(lambda: c.tasks.get("profile") is None, 60, "the check")
    assert c.profile_builds == 1 and len(engine.batches) == batches  # …built today: not due again
    assert c.profile_status == "" and "Profile" not in c.memory_status_text()

    c.profile.accept([facts[0].id])
    turn = c.ask(None, "What did I talk about with Elizabeth at Whitehall?")
    run_until(lambda: turn.is_finished, 30, "the answer")
    prompt = engine.requests[-1].text
    assert facts[0].statement in prompt
    assert facts[1].statement not in prompt  # proposed, not accepted: not in the persona
    qloop.run_until_complete(app.aclose())
    engine.close()


def test_a_question_interrupts_the_build_which_resumes_later(
        qapp: Any, qloop: Any, run_until: Any, paths: Any, minilm_path: str, memory_factory: Any,
        tmp_path: Path, thread_guard: None) -> None:
    engine = ProfileEngine(n_ctx=8192, delay_s=0.05)
    app = _app(qapp, paths, minilm_path, memory_factory, write_vault(tmp_path / "diary", 3), engine)
    c = app.controller
    c.settings.profile.batch_tokens = 64  # one entry per batch: several batches
    app.start()
    run_until(lambda: c.model.is_ready and c.memory.is_ready, 60, "model and memory")
    assert c.maybe_build_profile()
    run_until(lambda: engine.batches, 30, "the first batch under way")
    turn = c.ask(None, "Are you there?")
    run_until(lambda: turn.is_finished and c.tasks.get("profile") is None, 60, "answer and build stopped")
    assert not turn.error
    assert c._profile_incomplete  # interrupted: the next check goes on where it stopped
    done_before = len(engine.batches)
    assert c.maybe_build_profile()
    run_until(lambda: c.tasks.get("profile") is None, 60, "the resumed build")
    assert not c._profile_incomplete
    assert len([f for f in c.profile.facts() if f.kind == "theme"]) == 3
    assert len(engine.batches) - done_before <= 3  # finished batches were not redone
    qloop.run_until_complete(app.aclose())
    engine.close()


def test_settings_dialog_sets_the_profile_schedule(qapp: Any, paths: Any) -> None:
    from twin.ui.settings_dialog import SettingsDialog
    from twin.ui.ui_state import UiState

    s = Settings()
    assert s.profile.schedule == "manual"
    dialog = SettingsDialog(s, paths, UiState(paths.config_dir))
    assert dialog.profile_schedule.currentData() == "manual"
    dialog.profile_schedule.setCurrentIndex(dialog.profile_schedule.findData("weekly"))
    assert dialog.edited().profile.schedule == "weekly"
    dialog.deleteLater()
