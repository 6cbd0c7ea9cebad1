"""Model downloads: the only code in twin that connects to the network, and only when asked.

Files go into twin's own cache (``Paths.cache_dir / "hf"``), which is where the embedder looks,
so ``TWIN_HOME`` keeps everything in one place. Downloads resume after an interruption.
GGUF downloads (:func:`download_files`) fetch every part of a split model and check each
file's size and sha256 against what the hub reports (its LFS etag is the sha256).
"""

from __future__ import annotations

import hashlib
import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twin.errors import KnownError
from twin.messages import Msg, msg
from twin.offline import allow_network_for_download

log = logging.getLogger("twin.download")


def hf_cache(cache_dir: Path) -> Path:
    return cache_dir / "hf"


def hub_host() -> str:
    """The host a download connects to (huggingface.co, or HF_ENDPOINT's)."""
    import os
    from urllib.parse import urlsplit

    return urlsplit(os.environ.get("HF_ENDPOINT") or "https://huggingface.co").hostname or "huggingface.co"


def embedding_available(name: str, cache_dir: Path) -> bool:
    """Whether the embedding model ``name`` (a hub name or a local folder) can load offline."""
    folder = Path(name).expanduser()
    if folder.is_dir():
        return (folder / "config.json").exists() or any(folder.glob("*.json"))
    snapshots = hf_cache(cache_dir) / f"models--{name.replace('/', '--')}" / "snapshots"
    return snapshots.is_dir() and any((p / "config.json").is_file() for p in snapshots.iterdir())


def pull_embedding_model(name: str, cache_dir: Path,
                         on_progress: "Callable[[Progress], None] | None" = None) -> Path:
    """Download a sentence-transformers model from the Hugging Face hub (resumable); progress
    in bytes (huggingface_hub's own "Downloading bytes" bar) goes to ``on_progress``."""
    with allow_network_for_download(f"embedding model {name}"):
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

        log.info("downloading embedding model %s", name)
        try:
            path = snapshot_download(
                repo_id=name,
                cache_dir=str(hf_cache(cache_dir)),
                allow_patterns=["*.json", "*.txt", "*.model", "*.safetensors", "1_Pooling/*", "*.py", "sentencepiece*"],
                tqdm_class=_bar_class(Progress(total=0), on_progress, bytes_only=True) if on_progress else None,
            )
            verify_snapshot(name, Path(path))
        except (HfHubHTTPError, LocalEntryNotFoundError, OSError) as e:
            raise KnownError(msg("download.failed", name=name, error=str(e))) from e
    return Path(path)


def verify_snapshot(repo: str, folder: Path) -> None:
    """Check each downloaded file of a snapshot against the hub's listing: the size, and the
    sha256 of the large (LFS) files. A damaged file is deleted (the next download fetches it).

    Raises:
        KnownError: a file differs from what the hub lists.
    """
    from huggingface_hub import HfApi

    listing = {getattr(f, "path", ""): f for f in HfApi().list_repo_tree(repo, revision=folder.name, recursive=True)}
    for local in sorted(p for p in folder.rglob("*") if p.is_file()):
        entry = listing.get(local.relative_to(folder).as_posix())
        if entry is None or not hasattr(entry, "size"):
            continue
        lfs = getattr(entry, "lfs", None)
        remote = RemoteFile(local.name, int(lfs.size if lfs is not None else entry.size),
                            str(lfs.sha256) if lfs is not None else "")
        target = local.resolve()  # the cache's snapshot entries link to blobs
        try:
            verify(target, remote)
        except KnownError:
            local.unlink(missing_ok=True)
            raise


def _bar_class(progress: "Progress", report: "Callable[[Progress], None]", *, base: Callable[[], int] = lambda: 0,
               bytes_only: bool = False) -> type:  # used for the embedding model (snapshot_download)
    """A tqdm class for huggingface_hub that turns its bar into Progress reports (≤ 4 a second)."""
    from tqdm.auto import tqdm

    class Bar(tqdm):
        _last = 0.0

        def __init__(self, *a: Any, **kw: Any) -> None:
            kw["disable"] = False
            kw["file"] = io.StringIO()
            super().__init__(*a, **kw)
            if not bytes_only or self.unit == "B":
                progress.advance(base() + int(self.n))  # the start (a resumed file starts part-way)

        def update(self, n: float | None = 1) -> bool | None:
            out = super().update(n)
            if bytes_only and self.unit != "B":
                return out  # snapshot_download's count of files
            now = time.monotonic()
            if now - Bar._last >= 0.25:
                Bar._last = now
                if self.total:
                    progress.total = max(progress.total, base() + int(self.total)) if not bytes_only else int(self.total)
                progress.advance(base() + int(self.n), now)
                report(progress)
            return out

    return Bar


# -- GGUF files: every part of a split model, resumable, verified --------------------------------

SHA256_HEX = 64
_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class RemoteFile:
    """What the hub says about a file before it is downloaded."""

    name: str
    size: int
    sha256: str  # "" when the hub gives no sha256 (a small non-LFS file: its etag is a git hash)


