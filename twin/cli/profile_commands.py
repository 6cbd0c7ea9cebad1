"""``twin profile``: build the self-profile from your diaries, show it, and review its facts.

``build`` is heavy (the model reads every new or changed entry); it is incremental and
resumable: Ctrl-C stops after the batch in flight is dropped, and the next ``build`` goes on
from there. Review commands need no model.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import threading
from typing import Any

from twin.app.profile_service import ProfileService
from twin.core.profile.job import Progress
from twin.core.profile.model import STATUSES, Fact
from twin.paths import Paths


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("profile", help="your self-profile: people, places, themes, values, habits, style "
                                       "(built from your diaries, reviewed by you)")
    ps = p.add_subparsers(dest="profile_command", metavar="ACTION", required=True)

    b = ps.add_parser("build", help="read new and changed diary entries with the model and update the profile")
    b.add_argument("--since", type=dt.date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                   help="only entries from this date")
    b.add_argument("--until", type=dt.date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                   help="only entries up to this date")
    b.add_argument("--limit", type=int, default=None, metavar="N", help="at most N entries (the oldest first)")
    b.add_argument("--json", action="store_true", help="print a JSON report")
    b.add_argument("--if-due", action="store_true",
                   help="build only if profile.schedule (daily/weekly) says it is time (for cron or a timer)")
    b.set_defaults(func=cmd_build)

    s = ps.add_parser("show", help="list the profile's facts with their ids and sources")
    s.add_argument("--status", choices=STATUSES, default=None)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_show)

    a = ps.add_parser("accept", help="accept facts (they then shape every answer)")
    a.add_argument("ids", nargs="*", metavar="ID")
    a.add_argument("--all", action="store_true", help="accept every proposed fact")
    a.set_defaults(func=cmd_accept)

    r = ps.add_parser("reject", help="reject facts (they are never proposed again)")
    r.add_argument("ids", nargs="+", metavar="ID")
    r.set_defaults(func=cmd_reject)

    e = ps.add_parser("edit", help="replace a fact's statement with your own words (and accept it)")
    e.add_argument("id", metavar="ID")
    e.add_argument("statement")
    e.set_defaults(func=cmd_edit)


def _service(paths: Paths, memory: Any = None) -> ProfileService:
    from twin.cli.encryption_commands import cli_vault
    from twin.cli.config_commands import load

    settings = memory.settings if memory is not None else load(paths)
    vault = memory.vault if memory is not None else cli_vault(paths)
    return ProfileService(settings, paths, encode=vault.encode_bytes, decode=vault.decode_bytes)


class _Progress:
    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __call__(self, p: Progress) -> None:
        if not self.enabled:
            return
        eta = f", about {p.eta_s / 60:.0f} min left" if p.eta_s else ""
        sys.stderr.write(f"\rprofile: {p.batches_done}/{p.batches_total} batches, {p.units_done}/{p.units_total} "
                         f"entries, {p.facts} facts{eta}\033[K")
        sys.stderr.flush()


def cmd_build(args: argparse.Namespace, paths: Paths) -> int:
    from twin.app.twin import Twin
    from twin.app.container import Memory
    from twin.cli.encryption_commands import cli_vault
    from twin.cli.config_commands import load

    settings = load(paths)
    if args.if_due and not _service(paths).due(dt.datetime.now(dt.UTC)):
        print(f"twin: the profile is not due (schedule: {settings.profile.schedule})", file=sys.stderr)
        return 0
    memory = Memory(settings, paths, cli_vault(paths))
    chat = Twin.over(memory, use_memories=False)
    stop = threading.Event()
    try:
        service = _service(paths, memory)
        service.entries(limit=1)  # NoSourcesError before the model loads
        chat.require_model()
        chat.start()
        info = chat.wait_ready()
        print(f"twin: building the profile with {info.model_id} ({info.kind}); Ctrl-C stops, `twin profile build` "
              "resumes", file=sys.stderr)
        try:
            report = service.build(chat.engine, since=args.since, until=args.until, limit=args.limit,
                                   on_progress=_Progress(sys.stderr.isatty() and not args.json),
                                   should_stop=stop.is_set)
        except KeyboardInterrupt:
            stop.set()
            print("\ntwin: profile build stopped; run it again to go on where it stopped", file=sys.stderr)
            return 130
    finally:
        chat.close()
        memory.close()
    m = report.map
    if sys.stderr.isatty() and not args.json:
        sys.stderr.write("\r\033[K")
    if args.json:
        print(json.dumps({"entries": report.entries, "units": m.units_total, "mapped": m.units_mapped,
                          "reused": m.units_reused, "batches": m.batches, "failed_batches": m.failed_batches,
                          "retries": m.retries, "facts": report.facts, "proposed": report.proposed,
                          "seconds": round(m.seconds, 2), "cancelled": m.cancelled,
                          "problems": m.problems[:20]}, ensure_ascii=False))
        return 0
    per100 = f" ({m.seconds / m.units_mapped * 100:.0f} s per 100 entries)" if m.units_mapped else ""
    print(f"read {m.units_mapped} new or changed entries ({m.units_reused} unchanged) in {m.batches} batches, "
          f"{m.seconds:.0f} s{per100}; {m.failed_batches} batches failed")
    print(f"profile: {report.facts} facts, {report.proposed} to review (`twin profile show --status proposed`)")
    print(f"files: {service.folder}")
    return 0


def _print_fact(f: Fact) -> None:
    rel = f" ({f.relation})" if f.relation else ""
    flag = "  [new entries say more]" if f.changed else ""
    print(f"{f.id}  {f.status:<8} {f.kind:<7} {f.subject}{rel}: {f.statement}{flag}")
    cites = ", ".join(f"{s.date or 'undated'} {s.path}" for s in f.sources[:3])
    more = f" (+{len(f.sources) - 3})" if len(f.sources) > 3 else ""
    print(f"          sources: {cites}{more}")


def cmd_show(args: argparse.Namespace, paths: Paths) -> int:
    service = _service(paths)
    facts = service.facts(args.status)
    if args.json:
        print(json.dumps([f.to_json() for f in facts], ensure_ascii=False, indent=1))
        return 0
    if not facts:
        print("no facts" + (f" with status {args.status}" if args.status else "; build the profile with "
                            "`twin profile build`"))
        return 0
    for f in facts:
        _print_fact(f)
    print(f"\n{len(facts)} facts; readable copy: {service.folder / 'profile.md'}")
    return 0


def cmd_accept(args: argparse.Namespace, paths: Paths) -> int:
    if not args.ids and not args.all:
        print("twin: name fact ids to accept, or --all", file=sys.stderr)
        return 2
    done = _service(paths).accept(None if args.all else args.ids)
    print(f"accepted {len(done)} fact(s)")
    return 0


def cmd_reject(args: argparse.Namespace, paths: Paths) -> int:
    done = _service(paths).reject(args.ids)
    print(f"rejected {len(done)} fact(s); they will not be proposed again")
    return 0


def cmd_edit(args: argparse.Namespace, paths: Paths) -> int:
    fact = _service(paths).edit(args.id, args.statement)
    print(f"{fact.id}: edited and accepted")
    return 0
