"""The window's default memory engine: a child process (twin.app.memory_process).

Real everything: the child loads MiniLM from its folder, opens LanceDB in the tmp TWIN_HOME,
indexes the diary and answers searches over the pipe; the window's process never imports
torch or LanceDB for it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from twin.core.llm.fake import FakeEngine
from twin.errors import StoreError

ROOT = Path(__file__).resolve().parents[2]


def test_window_runs_memory_in_a_child_process(qapp: Any, qloop: Any, run_until: Any, paths: Any,
                                               ui_settings: Any, tmp_path: Path, thread_guard: None) -> None:
    """Index, search, drop a document, pause/resume, quit: all through the child process."""
    from twin.ui.app_shell import TwinApp

    engine = FakeEngine(n_ctx=8192, delay_s=0.01, name="fake")
    app = TwinApp(qapp, paths, ui_settings, engine_factory=lambda llm, on_progress=None: engine,
                  watch=True, hotkey=False, first_run=False)
    app.window.documents.show_messages = False
    host = app.controller.memory
    assert host.isolated
    app.start()
    run_until(lambda: host.is_ready and app.controller.model.is_ready, 120, "memory and model")
    child = host.client.process
    assert child.is_alive() and child.pid != os.getpid()
    run_until(lambda: host.snapshot().result().counts.get("files", 0) >= 3 and not host.busy, 120, "the diary")

    hits = host.search_async("swimming in cold sea water", 3).result(30)
    assert hits and hits[0].path.endswith("2024-05-01.md")

    doc = tmp_path / "drop" / "garden.md"
    doc.parent.mkdir()
    doc.write_text("# Garden\n\nPlanted tomatoes and basil beside the old apple tree.\n", encoding="utf-8")
    outcomes: list[list[Any]] = []
    host.documents_indexed.connect(lambda outcome: outcomes.append(list(outcome.errors)))
    qloop.run_until_complete(app.controller.add_documents([doc], "copy"))
    run_until(lambda: outcomes, 60, "the dropped document indexed")
    assert outcomes[0] == []
    assert str(paths.inbox_dir) in app.controller.settings.memory.sources
    hits = host.search_async("tomatoes and basil", 3).result(30)
    assert hits and hits[0].path.startswith(str(paths.inbox_dir))

    app.controller.toggle_pause()
    assert host.paused
    run_until(lambda: host.snapshot().result().paused, 10, "paused in the child")
    app.controller.toggle_pause()
    run_until(lambda: not host.snapshot().result().paused, 10, "resumed in the child")

    qloop.run_until_complete(app.aclose())
    engine.close()
    assert not child.is_alive() and child.exitcode == 0


def test_a_dead_memory_process_fails_clearly_and_the_window_goes_on(
        qapp: Any, qloop: Any, run_until: Any, paths: Any, ui_settings: Any, thread_guard: None) -> None:
    """The child killed under the window: searches fail with a clear error, chat goes on.

    Runs the window in a fresh interpreter, as the app runs: one window per process, and the
    SIGKILL cannot hit anything but this test's child.
    """
    script = textwrap.dedent(f"""
        import asyncio, os, signal, sys, time
        import qasync
        from PySide6.QtWidgets import QApplication
        from twin.core.llm.fake import FakeEngine
        from twin.errors import StoreError
        from twin.paths import resolve_paths
        from twin.settings import Settings
        from twin.ui.app_shell import TwinApp

        s = Settings()
        s.memory.sources = {ui_settings.memory.sources!r}
        s.embedding.model = {ui_settings.embedding.model!r}
        s.embedding.device = "cpu"
        qapp = QApplication([])
        loop = qasync.QEventLoop(qapp)
        asyncio.set_event_loop(loop)
        engine = FakeEngine(n_ctx=8192, delay_s=0.01, name="fake")
        engine.enqueue(["Still here."])
        app = TwinApp(qapp, resolve_paths().ensure(), s, engine_factory=lambda llm, on_progress=None: engine,
                      watch=False, hotkey=False, first_run=False)
        host = app.controller.memory
        failures = []
        host.failed.connect(lambda m: failures.append(str(m)))

        async def until(pred, timeout):
            deadline = time.monotonic() + timeout
            while not pred():
                assert time.monotonic() < deadline, "timed out"
                await asyncio.sleep(0.02)

        async def main():
            app.start()
            await until(lambda: host.is_ready and app.controller.model.is_ready, 120)
            os.kill(host.client.process.pid, signal.SIGKILL)
            await until(lambda: failures, 20)
            assert "stopped unexpectedly" in failures[0], failures
            assert not host.is_ready
            assert "Memory unavailable" in app.controller.status_text()
            try:
                host.search_async("anything", 3).result(10)
                raise AssertionError("search worked without an engine")
            except StoreError as e:
                assert "stopped unexpectedly" in str(e)
            turn = app.controller.ask(None, "Are you there?")
            await until(lambda: turn.is_finished, 30)
            assert "Still here." in turn.answer, turn.answer
            await app.aclose()
            engine.close()
            print("OK")

        loop.run_until_complete(main())
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    assert out.returncode == 0 and "OK" in out.stdout, (out.stdout + out.stderr)[-3000:]


def test_window_process_never_imports_torch_or_lancedb(tmp_path: Path, notes: Path, minilm_path: str) -> None:
    """In a fresh interpreter (this test process has torch loaded by other tests)."""
    script = textwrap.dedent(f"""
        import json, sys, threading
        from concurrent.futures import Future
        from twin.app.memory_process import ProcessMemory
        from twin.paths import resolve_paths
        from twin.settings import Settings

        s = Settings()
        s.memory.sources = [{str(notes)!r}]
        s.embedding.model = {minilm_path!r}
        s.embedding.device = "cpu"
        events = []
        pm = ProcessMemory(s, resolve_paths().ensure(), lambda event: events.append(type(event).__name__),
                           watch=False)
        pm.start().result(120)
        import time
        deadline = time.monotonic() + 60
        while pm.snapshot().result(30).counts.get("files", 0) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        hits = pm.search("chess on a rainy day", 2).result(30)
        pm.close()
        print(json.dumps({{"torch": "torch" in sys.modules, "lancedb": "lancedb" in sys.modules,
                           "sentence_transformers": "sentence_transformers" in sys.modules,
                           "top": hits[0].path, "events": sorted(set(events)),
                           "threads": [t.name for t in threading.enumerate()]}}))
    """)
    env = dict(os.environ, TWIN_HOME=str(tmp_path / "home"))
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["top"].endswith("2024-05-02.md")
    assert not (result["torch"] or result["lancedb"] or result["sentence_transformers"]), result
    assert {"MemoryReady", "Indexed", "MemoryState"} <= set(result["events"])
    assert result["threads"] == ["MainThread"], result["threads"]
