"""Download a GGUF language model from the Hugging Face hub, only when the user asks.

Runs as its own process (``python -m twin.app.model_download REPO FILE DEST``) so that:
the offline switches of the app process stay on (``huggingface_hub`` reads them at import,
and the embedder has usually imported it already); the window stays responsive; and
cancelling is just ending the process. The download resumes where an interrupted one
stopped (``hf_hub_download`` keeps the partial file in ``DEST/.cache``).

The rules are :func:`twin.app.model_files.pull_gguf`'s (argument checks, ``TWIN_OFFLINE``
refuses, a complete copy already there is used, the result must be a readable GGUF); this
adds only the progress reports the window shows.

Protocol: one JSON object per stdout line — ``{"done": bytes, "total": bytes}`` while it
runs, then ``{"path": "..."}`` or ``{"error": "..."}``. Exit code 0 on success.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


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


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3:
        print("usage: python -m twin.app.model_download REPO FILE DEST", file=sys.stderr)
        return 2
    repo, filename, dest = args
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
    target = Path(dest) / filename
    try:
        check_pull_args(repo, filename)
        if target.is_file():
            try:
                read_gguf_header(target)
            except KnownError:
                pass  # incomplete or damaged: download (resume) it
            else:
                _emit({"path": str(target)})
                return 0
        if offline_forced():
            raise DownloadRefused("twin is set to stay offline (TWIN_OFFLINE), so it will not download models.")
    except KnownError as e:
        _emit({"error": str(e)})
        return 1
    with allow_network_for_download(f"{repo}/{filename}"):
        return _download(repo, filename, dest)


def _download(repo: str, filename: str, dest: str) -> int:
    from huggingface_hub import hf_hub_download
    from tqdm.auto import tqdm

    from twin.core.llm.gguf_meta import read_gguf_header

    class Progress(tqdm):  # type: ignore[misc, type-arg]
        """Reports bytes as JSON lines (at most 4 per second) instead of drawing a bar."""

        _last = 0.0

        def __init__(self, *a: Any, **kw: Any) -> None:
            kw["disable"] = False
            kw["file"] = open("/dev/null", "w") if sys.platform != "win32" else sys.stderr  # noqa: SIM115
            super().__init__(*a, **kw)

        def update(self, n: float | None = 1) -> bool | None:
            out = super().update(n)
            now = time.monotonic()
            if now - Progress._last > 0.25 and (self.total or 0) > 1_000_000:
                Progress._last = now
                _emit({"done": int(self.n), "total": int(self.total or 0)})
            return out

    try:
        path = hf_hub_download(repo, filename, local_dir=dest, tqdm_class=Progress)
        read_gguf_header(path)  # a truncated or non-GGUF file says so now
    except Exception as e:  # noqa: BLE001 - process boundary: reported to the window
        _emit({"error": f"{e.__class__.__name__}: {e}"})
        return 1
    _emit({"path": str(path)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
