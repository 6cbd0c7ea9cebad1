"""OpenAIEngine: a model behind an OpenAI-compatible HTTP server (llama-server, vLLM, Ollama).

Streams ``/chat/completions`` (instruct models: the server applies the model's template) or
``/completions`` (base-model transcripts) as server-sent events, with the standard library
only. Reasoning sent apart by the server (``reasoning_content``) is re-wrapped in
``<think>…</think>`` so the chat service separates it the same way as local output.

The server tokenizes what it gets, often with special tokens parsed, so text is defanged
first: ``<|im_end|>`` in a note becomes ``<\\u200b|im_end|>`` and can no longer be read as
a control token. Token counts for the budget are estimated (3 bytes per token, on the safe
side); a stop request closes the connection, which servers treat as a cancel.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from twin.core.llm.engine import Generation, GenerationRequest, GenerationResult, ModelInfo, OwnerThread, T, Usage
from twin.core.llm.errors import ContextOverflowError, EndpointError

_SPECIAL = re.compile(r"<(?=\|)|<(?=/?(?:think|tool_call|tool_response|start_of_turn|end_of_turn|s|bos|eos|pad|unk"
                      r"|mask|start_of_image|end_of_image)>)|\[(?=/?INST\])")
_CONTEXT_ERR = re.compile(r"context|too long|exceed", re.IGNORECASE)


def defang(text: str) -> str:
    """Break special-token look-alikes with a zero-width space (the text reads the same)."""
    return _SPECIAL.sub(lambda m: m.group() + "\u200b", text)


@dataclass(frozen=True)
class EndpointConfig:
    base_url: str = "http://127.0.0.1:8080/v1"
    model: str = ""
    api_key: str = ""
    timeout_s: float = 600.0
    n_ctx: int = 32768
    kind: str = "instruct"  # "instruct": chat endpoint; "base": completions endpoint


class OpenAIEngine:
    """The :class:`~twin.core.llm.engine.Engine` protocol over HTTP."""

    def __init__(self, config: EndpointConfig):
        self.config = config
        self._base = config.base_url.rstrip("/")
        self._info = ModelInfo(path=self._base, name=config.model or self._base, architecture="remote",
                               kind=config.kind, chat_template=None, n_ctx_train=config.n_ctx, n_ctx=config.n_ctx)
        self._thread = OwnerThread("twin-llm-http")

    @property
    def info(self) -> ModelInfo:
        return self._info

    def close(self) -> None:
        self._thread.shutdown(cancel_futures=True)

    def count_tokens(self, text: str, *, trusted: bool = False) -> int:
        return len(text.encode("utf-8")) // 3 + 1

    def models(self) -> list[str]:
        """The model ids the server offers (also a reachability check)."""
        with self._open("GET", "/models", None, timeout=min(self.config.timeout_s, 10.0)) as resp:
            data = json.loads(resp.read().decode("utf-8"))
        return [str(m.get("id")) for m in data.get("data", [])]

    def generate(self, request: GenerationRequest, *, should_stop: Callable[[], bool] | None = None,
                 on_piece: Callable[[str], None] | None = None) -> Generation:
        gen = Generation(should_stop, on_piece=on_piece)
        self._thread.start(lambda: self._run_guarded(request, gen))  # inline on the engine's thread
        return gen

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        return self._thread.submit(fn)

    # -- on the engine thread ---------------------------------------------------------------

    def _run_guarded(self, request: GenerationRequest, gen: Generation) -> None:
        try:
            gen.finish(self._run(request, gen))
        except BaseException as e:  # noqa: BLE001 - thread boundary: relayed to the consumer
            gen.fail(e)

    def _body(self, request: GenerationRequest) -> tuple[str, dict[str, Any]]:
        p = request.params
        body: dict[str, Any] = {"stream": True, "max_tokens": p.max_tokens, "temperature": p.temperature,
                                "top_p": p.top_p, "stream_options": {"include_usage": True}}
        if self.config.model:
            body["model"] = self.config.model
        if p.top_k > 0:
            body["top_k"] = p.top_k
        if p.min_p > 0:
            body["min_p"] = p.min_p
        if p.repeat_penalty != 1.0:
            body["repeat_penalty"] = p.repeat_penalty
        if p.seed >= 0:
            body["seed"] = p.seed
        if p.stop:
            body["stop"] = list(p.stop)
        if request.chat and request.messages:
            body["messages"] = [{"role": m.role, "content": defang(m.content)} for m in request.messages]
            if request.enable_thinking is not None:
                body["chat_template_kwargs"] = {"enable_thinking": request.enable_thinking}
            return "/chat/completions", body
        body["prompt"] = defang(request.text)
        return "/completions", body

    def _run(self, request: GenerationRequest, gen: Generation) -> GenerationResult:
        path, body = self._body(request)
        out: list[str] = []
        usage: dict[str, Any] = {}
        finish = "stop"
        t_first: float | None = None
        t_last = 0.0
        in_reasoning = False
        with self._open("POST", path, body, timeout=self.config.timeout_s) as resp:
            done = threading.Event()
            watcher = threading.Thread(target=self._watch, args=(gen, done, resp), daemon=True,
                                       name="twin-llm-http-stop")
            watcher.start()
            try:
                for event in _sse_events(resp):
                    if gen.stopping():
                        break
                    if event.get("error"):
                        err = event["error"]
                        raise EndpointError(f"{self._base} failed: {err.get('message', err) if isinstance(err, dict) else err}")
                    usage = event.get("usage") or usage
                    timings = event.get("timings")
                    if timings:
                        usage = {**usage, "_timings": timings}
                    for choice in event.get("choices") or []:
                        delta = choice.get("delta") or {}
                        reasoning = delta.get("reasoning_content") or ""
                        text = delta.get("content") if "delta" in choice else choice.get("text")
                        piece = ""
                        if reasoning:
                            piece += ("" if in_reasoning else "<think>") + reasoning
                            in_reasoning = True
                        if text:
                            piece += ("</think>" if in_reasoning else "") + text
                            in_reasoning = False
                        if piece:
                            t_last = time.perf_counter()
                            t_first = t_first or t_last
                            gen.emit(piece)
                            out.append(piece)
                        finish = choice.get("finish_reason") or finish
            except (OSError, ValueError) as e:  # the watcher closed the socket, or the server dropped it
                if not gen.stopping():
                    raise EndpointError(f"The connection to {self._base} broke: {e}") from e
            finally:
                done.set()
        if gen.stopping():
            finish = "cancelled"
        # servers that report no usage in streams (llama-cpp-python's): estimate
        n_prompt = int(usage.get("prompt_tokens") or self.count_tokens(json.dumps(body.get("messages") or body.get("prompt"))))
        timings = usage.get("_timings") or {}
        evaluated = int(timings.get("prompt_n", n_prompt)) if timings else n_prompt
        return GenerationResult(
            "".join(out), {"eos": "stop"}.get(finish, finish),
            Usage(n_prompt, evaluated, int(usage.get("completion_tokens") or len(out))),
            (t_first - gen.started_at) if t_first else None, (t_last - t_first) if t_first else 0.0)

    @staticmethod
    def _watch(gen: Generation, done: threading.Event, resp: Any) -> None:
        """Close the response when a stop is asked for: unblocks a read waiting on the server."""
        while not done.wait(0.05):
            if gen.stopping():
                try:
                    resp.fp.raw._sock.shutdown(2)  # noqa: SLF001 - the only way to unblock a read
                except (AttributeError, OSError):
                    resp.close()
                return

    def _open(self, method: str, path: str, body: dict[str, Any] | None, *, timeout: float) -> Any:
        headers = {"Accept": "text/event-stream" if body and body.get("stream") else "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self.config.api_key:
            headers["Authorization"] = f"Bearer {self.config.api_key}"
        req = urllib.request.Request(self._base + path, data=data, headers=headers, method=method)
        try:
            return urllib.request.urlopen(req, timeout=timeout)  # noqa: S310 - a URL the user configured
        except urllib.error.HTTPError as e:
            detail = e.read().decode("utf-8", errors="replace")[:500]
            if e.code == 400 and _CONTEXT_ERR.search(detail):
                raise ContextOverflowError(f"The server says the prompt is too long: {detail}") from e
            raise EndpointError(f"{self._base}{path} answered HTTP {e.code}: {detail or e.reason}") from e
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise EndpointError(f"Cannot reach {self._base}: {reason}. Is the server running?") from e


def _sse_events(resp: Any) -> Iterator[dict[str, Any]]:
    """JSON payloads of a server-sent event stream, until ``data: [DONE]``."""
    data: list[str] = []
    for raw in resp:
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if line.startswith("data:"):
            data.append(line[5:].lstrip())
            continue
        if line or not data:
            continue  # comments, other fields; or a blank line with nothing pending
        payload, data = "\n".join(data), []
        if payload == "[DONE]":
            return
        try:
            yield json.loads(payload)
        except json.JSONDecodeError:
            continue
    if data and data[0] != "[DONE]":
        try:
            yield json.loads("\n".join(data))
        except json.JSONDecodeError:
            return
