"""The window's model download process: refuses bad arguments and TWIN_OFFLINE without connecting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from twin.app.model_download import DEFAULT_MODEL, command

ROOT = Path(__file__).resolve().parents[3]


def run(argv: list[str], **env: str) -> tuple[int, list[dict[str, object]]]:
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
                       env={**os.environ, "PYTHONPATH": str(ROOT), **env})
    return r.returncode, [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]


def test_bad_arguments_and_offline_are_refused_before_any_connection(tmp_path: Path) -> None:
    code, out = run([sys.executable, "-m", "twin.app.model_download", "not a repo", "x.txt", str(tmp_path)])
    assert code == 1 and "not a Hugging Face repository id" in str(out[-1]["error"])
    code, out = run(command(DEFAULT_MODEL, tmp_path), TWIN_OFFLINE="1")
    assert code == 1 and "offline" in str(out[-1]["error"])
    assert not any(tmp_path.iterdir())
