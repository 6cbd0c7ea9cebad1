"""GGUF model files on disk: find them, describe them from their headers, download one.

Describing reads only the header (:mod:`twin.core.llm.gguf_meta`: milliseconds, nothing
native), so listing a folder of 20 GB models is instant and a broken download shows up as
an error line instead of a crash. Downloading is the second place in twin that connects to
the network, and only when the user asks (``twin models pull``); ``TWIN_OFFLINE=1`` forbids
even that.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twin.core.llm.errors import ModelFileError
from twin.core.llm.gguf_meta import GgufHeader, read_gguf_header
from twin.errors import KnownError
from twin.messages import message_of

if TYPE_CHECKING:
    from twin.app.downloads import Progress

log = logging.getLogger("twin.download")

OFFLINE_ENV = "TWIN_OFFLINE"

#: llama.cpp's ``enum llama_ftype`` (``general.file_type``): the file's main quantization.
FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
    11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
    17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS",
    23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M",
    30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0", 37: "TQ2_0", 38: "MXFP4_MOE",
}
#: Bytes per cached value of each KV cache type (quantized types: block bytes / 32 values).
KV_BYTES = {"f32": 4.0, "f16": 2.0, "bf16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32}

_QUANT_IN_NAME = re.compile(r"(?<![A-Za-z0-9])(I?Q\d(?:_[A-Za-z0-9]+)*|BF16|F16|F32)(?![A-Za-z0-9])", re.IGNORECASE)
_SPLIT = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$")
_REPO = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


class DownloadRefused(KnownError):
    """A download was asked for while twin is set to stay offline."""


@dataclass(frozen=True)
class ModelFile:
    """What a GGUF's header says about the model (``error`` set when the file is unusable)."""

    path: str
    name: str = ""
    architecture: str = ""
    kind: str = ""  # "instruct" (has a chat template) | "base"
    chat_template: bool = False
    context_length: int = 0
    n_layer: int = 0
    size_bytes: int = 0
    quant: str = ""
    kv_bytes_per_token: int = 0  # f16 KV cache, all layers
    parts: int = 1
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def kv_values_per_token(header: GgufHeader) -> int:
    """K and V values cached per token over all layers: ``n_layer × (n_embd_k + n_embd_v)``
    with ``n_embd_k = key_length × head_count_kv`` (llama.cpp's ``n_embd_k_gqa``). An upper
    bound for sliding-window models, whose windowed layers keep fewer tokens."""
    n_layer = header.block_count
    n_embd = header.arch_value("embedding_length")
    n_head = header.arch_value("attention.head_count")
    n_head_kv = header.arch_value("attention.head_count_kv", n_head)
    head_dim = n_embd // n_head if n_head else 0
    k_len = header.arch_value("attention.key_length", head_dim)
    v_len = header.arch_value("attention.value_length", head_dim)
    return n_layer * n_head_kv * (k_len + v_len)


def quant_name(header: GgufHeader) -> str:
    file_type = header.metadata.get("general.file_type")
    if isinstance(file_type, int) and file_type in FILE_TYPES:
        return FILE_TYPES[file_type]
    m = _QUANT_IN_NAME.search(Path(header.path).name)
    return m.group(1).upper() if m else ""


def describe(path: str | Path) -> ModelFile:
    """Describe a GGUF from its header; never raises for a bad file (see ``error``)."""
    from twin.core.llm.llama import detect_kind  # pure; llama_cpp itself is imported lazily there

    p = Path(path).expanduser()
    try:
        header = read_gguf_header(p)
    except ModelFileError as e:
        return ModelFile(str(p), name=p.stem, error=message_of(e) or str(e))  # a Msg: the window translates it
    size, parts = header.file_size, 1
    split = _SPLIT.search(p.name)
    if split:  # a model split into parts: the first holds the metadata, all hold weights
        parts = int(split.group(2))
        siblings = [p.with_name(_SPLIT.sub(f"-{i:05d}-of-{parts:05d}.gguf", p.name)) for i in range(1, parts + 1)]
        size = sum(s.stat().st_size for s in siblings if s.is_file())
        missing = [s.name for s in siblings if not s.is_file()]
        if missing:
            return ModelFile(str(p), name=header.name, size_bytes=size, parts=parts,
                             error=f"parts missing: {', '.join(missing)}")
    template = header.chat_template
    return ModelFile(
        path=str(p), name=header.name, architecture=header.architecture,
        kind=detect_kind(header.name, template), chat_template=template is not None,
        context_length=header.context_length, n_layer=header.block_count, size_bytes=size,
        quant=quant_name(header), kv_bytes_per_token=2 * kv_values_per_token(header), parts=parts,
    )


