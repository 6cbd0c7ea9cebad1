"""Persona + memories + history + question → one prompt within the context (pure).

Two shapes:
- **chat** (an instruct model with a chat template): system message (persona), earlier turns,
  then the newest user message carrying this turn's numbered memories; rendered by the
  model's own template (:mod:`twin.core.prompt.template`).
- **transcript** (a base model): a document — intro, then ``User:``/``Twin:`` lines — that
  the model continues, with stop strings so that it never writes the user's next line.

Order is chosen for speed: the stable part (persona) first, earlier turns rendered exactly
as they were sent (memories included), and this turn's memories inside the newest message,
so that llama.cpp reuses the KV cache for everything but the new tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from twin.core.llm.engine import ChatMessage, Segment
from twin.core.llm.errors import ContextOverflowError
from twin.core.prompt import persona as P
from twin.core.prompt.budget import MIN_USEFUL_MEMORY_TOKENS, Budget, TokenCounter, history_start, truncate_to_tokens
from twin.core.prompt.citations import Citation
from twin.core.prompt.template import ChatTemplate, TemplateError, clean_content
from twin.core.types import Hit

SAFETY_TOKENS = 4  # a BOS the engine may add, and boundary effects of joined pieces


@dataclass(frozen=True)
class PastTurn:
    """One earlier exchange as it was sent: the words, the memories block, the answer."""

    question: str
    memories: str
    answer: str


@dataclass(frozen=True)
class AssembledPrompt:
    """A prompt ready for an engine, and what it contains."""

    segments: tuple[Segment, ...]
    messages: tuple[ChatMessage, ...]
    chat: bool
    stop: tuple[str, ...]
    citations: tuple[Citation, ...]
    memories: str  # this turn's memory block: store it with the user message
    history_start: int  # index of the oldest past turn kept (pass it back next turn)
    prompt_tokens: int
    enable_thinking: bool | None


def retrieval_query(question: str, history: Sequence[PastTurn], *, turns: int = 1, max_chars: int = 600) -> str:
    """What to search memories for: the question, plus the last ``turns`` questions so that a
    follow-up ("and after that?") still finds its topic."""
    parts = [question.strip()]
    for turn in reversed(history[-turns:] if turns > 0 else []):
        if sum(len(p) for p in parts) >= max_chars:
            break
        parts.append(turn.question.strip())
    return "\n".join(p for p in parts if p)[:max_chars]


class _Shape:
    """Renders and counts one prompt shape."""

    def __init__(self, style: P.PromptStyle, template: ChatTemplate | None, count: TokenCounter):
        self.style, self.template, self.count = style, template, count
        self.chat = template is not None
        self._system_in_user = False

    def messages(self, turns: Sequence[PastTurn], question: str, memories: str) -> list[ChatMessage]:
        msgs = [ChatMessage("system", P.system_text(self.style))]
        for t in turns:
            msgs += [ChatMessage("user", P.user_content(t.question, t.memories)), ChatMessage("assistant", t.answer)]
        msgs.append(ChatMessage("user", P.user_content(question, memories)))
        return msgs

    def segments(self, turns: Sequence[PastTurn], question: str, memories: str) -> list[Segment]:
        if self.template is None:
            return [Segment(self._transcript(turns, question, memories), trusted=False)]
        msgs = self.messages(turns, question, memories)
        if self._system_in_user:
            msgs = _fold_system(msgs)
        try:
            return self.template.render(msgs, enable_thinking=self.style.thinking)
        except TemplateError:
            if self._system_in_user:
                raise
            self._system_in_user = True  # e.g. Gemma's template: "System role not supported"
            return self.template.render(_fold_system(msgs), enable_thinking=self.style.thinking)

    def _transcript(self, turns: Sequence[PastTurn], question: str, memories: str) -> str:
        s = self.style
        out = [P.transcript_intro(s), "\n\n"]
        for t in turns:
            out.append(self._transcript_user(t.question, t.memories))
            out.append(f" {clean_content(t.answer)}\n\n")
        out.append(self._transcript_user(question, memories))
        return "".join(out)

    def _transcript_user(self, question: str, memories: str) -> str:
        block = f"{memories}\n" if memories else ""
        return f"{block}{self.style.user_label}: {clean_content(question)}\n{self.style.twin_label}:"

    def stop(self) -> tuple[str, ...]:
        if self.chat:
            return ()
        s = self.style
        return (f"\n{s.user_label}:", f"\n{s.twin_label}:", "\n" + P.MEMORY_HEADER)

    def tokens(self, segments: Sequence[Segment]) -> int:
        return sum(self.count(seg.text, seg.trusted) for seg in segments)

    def turn_cost(self, t: PastTurn) -> int:
        overhead = 10 if self.chat else 4  # role markers / speaker labels
        return self.count(P.user_content(t.question, t.memories), False) + self.count(t.answer, False) + overhead


def _fold_system(msgs: list[ChatMessage]) -> list[ChatMessage]:
    """Put the system text at the top of the first user message (templates without a system role)."""
    if not msgs or msgs[0].role != "system":
        return msgs
    system, rest = msgs[0], list(msgs[1:])
    for i, m in enumerate(rest):
        if m.role == "user":
            rest[i] = ChatMessage("user", f"{system.content}\n\n{m.content}")
            break
    return rest


def assemble(
    question: str,
    hits: Sequence[Hit],
    history: Sequence[PastTurn],
    *,
    style: P.PromptStyle,
    budget: Budget,
    count: TokenCounter,
    template: ChatTemplate | None,
    min_history_start: int = 0,
    notice: str = "",
    facts: str = "",
    instruction: str = "",
) -> AssembledPrompt:
    """Build the prompt for ``question``.

    Args:
        hits: Retrieved memories, best first; those that fit are numbered [1]…[k].
        history: Earlier turns, oldest first.
        template: The model's chat template; None for a base model (transcript shape).
        min_history_start: ``history_start`` of the previous turn (see ``budget.history_start``).
        notice: a line under the memory block's header (e.g. "only the closest notes").
        facts: dated profile facts for the period the question asks about (before the memories).
        instruction: a line after the memories (e.g. how to answer when they do not answer).

    Raises:
        ContextOverflowError: the question alone does not fit in the context.
    """
    shape = _Shape(style, template, count)
    question = clean_content(question)
    limit = budget.prompt_limit - SAFETY_TOKENS
    extra = P.turn_context("", facts=facts, instruction=instruction)
    fixed = shape.tokens(shape.segments([], question, extra))
    if fixed > limit:
        raise ContextOverflowError(
            f"The message is too long for the model's context: it needs {fixed} tokens, and "
            f"{limit} are available (context {budget.n_ctx}, {budget.answer_reserve} kept for "
            "the answer). Shorten it or raise llm.n_ctx."
        )
    entries, citations, numbered = _fit_memories(hits, min(budget.memory_limit, limit - fixed), count, notice)
    while True:
        block = P.memory_block(entries, notice=notice, chronology=P.chronology(numbered[:len(entries)]))
        memories = P.turn_context(block, facts=facts, instruction=instruction)
        current = shape.tokens(shape.segments([], question, memories))
        costs = [shape.turn_cost(t) for t in history]
        start = history_start(costs, max(0, limit - current), min_start=min_history_start,
                              trim_target=budget.trim_target)
        while True:
            segments = shape.segments(history[start:], question, memories)
            total = shape.tokens(segments)
            if total <= limit or start >= len(history):
                break
            start += 1
        if total <= limit or not entries:
            break
        entries, citations = entries[:-1], citations[:-1]  # estimates were off: drop the last memory
    if total > limit:
        raise ContextOverflowError(f"The prompt needs {total} tokens; {limit} are available.")
    msgs = shape.messages(history[start:], question, memories) if shape.chat else []
    return AssembledPrompt(
        segments=tuple(segments), messages=tuple(msgs), chat=shape.chat, stop=shape.stop(),
        citations=tuple(citations), memories=memories, history_start=start, prompt_tokens=total,
        enable_thinking=style.thinking if shape.chat else None,
    )


def _fit_memories(hits: Sequence[Hit], room: int, count: TokenCounter,
                  notice: str = "") -> tuple[list[str], list[Citation], list[tuple[int, Hit]]]:
    """Memory entries, best first, within ``room`` tokens; the last one may be cut short.
    Also returns the numbered hits kept (for the chronology line)."""
    entries: list[str] = []
    citations: list[Citation] = []
    used = count(P.MEMORY_HEADER + "\n" + (notice + "\n" if notice else ""), False)
    chrono = 0  # tokens of the chronology line for the entries kept so far
    for hit in hits:
        n = len(entries) + 1
        if hit.date is not None:  # the entry's place in the chronology line is part of its cost
            line = P.chronology([(i + 1, h) for i, h in enumerate(hits[:n])])
            grown = count(line, False) if line else 0
            used, chrono = used + grown - chrono, grown
        entry = P.memory_entry(n, hit)
        cost = count(entry + "\n\n", False)
        if used + cost <= room:
            entries.append(entry)
            citations.append(Citation.from_hit(n, hit))
            used += cost
            continue
        left = room - used - count(P.memory_label(n, hit) + "\n> \n\n", False)
        if left >= MIN_USEFUL_MEMORY_TOKENS:
            text = truncate_to_tokens(hit.text, left - len(hit.text.splitlines()), count)
            if text:
                entries.append(P.memory_entry(n, hit, text))
                citations.append(Citation.from_hit(n, hit))
        break
    return entries, citations, [(i + 1, h) for i, h in enumerate(hits[:len(entries)])]
