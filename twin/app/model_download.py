"""Download a GGUF language model from the Hugging Face hub, only when the user asks.

Runs as its own process (``python -m twin.app.model_download REPO FILE DEST``) so that:
the offline switches of the app process stay on (``huggingface_hub`` reads them at import,
and the embedder has usually imported it already); the window stays responsive; and
cancelling is just ending the process. The download resumes where an interrupted one
stopped (``hf_hub_download`` keeps the partial file in ``DEST/.cache``).

The rules are :func:`twin.app.model_files.pull_gguf`'s (argument checks, ``TWIN_OFFLINE``
refuses, a complete copy already there is used, the result must be a readable GGUF); this
adds only the progress reports the window shows.

A split GGUF comes whole: ``REPO FILE DEST PART2 PART3…`` downloads every part; each file is
verified by size and sha256 against the hub's metadata (:func:`twin.app.downloads.download_files`).
``--embedding NAME CACHE_DIR`` downloads a sentence-transformers model the same way.

Protocol: one JSON object per stdout line — ``{"done": bytes, "total": bytes, "speed":
bytes_per_s, "file": name}`` while it runs, then ``{"path": "..."}`` or ``{"error": "...",
"message": {"key", "params"}}`` (the English text, and the message's key for the window).
Exit code 0 on success.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twin.messages import message_of, msg, to_json


@dataclass(frozen=True)
class ModelChoice:
    """A downloadable model file."""

    repo: str
    filename: str
    size_gb: float
    label: str


#: The default: Qwen3-30B-A3B at Q6_K (near-lossless; ~25 GB; fits fully on a >= 32 GB GPU).
DEFAULT_MODEL = ModelChoice("Qwen/Qwen3-30B-A3B-GGUF", "Qwen3-30B-A3B-Q6_K.gguf", 25.1,
                            "Qwen3-30B-A3B, Q6_K (25 GB)")


def command(choice: ModelChoice, dest: Path) -> list[str]:
    """The command line that downloads ``choice`` into ``dest``."""
    from twin.helpers import helper_command  # `twin-gui --helper download-model …` in a frozen build

    return helper_command("download-model", choice.repo, choice.filename, str(dest))


def _emit(obj: dict[str, Any]) -> None:
    print(json.dumps(obj), flush=True)


def _error(e: object) -> dict[str, Any]:
    """``{"error": English text}``, and ``"message": {"key", "params"}`` (twin.messages) when
    it is one of twin's messages: the window shows that in its language."""
    m = message_of(e)
    return {"error": str(e), **({"message": to_json(m)} if m is not None else {})}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 3 and args[0] == "--embedding":
        return _embedding(args[1], Path(args[2]))
    if len(args) < 3:
        print("usage: python -m twin.app.model_download REPO FILE DEST [MORE_PARTS…]\n"
              "       python -m twin.app.model_download --embedding NAME CACHE_DIR", file=sys.stderr)
        return 2
    repo, filename, dest, *more = args
    files = [filename, *more]
    from twin.app.model_files import DownloadRefused, check_pull_args, offline_forced
    from twin.core.llm.gguf_meta import read_gguf_header
    from twin.errors import KnownError
    from twin.offline import (
        allow_network_for_download,
        enforce_offline,
        install_network_guard,
    )

    enforce_offline()
    install_network_guard()  # the download below is its only permitted connection
    targets = [Path(dest) / f for f in files]
    try:
        for f in files:
            check_pull_args(repo, f)
        if all(t.is_file() for t in targets):
            try:
                for t in targets:
                    read_gguf_header(t)
            except KnownError:
                pass  # incomplete or damaged: download (resume) it
            else:
                _emit({"path": str(targets[0])})
                return 0
        if offline_forced():
            raise DownloadRefused(msg("download.offline"))
    except KnownError as e:
        _emit(_error(e))
        return 1
    with allow_network_for_download(f"{repo}/{filename}"):
        return _download(repo, files, Path(dest))


def _download(repo: str, files: list[str], dest: Path) -> int:
    from twin.app.downloads import download_files
    from twin.core.llm.gguf_meta import read_gguf_header
    from twin.errors import KnownError

    try:
        paths = download_files(repo, files, dest, on_progress=lambda p: _emit(p.to_json()))
        for path in paths:
            read_gguf_header(path)  # a truncated or non-GGUF file says so now
    except KnownError as e:
        _emit(_error(e))
        return 1
    except Exception as e:  # noqa: BLE001 - process boundary: reported to the window
        _emit({"error": f"{e.__class__.__name__}: {e}"})
        return 1
    _emit({"path": str(paths[0])})
    return 0


def embedding_command(name: str, cache_dir: Path) -> list[str]:
    """The command line that downloads the embedding model ``name`` into twin's cache."""
    from twin.helpers import helper_command

    return helper_command("download-model", "--embedding", name, str(cache_dir))


def _embedding(name: str, cache_dir: Path) -> int:
    """Download a sentence-transformers model into ``cache_dir``'s hub cache, with progress."""
    from twin.app.downloads import Progress, pull_embedding_model
    from twin.app.model_files import offline_forced
    from twin.errors import KnownError
    from twin.offline import enforce_offline, install_network_guard

    enforce_offline()
    install_network_guard()
    if offline_forced():
        _emit(_error(msg("download.offline")))
        return 1
    try:
        path = pull_embedding_model(name, cache_dir, on_progress=lambda p: _emit(Progress.to_json(p)))
    except KnownError as e:
        _emit(_error(e))
        return 1
    except Exception as e:  # noqa: BLE001 - process boundary
        _emit({"error": f"{e.__class__.__name__}: {e}"})
        return 1
    _emit({"path": str(path)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
