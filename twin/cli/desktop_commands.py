"""``twin install-desktop``: the Linux menu entry, icons, AppStream metainfo, login autostart.

Everything goes under the XDG base directories of the current user (``$XDG_DATA_HOME``,
``$XDG_CONFIG_HOME``); ``--remove`` takes it away again. The work is in
:mod:`twin.app.desktop_entry`.
"""

from __future__ import annotations

import argparse
import json

from twin.paths import Paths


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("install-desktop",
                       help="add twin to the desktop menu (Linux): .desktop entry, icons, AppStream metainfo")
    p.add_argument("--autostart", action="store_true",
                   help="also start twin at login, hidden in the tray, so the memory stays current")
    p.add_argument("--remove", action="store_true", help="remove the menu entry, icons, metainfo and autostart")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_install_desktop)


def cmd_install_desktop(args: argparse.Namespace, paths: Paths) -> int:
    from twin.app import desktop_entry

    result = desktop_entry.remove() if args.remove else desktop_entry.install(autostart=args.autostart)
    if args.json:
        print(json.dumps({"gui": result.gui, "files": [str(f) for f in result.files]}, indent=2))
        return 0
    if args.remove:
        print(f"Removed {len(result.files)} file(s) of twin's desktop entry.")
        return 0
    print(f"twin is in the desktop menu; it starts {result.gui}")
    for f in result.files:
        if f.suffix != ".png":
            print(f"  {f}")
    if args.autostart:
        print("It starts at login, hidden in the tray (twin-gui --tray).")
    return 0
