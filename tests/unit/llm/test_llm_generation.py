"""The Generation hand-off between an engine thread and a consumer, and the FakeEngine."""

from __future__ import annotations

import threading
import time

import pytest

from twin.core.llm.engine import Engine, Generation, GenerationRequest, GenerationResult, SamplingParams, Segment, Usage
from twin.core.llm.errors import ContextOverflowError
from twin.core.llm.fake import FakeEngine


def producer(gen: Generation, pieces: list[str], delay: float = 0.0) -> threading.Thread:
    def run() -> None:
        out = []
        for p in pieces:
            if gen.stopping():
                gen.finish(GenerationResult("".join(out), "cancelled", Usage(1, 1, len(out))))
                return
            time.sleep(delay)
            gen.emit(p)
            out.append(p)
        gen.finish(GenerationResult("".join(out), "stop", Usage(1, 1, len(out))))

    t = threading.Thread(target=run)
    t.start()
    return t


def test_pieces_then_result() -> None:
    gen = Generation()
    t = producer(gen, ["a", "b", "c"])
    assert list(gen) == ["a", "b", "c"]
    t.join()
    assert gen.result is not None and gen.result.text == "abc" and gen.result.complete


def test_should_stop_is_polled_while_waiting() -> None:
    flag = threading.Event()
    gen = Generation(should_stop=flag.is_set)
    t = producer(gen, ["x"] * 1000, delay=0.01)
    got = []
    for i, piece in enumerate(gen):
        got.append(piece)
        if i == 2:
            flag.set()
    t.join()
    assert gen.result is not None and gen.result.finish_reason == "cancelled"
    assert 3 <= len(got) < 10
    assert not gen.result.complete


def test_leaving_the_loop_stops_the_producer() -> None:
    gen = Generation()
    t = producer(gen, ["x"] * 1000, delay=0.005)
    for _ in gen:
        break
    gen.close(timeout=5)
    t.join(timeout=5)
    assert not t.is_alive()
    assert gen.result is not None and gen.result.finish_reason == "cancelled"


def test_errors_are_reraised_in_the_consumer() -> None:
    gen = Generation()
    gen.emit("partial")
    gen.fail(ContextOverflowError("too long"))
    it = iter(gen)
    assert next(it) == "partial"
    with pytest.raises(ContextOverflowError):
        next(it)


def test_tokens_per_s() -> None:
    r = GenerationResult("x", "stop", Usage(10, 2, 11), 0.1, 2.0)
    assert r.tokens_per_s == 5.0
    assert GenerationResult("", "stop", Usage(), None, 0.0).tokens_per_s is None


def test_fake_engine_scripts_and_records() -> None:
    eng = FakeEngine(n_ctx=1000)
    try:
        assert isinstance(eng, Engine)
        eng.enqueue("hello there world", ["a", "b"])
        req = GenerationRequest((Segment("prompt"),), params=SamplingParams(max_tokens=100))
        g = eng.generate(req)
        assert list(g) == ["hello", " there", " world"]
        g2 = eng.generate(GenerationRequest((Segment("prompt more"),)))
        assert "".join(g2) == "ab"
        assert g2.result is not None and g2.result.usage.prompt_tokens_evaluated < g2.result.usage.prompt_tokens
        assert len(eng.requests) == 2
        with pytest.raises(ContextOverflowError):
            list(eng.generate(GenerationRequest((Segment("x" * 5000),))))
    finally:
        eng.close()


def test_fake_engine_cancel_keeps_partial() -> None:
    eng = FakeEngine(delay_s=0.01)
    try:
        eng.enqueue(["w"] * 200)
        flag = threading.Event()
        g = eng.generate(GenerationRequest((Segment("p"),)), should_stop=flag.is_set)
        n = 0
        for _ in g:
            n += 1
            if n == 5:
                flag.set()
        assert g.result is not None and g.result.finish_reason == "cancelled"
        assert 5 <= len(g.result.text) < 20
    finally:
        eng.close()
