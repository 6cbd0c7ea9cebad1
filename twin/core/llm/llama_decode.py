"""The generation loop on llama.cpp's C API (through llama-cpp-python's bindings).

Why not ``Llama.create_completion(stream=True)``: it re-detokenizes the whole answer at every
token and scans 152k logits on the CPU to sample, ~15% of decode time at GPU speeds
(shared/gpu/README.md). This loop:

- reuses the longest common token prefix with what the KV cache holds (multi-turn chats
  re-read only the new tokens), respecting sliding-window caches;
- evaluates the prompt with ``Llama.eval`` (batched); an abort callback lets a stop request
  interrupt a running ``llama_decode`` (a long prompt, or a slow CPU step) within a
  millisecond on the CPU backend;
- on a GPU, launches each token's decode before doing the Python work for it (GPU decode
  is asynchronous); on a CPU, streams each piece first and checks for a stop before decoding;
- picks greedy tokens by numpy argmax (no CPU sampler), others with a llama.cpp sampler chain;
- turns token pieces into text with an incremental UTF-8 decoder and handles stop strings.

It gets the ``llama_cpp`` module passed in (``llama.py`` is the only importer) and runs on
the engine's thread only.
"""

from __future__ import annotations

import codecs
import ctypes
import time
from types import ModuleType
from typing import Any

import numpy as np

from twin.core.llm.engine import Generation, GenerationResult, SamplingParams, Usage
from twin.core.llm.errors import ContextOverflowError, LlmError
from twin.core.llm.stops import StopMatcher
from twin.messages import msg


