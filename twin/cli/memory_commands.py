"""The memory commands: ``search`` here; ``index``, ``watch`` and ``status``
(:mod:`twin.cli.index_commands`), ``sources`` (:mod:`twin.cli.source_commands`) and ``config``
(:mod:`twin.cli.config_commands`) registered from their modules, in that order."""

from __future__ import annotations

import argparse
import json

from twin.cli import config_commands, index_commands, source_commands
from twin.cli.config_commands import load
from twin.cli.date_args import date_arg
from twin.cli.encryption_commands import cli_vault
from twin.errors import ConfigError, KnownError
from twin.paths import Paths


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    index_commands.register(sub)
    source_commands.register(sub)
    p = sub.add_parser("search", help="search your memories (hybrid: meaning + words, date-aware)")
    p.add_argument("query")
    p.add_argument("-k", type=int, default=None, help="number of hits (default: settings)")
    p.add_argument("--since", type=date_arg("since"), default=None, help="YYYY, YYYY-MM or YYYY-MM-DD")
    p.add_argument("--until", type=date_arg("until"), default=None, help="YYYY, YYYY-MM or YYYY-MM-DD")
    p.add_argument("--mode", choices=("hybrid", "vector", "bm25"), default="hybrid")
    p.add_argument("--no-query-dates", action="store_true", help="don't read dates from the query text")
    p.add_argument("--json", action="store_true", help="print a JSON array of hits")
    p.set_defaults(func=cmd_search)
    config_commands.register(sub)


def cmd_search(args: argparse.Namespace, paths: Paths) -> int:
    from twin.app.container import Memory

    settings = load(paths)
    if args.k is not None and args.k < 1:
        raise ConfigError("-k must be at least 1")
    if args.since and args.until and args.since > args.until:
        raise KnownError("--since is after --until")
    memory = Memory(settings, paths, cli_vault(paths))
    try:
        hits = memory.retriever.search(
            args.query, k=args.k, since=args.since, until=args.until,
            use_query_dates=not args.no_query_dates, mode=args.mode,
        )
    finally:
        memory.close()
    if args.json:
        print(json.dumps([h.to_json() for h in hits], ensure_ascii=False, indent=2))
        return 0
    if not hits:
        print("no memories found")
    for i, h in enumerate(hits, 1):
        date = h.date.isoformat() if h.date else "----------"
        print(f"{i:>2}. {date}  {h.path}:{h.start_line}-{h.end_line}  (score {h.score:.3f})")
        if h.heading:
            print(f"    {h.heading}")
        text = " ".join(h.text.split())
        print(f"    {text[:300]}{'…' if len(text) > 300 else ''}")
    return 0
