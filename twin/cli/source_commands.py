"""Source-folder commands: ``sources list``, ``sources add``, ``sources remove``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from twin.cli.config_commands import load
from twin.errors import SourceError
from twin.paths import Paths
from twin.settings import Settings, save_settings


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("sources", help="list, add or remove source folders")
    ss = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = ss.add_parser("list", help="list source folders")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_sources_list)
    q = ss.add_parser("add", help="add folders (indexed on the next `twin index` or by `twin watch`)")
    q.add_argument("paths", nargs="+", type=Path)
    q.set_defaults(func=cmd_sources_add)
    q = ss.add_parser("remove", help="remove folders (their memories are dropped on the next index)")
    q.add_argument("paths", nargs="+", type=Path)
    q.set_defaults(func=cmd_sources_remove)


def _norm(p: Path) -> str:
    return str(p.expanduser().resolve())


def add_sources(settings: Settings, folders: list[Path]) -> list[str]:
    """Add ``folders`` (resolved) to ``settings``; returns the ones that were new.

    Raises:
        SourceError: a folder is missing or is not a folder.
    """
    added = []
    for folder in folders:
        path = folder.expanduser().resolve()
        if not path.exists():
            raise SourceError(f"folder not found: {folder}")
        if not path.is_dir():
            raise SourceError(f"not a folder: {folder}")
        if str(path) not in settings.memory.sources:
            settings.memory.sources.append(str(path))
            added.append(str(path))
    return added


def cmd_sources_list(args: argparse.Namespace, paths: Paths) -> int:
    settings = load(paths)
    if args.json:
        print(json.dumps([{"path": s, "exists": Path(s).is_dir()} for s in settings.memory.sources], ensure_ascii=False))
        return 0
    if not settings.memory.sources:
        print("no source folders (add one with: twin sources add FOLDER)")
    for s in settings.memory.sources:
        print(s if Path(s).is_dir() else f"{s}  (missing)")
    return 0


def cmd_sources_add(args: argparse.Namespace, paths: Paths) -> int:
    settings = load(paths)
    added = add_sources(settings, args.paths)
    save_settings(settings, paths.settings_file)
    for a in added:
        print(f"added {a}")
    return 0


def cmd_sources_remove(args: argparse.Namespace, paths: Paths) -> int:
    settings = load(paths)
    for folder in args.paths:
        key = _norm(folder)
        matches = [s for s in settings.memory.sources if _norm(Path(s)) == key]
        if not matches:
            raise SourceError(f"not a source folder: {folder}")
        for m in matches:
            settings.memory.sources.remove(m)
            print(f"removed {m} (its memories are dropped on the next `twin index`)")
    save_settings(settings, paths.settings_file)
    return 0
