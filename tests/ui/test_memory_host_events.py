"""MemoryHost turns the memory client's typed events into its state mirror and Qt signals.

Fast and engine-free: the events are fed as a client would report them (the child process
and the thread runner are exercised with real engines in tests/integration/test_memory_client.py
and test_memory_process.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from twin.app.documents_service import IngestResult
from twin.app.index_service import Indexed
from twin.app.memory_events import DropOutcome, MemoryFailed, MemoryReady, MemoryState, SourcesChanged
from twin.core.types import IndexProgress, IndexReport
from twin.errors import StoreError
from twin.paths import resolve_paths
from twin.settings import Settings


def _host(**kw: Any) -> Any:
    from twin.ui.memory_host import MemoryHost

    return MemoryHost(Settings(), resolve_paths().ensure(), **kw)


def test_events_are_dispatched_by_type(qapp: Any, tmp_path: Path) -> None:
    host = _host()
    seen: list[tuple[str, Any]] = []
    for name in ("ready", "failed", "progress", "indexed", "documents_indexed", "sources_changed", "writer_changed"):
        getattr(host, name).connect(lambda *args, name=name: seen.append((name, *args)))

    host._on_event(MemoryState(ready=True, paused=True, busy=True, writer="twin watch (pid 7)"))
    assert host.is_ready and host.paused and host.busy and host.writer == "twin watch (pid 7)"
    host._on_event(MemoryState(ready=True, writer="twin watch (pid 7)"))  # same writer: no signal again
    host._on_event(MemoryReady())
    progress = IndexProgress(1, 3, "/n/a.md")
    indexed = Indexed(IndexReport(files_indexed=1), ("/n/a.md",))
    outcome = DropOutcome(IngestResult((tmp_path / "a.md",), (), ()))
    host._on_event(progress)
    host._on_event(indexed)
    host._on_event(outcome)
    host._on_event(SourcesChanged(("/n", "/inbox")))
    assert host.settings.memory.sources == ["/n", "/inbox"]
    host._on_event(MemoryFailed("The memory engine stopped unexpectedly."))
    assert not host.is_ready and not host.busy and host.error == "The memory engine stopped unexpectedly."
    assert seen == [("writer_changed", "twin watch (pid 7)"), ("ready",), ("progress", progress),
                    ("indexed", indexed), ("documents_indexed", outcome), ("sources_changed", ["/n", "/inbox"]),
                    ("failed", "The memory engine stopped unexpectedly.")]


def test_the_runner_follows_the_setting_unless_a_factory_needs_this_process(qapp: Any) -> None:
    from twin.app.container import Memory

    assert _host().runner == "process" and _host().isolated
    assert _host(memory_factory=Memory).runner == "thread"  # the factory builds the engine here
    assert _host(isolate=False).runner == "thread"
    s = Settings()
    s.memory.runner = "thread"
    from twin.ui.memory_host import MemoryHost

    assert not MemoryHost(s, resolve_paths().ensure()).isolated


def test_requests_before_start_fail_clearly(qapp: Any) -> None:
    host = _host()
    with pytest.raises(StoreError, match="not started"):
        host.search_async("anything", 3).result(1)
    with pytest.raises(StoreError, match="not started"):
        host.search("anything", 3)
