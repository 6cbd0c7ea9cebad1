"""The app object (twin.app.twin.Twin) over the real Gemma GGUF: one builder for the window and
the CLI; the model slot loads in the background, reports typed events, reloads on new
settings (the old engine closed on the app's pool) and fails as an event, never a crash."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from twin.app.model_slot import ModelFailed, ModelLoading, ModelProgress, ModelReady, NoModelError
from twin.app.twin import Twin
from twin.core.conversation.events import TurnDone
from twin.errors import KnownError
from twin.paths import resolve_paths
from twin.settings import Settings


def _settings(model: Path | str) -> Settings:
    s = Settings()
    s.llm.model_path = str(model)
    s.llm.n_ctx = 1024
    s.llm.n_gpu_layers = 0
    s.chat.max_answer_tokens = 8
    return s


def test_one_builder_loads_wires_and_reloads_the_real_model(gemma_path: Path) -> None:
    events: list[object] = []
    app = Twin(_settings(gemma_path), resolve_paths().ensure(), use_memories=False, on_model_event=events.append)
    try:
        info = app.wait_ready(180)
        assert info.n_ctx == 1024
        assert isinstance(events[0], ModelLoading) and events[0].name == gemma_path.name
        assert isinstance(events[-1], ModelReady) and events[-1].info is info
        assert any(isinstance(e, ModelProgress) for e in events)
        first_engine, first_service = app.engine, app.service
        # the chat service is wired in one place, the same for both front ends
        assert first_service.offer_memories == app._memory_offers
        assert first_service.profile_text is not None and first_service.period_facts is not None
        assert first_service.annotate_hits is not None and first_service.retriever is None
        done = [e for e in first_service.ask(None, "Say hello.") if isinstance(e, TurnDone)]
        assert done and done[0].conversation_id in {c.id for c in app.conversations.list_conversations()}

        # new chat settings only: the same engine, the settings applied live
        new = _settings(gemma_path)
        new.chat.persona = "Short and dry."
        app.apply_settings(new)
        assert app.engine is first_engine and app.service.settings.persona == "Short and dry."

        # a new context size: a new engine and service, the old engine closed on the app's pool
        events.clear()
        newer = _settings(gemma_path)
        newer.llm.n_ctx = 2048
        app.apply_settings(newer)
        assert app.wait_ready(180).n_ctx == 2048
        assert app.engine is not first_engine and app.service is not first_service
        assert app.service.offer_memories == app._memory_offers
        assert isinstance(events[-1], ModelReady)
        app.background.submit(lambda: None).result(60)  # the close queued before it has run
        assert first_engine._closed  # noqa: SLF001 - the point of the test
    finally:
        app.close()
    assert app.background.closed
    assert not [t for t in threading.enumerate() if t.name.startswith("twin-work")]


def test_a_bad_model_file_is_an_event_and_the_app_keeps_working(tmp_path: Path) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\0" * 64)  # a header and nothing else
    events: list[object] = []
    app = Twin(_settings(bad), resolve_paths().ensure(), use_memories=False, on_model_event=events.append)
    try:
        app.model.load()  # the window's way: never raises
        failed = [e for e in events if isinstance(e, ModelFailed)]
        if not failed:  # the engine found it out while loading
            with pytest.raises(KnownError):
                app.model.wait_ready(60)
            failed = [e for e in events if isinstance(e, ModelFailed)]
        assert failed and failed[0].known and "broken.gguf" in failed[0].message
        assert not app.model.is_ready
        with pytest.raises(KnownError):  # the CLI's way: the same error, raised
            app.wait_ready(60)
        conversation = app.conversations.create("still works")  # the rest of the app is fine
        assert app.conversations.get(conversation.id).title == "still works"
    finally:
        app.close()


def test_no_model_raises_for_the_cli_and_is_an_event_for_the_window() -> None:
    events: list[object] = []
    app = Twin(_settings(""), resolve_paths().ensure(), on_model_event=events.append)
    try:
        with pytest.raises(NoModelError, match="llm.model_path"):
            app.start()
        app.model.load()
        assert isinstance(events[-1], ModelFailed) and "No model file is set" in events[-1].message
    finally:
        app.close()
