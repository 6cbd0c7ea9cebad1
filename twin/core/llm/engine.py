"""The seam between twin and a language model: the :class:`Engine` protocol and its values.

An engine takes a fully assembled prompt (:class:`GenerationRequest`) and streams the answer
as text pieces. Invariants every engine keeps:

- The model is used from one thread only (the engine's own, an :class:`OwnerThread`), so a
  :class:`Generation` is fed by that thread and may be iterated from any other one.
- :meth:`Engine.submit` runs a whole job (a chat turn: counting, tokenizing, prefill, decode)
  on that thread; there :meth:`Engine.count_tokens` is a direct call and :meth:`Engine.generate`
  runs inline, handing each piece to ``on_piece`` as it is decoded (no queue, no other thread).
- A stop request (:meth:`Generation.cancel`, or a ``should_stop`` callable the engine's thread
  polls between tokens and inside a long prefill) ends the stream; what was generated so far
  is kept and the result says ``finish_reason == "cancelled"``.
- Prompt text marked untrusted (:attr:`Segment.trusted` False: notes, the user's words, past
  answers) never turns into control tokens: ``"<|im_start|>"`` in a diary stays plain text.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

from twin.core.llm.errors import EngineNotReadyError

T = TypeVar("T")

FINISH_REASONS = ("stop", "length", "context", "cancelled", "error")


@dataclass(frozen=True)
class Segment:
    """A piece of prompt text. ``trusted`` text comes from the chat template and may hold
    special tokens (``<|im_start|>``); untrusted text is data and is tokenized as plain text."""

    text: str
    trusted: bool = False


@dataclass(frozen=True)
class ChatMessage:
    """One message for chat-style backends (OpenAI-compatible endpoints)."""

    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass(frozen=True)
class SamplingParams:
    """How to pick tokens. ``temperature <= 0`` means greedy (the fastest path locally)."""

    max_tokens: int = 1024
    temperature: float = 0.7
    top_p: float = 0.8
    top_k: int = 20
    min_p: float = 0.0
    repeat_penalty: float = 1.0
    seed: int = -1
    stop: tuple[str, ...] = ()
    logit_bias: tuple[tuple[int, float], ...] = ()
    # a GBNF grammar the answer must match (llama.cpp engines; others ignore it); "" = free text
    grammar: str = ""

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0.0


@dataclass(frozen=True)
class GenerationRequest:
    """A whole prompt, in the two shapes backends need.

    ``segments`` is the exact prompt text (template already applied) for engines that tokenize
    themselves; ``messages`` is the same turn as chat messages for HTTP chat endpoints, which
    apply their own template. ``chat`` False means a plain completion (base-model transcript):
    HTTP engines then send the joined segments to ``/completions``.
    """

    segments: tuple[Segment, ...]
    messages: tuple[ChatMessage, ...] = ()
    chat: bool = True
    params: SamplingParams = field(default_factory=SamplingParams)
    enable_thinking: bool | None = None

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segments)


@dataclass(frozen=True)
class Usage:
    """Token counts of one generation. ``prompt_tokens_evaluated`` is what the model really
    read: the prompt minus the prefix reused from its KV cache."""

    prompt_tokens: int = 0
    prompt_tokens_evaluated: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class GenerationResult:
    """How a generation ended."""

    text: str
    finish_reason: str
    usage: Usage
    ttft_s: float | None = None  # request start → first piece
    decode_s: float = 0.0  # first piece → last piece

    @property
    def tokens_per_s(self) -> float | None:
        if self.decode_s <= 0 or self.usage.completion_tokens < 2:
            return None
        return (self.usage.completion_tokens - 1) / self.decode_s

    @property
    def complete(self) -> bool:
        return self.finish_reason in ("stop", "length")


@dataclass(frozen=True)
class OffloadInfo:
    """What really runs where, as far as it can be known."""

    gpu_supported: bool
    requested_layers: int  # -1: all
    offloaded_layers: int
    total_layers: int  # repeating layers + the output layer, as llama.cpp counts them
    flash_attn: bool = False
    vram_total_mib: int | None = None
    vram_used_mib: int | None = None
    warnings: tuple[str, ...] = ()
    auto_reason: str = ""  # n_gpu_layers "auto": what was chosen and why

    @property
    def summary(self) -> str:
        where = (
            f"{self.offloaded_layers}/{self.total_layers} layers on GPU"
            if self.offloaded_layers
            else "CPU only"
        )
        if self.vram_total_mib:
            where += f", VRAM {self.vram_used_mib or 0}/{self.vram_total_mib} MiB used"
        return where


@dataclass(frozen=True)
class LoraInfo:
    """The LoRA adapter asked for on top of the model: applied, or why not (``error``)."""

    path: str
    scale: float
    name: str = ""
    alpha: float = 0.0
    error: str = ""  # non-empty: the adapter is NOT applied; the base model runs alone

    @property
    def applied(self) -> bool:
        return not self.error

    @property
    def summary(self) -> str:
        label = self.name or self.path.rsplit("/", 1)[-1]
        return f"LoRA {label} ×{self.scale:g}" if self.applied else f"LoRA not applied: {self.error}"


@dataclass(frozen=True)
class ModelInfo:
    """Facts about the loaded model."""

    path: str
    name: str
    architecture: str
    kind: str  # "instruct" | "base"
    chat_template: str | None
    n_ctx_train: int
    n_ctx: int
    n_layer: int = 0
    n_params: int = 0
    size_bytes: int = 0
    bos_token: str = ""
    eos_token: str = ""
    offload: OffloadInfo | None = None
    lora: LoraInfo | None = None  # None: no adapter configured

    @property
    def model_id(self) -> str:
        if self.lora is not None and self.lora.applied and self.lora.scale != 0:
            return f"{self.name or self.path}+{self.lora.name or self.lora.path}@{self.lora.scale:g}"
        return self.name or self.path


@runtime_checkable
class Engine(Protocol):
    """A language model that streams answers for assembled prompts."""

    @property
    def info(self) -> ModelInfo: ...

    def count_tokens(self, text: str, *, trusted: bool = False) -> int:
        """Tokens ``text`` takes in a prompt (exact for local models, estimated over HTTP)."""
        ...

    def generate(
        self, request: GenerationRequest, *, should_stop: Callable[[], bool] | None = None,
        on_piece: Callable[[str], None] | None = None,
    ) -> "Generation":
        """Start generating; iterate the result for text pieces, or pass ``on_piece`` to get
        each piece on the engine's thread. Called on the engine's thread (from a job of
        :meth:`submit`), it runs inline and returns the finished generation."""
        ...

    def submit(self, fn: Callable[[], T]) -> "Future[T]":
        """Run ``fn`` on the engine's thread, after whatever it is doing now."""
        ...

    def close(self) -> None: ...


