"""``twin conversations …``: list, show, search, rename, delete and export saved chats.

Only the conversations database is opened (no model, no index), so these are instant.
An ``ID`` is a conversation id or any unique prefix of one (``twin conversations list``
shows the first 8 characters).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from twin.core.conversation.store import ConversationNotFound, ConversationStore, Message
from twin.errors import KnownError
from twin.cli.encryption_commands import cli_vault
from twin.paths import Paths

MIN_PREFIX = 4


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("conversations", help="list, show, search, rename, delete and export conversations")
    cs = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    q = cs.add_parser("list", help="recent conversations first")
    q.add_argument("--limit", type=int, default=50)
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_list)

    q = cs.add_parser("show", help="print a conversation")
    q.add_argument("id", metavar="ID")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_show)

    q = cs.add_parser("search", help="find messages containing all the words")
    q.add_argument("text")
    q.add_argument("--limit", type=int, default=20)
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_search)

    q = cs.add_parser("rename", help="give a conversation a new title")
    q.add_argument("id", metavar="ID")
    q.add_argument("title")
    q.set_defaults(func=cmd_rename)

    q = cs.add_parser("delete", help="delete a conversation for good (its text is wiped from the file)")
    q.add_argument("id", metavar="ID")
    q.set_defaults(func=cmd_delete)

    q = cs.add_parser("export", help="export one conversation, or all, as Markdown or JSON")
    q.add_argument("id", metavar="ID", nargs="?", default=None, help="default: all conversations")
    q.add_argument("--format", choices=("md", "json"), default="md")
    q.add_argument("-o", "--output", type=Path, default=None, help="write to this file (default: stdout)")
    q.set_defaults(func=cmd_export)


def resolve_conversation(store: ConversationStore, ref: str) -> str:
    """The full id of the conversation ``ref`` names (an id or a unique prefix).

    Raises:
        ConversationNotFound: no conversation, or the prefix is ambiguous or too short.
    """
    ref = ref.strip().lower()
    try:
        return store.get(ref).id
    except ConversationNotFound:
        pass
    if len(ref) < MIN_PREFIX:
        raise ConversationNotFound(f"No conversation {ref!r} (give at least {MIN_PREFIX} characters of its id).")
    matches = [c.id for c in store.list_conversations(limit=1_000_000) if c.id.startswith(ref)]
    if not matches:
        raise ConversationNotFound(f"No conversation {ref!r} (see `twin conversations list`).")
    if len(matches) > 1:
        raise ConversationNotFound(f"{ref!r} matches {len(matches)} conversations: give more of the id.")
    return matches[0]


def _store(paths: Paths) -> ConversationStore:
    from twin.app.backup import before_migration
    from twin.settings import load_settings

    return ConversationStore(paths.ensure().conversations_db, codec=cli_vault(paths).codec(),
                             before_migrate=before_migration(paths, load_settings(paths.settings_file).backup))


def _when(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def cmd_list(args: argparse.Namespace, paths: Paths) -> int:
    store = _store(paths)
    try:
        convs = store.list_conversations(limit=max(1, args.limit))
        if args.json:
            print(json.dumps([{"id": c.id, "title": c.title, "created_at": c.created_at,
                               "updated_at": c.updated_at, "messages": len(store.messages(c.id))}
                              for c in convs], ensure_ascii=False, indent=2))
            return 0
        if not convs:
            print("no conversations yet (twin ask \"…\" or twin chat)")
        for c in convs:
            print(f"{c.id[:8]}  {_when(c.updated_at)}  {c.title}")
    finally:
        store.close()
    return 0


def _message_line(m: Message) -> list[str]:
    who = "you" if m.role == "user" else "twin"
    note = "" if m.complete else f"  [incomplete: {m.finish_reason or 'interrupted'}]"
    out = [f"{who}: {m.content.strip() or '(no answer)'}{note}"]
    for c in m.citations if m.role == "assistant" else ():
        out.append(f"    [{c.n}] {c.date or '----------'}  {c.path}" + (f" › {c.heading}" if c.heading else ""))
    return out


def cmd_show(args: argparse.Namespace, paths: Paths) -> int:
    from twin.core.conversation.export import conversation_json

    store = _store(paths)
    try:
        cid = resolve_conversation(store, args.id)
        conv, messages = store.get(cid), store.messages(cid)
        if args.json:
            print(json.dumps(conversation_json(conv, messages), ensure_ascii=False, indent=2))
            return 0
        print(f"{conv.title}  ({conv.id}, {_when(conv.created_at)})\n")
        for m in messages:
            print("\n".join(_message_line(m)) + "\n")
    finally:
        store.close()
    return 0


def cmd_search(args: argparse.Namespace, paths: Paths) -> int:
    store = _store(paths)
    try:
        hits = store.search(args.text, limit=max(1, args.limit))
    finally:
        store.close()
    if args.json:
        print(json.dumps([{"conversation": h.conversation_id, "title": h.title, "message_id": h.message_id,
                           "role": h.role, "snippet": h.snippet} for h in hits], ensure_ascii=False, indent=2))
        return 0
    if not hits:
        print("no messages found")
    for h in hits:
        print(f"{h.conversation_id[:8]}  {h.title}\n    {h.role}: {h.snippet}")
    return 0


def cmd_rename(args: argparse.Namespace, paths: Paths) -> int:
    if not args.title.strip():
        raise KnownError("the title is empty")
    store = _store(paths)
    try:
        cid = resolve_conversation(store, args.id)
        store.rename(cid, args.title)
    finally:
        store.close()
    print(f"renamed {cid[:8]}: {args.title.strip()}")
    return 0


def cmd_delete(args: argparse.Namespace, paths: Paths) -> int:
    store = _store(paths)
    try:
        cid = resolve_conversation(store, args.id)
        title = store.get(cid).title
        store.delete(cid)
    finally:
        store.close()
    print(f"deleted {cid[:8]}: {title}")
    return 0


def cmd_export(args: argparse.Namespace, paths: Paths) -> int:
    from twin.core.conversation.export import export_json, export_markdown

    store = _store(paths)
    try:
        ids = [resolve_conversation(store, args.id)] if args.id else None
        text = export_json(store, ids) if args.format == "json" else export_markdown(store, ids)
    finally:
        store.close()
    if args.output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return 0
    try:
        args.output.expanduser().parent.mkdir(parents=True, exist_ok=True)
        args.output.expanduser().write_text(text, encoding="utf-8")
    except OSError as e:
        raise KnownError(f"cannot write {args.output}: {e.strerror or e}") from e
    print(f"exported to {args.output}", file=sys.stderr)
    return 0
