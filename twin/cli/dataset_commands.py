"""``twin dataset …``: a fine-tuning dataset from your diaries (docs/FINETUNE.md).

- ``export OUT``: write the SFT dataset (see :mod:`twin.app.dataset_export`);
- ``star CONVERSATION``: mark an answer as "sounds like me" (it then goes into the dataset
  with ``--chats starred``, the default); ``--off`` unmarks it;
- ``starred``: list the starred answers.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twin.paths import Paths

if TYPE_CHECKING:
    from twin.core.conversation.store import ConversationStore


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from twin.cli.date_args import date_arg

    p = sub.add_parser("dataset", help="build a fine-tuning dataset from your diaries (LoRA/SFT)")
    ds = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = ds.add_parser(
        "export", help="write an SFT dataset (JSONL: chat messages and plain completions) into OUT",
        description="Build train/validation JSONL from your diary entries and starred chat answers. "
                    "Private entries (front matter 'private: true', the tag, or an inline #private) are "
                    "left out, duplicates dropped, long entries cut to --max-tokens. See docs/FINETUNE.md.")
    q.add_argument("out", type=Path, help="output folder (new or empty; --force to replace a previous export)")
    q.add_argument("--format", default="chat,completion",
                   help="comma-separated: chat (messages) and/or completion (prompt/completion for a Base model)")
    q.add_argument("--folder", action="append", type=Path, default=[],
                   help="export this folder (repeatable; default: your source folders)")
    q.add_argument("--since", type=date_arg("since"), default=None, help="entries from this date (YYYY[-MM[-DD]])")
    q.add_argument("--until", type=date_arg("until"), default=None, help="entries up to this date")
    q.add_argument("--chats", choices=("starred", "none"), default="starred",
                   help="include chat answers you starred as 'sounds like me' (default) or none")
    q.add_argument("--val-share", type=float, default=0.1, help="share of entries for validation (default 0.1)")
    q.add_argument("--max-tokens", type=int, default=2048, help="longest target; longer entries are cut in parts")
    q.add_argument("--min-chars", type=int, default=200, help="skip entries shorter than this (default 200)")
    q.add_argument("--max-chars", type=int, default=0, help="skip entries longer than this (0 = no limit)")
    q.add_argument("--near-duplicates", type=float, default=0.8,
                   help="drop entries this similar to an earlier one (Jaccard of word 3-grams; 1 = exact only)")
    q.add_argument("--private-tag", default="private", help="the tag that marks private text (default: private)")
    q.add_argument("--no-continuation", action="store_true", help="no 'continue this entry' examples")
    q.add_argument("--system", default=None, help="system prompt of the chat format")
    q.add_argument("--tokenizer", default=None, metavar="GGUF",
                   help="count tokens with this GGUF's tokenizer (default: the configured model's)")
    q.add_argument("--force", action="store_true", help="replace the dataset files in a non-empty OUT")
    q.add_argument("--json", action="store_true", help="print the statistics as JSON")
    q.set_defaults(func=cmd_export)

    q = ds.add_parser("star", help="mark an answer as 'sounds like me' (goes into the dataset)")
    q.add_argument("conversation", help="conversation id (or a unique prefix)")
    q.add_argument("--message", type=int, default=None, help="the answer's message id (default: the last answer)")
    q.add_argument("--off", action="store_true", help="remove the star")
    q.set_defaults(func=cmd_star)

    q = ds.add_parser("starred", help="list the starred answers")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_starred)


def cmd_export(args: argparse.Namespace, paths: Paths) -> int:
    from twin.app.dataset_export import (
        ExportOptions,
        export_dataset,
        make_token_counter,
    )
    from twin.cli.config_commands import load
    from twin.core.dataset.examples import Voice

    settings = load(paths)
    voice = Voice(user_label=settings.chat.user_label, twin_label=settings.chat.twin_label)
    if args.system:
        voice = Voice(args.system, voice.user_label, voice.twin_label)
    opts = ExportOptions(
        formats=tuple(f.strip() for f in args.format.split(",") if f.strip()), folders=tuple(args.folder),
        since=args.since, until=args.until, chats=args.chats, val_share=args.val_share,
        max_tokens=args.max_tokens, min_chars=args.min_chars, max_chars=args.max_chars,
        near_duplicates=args.near_duplicates, private_tag=args.private_tag.strip().lstrip("#"),
        continuation=not args.no_continuation, voice=voice, force=args.force)
    opts.check()
    counter = make_token_counter(settings, args.tokenizer)
    store = _conversations(paths) if args.chats == "starred" and paths.conversations_db.exists() else None
    try:
        stats = export_dataset(settings, args.out, opts, counter, store)
    finally:
        if store is not None:
            store.close()
    if args.json:
        print(json.dumps(stats, ensure_ascii=False, indent=2))
        return 0
    _print_stats(stats, args.out)
    return 0


def _print_stats(stats: dict[str, Any], out: Path) -> None:
    ex, inp = stats["examples"], stats["input"]
    print(f"{ex['total']} examples ({ex['train']} train, {ex['val']} validation) from {inp['kept']} of "
          f"{inp['entries']} entries in {inp['files']} files, and {inp['chats']} starred answers")
    print(f"left out: {inp['private']} private, {inp['out_of_range']} outside the dates, {inp['too_short']} too "
          f"short, {inp['too_long']} too long, {inp['exact_duplicates']} exact + {inp['near_duplicates']} near "
          f"duplicates, {inp['unreadable']} unreadable files")
    print("kinds: " + ", ".join(f"{k} {v}" for k, v in ex["by_kind"].items())
          + " · languages: " + ", ".join(f"{k} {v}" for k, v in ex["by_language"].items()))
    print(f"tokens ({stats['tokenizer']}):")
    for fmt, splits in stats["formats"].items():
        for split, s in splits.items():
            t = s["tokens"]
            print(f"  {fmt:10} {split:5} {s['examples']:6} examples  min {t['min']}  median {t['median']}  "
                  f"p95 {t['p95']}  max {t['max']}  total {t['total']}")
    print(f"written to {out.expanduser().resolve()} (stats.json, README.md)")
    if stats["unreadable_files"]:
        print("unreadable: " + "; ".join(stats["unreadable_files"][:5]), file=sys.stderr)


def _conversations(paths: Paths) -> ConversationStore:
    from twin.cli.conversation_commands import _store

    return _store(paths)


def cmd_star(args: argparse.Namespace, paths: Paths) -> int:
    from twin.cli.conversation_commands import resolve_conversation
    from twin.errors import KnownError

    store = _conversations(paths)
    try:
        cid = resolve_conversation(store, args.conversation)
        answers = [m for m in store.messages(cid) if m.role == "assistant"]
        if args.message is not None:
            answers = [m for m in answers if m.id == args.message]
            if not answers:
                raise KnownError(f"No answer {args.message} in conversation {cid[:8]}.")
        elif not answers:
            raise KnownError(f"Conversation {cid[:8]} has no answer to star.")
        m = answers[-1]
        if not m.complete and not args.off:
            raise KnownError(f"Answer {m.id} is incomplete ({m.finish_reason or 'interrupted'}): not starred.")
        store.set_starred(m.id, not args.off)
        text = " ".join(m.content.split())
        print(f"{'unstarred' if args.off else 'starred'} answer {m.id}: {text[:70]}{'…' if len(text) > 70 else ''}")
    finally:
        store.close()
    return 0


def cmd_starred(args: argparse.Namespace, paths: Paths) -> int:
    store = _conversations(paths)
    try:
        pairs = store.starred_answers()
    finally:
        store.close()
    if args.json:
        print(json.dumps([{"conversation": a.conversation_id, "message_id": a.id, "question": q.content,
                           "answer": a.content} for q, a in pairs], ensure_ascii=False, indent=2))
        return 0
    if not pairs:
        print("no starred answers (twin dataset star CONVERSATION)")
    for q, a in pairs:
        print(f"{a.conversation_id[:8]} #{a.id}  {' '.join(q.content.split())[:60]}\n    → "
              f"{' '.join(a.content.split())[:100]}")
    return 0