class DecodeLoop:
    """Owns the per-context C objects (1-token batch, piece buffer, abort callback)."""

    def __init__(self, llama_cpp: ModuleType, llm: Any, *, end_tokens: frozenset[int] = frozenset(),
                 overlap: bool = False):
        self.L = L = llama_cpp
        self.llm = llm
        # launch token i+1's decode before streaming token i: only worth it when decode is
        # asynchronous (GPU); on a CPU it would hold every piece back by one decode step
        self.overlap = overlap
        self.end_tokens = end_tokens  # besides end-of-generation tokens: control tokens
        self.ctx = llm._ctx.ctx
        self.vocab = llm._model.vocab
        self.n_vocab = int(llm.n_vocab())
        self.n_ctx = int(llm.n_ctx())
        self.n_swa = int(L.llama_model_n_swa(llm._model.model))
        self.batch = L.llama_batch_init(1, 0, 1)
        self.batch.n_tokens = 1
        self.batch.n_seq_id[0] = 1
        self.batch.seq_id[0][0] = 0
        self.batch.logits[0] = 1
        self.buf = ctypes.create_string_buffer(256)
        self._gen: Generation | None = None
        # kept referenced: llama.cpp calls it during llama_decode
        self._abort_cb = L.ggml_abort_callback(self._should_abort)
        # polled by the CPU backend between graph nodes (cost not measurable); GPU backends
        # ignore it, their steps are short
        L.llama_set_abort_callback(self.ctx, self._abort_cb, None)
        llm._stack.callback(lambda: L.llama_batch_free(self.batch))

    def _should_abort(self, _data: Any) -> bool:
        gen = self._gen
        return gen is not None and gen.aborting()

    def run(self, tokens: list[int], params: SamplingParams, gen: Generation) -> GenerationResult:
        """Generate for ``tokens`` (the whole prompt), feeding ``gen``; return how it ended."""
        n_prompt = len(tokens)
        if n_prompt == 0:
            raise LlmError("Empty prompt.")
        if n_prompt >= self.n_ctx:
            raise ContextOverflowError(msg("chat.context_overflow", n=str(n_prompt), ctx=str(self.n_ctx)))
        reused = self._reuse_prefix(tokens)
        usage = Usage(n_prompt, n_prompt - reused, 0)
        self._gen = gen  # the abort callback stops llama_decode mid-way when gen is cancelled
        try:
            try:
                self.llm.eval(tokens[reused:])
            except RuntimeError as e:
                if gen.stopping():
                    return GenerationResult("", "cancelled", usage, None, 0.0)
                raise LlmError(f"llama.cpp failed to read the prompt ({e}).") from e
            return self._decode(n_prompt, params, gen, usage)
        finally:
            self._gen = None

    def _reuse_prefix(self, tokens: list[int]) -> int:
        """Keep the KV cache's longest common prefix with ``tokens``; return its length."""
        llm = self.llm
        n_cached = int(llm.n_tokens)
        m = min(n_cached, len(tokens) - 1)  # at least one token is evaluated, for fresh logits
        prefix = 0
        if m > 0:
            diff = np.flatnonzero(llm.input_ids[:m] != np.asarray(tokens[:m], dtype=np.intc))
            prefix = int(diff[0]) if diff.size else m
        if prefix > 0 and self.n_swa > 0:
            # a sliding-window cache may have dropped tokens the new suffix still attends to
            mem = self.L.llama_get_memory(self.ctx)
            pos_min = int(self.L.llama_memory_seq_pos_min(mem, 0))
            if pos_min > max(0, prefix - self.n_swa):
                prefix = 0
        if prefix > 0 and llm._ctx.kv_cache_seq_rm(-1, prefix, -1):
            llm.n_tokens = prefix
            return prefix
        llm.reset()
        return 0

    def _decode(self, n_prompt: int, p: SamplingParams, gen: Generation, usage: Usage) -> GenerationResult:
        L, ctx, vocab, buf = self.L, self.ctx, self.vocab, self.buf
        is_eog, piece = L.llama_vocab_is_eog, L.llama_token_to_piece
        end_tokens, overlap = self.end_tokens, self.overlap
        room = self.n_ctx - n_prompt
        max_new = min(p.max_tokens, room) if p.max_tokens > 0 else room
        full_at_end = max_new == room  # stopping at max_new means the context is full
        udec = codecs.getincrementaldecoder("utf-8")("replace").decode
        stops = StopMatcher(p.stop)
        # greedy + grammar: argmax among the grammar's tokens, checked on the top logits first
        # (a grammar sampler over the whole vocabulary costs ~0.1 s a token on a 262k vocab)
        constrained = _GreedyGrammar(L, vocab, p.grammar) if p.greedy and p.grammar else None
        chain = None if p.greedy else self._sampler_chain(p)
        bias_ids = np.array([t for t, _ in p.logit_bias], dtype=np.int64)
        bias_vals = np.array([b for _, b in p.logit_bias], dtype=np.float32)
        logits_ith, as_array, shape = L.llama_get_logits_ith, np.ctypeslib.as_array, (self.n_vocab,)
        out: list[str] = []
        n_gen = 0
        finish = "length"
        t_first: float | None = None
        t_last = 0.0
        try:
            while True:
                if gen.stopping():
                    finish = "cancelled"
                    break
                if chain is None:
                    logits = as_array(logits_ith(ctx, -1), shape=shape)
                    if bias_ids.size:
                        logits = logits.copy()
                        logits[bias_ids] += bias_vals
                    if constrained is None:
                        tok = int(logits.argmax())
                    else:
                        tok = constrained.pick(logits, p.repeat_penalty)
                else:
                    tok = L.llama_sampler_sample(chain, ctx, -1)
                if tok in end_tokens or is_eog(vocab, tok):
                    finish = "stop"
                    break
                n_gen += 1
                more = n_gen < max_new
                if more and overlap:  # launch the next decode first: a GPU runs it while Python works
                    more = self._launch(tok)
                    finish = finish if more else ("cancelled" if gen.stopping() else "context")
                n = piece(vocab, tok, buf, len(buf), 0, False)
                if n < 0:  # a piece longer than the buffer: grow it once
                    buf = self.buf = ctypes.create_string_buffer(-n)
                    n = piece(vocab, tok, buf, len(buf), 0, False)
                text = stops.feed(udec(buf.raw[:n]) if n > 0 else "")
                if text:
                    t_last = time.perf_counter()
                    if t_first is None:
                        t_first = t_last
                    gen.emit(text)
                    out.append(text)
                if stops.stopped:
                    finish = "stop"
                    break
                if more and not overlap:  # on a CPU decode blocks: show the piece first
                    if gen.stopping():
                        finish = "cancelled"
                        break
                    more = self._launch(tok)
                    finish = finish if more else ("cancelled" if gen.stopping() else "context")
                if not more:
                    if finish not in ("context", "cancelled"):
                        finish = "context" if full_at_end else "length"
                    break
            tail = stops.flush() + udec(b"", True) if not stops.stopped else ""
            if tail:
                t_last = time.perf_counter()
                t_first = t_first or t_last
                gen.emit(tail)
                out.append(tail)
        finally:
            if chain is not None:
                L.llama_sampler_free(chain)
            if constrained is not None:
                constrained.free()
        ttft = (t_first - gen.started_at) if t_first is not None else None
        return GenerationResult(
            "".join(out), finish, Usage(usage.prompt_tokens, usage.prompt_tokens_evaluated, n_gen),
            ttft, (t_last - t_first) if t_first is not None else 0.0,
        )

    def _launch(self, tok: int) -> bool:
        """Decode ``tok`` at the next position; False when the KV cache is full."""
        llm, batch = self.llm, self.batch
        pos = int(llm.n_tokens)
        batch.token[0] = tok
        batch.pos[0] = pos
        rc = self.L.llama_decode(self.ctx, batch)
        if rc == 1:  # no room left in the KV cache
            return False
        if rc == 2 and self._gen is not None and self._gen.stopping():
            return False  # aborted by a stop request (the abort callback)
        if rc != 0:
            raise LlmError(f"llama.cpp failed while generating (llama_decode returned {rc}).")
        llm.input_ids[pos] = tok
        llm.n_tokens = pos + 1
        return True

    def _sampler_chain(self, p: SamplingParams) -> Any:
        L = self.L
        chain = L.llama_sampler_chain_init(L.llama_sampler_chain_default_params())
        add = L.llama_sampler_chain_add
        if p.grammar:  # first: the later samplers only ever see tokens the grammar allows
            grammar = L.llama_sampler_init_grammar(self.vocab, p.grammar.encode("utf-8"), b"root")
            if not grammar:
                L.llama_sampler_free(chain)
                raise LlmError("llama.cpp rejected the output grammar (GBNF syntax error).")
            add(chain, grammar)
        if p.logit_bias:
            arr = (L.llama_logit_bias * len(p.logit_bias))()
            for i, (tok, bias) in enumerate(p.logit_bias):
                arr[i].token, arr[i].bias = tok, bias
            add(chain, L.llama_sampler_init_logit_bias(self.n_vocab, len(p.logit_bias), arr))
        if p.repeat_penalty != 1.0:
            add(chain, L.llama_sampler_init_penalties(self.n_vocab, 64, p.repeat_penalty, 0.0, 0.0))
        if p.top_k > 0:
            add(chain, L.llama_sampler_init_top_k(p.top_k))
        if 0.0 < p.top_p < 1.0:
            add(chain, L.llama_sampler_init_top_p(p.top_p, 1))
        if p.min_p > 0.0:
            add(chain, L.llama_sampler_init_min_p(p.min_p, 1))
        add(chain, L.llama_sampler_init_temp(p.temperature))
        seed = p.seed if p.seed >= 0 else int(time.time_ns() & 0xFFFFFFFF)
        add(chain, L.llama_sampler_init_dist(seed & 0xFFFFFFFF))
        return chain


_TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)])


class _GreedyGrammar:
    """Greedy decoding under a GBNF grammar (llama.cpp's grammar sampler as a filter).

    The best token the grammar allows is looked for among the ``k`` highest logits first and
    in the whole vocabulary only when none of them is allowed (rare: where the grammar forces
    a token the model did not expect). Only allowed tokens are accepted into the grammar, so
    llama.cpp's grammar state never sees a token it would abort on.
    """

    def __init__(self, L: ModuleType, vocab: Any, grammar: str, k: int = 64):
        self.L, self.k = L, k
        self.recent: list[int] = []  # the last 64 tokens, for the repeat penalty
        self.smpl = L.llama_sampler_init_grammar(vocab, grammar.encode("utf-8"), b"root")
        if not self.smpl:
            raise LlmError("llama.cpp rejected the output grammar (GBNF syntax error).")
        self.is_eog = lambda tok: bool(L.llama_vocab_is_eog(vocab, tok))

    def pick(self, logits: np.ndarray, repeat_penalty: float = 1.0) -> int:
        if repeat_penalty != 1.0 and self.recent:  # llama.cpp's rule: shrink positive logits, grow negative ones
            logits = logits.copy()
            ids = np.unique(np.asarray(self.recent, dtype=np.int64))
            vals = logits[ids]
            logits[ids] = np.where(vals > 0, vals / repeat_penalty, vals * repeat_penalty)
        k = min(self.k, logits.shape[0])
        tok = self._best(np.argpartition(logits, -k)[-k:], logits)
        if tok is None:
            tok = self._best(np.arange(logits.shape[0], dtype=np.int32), logits)
        if tok is None:
            raise LlmError("The output grammar allows no token here (a grammar bug).")
        if not self.is_eog(tok):  # the end token ends the loop; the grammar is complete there
            self.L.llama_sampler_accept(self.smpl, tok)
        self.recent = self.recent[-63:] + [tok]
        return tok

    def _best(self, ids: np.ndarray, logits: np.ndarray) -> int | None:
        L = self.L
        arr = np.empty(ids.shape[0], dtype=_TOKEN_DATA)
        arr["id"], arr["logit"], arr["p"] = ids, logits[ids], 0.0
        data = L.llama_token_data_array(arr.ctypes.data_as(ctypes.POINTER(L.llama_token_data)), arr.shape[0], -1,
                                        False)
        L.llama_sampler_apply(self.smpl, ctypes.byref(data))
        masked = arr["logit"]
        i = int(masked.argmax())
        return int(arr["id"][i]) if np.isfinite(masked[i]) else None

    def free(self) -> None:
        self.L.llama_sampler_free(self.smpl)
