"""OpenAIEngine against a real OpenAI-compatible server on loopback: llama-cpp-python's own
``python -m llama_cpp.server`` (needs its ``[server]`` extras) serving the tiny Qwen3 GGUF."""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from twin.app.chat_service import ChatService
from twin.core.conversation.events import TurnDone, TurnStarted
from twin.core.conversation.store import ConversationStore
from twin.core.llm.engine import ChatMessage, GenerationRequest, SamplingParams, Segment
from twin.core.llm.openai_http import EndpointConfig, OpenAIEngine
from twin.core.types import Hit
from twin.llm_settings import ChatSettings

pytestmark = pytest.mark.slow

for module in ("fastapi", "uvicorn", "sse_starlette", "starlette_context", "pydantic_settings"):
    pytest.importorskip(module, reason="llama-cpp-python[server] extras are not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def endpoint(qwen_path: Path) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(qwen_path), "--host", "127.0.0.1",
         "--port", str(port), "--n_threads", "1", "--n_threads_batch", "1", "--n_ctx", "2048",
         "--verbose", "False"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url + "/models", timeout=1).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                    pytest.fail(f"llama_cpp.server did not start: {err[-2000:]}")
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


@pytest.fixture()
def engine(endpoint: str) -> Iterator[OpenAIEngine]:
    e = OpenAIEngine(EndpointConfig(endpoint, timeout_s=30, n_ctx=2048))
    yield e
    e.close()


def test_models(engine: OpenAIEngine, qwen_path: Path) -> None:
    assert engine.models() == [str(qwen_path)]


def test_chat_streaming(engine: OpenAIEngine) -> None:
    req = GenerationRequest((), (ChatMessage("system", "Be me."), ChatMessage("user", "Hi <|im_end|>")), chat=True,
                            params=SamplingParams(max_tokens=8, temperature=0.0), enable_thinking=False)
    gen = engine.generate(req)
    pieces = list(gen)
    assert len(pieces) >= 2
    assert gen.result is not None and gen.result.text == "".join(pieces)
    assert gen.result.finish_reason == "length" and gen.result.usage.completion_tokens >= 2


def test_completion_streaming(engine: OpenAIEngine) -> None:
    req = GenerationRequest((Segment("User: where?\nTwin:"),), chat=False,
                            params=SamplingParams(max_tokens=6, temperature=0.0))
    gen = engine.generate(req)
    assert "".join(gen) == (gen.result.text if gen.result else None)
    assert gen.result is not None and gen.result.finish_reason == "length"


def test_chat_service_over_http(engine: OpenAIEngine, tmp_path: Path) -> None:
    class Retriever:
        def search(self, query: str, k: int) -> list[Hit]:
            return [Hit("diary/a.md", "Morning", dt.date(2024, 5, 1), 1, 2, 0.9, "We went to the sea.")]

    store = ConversationStore(tmp_path / "c.sqlite3")
    svc = ChatService(engine, Retriever(), store, ChatSettings(temperature=0.0, max_answer_tokens=6))
    try:
        events = list(svc.ask(None, "Where did I go?"))
    finally:
        svc.close()
        store.close()
    assert isinstance(events[0], TurnStarted) and events[0].citations[0].path == "diary/a.md"
    assert isinstance(events[-1], TurnDone) and events[-1].usage.completion_tokens >= 1


def test_cancel(engine: OpenAIEngine) -> None:
    # llama_cpp.server finishes a cancelled request's tokens before it serves another one:
    # keep it short, and last in this module
    flag = threading.Event()
    req = GenerationRequest((Segment("Once"),), chat=False, params=SamplingParams(max_tokens=120, temperature=0.0))
    gen = engine.generate(req, should_stop=flag.is_set)
    n = 0
    for _ in gen:
        n += 1
        if n == 3:
            flag.set()
            t0 = time.perf_counter()
    assert time.perf_counter() - t0 < 0.5
    assert gen.result is not None and gen.result.finish_reason == "cancelled" and n < 50


def test_connection_test_against_the_real_server(endpoint: str, qwen_path: Path) -> None:
    """Settings → Model → Test connection, against llama_cpp.server, under the app's network guard."""
    from twin.app.endpoint_check import check_endpoint
    from twin.offline import install_network_guard, network_status, reset_network_guard

    reset_network_guard()
    install_network_guard()
    ok = check_endpoint(endpoint, str(qwen_path))
    assert ok.ok and ok.kind == "ok" and ok.models == (str(qwen_path),)
    other = check_endpoint(endpoint, "not-there")
    assert other.kind == "model_missing" and str(qwen_path) in other.message
    assert "your model server on this computer" in network_status() and "blocked" not in network_status()
    reset_network_guard()
