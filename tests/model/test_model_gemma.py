"""LlamaEngine and ChatService on the real Gemma 3 270M (a base model without a chat template)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

import pytest

from twin.app.chat_service import ChatService
from twin.core.conversation.events import Token, TurnDone, TurnStarted
from twin.core.conversation.store import ConversationStore
from twin.core.llm.engine import GenerationRequest, SamplingParams, Segment
from twin.core.llm.errors import CUDA_REINSTALL, ContextOverflowError
from twin.core.llm.llama import LlamaEngine, gpu_offload_supported
from twin.core.types import Hit
from twin.llm_settings import ChatSettings

from model_support import config

pytestmark = pytest.mark.slow

PROMPT = "The capital of France is"


def greedy(text: str, max_tokens: int = 12, **kw: object) -> GenerationRequest:
    return GenerationRequest((Segment(text),), chat=False,
                             params=SamplingParams(max_tokens=max_tokens, temperature=0.0, **kw))  # type: ignore[arg-type]


def test_model_info_and_offload_truth(gemma: LlamaEngine) -> None:
    info = gemma.info
    assert info.architecture == "gemma3" and info.kind == "base" and info.chat_template is None
    assert info.n_ctx == 2048 and info.n_ctx_train == 32768 and info.n_layer == 18
    assert info.bos_token == "<bos>"
    off = info.offload
    assert off is not None and off.total_layers == 19 and off.flash_attn
    if not gpu_offload_supported():
        assert off.offloaded_layers == 0 and off.summary == "CPU only"
        assert any(CUDA_REINSTALL in w for w in off.warnings)


def test_streaming_is_deterministic_when_greedy(gemma: LlamaEngine) -> None:
    gen = gemma.generate(greedy(PROMPT))
    pieces = list(gen)
    assert len(pieces) >= 5
    r = gen.result
    assert r is not None and r.text == "".join(pieces) and r.finish_reason == "length"
    assert r.usage.completion_tokens == 12 and r.ttft_s is not None and r.tokens_per_s
    again = gemma.generate(greedy(PROMPT))
    assert "".join(again) == r.text
    assert again.result is not None and again.result.usage.prompt_tokens_evaluated == 1  # all cached but one


def test_sampling_with_a_seed_is_reproducible(gemma: LlamaEngine) -> None:
    def sample() -> str:
        req = GenerationRequest((Segment(PROMPT),), chat=False,
                                params=SamplingParams(max_tokens=8, temperature=0.8, top_k=40, top_p=0.95, seed=7))
        return "".join(gemma.generate(req))
    assert sample() == sample()


def test_stop_strings(gemma: LlamaEngine) -> None:
    full = "".join(gemma.generate(greedy(PROMPT, 12)))
    stop = full.strip().split()[2]  # a word the answer is known to contain
    gen = gemma.generate(greedy(PROMPT, 12, stop=(stop,)))
    text = "".join(gen)
    assert stop not in text and full.startswith(text)
    assert gen.result is not None and gen.result.finish_reason == "stop"


def test_cancel_between_tokens_is_fast(gemma: LlamaEngine) -> None:
    flag = threading.Event()
    gen = gemma.generate(greedy("Once upon a time", 1500), should_stop=flag.is_set)
    t_stop = 0.0
    for i, _ in enumerate(gen):
        if i == 3:
            flag.set()
            t_stop = time.perf_counter()
    latency = time.perf_counter() - t_stop
    assert latency < 0.1, f"{latency * 1000:.0f} ms"  # the abort callback interrupts the running step
    r = gen.result
    assert r is not None and r.finish_reason == "cancelled" and not r.complete
    assert 4 <= r.usage.completion_tokens <= 8 and r.text  # the partial answer is kept


def test_cancel_during_a_long_prompt(gemma: LlamaEngine) -> None:
    long_prompt = " ".join(f"word{i}" for i in range(450))  # ~1.7k tokens: seconds to read on one thread
    flag = threading.Event()
    gen = gemma.generate(greedy(long_prompt, 4), should_stop=flag.is_set)
    threading.Timer(0.3, flag.set).start()
    t0 = time.perf_counter()
    assert list(gen) == []
    assert time.perf_counter() - t0 < 1.5
    assert gen.result is not None and gen.result.finish_reason == "cancelled"
    # the engine is still usable and its cache consistent
    assert "".join(gemma.generate(greedy(PROMPT))) == "".join(gemma.generate(greedy(PROMPT)))


def test_context_overflow(gemma: LlamaEngine) -> None:
    too_long = "hello " * 2100
    with pytest.raises(ContextOverflowError, match="context"):
        list(gemma.generate(greedy(too_long)))


class FixedRetriever:
    def __init__(self) -> None:
        self.hits = [
            Hit("diary/2024-05-01.md", "Morning", dt.date(2024, 5, 1), 3, 6, 0.9, "We drove to the sea with Kim."),
            Hit("diary/2024-06-12.md", "", dt.date(2024, 6, 12), 1, 2, 0.7, "Kim's birthday: cake and rain."),
        ]

    def search(self, query: str, k: int) -> list[Hit]:
        return self.hits[:k]


def test_multi_turn_with_memories_reuses_the_kv_cache(gemma: LlamaEngine, tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    settings = ChatSettings(temperature=0.0, max_answer_tokens=12, memories_k=2, user_name="Ann")
    svc = ChatService(gemma, FixedRetriever(), store, settings)
    cid = None
    dones: list[TurnDone] = []
    try:
        for q in ("Where did I go in May?", "Who was with me?", "And in June?", "What did we eat?", "Was it fun?"):
            events = list(svc.ask(cid, q))
            start, done = events[0], events[-1]
            assert isinstance(start, TurnStarted) and isinstance(done, TurnDone)
            assert [c.n for c in start.citations] == [1, 2] and start.citations[0].path == "diary/2024-05-01.md"
            assert any(isinstance(e, Token) for e in events) or done.answer == ""
            cid = start.conversation_id
            dones.append(done)
        t4, t5 = dones[3], dones[4]
        new_tokens = t5.usage.prompt_tokens - t4.usage.prompt_tokens - t4.usage.completion_tokens
        # turn 5 reads (about) only its own new tokens, not the whole conversation
        assert t5.usage.prompt_tokens_evaluated <= new_tokens + 8, (t5.usage, t4.usage)
        assert t5.usage.prompt_tokens_evaluated < t5.usage.prompt_tokens / 3
        messages = store.messages(cid)
        assert len(messages) == 10 and all(m.complete for m in messages)
        assert messages[-1].prompt_tokens_evaluated == t5.usage.prompt_tokens_evaluated
        assert "[1] 2024-05-01 · diary/2024-05-01.md › Morning" in messages[-2].memories
    finally:
        svc.close()
        store.close()


def test_close_stops_a_running_generation(gemma_path: Path) -> None:
    engine = LlamaEngine.open(config(gemma_path, n_ctx=512))
    gen = engine.generate(greedy("Once upon a time", 400))
    it = iter(gen)
    next(it)
    t0 = time.perf_counter()
    engine.close()
    assert time.perf_counter() - t0 < 1.0
    list(it)
    assert gen.result is not None and gen.result.finish_reason == "cancelled"
