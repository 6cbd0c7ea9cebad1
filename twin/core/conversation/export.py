"""Export conversations to Markdown and JSON (pure over the store's values).

JSON keeps everything (thinking, citations, token counts, timings) and is the archival
format; Markdown is for reading: the answer text, then its sources as a numbered list.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from twin.core.conversation.store import Conversation, ConversationStore, Message

EXPORT_FORMAT = "twin-conversations/1"


def _when(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def conversation_markdown(conv: Conversation, messages: Sequence[Message], *,
                          user_label: str = "You", twin_label: str = "Twin") -> str:
    """One conversation as Markdown."""
    out = [f"# {conv.title or 'Conversation'}", "", f"_{_when(conv.created_at)}_", ""]
    for m in messages:
        who = user_label if m.role == "user" else twin_label
        note = "" if m.complete else " _(incomplete)_"
        out += [f"**{who}:**{note}", "", m.content.strip() or "_(no answer)_", ""]
        if m.role == "assistant" and m.citations:
            out += ["Sources:", ""]
            out += [f"{c.n}. {c.label}" + (f", lines {c.start_line}–{c.end_line}" if c.start_line else "")
                    for c in m.citations]
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def message_json(m: Message) -> dict[str, Any]:
    return {
        "id": m.id, "role": m.role, "content": m.content, "thinking": m.thinking,
        "memories": m.memories, "citations": [c.to_json() for c in m.citations], "model": m.model,
        "created_at": m.created_at, "complete": m.complete, "finish_reason": m.finish_reason,
        "usage": {"prompt_tokens": m.prompt_tokens, "prompt_tokens_evaluated": m.prompt_tokens_evaluated,
                  "completion_tokens": m.completion_tokens},
        "timings": {"ttft_ms": m.ttft_ms, "duration_ms": m.duration_ms, "tokens_per_s": m.tokens_per_s},
    }


def conversation_json(conv: Conversation, messages: Sequence[Message]) -> dict[str, Any]:
    return {
        "id": conv.id, "title": conv.title, "created_at": conv.created_at, "updated_at": conv.updated_at,
        "persona_mode": conv.persona_mode, "thinking": conv.thinking,
        "messages": [message_json(m) for m in messages],
    }


def export_json(store: ConversationStore, conversation_ids: Sequence[str] | None = None) -> str:
    """The given conversations (all when None) as a JSON document."""
    convs = ([store.get(cid) for cid in conversation_ids] if conversation_ids is not None
             else store.list_conversations(limit=1_000_000))
    doc = {"format": EXPORT_FORMAT,
           "conversations": [conversation_json(c, store.messages(c.id)) for c in convs]}
    return json.dumps(doc, ensure_ascii=False, indent=2)


def export_markdown(store: ConversationStore, conversation_ids: Sequence[str] | None = None) -> str:
    """The given conversations (all when None) as one Markdown document."""
    convs = ([store.get(cid) for cid in conversation_ids] if conversation_ids is not None
             else store.list_conversations(limit=1_000_000))
    return "\n---\n\n".join(conversation_markdown(c, store.messages(c.id)) for c in convs)
