"""TrayIcon: a thin adapter over the controller (FeelUOwn's tray, ARCHITECTURE table).

Menu: Open, Quick Ask, Pause/Resume indexing, Quit. The tooltip carries the model and memory
status; the icon shows a badge while twin is busy (generating or indexing). A click on the
icon opens the main window.

Signals:
    open_requested(): show the main window.
    quick_ask_requested(): show the quick-ask popup.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from twin.ui.controller import Controller
from twin.ui.theme import tray_icon


class TrayIcon(QSystemTrayIcon):
    open_requested = Signal()
    quick_ask_requested = Signal()

    def __init__(self, controller: Controller, parent: QObject | None = None):
        super().__init__(tray_icon(False), parent)
        self.controller = controller
        self.busy = False
        self.menu = QMenu()
        self.open_action = QAction(self.tr("Open twin"), self.menu, triggered=lambda _=False: self.open_requested.emit())
        self.quick_action = QAction(self.tr("Quick Ask…"), self.menu, triggered=lambda _=False: self.quick_ask_requested.emit())
        self.pause_action = QAction(self.tr("Pause indexing"), self.menu, triggered=lambda _=False: controller.toggle_pause())
        self.quit_action = QAction(self.tr("Quit"), self.menu, triggered=lambda _=False: controller.quit_requested.emit())
        self.menu.addAction(self.open_action)
        self.menu.addAction(self.quick_action)
        self.menu.addSeparator()
        self.menu.addAction(self.pause_action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)
        self.setContextMenu(self.menu)
        self.activated.connect(self._activated)
        controller.busy_changed.connect(self.set_busy)
        controller.status_changed.connect(self.update_status)
        self.update_status()

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.setIcon(tray_icon(busy))

    def update_status(self) -> None:
        self.setToolTip(self.controller.status_text())
        self.pause_action.setText(self.tr("Resume indexing") if self.controller.memory.paused else self.tr("Pause indexing"))
        self.pause_action.setEnabled(self.controller.memory.is_ready)

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.open_requested.emit()
        elif reason == QSystemTrayIcon.ActivationReason.MiddleClick:
            self.quick_ask_requested.emit()

    def actions(self) -> dict[str, QAction]:
        """The menu's actions by name (tests, and the window's own menu)."""
        return {"open": self.open_action, "quick_ask": self.quick_action, "pause": self.pause_action,
                "quit": self.quit_action}
