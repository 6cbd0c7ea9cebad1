"""Tokenizing prompts for llama.cpp: safe for untrusted text, cached, with the model's BOS.

Split from :mod:`twin.core.llm.llama` (the engine: loading, threads, generation). This module
never imports ``llama_cpp`` itself: :class:`PromptTokenizer` gets the loaded ``llama_cpp``
module and ``Llama`` from the engine, and :func:`vocab_token_counter` asks the engine's
module for the import (the one funnel for the native library). Invariant: untrusted prompt
text never yields a control token nor a user-defined token such as ``<think>``.
"""

from __future__ import annotations

import collections
import re
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from twin.core.llm.engine import Segment
from twin.core.llm.errors import ModelFileError
from twin.core.llm.gguf_meta import read_gguf_header

ATTR_CONTROL = 1 << 3
ATTR_USER_DEFINED = 1 << 4
CACHE_SIZE = 4096


def scan_vocab(L: ModuleType, vocab: Any, n_vocab: int) -> tuple[re.Pattern[str] | None, frozenset[int]]:
    """The user-defined tokens' texts as a regex, and the control tokens' ids.

    llama.cpp matches user-defined tokens (``<think>`` in Qwen3) even in text tokenized
    with special=False, so untrusted text is split where they occur. A generated control
    token (e.g. ``<|im_start|>``: the model starting a new turn) ends the answer.
    """
    texts = set()
    control = set()
    get_attr = L.llama_vocab_get_attr
    for i in range(n_vocab):
        attr = get_attr(vocab, i)
        if attr & ATTR_CONTROL:
            control.add(i)
        elif attr & ATTR_USER_DEFINED:
            text = L.llama_vocab_get_text(vocab, i).decode("utf-8", errors="replace")
            if len(text) > 1:
                texts.add(text)
    pattern = re.compile("|".join(re.escape(t) for t in sorted(texts, key=len, reverse=True))) if texts else None
    return pattern, frozenset(control)


class PromptTokenizer:
    """Tokenizes prompt segments with a loaded model's vocabulary. Use it from the thread
    that owns the model (llama.cpp is not thread-safe)."""

    def __init__(self, L: ModuleType, llm: Any):
        self.llm = llm
        vocab = llm._model.vocab
        self.add_bos = bool(L.llama_vocab_get_add_bos(vocab))
        self.special, self.control = scan_vocab(L, vocab, llm.n_vocab())
        self._cache: collections.OrderedDict[tuple[str, bool], list[int]] = collections.OrderedDict()

    def tokenize(self, text: str, trusted: bool) -> list[int]:
        """Token ids of ``text`` (no BOS); ``trusted`` text may contain special tokens."""
        key = (text, trusted)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        tokens = self._tokenize_uncached(text, trusted)
        self._cache[key] = tokens
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return tokens

    def _tokenize_uncached(self, text: str, trusted: bool) -> list[int]:
        tok = self.llm.tokenize
        if trusted:
            return list(tok(text.encode("utf-8"), add_bos=False, special=True))
        if self.special is None or not self.special.search(text):
            return list(tok(text.encode("utf-8"), add_bos=False, special=False)) if text else []
        out: list[int] = []
        pos = 0
        for m in self.special.finditer(text):
            out += self._tokenize_uncached(text[pos:m.start()], False)
            # split the token's text so it cannot match as one token: "<" + "think>"
            out += self._tokenize_uncached(m.group()[:1], False)
            out += self._tokenize_uncached(m.group()[1:], False)
            pos = m.end()
        return out + self._tokenize_uncached(text[pos:], False)

    def prompt_tokens(self, segments: Sequence[Segment]) -> list[int]:
        """The whole prompt's tokens, with BOS first when the model wants one."""
        tokens: list[int] = []
        for seg in segments:
            tokens += self.tokenize(seg.text, seg.trusted)
        bos = self.llm.token_bos()
        if self.add_bos and bos >= 0 and tokens[:1] != [bos]:
            tokens.insert(0, bos)
        return tokens

    def detokenize(self, tokens: Sequence[int]) -> str:
        return str(self.llm.detokenize(list(tokens)).decode("utf-8", "replace"))

    def token_id(self, text: str) -> int | None:
        """The id of a token whose text is exactly ``text`` (e.g. "<|im_end|>"), if any."""
        ids = self.llm.tokenize(text.encode("utf-8"), False, True)
        return int(ids[0]) if len(ids) == 1 else None


def vocab_token_counter(path: str) -> Callable[[list[str]], list[int]]:
    """Count tokens with a GGUF's own tokenizer, loading its vocabulary only (no weights:
    fast even for a 30B model). Use the returned function from one thread.

    Raises:
        ModelFileError: not a readable GGUF (checked in pure Python first).
    """
    from twin.core.llm.llama import import_llama_cpp  # the one module that imports llama_cpp
    from twin.core.llm.llama_native import install_native_log

    read_gguf_header(path)
    L = import_llama_cpp()
    install_native_log(L)
    try:
        llm = L.Llama(model_path=str(path), vocab_only=True, n_ctx=16, verbose=False)
    except (ValueError, RuntimeError) as e:
        raise ModelFileError(f"llama.cpp cannot read the vocabulary of {path}: {e}") from e

    def count(texts: list[str]) -> list[int]:
        return [len(llm.tokenize(t.encode("utf-8"), add_bos=False, special=False)) if t else 0 for t in texts]

    return count
