"""What the window remembers between runs: geometry, layout, last conversation, choices.

Stored with QSettings in an INI file *inside twin's config dir* (``ui.ini``), never in the
platform's default QSettings location, so ``TWIN_HOME`` isolates it like everything else
(tests, several profiles). Model and memory settings live in ``settings.toml``, not here:
this file holds only the window's own preferences.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

DROP_MODES = ("copy", "in_place")
THEMES = ("system", "light", "dark")
DEFAULT_HOTKEY = "<ctrl>+<alt>+space"


class UiState:
    """Typed accessors over one QSettings INI file."""

    def __init__(self, config_dir: Path):
        config_dir.mkdir(parents=True, exist_ok=True)
        self.path = config_dir / "ui.ini"
        self._q = QSettings(str(self.path), QSettings.Format.IniFormat)

    def sync(self) -> None:
        self._q.sync()

    def _bytes(self, key: str) -> QByteArray | None:
        value = self._q.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def _bool(self, key: str, default: bool) -> bool:
        value = self._q.value(key, default)
        if isinstance(value, str):
            return value.lower() in ("true", "1", "yes")
        return bool(value)

    def _str(self, key: str, default: str = "") -> str:
        value = self._q.value(key, default)
        return value if isinstance(value, str) else default

    # -- window ---------------------------------------------------------------------------

    def geometry(self) -> QByteArray | None:
        return self._bytes("window/geometry")

    def window_state(self) -> QByteArray | None:
        return self._bytes("window/state")

    def splitter(self) -> QByteArray | None:
        return self._bytes("window/splitter")

    def save_window(self, geometry: QByteArray, state: QByteArray, splitter: QByteArray) -> None:
        self._q.setValue("window/geometry", geometry)
        self._q.setValue("window/state", state)
        self._q.setValue("window/splitter", splitter)

    # -- choices --------------------------------------------------------------------------

    @property
    def last_conversation(self) -> str:
        return self._str("chat/last_conversation")

    @last_conversation.setter
    def last_conversation(self, cid: str) -> None:
        self._q.setValue("chat/last_conversation", cid)

    @property
    def drop_mode(self) -> str:
        """"copy", "in_place", or "" (ask on the next drop)."""
        mode = self._str("documents/drop_mode")
        return mode if mode in DROP_MODES else ""

    @drop_mode.setter
    def drop_mode(self, mode: str) -> None:
        self._q.setValue("documents/drop_mode", mode if mode in DROP_MODES else "")

    @property
    def close_to_tray(self) -> bool:
        return self._bool("behaviour/close_to_tray", True)

    @close_to_tray.setter
    def close_to_tray(self, on: bool) -> None:
        self._q.setValue("behaviour/close_to_tray", on)

    @property
    def hotkey(self) -> str:
        """A pynput hotkey ("<ctrl>+<alt>+space"); "" turns the global hotkey off."""
        return self._str("behaviour/hotkey", DEFAULT_HOTKEY)

    @hotkey.setter
    def hotkey(self, combo: str) -> None:
        self._q.setValue("behaviour/hotkey", combo.strip())

    @property
    def theme(self) -> str:
        theme = self._str("appearance/theme", "system")
        return theme if theme in THEMES else "system"

    @theme.setter
    def theme(self, theme: str) -> None:
        self._q.setValue("appearance/theme", theme if theme in THEMES else "system")
