"""Query understanding with the loaded model: a follow-up ("and after that?", "а где он
жил?") rewritten into a standalone question for the memory search (pure: prompt and parse).

The rewrite is for *retrieval only*: the model still answers the user's own words. It is
worth a call only for a real follow-up (short, leaning on the conversation: pronouns,
"and …", "what about …"), and its output is checked: one line, not much longer than
needed, not an answer, else the caller keeps the plain query.

It costs one short generation, and with a local model a prompt with another prefix in
between makes the next chat turn re-read its context (the KV cache keeps one prefix), so
callers keep it off by default and cache rewrites.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from twin.core.llm.engine import ChatMessage

MAX_FOLLOW_UP_WORDS = 12
MAX_REWRITE_CHARS = 300

_FOLLOW_UP = re.compile(
    r"^(?:and|but|so|then|also|what about|how about|and then|after that|before that|why|when|where|who)\b|"
    r"\b(?:it|its|he|she|him|her|his|they|them|their|that|this|those|these|there|then|same|else|"
    r"он|она|оно|они|его|её|ее|их|ему|ей|им|там|тогда|это|этот|эта|этого|того|тот|та|потом|туда|оттуда)\b|"
    r"^(?:и|а|но|ну|потом|а потом|что насчёт|что насчет|а что|почему|когда|где|кто)\b",
    re.IGNORECASE,
)

INSTRUCTION = (
    "Rewrite the last question of this conversation as one standalone question that can be "
    "understood without the conversation (replace pronouns by what they refer to). Keep its "
    "language. Write only the question, nothing else."
)


def is_follow_up(question: str, history_questions: Sequence[str]) -> bool:
    """Whether ``question`` leans on earlier turns (and there are some)."""
    words = question.split()
    return bool(history_questions) and 0 < len(words) <= MAX_FOLLOW_UP_WORDS and bool(_FOLLOW_UP.search(question))


def rewrite_messages(turns: Sequence[tuple[str, str]], question: str, *, max_turns: int = 2,
                     answer_chars: int = 300) -> list[ChatMessage]:
    """One user message: the last ``max_turns`` exchanges (answers shortened) and the question."""
    lines = []
    for q, a in turns[-max_turns:]:
        a = " ".join(a.split())
        lines += [f"User: {' '.join(q.split())}", f"Assistant: {a[:answer_chars]}"]
    lines.append(f"User: {' '.join(question.split())}")
    return [ChatMessage("user", INSTRUCTION + "\n\n" + "\n".join(lines) + "\n\nStandalone question:")]


def parse_rewrite(output: str, question: str) -> str:
    """The standalone question from the model's output, or "" when it is unusable (empty,
    several lines of prose, far too long, a copy of the prompt's labels)."""
    text = re.sub(r"<think>.*?</think>", "", output, flags=re.DOTALL).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return ""
    line = re.sub(r"^(?:standalone question|question|user)\s*:\s*", "", lines[0], flags=re.IGNORECASE).strip(' "«»“”')
    if not line or len(line) > max(MAX_REWRITE_CHARS, 4 * len(question)) or ":" in line[:12]:
        return ""
    if not re.search(r"\w{2,}", line):
        return ""
    return line
