"""twin.helpers: the command lines of helper processes, in a venv and in a frozen build."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from twin import helpers


def test_venv_runs_helpers_with_python_m(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(sys, "frozen", raising=False)
    assert helpers.helper_command("check-model", "/m.gguf") == [sys.executable, "-m", "twin.helpers",
                                                                 "check-model", "/m.gguf"]


def test_frozen_build_runs_helpers_through_its_own_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/opt/twin/twin-gui")
    assert helpers.helper_command("download-model", "Qwen/X", "x.gguf", "/d") == [
        "/opt/twin/twin-gui", "--helper", "download-model", "Qwen/X", "x.gguf", "/d"]


def test_every_helper_resolves_to_a_function() -> None:
    import importlib

    for name, target in helpers.HELPERS.items():
        module, func = target.split(":")
        assert callable(getattr(importlib.import_module(module), func)), name
    with pytest.raises(ValueError):
        helpers.helper_command("no-such-helper")


def test_dispatch_leaves_ordinary_command_lines_alone() -> None:
    assert helpers.dispatch(["twin-gui"]) is None
    assert helpers.dispatch(["twin-gui", "--fake", "notes.md"]) is None
    assert helpers.dispatch(["twin", "search", "-c", "x"]) is None  # "-c" but not multiprocessing's bootstrap


def test_dispatch_reports_unknown_or_missing_helper(capsys: pytest.CaptureFixture[str]) -> None:
    assert helpers.dispatch(["twin-gui", "--helper", "nope"]) == 2
    assert "unknown helper 'nope'" in capsys.readouterr().err
    assert helpers.dispatch(["twin-gui", "--helper"]) == 2


def test_python_m_twin_helpers_runs_the_check_on_a_bad_file(tmp_path: Path) -> None:
    """The venv form, end to end: a file that is not a GGUF is refused (exit 1, JSON says why)."""
    bad = tmp_path / "notes.gguf"
    bad.write_text("this is not a model", encoding="utf-8")
    proc = subprocess.run(helpers.helper_command("check-model", str(bad)), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert '"ok": false' in proc.stdout
