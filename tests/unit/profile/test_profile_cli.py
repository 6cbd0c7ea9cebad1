"""``twin profile show / accept / reject / edit`` over a profile built with a scripted engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from profile_support import ProfileEngine, write_vault

from twin.app.profile_service import ProfileService
from twin.cli.main import main
from twin.core.profile.job import JobConfig
from twin.paths import resolve_paths
from twin.settings import Settings, save_settings


def test_review_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = resolve_paths().ensure()
    settings = Settings()
    settings.memory.sources = [str(write_vault(tmp_path / "vault", 3))]
    save_settings(settings, paths.settings_file)
    eng = ProfileEngine()
    ProfileService(settings, paths).build(eng, config=JobConfig(use_grammar=False))
    eng.close()

    assert main(["profile", "show", "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    a, b, c = (f["id"] for f in facts if f["kind"] == "theme")
    assert main(["profile", "accept", a]) == 0
    assert main(["profile", "reject", b]) == 0
    assert main(["profile", "edit", c, "I walk to Whitehall."]) == 0
    capsys.readouterr()
    assert main(["profile", "show"]) == 0
    out = capsys.readouterr().out
    assert f"{a}  accepted" in out and f"{c}  edited" in out and b not in out and "I walk to Whitehall." in out
    assert main(["profile", "accept", "--all"]) == 0  # the measured style facts
    capsys.readouterr()
    assert main(["profile", "show", "--status", "proposed"]) == 0
    assert "no facts with status proposed" in capsys.readouterr().out
    assert main(["profile", "reject", "nope"]) != 0
    assert "no fact with id 'nope'" in capsys.readouterr().err


def test_build_if_due_does_nothing_on_a_manual_schedule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", "build", "--if-due"]) == 0  # no model is set: it would fail if it tried
    assert "not due (schedule: manual)" in capsys.readouterr().err