class OwnerThread:
    """The one thread that owns a model: jobs run there in order; code already running there
    calls straight through (:meth:`call`), so a job may count tokens and generate inline."""

    def __init__(self, name: str):
        self._owner: int | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name, initializer=self._own)

    def _own(self) -> None:
        self._owner = threading.get_ident()

    def on_owner(self) -> bool:
        return self._owner is not None and threading.get_ident() == self._owner

    def submit(self, fn: Callable[..., T], *args: Any) -> "Future[T]":
        try:
            return self._executor.submit(fn, *args)
        except RuntimeError as e:  # shut down
            raise EngineNotReadyError("The engine is closed.") from e

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the owner thread: directly when already there, else a round trip."""
        if self.on_owner():
            return fn(*args)
        return self.submit(fn, *args).result()

    def start(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` inline on the owner thread, or queue it there from any other thread."""
        if self.on_owner():
            fn()
        else:
            self.submit(fn)

    def shutdown(self, *, cancel_futures: bool = False) -> None:
        self._executor.shutdown(wait=not self.on_owner(), cancel_futures=cancel_futures)


_DONE = object()


class Generation:
    """A stream of answer pieces fed by an engine's thread.

    Two ways to consume it: iterate it from any one other thread (pieces travel through a
    queue), or give ``on_piece``, called with each piece on the engine's thread (no queue;
    the chat turn uses this, posting straight to its caller's loop). After the end,
    :attr:`result` holds the :class:`GenerationResult` (:meth:`wait` returns it or re-raises
    the engine's error). Leaving the loop early (``break``, an exception) stops the
    generation; :meth:`close` waits until the engine has let go of the model.

    ``should_stop`` is polled by the engine's thread (:meth:`stopping`, between tokens and
    from llama.cpp's abort callback during a prefill), so no consumer ever waits on a timer.
    """

    def __init__(self, should_stop: Callable[[], bool] | None = None, *,
                 on_piece: Callable[[str], None] | None = None):
        self.stop_event = threading.Event()
        self.result: GenerationResult | None = None
        self._should_stop = should_stop
        self._on_piece = on_piece
        self._q: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._finished = threading.Event()
        self._ticks = 0
        self.started_at = time.perf_counter()

    # -- producer side (the engine's thread) ----------------------------------------------

    def emit(self, text: str) -> None:
        if self._on_piece is not None:
            self._on_piece(text)
        else:
            self._q.put(text)

    def finish(self, result: GenerationResult) -> None:
        self.result = result
        self._finished.set()
        self._q.put(_DONE)

    def fail(self, error: BaseException) -> None:
        self._error = error
        self._finished.set()
        self._q.put(_DONE)

    def stopping(self) -> bool:
        """True once a stop was asked for (cheap; called between tokens)."""
        if self.stop_event.is_set():
            return True
        if self._should_stop is not None and self._should_stop():
            self.stop_event.set()
            return True
        return False

    def aborting(self) -> bool:
        """:meth:`stopping` for llama.cpp's abort callback, which runs between graph nodes
        (hundreds a token): the event every time, ``should_stop`` every 64th call only."""
        if self.stop_event.is_set():
            return True
        self._ticks += 1
        return not self._ticks & 63 and self.stopping()

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    # -- consumer side ----------------------------------------------------------------------

    def cancel(self) -> None:
        self.stop_event.set()

    def wait(self, timeout: float | None = None) -> GenerationResult:
        """The result once the generation has ended; the engine's error is re-raised."""
        if not self._finished.wait(timeout):
            raise TimeoutError("the generation did not end in time")
        if self._error is not None:
            raise self._error
        if self.result is None:  # pragma: no cover - finish() always sets it
            raise RuntimeError("the engine ended the stream without a result")
        return self.result

    def __iter__(self) -> Iterator[str]:
        get = self._q.get
        try:
            while True:
                item = get()
                if item is _DONE:
                    break
                yield item  # type: ignore[misc]  # the queue holds only this iterator's item type
        finally:
            if not self._finished.is_set():
                self.stop_event.set()
        if self._error is not None:
            raise self._error

    def close(self, timeout: float | None = None) -> None:
        """Stop (if still running) and wait for the engine thread to finish this generation."""
        if not self._finished.is_set():
            self.stop_event.set()
        self._finished.wait(timeout)


def join_segments(segments: Sequence[Segment]) -> str:
    """The prompt as one string (for backends that take text)."""
    return "".join(s.text for s in segments)
