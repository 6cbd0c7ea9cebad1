"""Icons, stylesheets and light/dark themes.

Resources (package data ``twin/resources`` in a wheel or a PyInstaller build, ``resources/``
in a source checkout, or a folder named by ``TWIN_RESOURCES``) are found once by
:func:`twin.assets.resources_dir`.
The theme follows the system (``QStyleHints.colorScheme``, live) unless the user picked
one; :class:`ThemeManager` applies the Fusion style, a matching palette and the
``styles/<light|dark>.qss`` sheet, and tells widgets that render their own HTML.

Signals of :class:`ThemeManager`:
    changed(bool): the theme was applied; True when dark.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QStyle

from twin import assets

log = logging.getLogger("twin.ui")


def resources_dir() -> Path | None:
    """The resources folder (:func:`twin.assets.resources_dir`: the package data of the wheel,
    the checkout's ``resources/``, or ``TWIN_RESOURCES``)."""
    return assets.resources_dir()


def _fallback_icon() -> QIcon:
    style = QApplication.style()
    return style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxInformation) if style else QIcon()


def app_icon() -> QIcon:
    root = resources_dir()
    if root is None:
        return _fallback_icon()
    icon = QIcon(str(root / "icons" / "twin.svg"))
    for png in sorted((root / "icons").glob("twin-*.png")):
        icon.addFile(str(png))
    return icon


def tray_icon(busy: bool) -> QIcon:
    root = resources_dir()
    if root is None:
        return _fallback_icon()
    return QIcon(str(root / "icons" / ("tray-busy.svg" if busy else "tray.svg")))


def stylesheet(dark: bool) -> str:
    root = resources_dir()
    if root is None:
        return ""
    try:
        return (root / "styles" / ("dark.qss" if dark else "light.qss")).read_text(encoding="utf-8")
    except OSError as e:
        log.warning("cannot read the stylesheet: %s", e)
        return ""


def _palette(dark: bool) -> QPalette:
    p = QPalette()
    if dark:
        base, window, text, mid = "#20232b", "#16181d", "#e5e7eb", "#2c303b"
        highlight, link = "#6366f1", "#7aa2f7"
    else:
        base, window, text, mid = "#ffffff", "#f7f7fb", "#111827", "#d6d9e3"
        highlight, link = "#6366f1", "#2563eb"
    R = QPalette.ColorRole
    for role, color in ((R.Window, window), (R.Base, base), (R.AlternateBase, window), (R.Text, text),
                        (R.WindowText, text), (R.Button, base), (R.ButtonText, text), (R.ToolTipBase, base),
                        (R.ToolTipText, text), (R.Highlight, highlight), (R.HighlightedText, "#ffffff"),
                        (R.Link, link), (R.Mid, mid), (R.PlaceholderText, "#9ca3af")):
        p.setColor(role, QColor(color))
    p.setColor(QPalette.ColorGroup.Disabled, R.Text, QColor("#9ca3af"))
    p.setColor(QPalette.ColorGroup.Disabled, R.ButtonText, QColor("#9ca3af"))
    return p


class ThemeManager(QObject):
    """Applies and follows the theme.

    Args:
        choice: "system", "light" or "dark".
    """

    changed = Signal(bool)

    def __init__(self, app: QApplication, choice: str = "system", parent: QObject | None = None):
        super().__init__(parent)
        self._app = app
        self.choice = choice
        self.dark = False
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._system_changed)

    def _system_changed(self, _scheme: object) -> None:
        if self.choice == "system":
            self.apply()

    def detach(self) -> None:
        """Stop following the system (the app is closing)."""
        try:
            QGuiApplication.styleHints().colorSchemeChanged.disconnect(self._system_changed)
        except (RuntimeError, TypeError):
            pass

    def system_is_dark(self) -> bool:
        return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark

    def set_choice(self, choice: str) -> None:
        self.choice = choice
        self.apply()

    def apply(self) -> None:
        dark = self.choice == "dark" or (self.choice == "system" and self.system_is_dark())
        self.dark = dark
        self._app.setStyle("Fusion")
        self._app.setPalette(_palette(dark))
        self._app.setStyleSheet(stylesheet(dark))
        self.changed.emit(dark)
