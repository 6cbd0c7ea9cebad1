"""TwinApp: the desktop app built in one readable place (qutebrowser ``_init_modules``).

Order: theme → controller (starts loading the model and the memory in the background) →
main window (shown at once) → tray → quick-ask popup → global hotkey → first-run wizard
when there is no settings file yet. Each step is logged.

Shutdown (:meth:`TwinApp.aclose`): hide the windows and save their layout, stop the
hotkey, then ``Controller.aclose`` stops the answer in progress and closes the model, the
index service, the memory and the database, leaving no thread behind.

Signals:
    closed(): everything is shut down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from twin.app.container import Memory
from twin.app.model_slot import EngineFactory, default_engine_factory
from twin.app.vault_service import Vault
from twin import threads
from twin.paths import Paths
from twin.settings import Settings
from twin.ui.chat_window import ChatWindow
from twin.ui.controller import Controller
from twin.ui import i18n
from twin.ui.first_run import FirstRunWizard
from twin.ui.hotkey import GlobalHotkey
from twin.ui.priority import BackgroundPriority
from twin.ui.quick_ask import QuickAskPopup
from twin.ui.settings_dialog import SettingsDialog
from twin.ui.theme import ThemeManager
from twin.ui.tray import TrayIcon
from twin.ui.ui_state import UiState

log = logging.getLogger("twin.ui")


class TwinApp(QObject):
    closed = Signal()

    def __init__(self, app: QApplication, paths: Paths, settings: Settings, *,
                 engine_factory: EngineFactory = default_engine_factory, memory_factory: Callable[[Settings, Paths], Memory] | None = None,
                 watch: bool = True, use_tray: bool = True, hotkey: bool = True, first_run: bool | None = None,
                 vault: Vault | None = None):
        super().__init__()
        # the window's language, before the first widget is built (twin.ui.main did it already)
        self.language = i18n.install(settings.ui.language, paths.cache_dir, app)
        self.app = app
        self.paths = paths.ensure()
        self.ui_state = UiState(paths.config_dir)
        self.quit_event = asyncio.Event()
        self.first_run = (not paths.settings_file.exists()) if first_run is None else first_run
        log.info("starting the window (config %s)", paths.config_dir)
        self.theme = ThemeManager(app, self.ui_state.theme, parent=self)
        threads.forbid_blocking()  # the GUI thread: no SQLite, no decryption (twin.threads)
        self.controller = Controller(settings, paths, engine_factory=engine_factory, memory_factory=memory_factory,
                                     watch=watch, vault=vault)
        self.controller.quit_requested.connect(self.quit)
        self.tray_available = use_tray and QSystemTrayIcon.isSystemTrayAvailable()
        self.window = ChatWindow(self.controller, self.ui_state, tray_available=self.tray_available)
        self.window.settings_requested.connect(self.open_settings)
        self.window.quick_ask_requested.connect(lambda: self.show_quick_ask())
        self.quick_ask = QuickAskPopup(self.controller, self.window.renderer)
        self.quick_ask.open_in_main.connect(self.window.show_conversation)
        self.tray: TrayIcon | None = None
        if use_tray:
            self.tray = TrayIcon(self.controller, self)
            self.tray.open_requested.connect(self.window.bring_up)
            self.tray.quick_ask_requested.connect(lambda: self.show_quick_ask())
        self.hotkey = GlobalHotkey(self)
        self.hotkey.activated.connect(lambda: self.show_quick_ask())
        self.use_hotkey = hotkey
        self.theme.changed.connect(self._on_theme)
        self.settings_dialog: SettingsDialog | None = None
        self.wizard: FirstRunWizard | None = None
        self.priority = BackgroundPriority(self)
        self._closing = False
        self.lock_requested = False

    def start(self, show: bool = True) -> None:
        self.theme.apply()
        # the memory engine starts once the window has painted: importing torch and LanceDB
        # holds the GIL for up to ~0.5 s at a time (bench/gui_stall.py, "startup")
        self.controller.start(memory_delay_s=0.3 if show else 0.0)
        self.priority.start()
        self.window.reopen_last()
        if show:
            self.window.show()
        if self.tray is not None and self.tray_available:
            self.tray.show()
        if self.use_hotkey:
            self.hotkey.start(self.ui_state.hotkey)
        if self.first_run:
            self.open_wizard()
        log.info("window up; model and memory loading in the background")

    # -- windows ----------------------------------------------------------------------------

    def show_quick_ask(self) -> None:
        near = self.tray.geometry() if self.tray is not None and self.tray_available else None
        self.quick_ask.set_dark(self.theme.dark)
        self.quick_ask.popup(near)

    def open_settings(self) -> SettingsDialog:
        if self.settings_dialog is None or not self.settings_dialog.isVisible():
            self.settings_dialog = SettingsDialog(self.controller.settings, self.paths, self.ui_state, self.window,
                                                  background=self.controller.app.background)
            self.settings_dialog.saved.connect(self.apply_settings)
            self.settings_dialog.open()
        self.settings_dialog.raise_()
        return self.settings_dialog

    def apply_settings(self, settings: Settings, prefs: dict[str, object]) -> None:
        self.ui_state.close_to_tray = bool(prefs.get("close_to_tray", True))
        self.ui_state.drop_mode = str(prefs.get("drop_mode", ""))
        hotkey = str(prefs.get("hotkey", ""))
        changed = hotkey != self.ui_state.hotkey
        if changed or (self.use_hotkey and not self.hotkey.active):
            self.ui_state.hotkey = hotkey
            if self.use_hotkey and not self.hotkey.start(hotkey) and hotkey and changed:
                # the user just set it: say why it does not work (otherwise the log says so)
                self.window.statusBar().showMessage(i18n.shown(self.hotkey.error), 15000)
        theme = str(prefs.get("theme", "system"))
        if theme != self.ui_state.theme:
            self.ui_state.theme = theme
            self.theme.set_choice(theme)
        self.ui_state.sync()
        self.controller.apply_settings(settings)
        self.window.memory_panel.refresh()

    def open_wizard(self) -> FirstRunWizard:
        self.wizard = FirstRunWizard(self.controller.settings, self.paths, self.window,
                                     background=self.controller.app.background)
        self.wizard.finished_setup.connect(lambda s: self.apply_settings(s, {
            "close_to_tray": self.ui_state.close_to_tray, "hotkey": self.ui_state.hotkey,
            "theme": self.ui_state.theme, "drop_mode": self.ui_state.drop_mode}))
        self.wizard.open()
        return self.wizard

    def _on_theme(self, dark: bool) -> None:
        self.window.set_dark(dark)
        self.quick_ask.set_dark(dark)

    # -- shutdown ---------------------------------------------------------------------------

    def quit(self) -> None:
        self.quit_event.set()

    def lock(self) -> None:
        """Close like :meth:`quit`, flagged so that ``twin.ui.main`` asks for the passphrase
        and builds the window again (the idle lock)."""
        log.info("locking after idle time")
        self.lock_requested = True
        self.quit_event.set()

    async def aclose(self) -> None:
        if self._closing:
            return
        self._closing = True
        log.info("shutting down")
        self.window.shutdown()
        for w in (self.quick_ask, self.settings_dialog, self.wizard, self.window.viewer):
            if w is not None:
                w.hide()
        self.window.hide()
        if self.wizard is not None:
            self.wizard.cancel_download()
        self.hotkey.stop()
        self.priority.stop()
        if self.tray is not None:
            self.tray.hide()
        await self.controller.aclose()
        self.window.close()
        self.theme.detach()
        # Top-level windows go now, not at interpreter exit, so Qt never calls back into a
        # half-collected Python wrapper. The tray icon and the hotkey are children of this
        # object and go with it: deleting them here as well (deleteLater, with their lambda
        # connections) crashes PySide 6.12 ("shared QObject was deleted directly").
        self.quick_ask.deleteLater()
        self.window.deleteLater()
        threads.allow_blocking()
        self.closed.emit()
        log.info("shut down cleanly")
