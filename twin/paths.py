"""Where twin keeps its files.

By default: settings in the platform's user config dir, the index, database and logs in the
user data dir, models and caches in the user cache dir (platformdirs). The environment
variable ``TWIN_HOME`` puts everything under one folder instead (tests and scripts use it), as
``$TWIN_HOME/config``, ``$TWIN_HOME/data``, ``$TWIN_HOME/cache`` and ``$TWIN_HOME/logs``.

No Qt here: this module must work in a headless CLI.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "twin"
HOME_ENV = "TWIN_HOME"


@dataclass(frozen=True)
class Paths:
    """The folders twin uses; nothing is created until :meth:`ensure` is called."""

    config_dir: Path
    data_dir: Path
    cache_dir: Path
    log_dir: Path

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.toml"

    @property
    def index_dir(self) -> Path:
        """The LanceDB database (chunks and vectors)."""
        return self.data_dir / "index"

    @property
    def state_db(self) -> Path:
        """SQLite: per-file index state and errors."""
        return self.data_dir / "files.sqlite3"

    @property
    def conversations_db(self) -> Path:
        return self.data_dir / "conversations.sqlite3"

    @property
    def inbox_dir(self) -> Path:
        """Documents dropped onto the window and copied in."""
        return self.data_dir / "inbox"

    @property
    def memories_dir(self) -> Path:
        """Facts remembered from chats, one Markdown note each: always a watched source."""
        return self.data_dir / "memories"

    @property
    def models_dir(self) -> Path:
        """Downloaded GGUF models."""
        return self.data_dir / "models"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "twin.log"

    def ensure(self) -> "Paths":
        for d in (self.config_dir, self.data_dir, self.cache_dir, self.log_dir):
            d.mkdir(parents=True, exist_ok=True)
        return self


def resolve_paths(env: "os._Environ[str] | dict[str, str] | None" = None) -> Paths:
    """Resolve the folders from ``TWIN_HOME`` or the platform's conventions."""
    env = os.environ if env is None else env
    home = env.get(HOME_ENV, "").strip()
    if home:
        root = Path(home).expanduser().resolve()
        return Paths(root / "config", root / "data", root / "cache", root / "logs")
    dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
    return Paths(
        Path(dirs.user_config_dir),
        Path(dirs.user_data_dir),
        Path(dirs.user_cache_dir),
        Path(dirs.user_log_dir),
    )
