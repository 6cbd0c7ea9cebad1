"""Model downloads: the only code in twin that connects to the network, and only when asked.

Files go into twin's own cache (``Paths.cache_dir / "hf"``), which is where the embedder looks,
so ``TWIN_HOME`` keeps everything in one place. Downloads resume after an interruption.
"""

from __future__ import annotations

import logging
from pathlib import Path

from twin.errors import KnownError
from twin.offline import allow_network_for_download

log = logging.getLogger("twin.download")


def hf_cache(cache_dir: Path) -> Path:
    return cache_dir / "hf"


def pull_embedding_model(name: str, cache_dir: Path) -> Path:
    """Download a sentence-transformers model from the Hugging Face hub (resumable)."""
    with allow_network_for_download(f"embedding model {name}"):
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

        log.info("downloading embedding model %s", name)
        try:
            path = snapshot_download(
                repo_id=name,
                cache_dir=str(hf_cache(cache_dir)),
                allow_patterns=["*.json", "*.txt", "*.model", "*.safetensors", "1_Pooling/*", "*.py", "sentencepiece*"],
            )
        except (HfHubHTTPError, LocalEntryNotFoundError, OSError) as e:
            raise KnownError(f"could not download {name}: {e}") from e
    return Path(path)
