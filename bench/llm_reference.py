"""llama.cpp's own generation loop on its C API: the reference that twin's streaming is measured
against (bench/llm_bench.py, bench/gpu/gpu_bench.py).

No twin code and no ``llama_cpp.Llama`` object: a model and a context made with
``llama_model_load_from_file``/``llama_init_from_model``, the prompt decoded in ``n_batch``
chunks, then per token ``llama_decode`` of a reusable 1-token batch, greedy by numpy argmax
over ``llama_get_logits_ith`` (what the fastest way in shared/gpu/lean_decode_loop.py does),
``llama_token_to_piece`` and an incremental UTF-8 decoder. With ``overlap`` (GPU) the next
decode is launched before the piece work, as twin's loop does on a GPU.

Besides the rate a consumer sees, each run returns llama.cpp's own timing of the same
decodes (``llama_perf_context``: time inside ``llama_decode`` up to its synchronisation).
"""

from __future__ import annotations

import codecs
import ctypes
import time
from dataclasses import dataclass

import llama_cpp as L
import numpy as np

pc = time.perf_counter
KV_TYPES = {"f32": 0, "f16": 1, "q4_0": 2, "q8_0": 8, "bf16": 30}


@dataclass
class RawRun:
    ids: list[int]
    text: str
    t_start: float
    stamps: list[float]  # when each token's text was delivered
    c_decode_ms: float  # llama.cpp's own time for the n_eval single-token decodes
    c_n_eval: int
    c_prompt_ms: float
    c_n_prompt: int

    @property
    def tokens_per_s(self) -> float:
        """Delivered tokens per second, first to last (the consumer's view)."""
        n = len(self.stamps)
        return (n - 1) / (self.stamps[-1] - self.stamps[0]) if n > 1 else float("nan")

    @property
    def c_tokens_per_s(self) -> float:
        return self.c_n_eval / self.c_decode_ms * 1e3 if self.c_decode_ms else float("nan")

    @property
    def c_prompt_tokens_per_s(self) -> float:
        return self.c_n_prompt / self.c_prompt_ms * 1e3 if self.c_prompt_ms else float("nan")

    @property
    def ttft_s(self) -> float:
        return self.stamps[0] - self.t_start if self.stamps else float("nan")


