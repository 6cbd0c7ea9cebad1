"""Where twin's resource files are (icons, stylesheets, translations, data files).

One lookup for every install: the folder ``resources/`` of the repository is shipped in the
wheel as package data ``twin/resources/`` (setup.py maps it), so an installed twin finds it
through :mod:`importlib.resources`; a source checkout (``pip install -e``, or running from the
tree) uses ``resources/`` next to the ``twin`` package; the PyInstaller build collects it as
``twin/resources`` too. ``TWIN_RESOURCES=/path`` overrides all of them.

This module imports nothing from the layers: ``twin.ui``, ``twin.app`` and ``twin.core`` may all
use it.
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from importlib import resources
from pathlib import Path

log = logging.getLogger("twin")

#: a file every complete resources folder has
MARKER = ("icons", "twin.svg")


def _candidates() -> list[Path]:
    found: list[Path] = []
    if os.environ.get("TWIN_RESOURCES"):
        found.append(Path(os.environ["TWIN_RESOURCES"]))
    try:
        packaged = resources.files("twin").joinpath("resources")
    except (ModuleNotFoundError, TypeError):
        packaged = None
    if packaged is not None:
        found.append(Path(str(packaged)))  # a wheel or the frozen build: a real folder
    found.append(Path(__file__).resolve().parent.parent / "resources")  # a source checkout
    return found


@lru_cache(maxsize=1)
def resources_dir() -> Path | None:
    """The resources folder, or None (logged) when this install has none."""
    candidates = _candidates()
    for c in candidates:
        if c.joinpath(*MARKER).is_file():
            return c
    log.warning("resources folder not found (looked in %s)", ", ".join(map(str, candidates)))
    return None


def resource_path(*parts: str) -> Path | None:
    """``resources/<parts…>`` if it exists, else None (the caller falls back gracefully)."""
    root = resources_dir()
    if root is None:
        return None
    p = root.joinpath(*parts)
    return p if p.exists() else None
