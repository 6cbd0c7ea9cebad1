"""``twin`` command line: the edge where errors become messages and exit codes.

Subcommands live in modules by topic (``memory_commands`` …); each exposes
``register(subparsers)``. A :class:`~twin.errors.KnownError` prints ``twin: error: …`` and
exits with its code; anything else is a bug: logged with its traceback, exit 1.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Sequence

from twin import __version__
from twin.errors import KnownError
from twin.log import setup_logging
from twin.offline import enforce_offline, install_network_guard
from twin.paths import resolve_paths

log = logging.getLogger("twin.cli")


def build_parser() -> argparse.ArgumentParser:
    from twin.cli import memory_commands, model_commands

    parser = argparse.ArgumentParser(
        prog="twin",
        description="twin: your personal AI twin, answering from your own diaries and notes. "
        "Everything stays on this machine.",
    )
    parser.add_argument("--version", action="version", version=f"twin {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    memory_commands.register(sub)
    model_commands.register(sub)
    from twin.cli import eval_commands

    eval_commands.register(sub)
    from twin.cli import dataset_commands

    dataset_commands.register(sub)
    from twin.cli import backup_commands

    backup_commands.register(sub)
    from twin.cli import encryption_commands

    encryption_commands.register(sub)
    from twin.cli import profile_commands

    profile_commands.register(sub)
    from twin.cli import desktop_commands

    desktop_commands.register(sub)
    try:
        from twin.cli import chat_commands
    except ImportError:  # the chat commands arrive with the LLM engine
        pass
    else:
        chat_commands.register(sub)
        from twin.cli import recall_commands

        recall_commands.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from twin.helpers import dispatch

    code = dispatch(["twin", *(sys.argv[1:] if argv is None else argv)])  # a frozen build's helper process
    if code is not None:
        return code
    enforce_offline()
    install_network_guard()  # every connection attempt is recorded and blocked, except a download
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 0
    paths = resolve_paths()
    setup_logging(paths.log_file, args.verbose)
    try:
        return int(args.func(args, paths) or 0)
    except KnownError as e:
        log.info("user error: %s", e)
        print(f"twin: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("twin: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `twin search … | head`
        return 0
    except Exception:  # noqa: BLE001 - the edge: a bug, logged with its traceback
        log.exception("unexpected error in 'twin %s'", args.command)
        print(f"twin: internal error (details in {paths.log_file})", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
