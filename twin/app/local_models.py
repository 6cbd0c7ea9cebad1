"""GGUF models other programs already downloaded: found where they are and offered, never copied.

Looked for (under the user's home, or the folders their environment variables name):

- LM Studio: ``~/.lmstudio/models`` and the older ``~/.cache/lm-studio/models``
  (``publisher/repo/file.gguf``);
- Ollama: ``~/.ollama/models`` (``OLLAMA_MODELS``): the manifests
  (``manifests/<registry>/<namespace>/<model>/<tag>``, JSON) name the model layer's blob
  (``application/vnd.ollama.image.model``, ``blobs/sha256-<hex>``), which is a plain GGUF
  without the extension; the model is offered as ``model:tag``;
- GPT4All: ``~/.local/share/nomic.ai/GPT4All``;
- llama.cpp's download cache: ``~/.cache/llama.cpp`` (``LLAMA_CACHE``);
- the Hugging Face cache: ``~/.cache/huggingface/hub`` (``HF_HUB_CACHE``/``HF_HOME``);
- ``~/models``.

Only file names and Ollama's small manifests are read here; :func:`twin.app.model_files.describe`
reads each file's header when it is shown.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from twin.app.model_files import find_models

log = logging.getLogger("twin.models")

OLLAMA_MODEL_LAYER = "application/vnd.ollama.image.model"
#: The home folder to look in instead of the user's (tests; empty: look nowhere).
SCAN_HOME_ENV = "TWIN_SCAN_HOME"
GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True)
class LocalModel:
    path: Path
    source: str  # "LM Studio" | "Ollama" | "GPT4All" | "llama.cpp" | "Hugging Face" | "~/models" | "twin"
    label: str  # the file name, or Ollama's model:tag


def locations(home: Path, env: Mapping[str, str] | None = None) -> list[tuple[str, Path]]:
    """(source, folder) of every place looked in, for ``home`` and ``env`` (os.environ)."""
    env = os.environ if env is None else env
    xdg_data = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
    xdg_cache = Path(env.get("XDG_CACHE_HOME") or home / ".cache")
    hf = Path(env["HF_HUB_CACHE"]) if env.get("HF_HUB_CACHE") else \
        Path(env.get("HF_HOME") or xdg_cache / "huggingface") / "hub"
    return [
        ("LM Studio", home / ".lmstudio" / "models"),
        ("LM Studio", xdg_cache / "lm-studio" / "models"),
        ("GPT4All", xdg_data / "nomic.ai" / "GPT4All"),
        ("llama.cpp", Path(env["LLAMA_CACHE"]) if env.get("LLAMA_CACHE") else xdg_cache / "llama.cpp"),
        ("Hugging Face", hf),
        ("~/models", home / "models"),
        ("Ollama", Path(env["OLLAMA_MODELS"]) if env.get("OLLAMA_MODELS") else home / ".ollama" / "models"),
    ]


def ollama_models(models_dir: Path) -> list[LocalModel]:
    """The GGUF blobs Ollama's manifests point to, as ``model:tag`` (one entry per blob)."""
    manifests = models_dir / "manifests"
    if not manifests.is_dir():
        return []
    found: dict[Path, LocalModel] = {}
    for manifest in sorted(p for p in manifests.rglob("*") if p.is_file()):
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
            layer = next(x for x in data.get("layers", []) if x.get("mediaType") == OLLAMA_MODEL_LAYER)
            digest = str(layer["digest"])
        except (OSError, ValueError, StopIteration, KeyError, TypeError, AttributeError) as e:
            log.debug("skipping Ollama manifest %s: %s", manifest, e)
            continue
        blob = models_dir / "blobs" / digest.replace(":", "-")
        if not blob.is_file():
            blob = models_dir / "blobs" / digest  # older Ollama: "sha256:<hex>"
        if not blob.is_file() or not _is_gguf(blob):
            continue
        rel = manifest.relative_to(manifests).parts  # registry, namespace, model, tag
        name = rel[-2] if len(rel) >= 2 else manifest.parent.name
        namespace = rel[-3] if len(rel) >= 3 and rel[-3] != "library" else ""
        label = f"{namespace + '/' if namespace else ''}{name}:{rel[-1]}"
        found.setdefault(blob, LocalModel(blob, "Ollama", label))
    return list(found.values())


def _is_gguf(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(4) == GGUF_MAGIC
    except OSError:
        return False


def find_local_models(home: Path | None = None, env: Mapping[str, str] | None = None,
                      extra: list[tuple[str, Path]] | None = None) -> list[LocalModel]:
    """Every GGUF found in the known places (and ``extra`` (source, folder) pairs), once each
    (the same file through a link counts once), in the order of the places."""
    if home is None:
        env_home = (os.environ if env is None else env).get(SCAN_HOME_ENV)
        if env_home is not None and not env_home.strip():
            return []  # scanning turned off
        home = Path(env_home) if env_home else Path.home()
    seen: set[Path] = set()
    out: list[LocalModel] = []
    for source, folder in [*(extra or []), *locations(home, env)]:
        models = ollama_models(folder) if source == "Ollama" else \
            [LocalModel(p, source, p.name) for p in find_models([folder])]
        for m in models:
            try:
                key = m.path.resolve()
            except OSError:
                continue
            if key not in seen:
                seen.add(key)
                out.append(m)
    return out
