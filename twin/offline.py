"""Keep libraries off the network.

Hugging Face libraries look things up on the hub unless told not to; twin tells them, before
they are imported. The one action that may connect (a model download the user asked for)
lifts this for its own call only.
"""

from __future__ import annotations

import os

_OFFLINE_VARS = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
}


def enforce_offline() -> None:
    """Set the libraries' offline switches in this process (idempotent)."""
    for key, value in _OFFLINE_VARS.items():
        os.environ.setdefault(key, value)


def allow_network_for_download() -> None:
    """Lift the offline switches for this process: only for a download the user asked for.

    Must run before ``huggingface_hub`` is imported (it reads the switches at import).
    """
    import sys

    if "huggingface_hub" in sys.modules:
        raise RuntimeError("huggingface_hub was imported before the network was allowed")
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ.pop(key, None)
