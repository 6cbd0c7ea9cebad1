"""The window says when inotify's watch limit is reached, and how to raise it; memory stays current.

A real window with real memory in this process, watching its diary folder; the inotify limit is
hit at the watchdog boundary (tests/fixtures/watch_budget.py), so the folder is polled.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
from watch_budget import WatchBudget  # noqa: E402

from twin.core.memory import watcher as watcher_mod  # noqa: E402


@pytest.fixture()
def watching_shell(qapp: Any, qloop: Any, run_until: Any, paths: Any, ui_settings: Any, fake_engine: Any,
                   memory_factory: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from twin.ui.app_shell import TwinApp

    # memory on the thread runner (memory_factory), on purpose: the patched watch budget and
    # poll interval below exist in this process only, a child process would not see them
    WatchBudget(monkeypatch, 0)  # no watch left for this user
    monkeypatch.setattr(watcher_mod, "POLL_INTERVAL_S", 0.3)
    app = TwinApp(qapp, paths, ui_settings, engine_factory=lambda llm, on_progress=None: fake_engine,
                  memory_factory=memory_factory, watch=True, hotkey=False, first_run=False)
    app.window.documents.show_messages = False
    app.start()
    run_until(lambda: app.controller.memory.is_ready and not app.controller.memory.busy, 60, "memory")
    yield app
    qloop.run_until_complete(app.aclose())
    fake_engine.close()


def test_memory_panel_shows_the_limit_and_the_sysctl(watching_shell: Any, run_until: Any, notes: Path) -> None:
    panel = watching_shell.window.memory_panel
    panel.refresh()
    run_until(lambda: panel.watch_warning.isVisibleTo(panel), 30, "the watch-limit warning")
    text = panel.watch_warning.text()
    assert "fs.inotify.max_user_watches" in text and "sudo sysctl fs.inotify.max_user_watches=524288" in text
    assert str(notes) in text and "/etc/sysctl.d/" in text
    # polling keeps the memory current: a new note is indexed
    before = watching_shell.controller.memory.snapshot().result().counts.get("files", 0)
    (notes / "2026-12-05.md").write_text("# Today\n\nA new entry while polling.\n", encoding="utf-8")
    run_until(lambda: watching_shell.controller.memory.snapshot().result().counts.get("files", 0) > before, 30,
              "the new note indexed by polling")
