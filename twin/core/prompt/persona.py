"""Persona text and how memories are shown to the model (pure).

Two modes: ``"me"`` — the model speaks as the user's twin, in the first person; and
``"assistant"`` — an assistant who knows the user from their notes. The persona text the
user edits is added to either.

A memory is shown as a numbered entry whose note text is quoted line by line with ``> ``:
a line in a note can then never look like a speaker line (``User: …``) in a base-model
transcript, nor close the memory block.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from twin.core.types import Hit

PERSONA_MODES = ("me", "assistant")
MEMORY_HEADER = "Memories from my notes (cite as [n]):"
#: ``Hit.path`` of a past conversation found as memory: ``conversation:<id>`` (heading: its title).
CONVERSATION_PREFIX = "conversation:"

DEFAULT_PERSONA = (
    "Answer warmly and briefly, the way I would. I write in the language the question is in."
)


@dataclass(frozen=True)
class PromptStyle:
    """Everything about the prompt's wording that the user chooses."""

    persona: str = DEFAULT_PERSONA
    mode: str = "me"  # "me" | "assistant"
    user_name: str = ""
    thinking: bool = False
    user_label: str = "User"
    twin_label: str = "Twin"
    profile: str = ""  # accepted self-profile facts, already fitted to their token budget


def system_text(style: PromptStyle) -> str:
    """The stable first part of every prompt: who the model is and how to use memories."""
    name = style.user_name.strip()
    if style.mode == "assistant":
        who = name or "the user"
        head = (
            f"You are a personal assistant who knows {who} well from {who}'s own diaries and "
            "notes."
        )
        rule = (
            f"Some messages come with memories from {who}'s notes, numbered [1], [2], and so "
            "on. Use them when they help and cite them by number, like [2]. Do not invent "
            f"facts about {who}: if the memories do not answer, say so."
        )
    else:
        if name:
            head = (f"You are the digital twin of {name}: you speak as {name}, in the first person "
                    f"(I, my), with {name}'s voice, memories and opinions.")
            whose = f"{name}'s own"
        else:
            head = ("You are my digital twin: you speak as me, in the first person (I, my), with my "
                    "voice, memories and opinions.")
            whose = "my own"
        rule = (
            f"Some messages come with memories from {whose} diaries and notes, numbered [1], [2], "
            "and so on. Use them when they help and cite them by number, like [2]. Do not invent "
            "memories: if none answers the question, say that you don't remember."
        )
    persona = style.persona.strip()
    return "\n\n".join(p for p in (head, persona, style.profile.strip(), rule) if p)


def transcript_intro(style: PromptStyle) -> str:
    """The opening of a base-model transcript (a document the model continues)."""
    name = style.user_name.strip() or "the author"
    if style.mode == "assistant":
        intro = (
            f"A conversation between {style.user_label} and {style.twin_label}, a personal "
            f"assistant who knows {name} from {name}'s diaries and notes and cites them by "
            "number, like [1]."
        )
    else:
        intro = (
            f"A conversation between {style.user_label} and {style.twin_label}, the digital "
            f"twin of {name}. {style.twin_label} speaks as {name}, in the first person, and "
            f"answers from {name}'s own diaries and notes, citing them by number, like [1]."
        )
    persona = style.persona.strip()
    profile = style.profile.strip()
    return intro + ("\n" + persona if persona else "") + ("\n" + profile if profile else "")


def memory_label(n: int, hit: Hit) -> str:
    """``[n] 2024-05-01 · diary/2024-05-01.md › Morning``"""
    if hit.path.startswith(CONVERSATION_PREFIX):  # a past conversation, cited by its title
        where = f"conversation: {hit.heading or hit.path[len(CONVERSATION_PREFIX):]}"
    else:
        where = hit.path + (f" › {hit.heading}" if hit.heading else "")
    if hit.date:
        where = f"{hit.date.isoformat()} · {where}"
    where = " ".join(where.split())  # one line: a heading or file name cannot break out of the label
    return f"[{n}] {where}".rstrip()


def quote(text: str) -> str:
    """Note text quoted line by line (``> ``).

    Every line break Python knows counts (``str.splitlines``: also U+2028/U+2029, NEL, VT, FF,
    the file/group/record separators), so no line of a note can start a speaker turn of a
    base-model transcript; those breaks become plain newlines in the prompt.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n").splitlines() or [""]
    return "\n".join("> " + line if line.strip() else ">" for line in lines)


def memory_entry(n: int, hit: Hit, text: str | None = None) -> str:
    return memory_label(n, hit) + "\n" + quote(hit.text if text is None else text)


def memory_block(entries: Sequence[str], *, notice: str = "", chronology: str = "") -> str:
    """This turn's memories as one block ("" when there are none).

    ``notice``: a line under the header (e.g. "these are only the closest notes");
    ``chronology``: the entries' numbers in date order (:func:`chronology`), after them.
    """
    if not entries:
        return ""
    head = MEMORY_HEADER + ("\n" + notice if notice else "")
    return head + "\n" + "\n\n".join(entries) + ("\n\n" + chronology if chronology else "")


def chronology(numbered: Sequence[tuple[int, Hit]]) -> str:
    """``In date order (oldest first): [2] 2019-01-02, [1] 2019-05-01.`` — the dated memories'
    numbers by entry date, so the model can reason about before/after and how long between
    ("" when fewer than two memories are dated)."""
    dated = sorted(((h.date, n) for n, h in numbered if h.date is not None))
    if len(dated) < 2:
        return ""
    return "In date order (oldest first): " + ", ".join(f"[{n}] {d.isoformat()}" for d, n in dated) + "."


def turn_context(memories: str, *, facts: str = "", instruction: str = "") -> str:
    """What goes before the user's words this turn: the dated profile facts of the period
    asked about, the memory block, and an instruction about them (each part optional)."""
    return "\n\n".join(p for p in (facts.strip(), memories, instruction.strip()) if p)


def user_content(question: str, memories: str) -> str:
    """A user message as the model sees it: the memories first, then the words."""
    return f"{memories}\n\n{question}" if memories else question
