"""``twin recall``: on this day in earlier years, and what you were doing in a period.

    twin recall --on-this-day [--date YYYY-MM-DD|MM-DD] [--json]
    twin recall --period 2019-03..2019-05 [--no-llm] [--json]

Both read entry dates from the index (no model is loaded for listings). ``--period`` without
``--no-llm`` streams a summary from the language model with numbered citations, then the
sources; Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any, TextIO

from twin.paths import Paths

PREVIEW_CHARS = 110


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("recall", help="on this day in earlier years, or what you were doing in a period",
                       description="List your entries from this day in earlier years, or sum up a period "
                       "(e.g. 2019, 2019-03, 2019-03..2019-05, 'spring 2019', 'весна 2019') with sources.")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--on-this-day", action="store_true", help="entries from this month and day in earlier years")
    what.add_argument("--period", metavar="PERIOD", help="a period to sum up (see above)")
    p.add_argument("--date", metavar="DATE", help="with --on-this-day: YYYY-MM-DD or MM-DD instead of today")
    p.add_argument("--no-llm", action="store_true", help="with --period: list the entries, no summary")
    p.add_argument("--max-entries", type=int, default=40, metavar="N",
                   help="with --period: at most N entries go into the summary (sampled by week)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=cmd_recall)


def cmd_recall(args: argparse.Namespace, paths: Paths) -> int:
    from twin.app.container import Memory
    from twin.app.recall_service import RecallService, open_index_for_reading
    from twin.cli.chat_commands import _safe_stdout
    from twin.cli.config_commands import load
    from twin.core.memory.timeline import parse_day, parse_period
    from twin.errors import KnownError

    _safe_stdout()
    today = dt.date.today()
    if args.date and not args.on_this_day:
        raise KnownError("--date goes with --on-this-day (a period is given with --period)")
    from twin.cli.encryption_commands import cli_vault

    settings = load(paths)
    memory = Memory(settings, paths, cli_vault(paths))  # prompts for the passphrase on a terminal
    try:
        vault = getattr(memory, "vault", None)
        store = open_index_for_reading(paths.index_dir, vault.codec() if vault is not None else None)
        recall = RecallService(store)
        if args.on_this_day:
            day = parse_day(args.date, today) if args.date else today
            return _on_this_day(recall, day, args.json, sys.stdout)
        period = parse_period(args.period, today)
        entries = recall.period(period)
        if args.no_llm or not entries:
            return _timeline(period, entries, args.json, sys.stdout)
        return _summary(args, memory, recall, period, entries)
    finally:
        memory.close()


def _clip(text: str, n: int = PREVIEW_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _on_this_day(recall: Any, day: dt.date, as_json: bool, out: TextIO) -> int:
    groups = recall.on_this_day(day)
    if as_json:
        print(json.dumps({"date": day.isoformat(), "years": [
            {"year": g.year, "entries": [e.to_json() for e in g.entries]} for g in groups]},
            ensure_ascii=False, indent=2), file=out)
        return 0
    label = f"{day.day} {day.strftime('%B')}"
    if not groups:
        print(f"Nothing from {label} in earlier years.", file=out)
        return 0
    print(f"On this day, {label}, in earlier years:", file=out)
    for g in groups:
        print(f"\n{g.year}", file=out)
        for e in g.entries:
            what = f" › {e.heading}" if e.heading else ""
            print(f"  {e.date.isoformat()}  {e.path}:{e.start_line}{what}", file=out)
            print(f"      {_clip(e.preview)}", file=out)
    return 0


def _timeline(period: Any, entries: list[Any], as_json: bool, out: TextIO) -> int:
    from twin.core.memory.timeline import describe

    if as_json:
        print(json.dumps({"period": _period_json(period), "entries": [e.to_json() for e in entries]},
                         ensure_ascii=False, indent=2), file=out)
        return 0
    if not entries:
        print(f"No entries from {describe(period)}.", file=out)
        return 0
    print(f"{describe(period)}: {len(entries)} entries", file=out)
    month = None
    for e in entries:
        if (e.date.year, e.date.month) != month:
            month = (e.date.year, e.date.month)
            print(f"\n{e.date.strftime('%B')} {e.date.year}", file=out)
        print(f"  {e.date.isoformat()}  {_clip(e.preview, 80)}  ({e.path}:{e.start_line})", file=out)
    return 0


def _period_json(period: Any) -> dict[str, str]:
    return {"since": period.since.isoformat(), "until": period.until.isoformat()}


def _summary(args: argparse.Namespace, memory: Any, recall: Any, period: Any, entries: list[Any]) -> int:
    from twin.app.twin import Twin
    from twin.app.recall_service import PeriodSummary
    from twin.cli.chat_commands import StopFlag, _LoadProgress, citation_json
    from twin.core.conversation.events import Thinking, Token

    chat = Twin.over(memory, use_memories=False, on_progress=_LoadProgress())
    try:
        chat.require_model()
        chat.start()
        chat.wait_ready()
        _LoadProgress.clear()
        stop = StopFlag()
        done: PeriodSummary | None = None
        events = recall.summarise(period, entries, chat.engine, memory.settings.chat, should_stop=stop.is_set,
                                  max_entries=args.max_entries)
        try:
            with stop.armed():
                for ev in events:
                    if isinstance(ev, Token) and not args.json:
                        sys.stdout.write(ev.text)
                        sys.stdout.flush()
                    elif isinstance(ev, Thinking) and not args.json:
                        sys.stderr.write(ev.text)
                    elif isinstance(ev, PeriodSummary):
                        done = ev
        finally:
            events.close()
    finally:
        _LoadProgress.clear()
        chat.close()
    if done is None:  # pragma: no cover - summarise always ends with a PeriodSummary or raises
        raise RuntimeError("the summary ended without a result")
    if args.json:
        print(json.dumps({"period": _period_json(period), "summary": done.summary,
                          "citations": [citation_json(c) for c in done.citations], "cited": list(done.cited),
                          "entries_total": done.entries_total}, ensure_ascii=False, indent=2))
    else:
        print("" if done.complete else "  [stopped]")
        print()
        _print_sources(done, sys.stdout)
    return 0 if done.complete or done.finish_reason != "cancelled" else 130


def _print_sources(done: Any, out: TextIO) -> None:
    cited = set(done.cited)
    used = len(done.citations)
    print(f"Sources ({used} of {done.entries_total} entries" + ("; * = cited):" if cited else "):"), file=out)
    for c in done.citations:
        mark = "*" if c.n in cited else " "
        lines = f":{c.start_line}-{c.end_line}" if c.start_line else ""
        print(f" {mark}[{c.n}] {c.date or '----------'}  {c.path}{lines}", file=out)
