"""Logging setup: a rotating log file in the log dir, and warnings on stderr for the CLI.

Modules log to named loggers (``twin.index``, ``twin.embed``, ``twin.store``, ``twin.llm``,
``twin.ui``…) and never configure logging themselves.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(threadName)s] %(message)s"

#: Libraries that are chatty at INFO.
_QUIET = ("httpx", "urllib3", "sentence_transformers", "transformers", "watchdog", "filelock", "huggingface_hub")


def setup_logging(log_file: Path | None, verbose: int = 0, stderr_level: int | None = None) -> None:
    """Configure the root logger once: file at INFO (DEBUG with -vv), stderr at WARNING (-v: INFO)."""
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_twin", False):
            root.removeHandler(h)
            h.close()  # the old log file's handle, else it leaks until garbage collection
    root.setLevel(logging.DEBUG if verbose >= 2 else logging.INFO)
    if log_file is not None:
        try:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            fh = logging.handlers.RotatingFileHandler(log_file, maxBytes=5_000_000, backupCount=3, encoding="utf-8")
            fh.setFormatter(logging.Formatter(_FORMAT))
            fh._twin = True  # type: ignore[attr-defined]  # marks twin's own handlers, to replace them
            root.addHandler(fh)
        except OSError as e:
            print(f"twin: cannot write the log file {log_file}: {e.strerror}", file=sys.stderr)
    sh = logging.StreamHandler(sys.stderr)
    if stderr_level is None:
        stderr_level = logging.DEBUG if verbose >= 2 else logging.INFO if verbose == 1 else logging.WARNING
    sh.setLevel(stderr_level)
    sh.setFormatter(logging.Formatter("twin: %(levelname)s: %(message)s"))
    sh._twin = True  # type: ignore[attr-defined]  # marks twin's own handlers, to replace them
    root.addHandler(sh)
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
