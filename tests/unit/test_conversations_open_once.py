"""Twin.conversations is opened once however many threads ask at once (the window opens it on
its pool while the model slot wires a chat service on another thread; Python 3.12's
cached_property no longer locks: the test calls the property's function as 3.12 does)."""

from __future__ import annotations

import threading

from twin.app.twin import Twin
from twin.core.conversation.store import ConversationStore
from twin.paths import resolve_paths
from twin.settings import Settings


def test_many_threads_get_one_store(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    opened: list[ConversationStore] = []
    real_init = ConversationStore.__init__

    def slow_init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        threading.Event().wait(0.05)  # widen the window two openers would race in
        real_init(self, *args, **kwargs)
        opened.append(self)

    monkeypatch.setattr(ConversationStore, "__init__", slow_init)
    app = Twin(Settings(), resolve_paths())
    got: list[ConversationStore] = []
    start = threading.Barrier(8)

    # the property's own function, as Python 3.12+ calls it: without cached_property's lock
    open_store = Twin.__dict__["conversations"].func

    def ask() -> None:
        start.wait()
        got.append(open_store(app))

    workers = [threading.Thread(target=ask) for _ in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    try:
        assert len(opened) == 1 and len(got) == 8 and all(s is opened[0] for s in got)
    finally:
        app.close()
