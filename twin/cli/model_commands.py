"""``twin models …``: model files. Downloads happen only here, and only when asked."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from twin.paths import Paths


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> "argparse._SubParsersAction[argparse.ArgumentParser]":
    p = sub.add_parser("models", help="download and list models")
    ms = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = ms.add_parser("pull-embedding", help="download the embedding model (connects to Hugging Face)")
    q.add_argument("name", nargs="?", default=None, help="model name (default: the one in settings)")
    q.add_argument("--yes", "-y", action="store_true", help="do not ask before connecting (needed without a terminal)")
    q.set_defaults(func=cmd_pull_embedding)

    q = ms.add_parser("list", help="GGUF models in twin's models folder, the configured one, and DIRS")
    q.add_argument("dirs", nargs="*", type=Path, help="more folders (or files) to look in")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_list)

    q = ms.add_parser("pull", help="download a GGUF from Hugging Face into twin's models folder (resumable)")
    q.add_argument("repo", nargs="?", default=None,
                   help="repository id, e.g. Qwen/Qwen3-30B-A3B-GGUF (default: twin's recommended model)")
    q.add_argument("file", nargs="?", default=None, help="file in the repository, e.g. Qwen3-30B-A3B-Q6_K.gguf")
    q.add_argument("--revision", default=None, help="branch, tag or commit (default: main)")
    q.add_argument("--use", action="store_true", help="then make it the model (llm.model_path)")
    q.add_argument("--yes", "-y", action="store_true", help="do not ask before connecting (needed without a terminal)")
    q.set_defaults(func=cmd_pull)
    return ms


def cmd_pull_embedding(args: argparse.Namespace, paths: Paths) -> int:
    from twin.app.downloads import pull_embedding_model
    from twin.cli.config_commands import load

    name = args.name or load(paths).embedding.model
    if not confirm_download(f"the embedding model {name}", "", args.yes):
        return 1
    print(f"downloading {name} from Hugging Face (this is the only time twin connects)…")
    path = pull_embedding_model(name, paths.ensure().cache_dir)
    print(f"done: {path}")
    return 0


def cmd_list(args: argparse.Namespace, paths: Paths) -> int:
    from twin.app.model_files import describe, find_models
    from twin.cli.config_commands import load

    settings = load(paths)
    configured = settings.llm.model_path.strip()
    roots: list[Path] = [paths.models_dir, *args.dirs]
    if configured:
        roots.append(Path(configured))
    found = find_models(roots)
    if configured and Path(configured).expanduser().resolve() not in {f.resolve() for f in found}:
        found.append(Path(configured).expanduser())  # missing or broken: describe() says why
    current = Path(configured).expanduser().resolve() if configured else None
    models = [dict(describe(f).to_json(), configured=f.resolve() == current) for f in found]
    if args.json:
        print(json.dumps(models, ensure_ascii=False, indent=2))
        return 0
    if not models:
        print(f"no GGUF models in {paths.models_dir} (download one: twin models pull REPO FILE)")
    for m in models:
        mark = "*" if m["configured"] else " "
        if m["error"]:
            print(f"{mark} {m['path']}\n    unusable: {m['error']}")
            continue
        print(f"{mark} {m['path']}\n    {m['name']}: {m['architecture']}, {m['kind']}, {m['quant'] or '?'}, "
              f"{m['size_bytes'] / 1e9:.2f} GB, {m['n_layer']} layers, context {m['context_length']}"
              + (f", {m['parts']} parts" if m["parts"] > 1 else ""))
    if any(m["configured"] for m in models):
        print("(* = the configured model)")
    return 0


def cmd_pull(args: argparse.Namespace, paths: Paths) -> int:
    from twin.app.model_files import check_pull_args, describe, pull_gguf
    from twin.cli.config_commands import load

    if args.repo is None:
        from twin.app.model_download import DEFAULT_MODEL

        args.repo, args.file = DEFAULT_MODEL.repo, DEFAULT_MODEL.filename
        print(f"twin's recommended model: {DEFAULT_MODEL.label}", file=sys.stderr)
    elif args.file is None:
        from twin.errors import KnownError

        raise KnownError("give the repository and the file: twin models pull REPO FILE "
                         "(or neither, for the recommended model)")
    check_pull_args(args.repo, args.file)
    settings = load(paths)
    if _needs_download(paths.models_dir / args.file):
        from twin.app.model_download import DEFAULT_MODEL

        known = (DEFAULT_MODEL.repo, DEFAULT_MODEL.filename) == (args.repo, args.file)
        size = f"{DEFAULT_MODEL.size_gb:.0f} GB" if known else "size shown when it starts"
        if not confirm_download(f"{args.file} from {args.repo}", size, args.yes):
            return 1
    print(f"downloading {args.file} from {args.repo} into {paths.models_dir} (resumable)…", file=sys.stderr)
    path = pull_gguf(args.repo, args.file, paths.ensure().models_dir, revision=args.revision)
    m = describe(path)
    print(f"done: {path} ({m.name}, {m.architecture}, {m.quant or '?'}, {m.size_bytes / 1e9:.2f} GB)")
    use = args.use
    if not use and sys.stdin.isatty() and sys.stdout.isatty():
        use = input("Use it as your model (llm.model_path)? [y/N] ").strip().lower() in ("y", "yes")
    if use:
        _set_model_path(settings, paths, str(path))
    else:
        print(f"to use it: twin models pull {args.repo} {args.file} --use   (or set llm.model_path)")
    return 0


def hub_host() -> str:
    """The host a download connects to (huggingface.co, or HF_ENDPOINT's)."""
    import os
    from urllib.parse import urlsplit

    return urlsplit(os.environ.get("HF_ENDPOINT") or "https://huggingface.co").hostname or "huggingface.co"


def confirm_download(what: str, size: str, assume_yes: bool) -> bool:
    """Ask before the one action that connects. ``--yes`` skips the question; without a
    terminal to ask on, refuse (KnownError) rather than connect unasked.

    Returns:
        False when the user said no (nothing was downloaded).
    """
    from twin.errors import KnownError

    host = hub_host()
    if assume_yes:
        return True
    if not sys.stdin.isatty():
        raise KnownError(f"downloading {what} connects to {host}, and twin asks before it connects; "
                         "there is no terminal to ask on. Run the command again with --yes to confirm.")
    detail = f" ({size})" if size else ""
    answer = input(f"twin will connect to {host} to download {what}{detail}.\n"
                   "This is the only connection twin makes. Download now? [y/N] ")
    if answer.strip().lower() in ("y", "yes"):
        return True
    print("not downloaded: twin made no connection.", file=sys.stderr)
    return False


def _needs_download(target: Path) -> bool:
    """False when a complete copy is already there or twin is set to stay offline (then
    ``pull_gguf`` uses the copy, or refuses, without connecting: nothing to ask)."""
    from twin.app.model_files import offline_forced
    from twin.core.llm.gguf_meta import read_gguf_header
    from twin.errors import KnownError

    if offline_forced():
        return False
    if target.is_file():
        try:
            read_gguf_header(target)
        except KnownError:
            return True
        return False
    return True


def _set_model_path(settings, paths: Paths, path: str) -> None:  # type: ignore[no-untyped-def]
    from twin.settings import save_settings

    settings.llm.model_path = path
    if "llm.model_path" in settings.env_overrides:  # keep TWIN_MODEL out of the file, the new path in
        settings.env_overrides["llm.model_path"] = path
        print("note: TWIN_MODEL is set and overrides llm.model_path while it is", file=sys.stderr)
    save_settings(settings, paths.settings_file)
    print(f"llm.model_path = {path}  ({paths.settings_file})")
