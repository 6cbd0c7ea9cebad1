"""Entries and starred chat answers → training examples, rendered in two formats.

Kinds of examples (each a prompt and a target written by the user):

- ``day``: "Write about your day on Friday, 15 March 2024." → the entry (a long entry is
  cut into parts, "(part 2 of 3)");
- ``note``: "Write a note titled “Books”." → an undated note with a title;
- ``continue``: the entry's first sentences → the rest (teaches the voice mid-text);
- ``chat``: a question the user asked → an answer the user starred as "sounds like me".

Formats (one JSON object a line):

- ``chat``: ``{"messages": [system, user, assistant]}`` (TRL/Axolotl chat datasets; for an
  instruct model or a base model trained with a chat template);
- ``completion``: ``{"prompt": …, "completion": …}`` (TRL prompt-completion; suited to a
  *Base* model: the prompt is a diary page heading, the completion the page).

Instructions follow the entry's language (Russian or English).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from twin.core.dataset.entries import Entry

FORMATS = ("chat", "completion")

_WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "ru": ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье"),
}
_MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"),
    "ru": ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
           "октября", "ноября", "декабря"),
}
_TEXTS = {
    "en": {"day": "Write about your day on {date}.", "part": " (part {k} of {n})",
           "note": "Write a note titled “{title}”.", "continue_day": "Continue your diary entry of {date}:",
           "continue_note": "Continue your note:", "continued": " (continued)"},
    "ru": {"day": "Напиши о своём дне: {date}.", "part": " (часть {k} из {n})",
           "note": "Напиши заметку «{title}».", "continue_day": "Продолжи запись в дневнике за {date}:",
           "continue_note": "Продолжи свою заметку:", "continued": " (продолжение)"},
}
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”»)]*\s+")


@dataclass(frozen=True)
class Voice:
    """How prompts address the user: the system prompt and the transcript labels."""

    system: str = "You are me: write in my own voice, as I write in my diary."
    user_label: str = "User"
    twin_label: str = "Twin"


@dataclass(frozen=True)
class Example:
    """One training example. ``group`` keys the split (all parts of an entry go together)."""

    id: str
    group: str
    kind: str  # "day" | "note" | "continue" | "chat"
    language: str
    date: dt.date | None
    instruction: str  # the user turn (chat format)
    response: str  # the target: the user's own words
    prefix: str  # the prompt of the completion format
    completion: str  # the target of the completion format

    def render(self, fmt: str, voice: Voice) -> dict[str, object]:
        """The JSONL record of this example in format ``fmt`` ("chat" or "completion")."""
        if fmt == "chat":
            return {"messages": [{"role": "system", "content": voice.system},
                                 {"role": "user", "content": self.instruction},
                                 {"role": "assistant", "content": self.response}]}
        if fmt == "completion":
            return {"prompt": self.prefix, "completion": self.completion}
        raise ValueError(f"unknown format {fmt!r}")

    def text(self, fmt: str, voice: Voice) -> str:
        """All the text the record holds (for token statistics)."""
        if fmt == "chat":
            return "\n".join((voice.system, self.instruction, self.response))
        return self.prefix + self.completion


def spoken_date(date: dt.date, lang: str) -> str:
    """"Friday, 15 March 2024" / "пятница, 15 марта 2024"."""
    return f"{_WEEKDAYS[lang][date.weekday()]}, {date.day} {_MONTHS[lang][date.month - 1]} {date.year}"


def split_head(text: str, *, min_head: int = 40, share: float = 0.25) -> tuple[str, str] | None:
    """The first sentences (about ``share`` of the text, at least one) and the rest, or None
    when the text has no sentence break that leaves both parts meaningful."""
    cuts = [m.end() for m in _SENTENCE_END.finditer(text)]
    target = max(min_head, int(len(text) * share))
    cut = next((c for c in cuts if c >= target), None)
    if cut is None or len(text) - cut < min_head:
        return None
    return text[:cut].rstrip(), text[cut:].lstrip()


def entry_examples(entry: Entry, parts: list[str], *, continuation: bool = True) -> list[Example]:
    """The examples of one entry whose text was cut into ``parts`` (each within the budget)."""
    lang = entry.language if entry.language in _TEXTS else "en"
    t = _TEXTS[lang]
    out: list[Example] = []
    n = len(parts)
    when = spoken_date(entry.date, lang) if entry.date else ""
    for k, part in enumerate(parts, 1):
        suffix = t["part"].format(k=k, n=n) if n > 1 else ""
        if entry.date is not None:
            instruction = t["day"].format(date=when)[:-1] + suffix + "."
            kind = "day"
        elif entry.title:
            instruction = t["note"].format(title=entry.title)[:-1] + suffix + "."
            kind = "note"
        else:
            instruction, kind = "", "note"
        heading = f"# {when or entry.title}" if (when or entry.title) else ""
        if heading and k > 1:
            heading += t["continued"]
        if instruction:
            out.append(Example(
                id=f"{entry.id}:{kind}:{k}", group=entry.id, kind=kind, language=lang, date=entry.date,
                instruction=instruction, response=part, prefix=f"{heading}\n\n" if heading else "",
                completion=part))
        if continuation and k == 1:
            cut = split_head(part)
            if cut is not None:
                head, rest = cut
                ask = t["continue_day"].format(date=when) if when else t["continue_note"]
                out.append(Example(
                    id=f"{entry.id}:continue:1", group=entry.id, kind="continue", language=lang,
                    date=entry.date, instruction=f"{ask}\n\n{head}", response=rest,
                    prefix=(f"{heading}\n\n" if heading else "") + head + " ", completion=rest))
    return out


def chat_example(conversation_id: str, message_id: int, question: str, answer: str, when: dt.date | None,
                 voice: Voice, lang: str) -> Example:
    """A starred answer: the question as asked → the answer the user accepted as theirs."""
    return Example(
        id=f"chat:{conversation_id}:{message_id}", group=f"chat:{conversation_id}", kind="chat",
        language=lang, date=when, instruction=question, response=answer,
        prefix=f"{voice.user_label}: {question}\n{voice.twin_label}:", completion=" " + answer)
