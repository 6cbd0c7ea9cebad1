"""``twin models …``: model files. Downloads happen only here, and only when asked."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twin.paths import Paths

if TYPE_CHECKING:
    from twin.settings import Settings


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> "argparse._SubParsersAction[argparse.ArgumentParser]":
    p = sub.add_parser("models", help="download and list models")
    ms = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = ms.add_parser("pull-embedding", help="download the embedding model (connects to Hugging Face)")
    q.add_argument("name", nargs="?", default=None, help="model name (default: the one in settings)")
    q.add_argument("--yes", "-y", action="store_true", help="do not ask before connecting (needed without a terminal)")
    q.set_defaults(func=cmd_pull_embedding)

    q = ms.add_parser("list", help="the models twin offers (size, fit on this machine, recommendation) and the "
                                   "GGUF files on this computer (twin's folder, LM Studio, Ollama, GPT4All, …, DIRS)")
    q.add_argument("dirs", nargs="*", type=Path, help="more folders (or files) to look in")
    q.add_argument("--json", action="store_true")
    q.add_argument("--no-scan", action="store_true", help="do not look in other programs' model folders")
    q.set_defaults(func=cmd_list)

    q = ms.add_parser("pull", help="download a model from Hugging Face into twin's models folder (resumable, verified)")
    q.add_argument("repo", nargs="?", default=None,
                   help="a model of `twin models list` (e.g. qwen3-8b-q4_k_m), or a repository id with FILE "
                        "(e.g. Qwen/Qwen3-30B-A3B-GGUF); default: the model recommended for this machine")
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
    from twin.app.model_listing import list_models
    from twin.cli.config_commands import load

    listing = list_models(load(paths), paths, extra_dirs=list(args.dirs), scan=not args.no_scan)
    if args.json:
        print(json.dumps(listing, ensure_ascii=False, indent=2))
    else:
        print_listing(listing, paths.models_dir)
    return 0


def print_listing(listing: dict[str, Any], models_dir: Path) -> None:
    m = listing["machine"]
    print(f"this machine: {m['summary']}")
    print(f"fit for a {m['n_ctx']:,}-token context, {m['kv_cache_type']} KV cache (llm.n_ctx, llm.kv_cache_type)\n")
    print("models twin can download (twin models pull NAME):")
    for c in listing["catalog"]:
        mark = "*" if c["recommended"] else " "
        tail = ("  <- recommended" if c["recommended"] else "") + ("  (on disk)" if c["downloaded"] else "")
        print(f"{mark} {c['id']:<38} {c['size_bytes'] / 1e9:5.1f} GB  {c['fit_summary']}{tail}")
    rec = next((c for c in listing["catalog"] if c["recommended"]), None)
    if rec:
        print(f"  (* {rec['reason']})")
    files = listing["files"]
    print("\nmodel files on this computer (used where they are, never copied):")
    if not files:
        print(f"  none (twin's folder: {models_dir})")
    for f in files:
        mark = "*" if f["configured"] else " "
        where = f" [{f['source']}{': ' + f['label'] if f['label'] != Path(f['path']).name else ''}]"
        if f["error"]:
            print(f"{mark} {f['path']}{where}\n    unusable: {f['error']}")
            continue
        print(f"{mark} {f['path']}{where}\n    {f['name']}: {f['architecture']}, {f['kind']}, {f['quant'] or '?'}, "
              f"{f['size_bytes'] / 1e9:.2f} GB, {f['n_layer']} layers, context {f['context_length']}"
              + (f", {f['parts']} parts" if f["parts"] > 1 else ""))
    if any(f["configured"] for f in files):
        print("(* = the configured model)")


def _progress_printer() -> "Callable[[Any], None]":
    last = [""]

    def show(p: Any) -> None:
        line = f"  {p.done / 1e9:6.2f} / {p.total / 1e9:.2f} GB  {p.speed / 1e6:6.1f} MB/s  {p.file}"
        if line != last[0]:
            last[0] = line
            print("\r" + line, end="", file=sys.stderr, flush=True)

    return show


def cmd_pull(args: argparse.Namespace, paths: Paths) -> int:
    from twin.app.model_files import check_pull_args, describe, pull_gguf
    from twin.cli.config_commands import load
    from twin.errors import KnownError

    settings = load(paths)
    parts: list[str] = []
    size = "size shown when it starts"
    if args.repo is None or (args.file is None and "/" not in args.repo):
        from twin.app.model_listing import pick_catalog_model

        named = args.repo is not None
        model = pick_catalog_model(args.repo, settings)
        args.repo, args.file, parts = model.repo, model.files[0], list(model.files[1:])
        size = f"{model.size / 1e9:.1f} GB"
        print(f"{'model' if named else 'twin recommends for this machine'}: "
              f"{model.label} ({model.first_file}, {size})", file=sys.stderr)
    elif args.file is None:
        raise KnownError("give the repository and the file: twin models pull REPO FILE "
                         "(or a model of `twin models list`, or nothing for the recommended model)")
    check_pull_args(args.repo, args.file)
    if _needs_download(paths.models_dir / args.file):
        if not confirm_download(f"{args.file} from {args.repo}" + (f" ({1 + len(parts)} parts)" if parts else ""),
                                size, args.yes):
            return 1
    print(f"downloading {args.file} from {args.repo} into {paths.models_dir} (resumable)…", file=sys.stderr)
    path = pull_gguf(args.repo, args.file, paths.ensure().models_dir, revision=args.revision, parts=parts,
                     on_progress=_progress_printer() if sys.stderr.isatty() else None)
    if sys.stderr.isatty():
        print(file=sys.stderr)
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


def _set_model_path(settings: Settings, paths: Paths, path: str) -> None:
    from twin.settings import save_settings

    settings.llm.model_path = path
    if "llm.model_path" in settings.env_overrides:  # keep TWIN_MODEL out of the file, the new path in
        settings.env_overrides["llm.model_path"] = path
        print("note: TWIN_MODEL is set and overrides llm.model_path while it is", file=sys.stderr)
    save_settings(settings, paths.settings_file)
    print(f"llm.model_path = {path}  ({paths.settings_file})")
