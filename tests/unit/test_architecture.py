"""Architecture contracts (import-linter): Qt only in twin.ui; ui|cli > app > core; each heavy
dependency imported by its one adapter module only."""

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
    # the contracts themselves: dropping one from pyproject.toml fails here
    for name in ADAPTER_CONTRACTS + ("Qt only in twin.ui", "Layers", "Shared root modules import no layer"):
        assert f"{name} KEPT" in r.stdout, f"contract missing from pyproject.toml: {name}"


#: One adapter per heavy dependency (pyproject [tool.importlinter]); the names must match.
ADAPTER_CONTRACTS = (
    "lancedb only in twin.core.memory.store and .store_search, .store_upkeep",
    "llama_cpp only in twin.core.llm.llama",
    "sentence_transformers and torch only in twin.core.memory.embedder and .rerank",
    "watchdog only in twin.core.memory.watcher",
)


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