@dataclass
class Progress:
    """Bytes done of all the files together, and the speed over the last few seconds."""

    total: int
    done: int = 0
    file: str = ""
    speed: float = 0.0  # bytes per second
    _marks: list[tuple[float, int]] = field(default_factory=list, repr=False)

    def advance(self, done: int, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self.done = done
        self._marks.append((now, done))
        while len(self._marks) > 2 and now - self._marks[0][0] > SPEED_WINDOW_S:
            self._marks.pop(0)
        t0, d0 = self._marks[0]
        self.speed = (done - d0) / (now - t0) if now > t0 else self.speed

    def to_json(self) -> dict[str, Any]:
        return {"done": self.done, "total": self.total, "speed": round(self.speed), "file": self.file}


SPEED_WINDOW_S = 3.0


def sha256_of(path: Path, chunk: int = 8 << 20) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def remote_files(repo: str, files: list[str], revision: str | None = None) -> list[RemoteFile]:
    """Size and sha256 of each file from the hub (one HEAD request each). Network: call it
    inside :func:`twin.offline.allow_network_for_download`."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    out = []
    for name in files:
        meta = get_hf_file_metadata(hf_hub_url(repo, name, revision=revision))
        etag = (meta.etag or "").strip('"').lower()
        sha = etag if len(etag) == SHA256_HEX and set(etag) <= _HEX else ""
        if meta.size is None:
            raise KnownError(msg("download.no_size", name=name, repo=repo))
        out.append(RemoteFile(name, int(meta.size), sha))
    return out


def verify(path: Path, remote: RemoteFile) -> None:
    """Raise KnownError (and delete the file) unless ``path`` has the hub's size and sha256."""
    size = path.stat().st_size
    problem: Msg | None = None
    if size != remote.size:
        problem = msg("download.damaged_size", name=remote.name, size=size, expected=remote.size)
    elif remote.sha256:
        digest = sha256_of(path)
        if digest != remote.sha256:
            problem = msg("download.damaged_sha", name=remote.name, digest=digest, expected=remote.sha256)
    if problem is not None:
        path.unlink(missing_ok=True)
        raise KnownError(problem)


def partial_path(target: Path) -> Path:
    """Where an unfinished download of ``target`` is kept (hidden: model listings skip it)."""
    return target.with_name(f".{target.name}.part")


def fetch(url: str, target: Path, remote: RemoteFile, on_bytes: Callable[[int], None]) -> Path:
    """GET ``url`` into ``target``, continuing a partial download (``Range: bytes=N-``), then
    verify it (:func:`verify`) and move it into place. huggingface_hub (2.x) restarts every
    download from zero, so resuming a 25 GB file is done here."""
    from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

    part = partial_path(target)
    start = part.stat().st_size if part.is_file() else 0
    if start > remote.size:
        start = 0
    headers = build_hf_headers()
    if start:
        headers["Range"] = f"bytes={start}-"
        log.info("resuming %s at %d of %d bytes", remote.name, start, remote.size)
    with get_session().stream("GET", url, headers=headers, follow_redirects=True, timeout=60) as r:
        if r.status_code == 416 and start == remote.size:
            pass  # the partial file is already complete
        else:
            hf_raise_for_status(r)
            if start and r.status_code != 206:
                start = 0  # the server sent the whole file again
            on_bytes(start)
            with part.open("ab" if start else "wb") as f:
                done = start
                for chunk in r.iter_bytes(CHUNK):
                    f.write(chunk)
                    f.flush()  # a cancel kills the process: what arrived stays for the resume
                    done += len(chunk)
                    on_bytes(done)
    verify(part, remote)
    part.replace(target)
    return target


CHUNK = 1 << 20


def download_files(repo: str, files: list[str], dest: Path, *, revision: str | None = None,
                   on_progress: Callable[[Progress], None] | None = None) -> list[Path]:
    """Download every file (all parts of a split GGUF) into ``dest``, resuming partial
    downloads, each verified by size and sha256 against the hub's metadata (a damaged one is
    deleted). A file already there with the right size and sha256 is not downloaded again.
    Network: call it inside :func:`twin.offline.allow_network_for_download`; cancel by ending
    the process (the partial file stays for the next try).

    Raises:
        KnownError: the hub refused, the connection failed, or a file came out damaged.
    """
    from huggingface_hub import hf_hub_url
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    try:
        remote = remote_files(repo, files, revision)
    except (HfHubHTTPError, LocalEntryNotFoundError, OSError, ValueError) as e:
        raise KnownError(msg("download.unreachable", repo=repo, error=str(e))) from e
    progress = Progress(total=sum(r.size for r in remote))
    report = on_progress or (lambda p: None)
    base = 0
    last = [0.0]

    def on_bytes(done: int) -> None:
        now = time.monotonic()
        progress.advance(base + done, now)
        if now - last[0] >= 0.25:
            last[0] = now
            report(progress)

    paths = []
    dest.mkdir(parents=True, exist_ok=True)
    for r in remote:
        target = dest / r.name
        target.parent.mkdir(parents=True, exist_ok=True)  # a part inside a folder of the repo
        progress.file = r.name
        if target.is_file() and target.stat().st_size == r.size and (not r.sha256 or sha256_of(target) == r.sha256):
            log.info("%s is already downloaded and verified", target)
        else:
            try:
                fetch(hf_hub_url(repo, r.name, revision=revision), target, r, on_bytes)
            except (HfHubHTTPError, OSError, ValueError) as e:
                raise KnownError(msg("download.file_failed", name=r.name, repo=repo, error=str(e))) from e
        base += r.size
        progress.advance(base)
        report(progress)
        paths.append(target)
    return paths
