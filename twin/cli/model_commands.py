"""``twin models …``: model files. Downloads happen only here, and only when asked."""

from __future__ import annotations

import argparse

from twin.paths import Paths


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> "argparse._SubParsersAction[argparse.ArgumentParser]":
    p = sub.add_parser("models", help="download and list models")
    ms = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = ms.add_parser("pull-embedding", help="download the embedding model (connects to Hugging Face)")
    q.add_argument("name", nargs="?", default=None, help="model name (default: the one in settings)")
    q.set_defaults(func=cmd_pull_embedding)
    return ms


def cmd_pull_embedding(args: argparse.Namespace, paths: Paths) -> int:
    from twin.app.downloads import pull_embedding_model
    from twin.cli.memory_commands import load

    name = args.name or load(paths).embedding.model
    print(f"downloading {name} from Hugging Face (this is the only time twin connects)…")
    path = pull_embedding_model(name, paths.ensure().cache_dir)
    print(f"done: {path}")
    return 0
