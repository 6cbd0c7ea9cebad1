"""FakeEngine: a scripted model for tests and ``twin --fake`` (llm's ``MockModel.enqueue``).

It streams enqueued answers piece by piece from its own thread, exactly like a real engine
(same :class:`Generation` hand-off, same stop semantics, same :meth:`submit` owner-thread
jobs in which ``generate`` runs inline), and records every request.
Tokens are counted as ~4 characters each, so budgets behave plausibly.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from typing import TypeVar

from twin.core.llm.engine import Generation, GenerationRequest, GenerationResult, ModelInfo, OwnerThread, Usage
from twin.core.llm.errors import ContextOverflowError

T = TypeVar("T")


class FakeEngine:
    """Answers with what was enqueued (a list of pieces, or a string split on spaces)."""

    def __init__(self, *, n_ctx: int = 8192, chat_template: str | None = None, kind: str = "instruct",
                 delay_s: float = 0.0, name: str = "fake"):
        self._info = ModelInfo(path="", name=name, architecture="fake", kind=kind,
                               chat_template=chat_template, n_ctx_train=n_ctx, n_ctx=n_ctx)
        self.delay_s = delay_s
        self.requests: list[GenerationRequest] = []
        self._script: list[list[str]] = []
        self._lock = threading.Lock()
        self._thread = OwnerThread("twin-llm-fake")
        self._cached: str = ""  # what a real engine would hold in its KV cache

    @property
    def info(self) -> ModelInfo:
        return self._info

    def enqueue(self, *answers: str | Sequence[str]) -> None:
        with self._lock:
            for a in answers:
                self._script.append(_pieces(a) if isinstance(a, str) else list(a))

    def count_tokens(self, text: str, *, trusted: bool = False) -> int:
        return (len(text) + 3) // 4

    def generate(self, request: GenerationRequest, *, should_stop: Callable[[], bool] | None = None,
                 on_piece: Callable[[str], None] | None = None) -> Generation:
        gen = Generation(should_stop, on_piece=on_piece)
        self.requests.append(request)
        with self._lock:
            pieces = self._script.pop(0) if self._script else ["OK"]
        self._thread.start(lambda: self._run(request, pieces, gen))
        return gen

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        return self._thread.submit(fn)

    def _run(self, request: GenerationRequest, pieces: Iterable[str], gen: Generation) -> None:
        try:
            prompt = request.text
            n_prompt = self.count_tokens(prompt)
            if n_prompt >= self._info.n_ctx:
                raise ContextOverflowError(f"The prompt needs {n_prompt} tokens; the context holds {self._info.n_ctx}.")
            common = _common_prefix(self._cached, prompt)
            evaluated = n_prompt - self.count_tokens(prompt[:common])
            out: list[str] = []
            finish = "stop"
            t_first = None
            for i, piece in enumerate(pieces):
                if gen.stopping():
                    finish = "cancelled"
                    break
                if i >= request.params.max_tokens:
                    finish = "length"
                    break
                if self.delay_s:
                    time.sleep(self.delay_s)
                t_first = t_first or time.perf_counter()
                gen.emit(piece)
                out.append(piece)
            text = "".join(out)
            self._cached = prompt + text
            end = time.perf_counter()
            gen.finish(GenerationResult(
                text, finish, Usage(n_prompt, max(1, evaluated), len(out)),
                (t_first - gen.started_at) if t_first else None, (end - t_first) if t_first else 0.0))
        except BaseException as e:  # noqa: BLE001 - thread boundary: relayed to the consumer
            gen.fail(e)

    def close(self) -> None:
        self._thread.shutdown(cancel_futures=True)


def _pieces(text: str) -> list[str]:
    words = text.split(" ")
    return [w if i == 0 else " " + w for i, w in enumerate(words)]


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i