def find_models(dirs: Iterable[str | Path]) -> list[Path]:
    """GGUF files under ``dirs`` (recursively; hidden folders such as a download's
    ``.cache`` skipped; only the first part of a split model), sorted, without duplicates."""
    found: dict[str, Path] = {}
    for d in dirs:
        root = Path(d).expanduser()
        if root.is_file() and root.suffix == ".gguf":
            found.setdefault(str(root.resolve()), root)
            continue
        if not root.is_dir():
            continue
        for f in root.rglob("*.gguf"):
            rel = f.relative_to(root).parts
            if any(part.startswith(".") for part in rel):
                continue
            split = _SPLIT.search(f.name)
            if split and int(split.group(1)) != 1:
                continue
            if f.is_file():
                found.setdefault(str(f.resolve()), f)
    return sorted(found.values(), key=lambda f: str(f).lower())


def offline_forced(env: "os._Environ[str] | dict[str, str] | None" = None) -> bool:
    value = (os.environ if env is None else env).get(OFFLINE_ENV, "").strip().lower()
    return value not in ("", "0", "false", "no")


def check_pull_args(repo_id: str, filename: str) -> None:
    """Refuse obviously wrong arguments before any network access."""
    if not _REPO.match(repo_id):
        raise KnownError(f"'{repo_id}' is not a Hugging Face repository id (e.g. Qwen/Qwen3-30B-A3B-GGUF)")
    if not filename.endswith(".gguf") or filename.startswith("/") or ".." in Path(filename).parts:
        raise KnownError(f"'{filename}' is not a GGUF file name inside the repository (e.g. Qwen3-30B-A3B-Q6_K.gguf)")


def pull_gguf(repo_id: str, filename: str, models_dir: Path, *, revision: str | None = None,
              parts: list[str] | None = None, on_progress: "Callable[[Progress], None] | None" = None) -> Path:
    """Download ``filename`` (and the other ``parts`` of a split model) from the Hugging Face
    repo ``repo_id`` into ``models_dir``; return the first file's path.

    Resumable (an interrupted download continues where it stopped); each file is verified
    by size and sha256 against the hub's metadata (:func:`twin.app.downloads.download_files`).
    A complete copy already there is used without connecting.

    Raises:
        DownloadRefused: ``TWIN_OFFLINE`` is set.
        KnownError: bad arguments, or the download failed or came out damaged.
        ModelFileError: the downloaded file is not a usable GGUF.
    """
    files = [filename, *(parts or [])]
    for f in files:
        check_pull_args(repo_id, f)
    targets = [models_dir / f for f in files]
    if all(t.is_file() for t in targets):
        try:
            for t in targets:
                read_gguf_header(t)
        except ModelFileError:
            log.info("%s is incomplete or damaged: downloading again", targets[0])
        else:
            log.info("%s is already downloaded", targets[0])
            return targets[0]
    if offline_forced():
        raise DownloadRefused(
            f"twin is set to stay offline ({OFFLINE_ENV}=1), so it will not download {filename}. "
            f"Unset {OFFLINE_ENV}, or download the file yourself and set llm.model_path to it.")
    from twin.app.downloads import download_files
    from twin.offline import allow_network_for_download

    with allow_network_for_download(f"{repo_id}/{filename}"):
        log.info("downloading %s from %s", ", ".join(files), repo_id)
        paths = download_files(repo_id, files, models_dir, revision=revision, on_progress=on_progress)
    for path in paths:
        read_gguf_header(path)  # a truncated or non-GGUF file says so now
    return paths[0]
