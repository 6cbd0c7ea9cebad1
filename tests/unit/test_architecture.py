"""Architecture contracts (import-linter): Qt only in twin.ui; ui|cli > app > core."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_hold() -> None:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "import-linter is not installed (scripts/setup.sh --dev)"
    r = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "broken" not in r.stdout.split("Contracts:")[-1].replace("0 broken", "")


def test_core_imports_without_heavy_libraries() -> None:
    """Importing the CLI and the core must not import torch, lancedb, llama_cpp or Qt (fast start)."""
    code = (
        "import sys, twin.cli.main, twin.core.memory.indexer, twin.app.container\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'lancedb', 'llama_cpp', 'PySide6') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "", f"imported at startup: {r.stdout.strip()}"
