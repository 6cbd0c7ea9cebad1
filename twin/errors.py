"""Error hierarchy.

``KnownError`` is a problem with the user's environment or input (a missing folder, a bad
config value, a corrupt file): the edge (CLI, window) turns it into a clear message and a
non-zero exit code. Anything else that escapes is a bug and is logged with its traceback.
"""

from __future__ import annotations


class TwinError(Exception):
    """Base of every error twin raises on purpose."""


class KnownError(TwinError):
    """A user or environment problem with a message fit to show the user as is."""

    exit_code = 2


class ConfigError(KnownError):
    """The settings file or an environment override holds an invalid value."""


class SourceError(KnownError):
    """A source folder is missing, unreadable or otherwise unusable."""


class DocumentError(KnownError):
    """A document could not be read or decoded (one file; never stops a batch)."""


class StoreError(KnownError):
    """The memory index is unusable (e.g. locked, or built with another model)."""
