"""Rewinding a conversation, for "regenerate" and "edit and resend".

Both need the conversation as it was *before* a given user message. The conversation store
appends only, so a rewind is done with its public API: the kept messages are copied, exactly
as stored (memories blocks, thinking, citations, timings), into a new conversation with the
same title and options, and the old one is deleted for good (the store's secure delete). The
caller then asks the question again in the returned conversation; the prompt's stable prefix
is unchanged, so the model's KV cache is still reused.

TODO(lead): a ``ConversationStore.truncate(conversation_id, from_message_id)`` would keep the
id and avoid the copy; this module is the stop-gap that needs no change to the core.
"""

from __future__ import annotations

import logging

from twin.core.conversation.store import ConversationStore, Message

log = logging.getLogger("twin.chat")


def _copy(store: ConversationStore, conversation_id: str, m: Message) -> int:
    if m.role == "user":
        return store.add_user_message(conversation_id, m.content, memories=m.memories).id
    mid = store.begin_assistant_message(conversation_id, model=m.model, citations=m.citations)
    store.finish_assistant_message(
        mid, content=m.content, thinking=m.thinking, citations=m.citations, complete=m.complete,
        finish_reason=m.finish_reason, prompt_tokens=m.prompt_tokens,
        prompt_tokens_evaluated=m.prompt_tokens_evaluated, completion_tokens=m.completion_tokens,
        ttft_ms=m.ttft_ms, duration_ms=m.duration_ms, tokens_per_s=m.tokens_per_s)
    return mid


def rewind(store: ConversationStore, conversation_id: str, before_message_id: int) -> tuple[str, str]:
    """Drop ``before_message_id`` and everything after it.

    Returns:
        (the new conversation's id, the text of the dropped user message — or of the user
        message just before a dropped answer, so "regenerate" can ask it again).

    Raises:
        ConversationNotFound: no such conversation.
        KeyError: the message is not in the conversation.
    """
    conv = store.get(conversation_id)
    messages = store.messages(conversation_id)
    cut = next((i for i, m in enumerate(messages) if m.id == before_message_id), None)
    if cut is None:
        raise KeyError(before_message_id)
    if messages[cut].role == "assistant":  # regenerate: drop the question that led to it too
        while cut > 0 and messages[cut].role != "user":
            cut -= 1
    question = messages[cut].content if messages[cut].role == "user" else ""
    kept = messages[:cut]
    new = store.create(conv.title, persona_mode=conv.persona_mode, thinking=conv.thinking)
    starred = store.starred_ids(conversation_id)
    for m in kept:
        copied = _copy(store, new.id, m)
        if m.id in starred:  # "sounds like me" marks survive a rewind
            store.set_starred(copied)
    turns = sum(1 for m in kept if m.role == "user")
    if conv.history_start:
        store.set_options(new.id, history_start=min(conv.history_start, turns))
    store.delete(conversation_id, vacuum=False)
    log.info("rewound conversation %s to %d messages as %s", conversation_id, len(kept), new.id)
    return new.id, question
