"""Fixtures of the chat service's tests: a FakeEngine with Qwen3's real chat template (the
completion path runs for real, inline) and a real SQLite conversation store in tmp."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from twin.core.conversation.store import ConversationStore
from twin.core.llm.fake import FakeEngine

QWEN3_TEMPLATE = Path(__file__).resolve().parents[2] / "fixtures" / "qwen3" / "Qwen-Qwen3-0.6B.jinja"


@pytest.fixture()
def engine() -> Iterator[FakeEngine]:
    eng = FakeEngine(chat_template=QWEN3_TEMPLATE.read_text(), n_ctx=8192)
    yield eng
    eng.close()


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[ConversationStore]:
    s = ConversationStore(tmp_path / "c.sqlite3")
    yield s
    s.close()