class RawModel:
    """One model + context on the C API, configured like twin's engine."""

    def __init__(self, path: str, *, n_ctx: int, n_batch: int, n_ubatch: int, flash_attn: bool,
                 n_threads: int, n_gpu_layers: int = -1, repack: bool = False, kv_type: str = "f16",
                 overlap: bool = False):
        L.llama_backend_init()
        mp = L.llama_model_default_params()
        mp.n_gpu_layers = n_gpu_layers
        mp.use_extra_bufts = repack  # --no-repack (see tests/model/conftest.py: AMX SIGILL)
        self.model = L.llama_model_load_from_file(path.encode(), mp)
        if not self.model:
            raise RuntimeError(f"llama.cpp could not load {path}")
        cp = L.llama_context_default_params()
        cp.n_ctx, cp.n_batch, cp.n_ubatch = n_ctx, n_batch, n_ubatch
        cp.n_threads = cp.n_threads_batch = n_threads
        cp.flash_attn_type = L.LLAMA_FLASH_ATTN_TYPE_ENABLED if flash_attn else L.LLAMA_FLASH_ATTN_TYPE_DISABLED
        cp.type_k = cp.type_v = KV_TYPES[kv_type]
        cp.no_perf = False
        self.ctx = L.llama_init_from_model(self.model, cp)
        if not self.ctx:
            raise RuntimeError("llama.cpp could not create the context")
        self.n_batch = n_batch
        self.overlap = overlap
        self.vocab = L.llama_model_get_vocab(self.model)
        self.n_vocab = int(L.llama_vocab_n_tokens(self.vocab))
        self.mem = L.llama_get_memory(self.ctx)
        self.b1 = L.llama_batch_init(1, 0, 1)
        self.b1.n_tokens = 1
        self.b1.n_seq_id[0] = 1
        self.b1.seq_id[0][0] = 0
        self.b1.logits[0] = 1
        self.bp = L.llama_batch_init(n_batch, 0, 1)
        self.buf = ctypes.create_string_buffer(256)
        self._last: list[int] = []

    def tokenize(self, text: str, *, special: bool = True) -> list[int]:
        data = text.encode()
        arr = (L.llama_token * (len(data) + 16))()
        n = L.llama_tokenize(self.vocab, data, len(data), arr, len(arr), True, special)
        if n < 0:
            raise RuntimeError("tokenize failed")
        return list(arr[:n])

    def _prompt(self, tokens: list[int], start: int = 0) -> None:
        bp, nb = self.bp, self.n_batch
        for i in range(0, len(tokens), nb):
            chunk = tokens[i:i + nb]
            bp.n_tokens = len(chunk)
            for j, t in enumerate(chunk):
                bp.token[j], bp.pos[j], bp.n_seq_id[j], bp.seq_id[j][0], bp.logits[j] = t, start + i + j, 1, 0, 0
            if i + nb >= len(tokens):
                bp.logits[len(chunk) - 1] = 1
            if L.llama_decode(self.ctx, bp) != 0:
                raise RuntimeError("llama_decode(prompt) failed")

    def run(self, prompt: list[int], n_gen: int, stop_ids: frozenset[int] = frozenset(), *,
            reuse: bool = False) -> RawRun:
        """Greedy generation of up to ``n_gen`` tokens (fewer at end-of-generation or at one
        of ``stop_ids``: pass twin's end tokens so that both stop alike). With ``reuse``, a
        prompt equal to the last one re-reads only its last token, as twin's engine does."""
        keep = len(prompt) - 1 if reuse and self._last == prompt else 0
        if keep:
            L.llama_memory_seq_rm(self.mem, 0, keep, -1)
        else:
            L.llama_memory_clear(self.mem, True)
        self._last = list(prompt)
        L.llama_perf_context_reset(self.ctx)
        ctx, vocab, buf, b1 = self.ctx, self.vocab, self.buf, self.b1
        decode, piece, is_eog = L.llama_decode, L.llama_token_to_piece, L.llama_vocab_is_eog
        logits_ith, as_array, shape = L.llama_get_logits_ith, np.ctypeslib.as_array, (self.n_vocab,)
        udec = codecs.getincrementaldecoder("utf-8")("replace").decode
        ids: list[int] = []
        texts: list[str] = []
        stamps: list[float] = []
        t0 = pc()
        self._prompt(prompt[keep:], keep)
        pos = len(prompt)
        tok = int(as_array(logits_ith(ctx, -1), shape=shape).argmax())
        for i in range(n_gen):
            if tok in stop_ids or is_eog(vocab, tok):
                break
            more = i < n_gen - 1
            if more and self.overlap:  # launch the next decode first (asynchronous on a GPU)
                b1.token[0], b1.pos[0] = tok, pos
                if decode(ctx, b1):
                    raise RuntimeError("llama_decode failed")
            n = piece(vocab, tok, buf, 256, 0, False)
            texts.append(udec(buf.raw[:n]))
            stamps.append(pc())
            ids.append(tok)
            if not more:
                break
            if not self.overlap:
                b1.token[0], b1.pos[0] = tok, pos
                if decode(ctx, b1):
                    raise RuntimeError("llama_decode failed")
            pos += 1
            tok = int(as_array(logits_ith(ctx, -1), shape=shape).argmax())
        perf = L.llama_perf_context(ctx)
        return RawRun(ids, "".join(texts), t0, stamps, perf.t_eval_ms, perf.n_eval, perf.t_p_eval_ms, perf.n_p_eval)

    def close(self) -> None:
        L.llama_batch_free(self.b1)
        L.llama_batch_free(self.bp)
        L.llama_free(self.ctx)
        L.llama_model_free(self.model)
