"""Real-window screenshots under Xvfb (skipped where xvfb-run is not installed).

CI: ``apt-get install -y xvfb trayer`` plus the xcb libraries (packaging/README.md); the
PNGs land in ``artifacts/`` for a human to look at.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ("main-light.png", "main-dark.png", "memory-panel.png", "source-viewer.png", "quick-ask.png", "settings.png",
         "first-run.png", "first-run-model.png", "first-run-encryption.png",
         # the same app with ui.language = "ru" (issue 10)
         "main-ru.png", "memory-panel-ru.png", "settings-ru.png", "settings-4-ru.png", "first-run-ru.png",
         "first-run-model-ru.png", "first-run-encryption-ru.png")


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run is not installed (apt-get install xvfb)")
def test_screenshots_of_the_real_windows(tmp_path: Path) -> None:
    out = ROOT / "artifacts"
    for name in SHOTS:
        (out / name).unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY")}
    r = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", sys.executable,
                        str(ROOT / "tests" / "ui" / "screenshots.py")],
                       env=env, capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    for name in SHOTS:
        assert (out / name).stat().st_size > 5000, name
