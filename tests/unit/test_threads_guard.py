"""twin.threads: a thread marked as one that must not block (the window's GUI thread) is caught
running SQLite (the conversations database) or decryption: logged, or raised in strict mode."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from twin import threads
from twin.core.conversation.store import ConversationStore
from twin.core.crypto import Keys


@pytest.fixture()
def gui_thread() -> Iterator[None]:
    threads.forbid_blocking()
    yield
    threads.allow_blocking()


def test_strict_mode_raises_on_the_forbidden_thread_only(tmp_path: Path, gui_thread: None,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWIN_STRICT_THREADS", "1")
    threads.allow_blocking()
    store = ConversationStore(tmp_path / "c.db")  # opened elsewhere (here: before forbidding)
    threads.forbid_blocking()
    try:
        with pytest.raises(threads.BlockingOnGuiThread, match="conversations database on the GUI thread"):
            store.list_conversations()
        out: list[object] = []
        worker = threading.Thread(target=lambda: out.append(store.list_conversations()))
        worker.start()
        worker.join(10)
        assert out == [[]]  # another thread may read
    finally:
        threads.allow_blocking()
        store.close()


def test_decryption_is_checked(gui_thread: None, monkeypatch: pytest.MonkeyPatch) -> None:
    keys = Keys(os.urandom(32))
    blob = keys.seal(b"secret", "note")
    monkeypatch.setenv("TWIN_STRICT_THREADS", "1")
    with pytest.raises(threads.BlockingOnGuiThread, match="decryption"):
        keys.open(blob, "note")


def test_without_strict_mode_it_logs_once_per_call_site(tmp_path: Path, gui_thread: None,
                                                        caplog: pytest.LogCaptureFixture,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TWIN_STRICT_THREADS", raising=False)
    caplog.set_level(logging.INFO, logger="twin.threads")
    store = ConversationStore(tmp_path / "c.db")
    try:
        for _ in range(3):
            assert store.list_conversations() == []  # works: only reported
    finally:
        store.close()
    reports = [r for r in caplog.records if "list_conversations" in r.getMessage()]
    assert len(reports) == 1 and "GUI thread" in reports[0].getMessage()
