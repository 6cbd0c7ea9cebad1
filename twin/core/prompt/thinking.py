"""Separate a reasoning model's ``<think>…</think>`` block from its answer, while streaming (pure).

Qwen3 with thinking on starts its answer with ``<think>\\n…\\n</think>\\n\\n``; with thinking off
the template has already closed an empty block and the model answers at once. Either way the
thinking goes to its own channel and is stored apart; it is never part of the answer text
that later turns see. Tags may arrive split across tokens ("</th" + "ink>"), so text that
could be the start of a tag is held back until it is clear.
"""

from __future__ import annotations

OPEN, CLOSE = "<think>", "</think>"

THINKING, ANSWER = "thinking", "answer"


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest suffix of ``text`` that is a proper prefix of ``tag``."""
    for n in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:n]):
            return n
    return 0


class ThinkSplitter:
    """Feed answer pieces; get ``(channel, text)`` pairs, channel "thinking" or "answer"."""

    def __init__(self, preface: str = "", *, prefilled: bool = False) -> None:
        self._state = "start"
        self._buf = ""
        self.thinking = ""
        self.answer = ""
        #: Fixed text the answer starts with (e.g. "My notes don't say."), emitted before the
        #: model's first answer piece, after any thinking; at the end if the model said nothing.
        self._preface = preface
        #: The model was given the preface as the start of its answer and continues it: its
        #: words are kept exactly (leading space included), so the stored answer is the text
        #: the model's context holds and the next turn reuses the KV cache.
        self._prefilled = prefilled

    def feed(self, piece: str) -> list[tuple[str, str]]:
        self._buf += piece
        out: list[tuple[str, str]] = []
        while True:
            if self._state == "start":
                head = self._buf.lstrip()
                if head.startswith(OPEN):
                    self._buf = head[len(OPEN):]
                    self._state = THINKING
                    continue
                if head and not OPEN.startswith(head):
                    self._state = ANSWER
                    self._buf = self._buf if self._prefilled else head
                    continue
                return out  # undecided: only whitespace or a partial "<think>" so far
            if self._state == THINKING:
                if not self.thinking:  # the block starts with a newline after "<think>"
                    self._buf = self._buf.lstrip("\n")
                end = self._buf.find(CLOSE)
                if end >= 0:
                    self._emit(out, THINKING, self._buf[:end].rstrip("\n"))
                    self._buf = self._buf[end + len(CLOSE):]
                    self._state = "after"
                    continue
                # hold back a partial "</think>" and the newlines before it
                partial = _partial_suffix(self._buf, CLOSE)
                rest = self._buf[: len(self._buf) - partial]
                hold = partial + len(rest) - len(rest.rstrip("\n"))
                self._emit(out, THINKING, self._buf[: len(self._buf) - hold])
                self._buf = self._buf[len(self._buf) - hold:]
                return out
            if self._state == "after":  # skip the blank lines between the block and the answer
                stripped = self._buf.lstrip()
                if not stripped:
                    self._buf = ""
                    return out
                self._buf = stripped
                self._state = ANSWER
                continue
            self._emit(out, ANSWER, self._buf)
            self._buf = ""
            return out

    def finish(self) -> list[tuple[str, str]]:
        """Flush what was held back at the end of the stream."""
        out: list[tuple[str, str]] = []
        if self._state == THINKING:
            self._emit(out, THINKING, self._buf.rstrip("\n"))
        elif self._state in ("start", ANSWER):
            self._emit(out, ANSWER, self._buf if self._state == ANSWER else self._buf.strip())
        if self._preface:
            self._emit(out, ANSWER, "", force=True)
        self._buf = ""
        return out

    def _emit(self, out: list[tuple[str, str]], channel: str, text: str, *, force: bool = False) -> None:
        if channel == ANSWER and self._preface and (text or force):
            glue = text[:1].isalnum() if self._prefilled else bool(text) and not text[:1].isspace()
            head = self._preface + (" " if glue else "")
            self._preface = ""
            self.answer += head
            out.append((ANSWER, head))
        if not text:
            return
        if channel == THINKING:
            self.thinking += text
        else:
            self.answer += text
        out.append((channel, text))
