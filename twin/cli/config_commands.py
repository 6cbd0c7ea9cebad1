"""Settings commands (``config path``, ``config show``) and :func:`load`, the settings every
command starts from (written with their documented defaults on the first run)."""

from __future__ import annotations

import argparse

from twin.paths import Paths
from twin.settings import Settings, load_settings, render_settings, save_settings


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("config", help="show the settings file")
    cs = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    cs.add_parser("path", help="print the settings file's path").set_defaults(func=cmd_config_path)
    cs.add_parser("show", help="print the effective settings").set_defaults(func=cmd_config_show)


def load(paths: Paths) -> Settings:
    """Load settings; on first run write the documented defaults."""
    settings = load_settings(paths.settings_file)
    if not paths.settings_file.exists():
        save_settings(settings, paths.settings_file)
    return settings


def cmd_config_path(args: argparse.Namespace, paths: Paths) -> int:
    print(paths.settings_file)
    return 0


def cmd_config_show(args: argparse.Namespace, paths: Paths) -> int:
    print(render_settings(load(paths)), end="")
    return 0
