"""Durability and privacy commands: ``backup``, ``restore``, ``forget``.

``twin backup`` snapshots the data folder (``list``, ``prune`` to manage them), ``twin restore``
puts one back (after backing up the present), ``twin forget`` removes a file or folder from
memory for good: out of the index, off the disk, and out of future indexing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

from twin.errors import KnownError, SourceError
from twin.paths import Paths
from twin.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("backup", help="back up the data folder (index, conversations, inbox); list, prune")
    p.add_argument("--reason", default="manual", help="a word for the backup's name (default: manual)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_backup_create)
    bs = p.add_subparsers(dest="action", metavar="ACTION")
    q = bs.add_parser("create", help="take a backup now (the default)")
    q.add_argument("--reason", default="manual")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_backup_create)
    q = bs.add_parser("list", help="list backups, oldest first")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_backup_list)
    q = bs.add_parser("prune", help="delete the oldest backups (backups keep deleted text until pruned)")
    q.add_argument("--keep", type=int, default=None, help="how many to keep (default: backup.keep; 0 = none)")
    q.set_defaults(func=cmd_backup_prune)

    p = sub.add_parser("restore", help="replace the data folder by a backup (the present is backed up first)")
    p.add_argument("name", help="a backup name from `twin backup list`")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p.add_argument("--wait", action="store_true", help="wait for the process that keeps the index current")
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("forget", help="remove files or folders from memory for good (index and disk); "
                                      "they are excluded from indexing from now on")
    p.add_argument("paths", nargs="+", type=Path)
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p.add_argument("--wait", action="store_true", help="wait for the process that keeps the index current")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_forget)


def _settings(paths: Paths) -> Settings:
    from twin.cli.config_commands import load

    return load(paths)


def _confirm(question: str, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise KnownError(f"{question} Add --yes to confirm (no terminal to ask on).")
    answer = input(f"{question} [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise KnownError("cancelled")


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def cmd_backup_create(args: argparse.Namespace, paths: Paths) -> int:
    from twin.app.backup import create_backup

    settings = _settings(paths)
    t0 = time.perf_counter()
    info = create_backup(paths.ensure(), settings.backup, args.reason)
    seconds = time.perf_counter() - t0
    if args.json:
        print(json.dumps({**info.manifest, "path": str(info.path)}, ensure_ascii=False, indent=2))
    else:
        print(f"backup {info.name}: {_mb(info.bytes)} in {seconds:.2f} s → {info.path}")
        print("  (models are not included: they can be downloaded again)")
    return 0


def cmd_backup_list(args: argparse.Namespace, paths: Paths) -> int:
    from twin.app.backup import backups_dir, list_backups

    settings = _settings(paths)
    backups = list_backups(paths, settings.backup)
    if args.json:
        print(json.dumps([{"name": b.name, "path": str(b.path), "created": b.created, "reason": b.reason,
                           "bytes": b.bytes} for b in backups], ensure_ascii=False, indent=2))
        return 0
    if not backups:
        print(f"no backups yet in {backups_dir(paths, settings.backup)} (take one with: twin backup)")
    for b in backups:
        when = dt.datetime.fromtimestamp(b.created).strftime("%Y-%m-%d %H:%M:%S")
        print(f"{b.name}  {when}  {_mb(b.bytes):>10}  {b.reason}")
    return 0


def cmd_backup_prune(args: argparse.Namespace, paths: Paths) -> int:
    from twin.app.backup import prune

    settings = _settings(paths)
    removed = prune(paths, settings.backup, keep=args.keep)
    for name in removed:
        print(f"deleted backup {name}")
    if not removed:
        print("nothing to prune")
    return 0


def cmd_restore(args: argparse.Namespace, paths: Paths) -> int:
    from twin.app.backup import find_backup, restore_backup

    settings = _settings(paths)
    backup = find_backup(paths, settings.backup, args.name)
    _confirm(f"Replace the index, conversations and inbox in {paths.data_dir} by backup {backup.name} "
             f"({backup.reason})? The present state is backed up first.", args.yes)
    t0 = time.perf_counter()
    before = restore_backup(paths, settings.backup, args.name, wait=args.wait)
    print(f"restored {backup.name} in {time.perf_counter() - t0:.2f} s; "
          f"the state before is in backup {before.name} (undo: twin restore {before.name})")
    return 0


def cmd_forget(args: argparse.Namespace, paths: Paths) -> int:
    from twin.app.container import Memory
    from twin.app.forget import forget, plan_forget
    from twin.cli.encryption_commands import cli_vault
    from twin.settings import save_settings

    settings = _settings(paths)
    targets = [p.expanduser().resolve() for p in args.paths]
    plan = plan_forget(settings, targets)
    if not plan.targets:
        raise SourceError("nothing to forget")
    _confirm(f"Forget {len(plan.targets)} path(s) for good (index, disk, and future indexing)?", args.yes)
    memory = Memory(settings, paths, cli_vault(paths))
    lock = memory.writer_lock("twin forget")
    lock.acquire_or_raise(wait=args.wait, picked_up=False,
                          what="Close it first, or use --wait to wait for it")
    try:
        plan.apply(settings)  # excluded before the rows go, so no indexer brings them back
        save_settings(settings, paths.settings_file)
        report = forget(memory, plan)
    finally:
        memory.close()
        lock.release()
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(f"forgot {report['files']} file(s), {report['chunks']} chunk(s); purged from disk in "
              f"{report['purge'].get('seconds', 0):.2f} s")
        for line in plan.describe():
            print(f"  {line}")
        print("  backups taken earlier still hold them: `twin backup prune --keep 0` deletes all backups")
    return 0
