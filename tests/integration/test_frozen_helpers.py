"""A frozen-like run: twin's helper processes go through the app's own entry point.

In a PyInstaller build ``sys.frozen`` is set and ``sys.executable`` is ``twin-gui`` itself:
``sys.executable -m …`` would start a second window. Here a fresh interpreter plays the
frozen app: ``sys.frozen = True`` and ``sys.executable`` = a wrapper script that, like the
frozen ``twin-gui``, sets ``sys.frozen`` and calls :func:`twin.ui.main.main` (and logs its
argv). Then the real model check (llama.cpp on the tiny Qwen3 GGUF, and on a file that makes
llama.cpp abort) and the real memory child (MiniLM, LanceDB, a search) must work, and the
wrapper's log must show they were started as ``twin-gui --helper check-model …`` and
``twin-gui --multiprocessing-fork …``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "qwen3"))
from tiny_qwen3 import write_tiny_qwen3  # noqa: E402

pytestmark = pytest.mark.slow


def _wrapper(folder: Path, name: str, entry: str, log: Path) -> Path:
    """An executable ``folder/name`` that behaves like the frozen ``twin-gui`` (or ``twin``)."""
    module, func = entry.split(":")
    path = folder / name
    path.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import json, sys
        sys.frozen = True
        with open({str(log)!r}, "a") as f:
            f.write(json.dumps(sys.argv[1:]) + "\\n")
        from {module} import {func}
        sys.exit({func}())
    """), encoding="utf-8")
    path.chmod(0o755)
    return path


def test_frozen_app_runs_its_helpers_through_its_own_entry(tmp_path: Path, notes_dir: Path, minilm_path: str) -> None:
    log = tmp_path / "argv.log"
    app_dir = tmp_path / "dist" / "twin"
    app_dir.mkdir(parents=True)
    gui = _wrapper(app_dir, "twin-gui", "twin.ui.main:main", log)
    good = write_tiny_qwen3(tmp_path / "tiny.gguf")
    bad = write_tiny_qwen3(tmp_path / "no_experts.gguf", omit_expert_count=True)  # llama.cpp aborts on it
    script = textwrap.dedent(f"""
        import json, sys, time
        import multiprocessing.spawn  # noqa: F401 - imported before sys.executable changes, as a library might
        sys.frozen = True
        sys.executable = {str(gui)!r}
        from twin.core.llm.llama_native import probe_model
        from twin.core.llm.errors import ModelFileError
        out = {{}}
        out["good"] = probe_model({str(good)!r}).get("ok")
        try:
            probe_model({str(bad)!r})
            out["bad"] = "accepted"
        except ModelFileError as e:
            out["bad"] = str(e)
        from twin.app.memory_process import ProcessMemory
        from twin.paths import resolve_paths
        from twin.settings import Settings
        s = Settings()
        s.memory.sources = [{str(notes_dir)!r}]
        s.embedding.model = {minilm_path!r}
        s.embedding.device = "cpu"
        pm = ProcessMemory(s, resolve_paths().ensure(), lambda event: None, watch=False)
        pm.start().result(180)
        deadline = time.monotonic() + 120
        while pm.snapshot().result(30).counts.get("files", 0) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        out["top"] = pm.search("chess on a rainy day", 2).result(60)[0].path
        pm.close()
        out["exitcode"] = pm.process.exitcode
        print(json.dumps(out))
    """)
    env = dict(os.environ, TWIN_HOME=str(tmp_path / "home"))
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=500)
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["good"] is True
    assert "corrupt or malformed" in out["bad"], out["bad"]
    assert out["top"].endswith("rain.md") and out["exitcode"] == 0, out

    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert ["--helper", "check-model", str(good)] in calls
    assert ["--helper", "check-model", str(bad)] in calls
    assert any(c and c[0] == "--multiprocessing-fork" for c in calls), calls  # the memory engine's child


def test_frozen_cli_entry_dispatches_helpers_too(tmp_path: Path) -> None:
    """The bundled ``twin`` (CLI) is also an entry a helper may be started through."""
    log = tmp_path / "argv.log"
    cli = _wrapper(tmp_path, "twin", "twin.cli.main:main", log)
    good = write_tiny_qwen3(tmp_path / "tiny.gguf")
    env = dict(os.environ, TWIN_HOME=str(tmp_path / "home"))
    proc = subprocess.run([str(cli), "--helper", "check-model", str(good)], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1])["ok"] is True
    unknown = subprocess.run([str(cli), "--helper", "no-such-helper"], env=env, capture_output=True, text=True,
                             timeout=60)
    assert unknown.returncode == 2 and "unknown helper" in unknown.stderr


@pytest.fixture()
def notes_dir(tmp_path: Path) -> Path:
    d = tmp_path / "notes"
    d.mkdir()
    (d / "sea.md").write_text("# May 1\n\nWe went to the sea. The water was cold and green.\n", encoding="utf-8")
    (d / "rain.md").write_text("# May 2\n\nIt rained the whole day, so we played chess in the hotel.\n",
                               encoding="utf-8")
    return d
