"""GlobalHotkey: a system-wide shortcut for the quick-ask popup, through pynput if present.

Qt has no global hotkey API. pynput (optional extra ``hotkey``) works on X11, Windows and
macOS (with accessibility permission); it is imported lazily because it raises ImportError
without a display, and Wayland needs the desktop portal instead. Its callback runs on
pynput's own thread, so it only emits a signal (delivered queued on the GUI thread). When
anything is missing the app works the same, just without the hotkey.

Signals:
    activated(): the hotkey was pressed.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, Signal

from twin.messages import msg

log = logging.getLogger("twin.ui")


class GlobalHotkey(QObject):
    activated = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._listener: Any = None
        self.combo = ""
        self.error = ""  # why the last start() failed (a keyed message: twin.ui.i18n.shown)

    @property
    def active(self) -> bool:
        return self._listener is not None

    def start(self, combo: str) -> bool:
        """Listen for ``combo`` (pynput syntax, e.g. ``<ctrl>+<alt>+space``); False if unavailable."""
        self.stop()
        self.combo = combo.strip()
        if not self.combo:
            return False
        try:
            from pynput import (
                keyboard,  # optional; raises ImportError without a display
            )
        except Exception as e:  # noqa: BLE001 - any import failure means "no hotkey", never a crash
            self.error = msg("hotkey.unavailable", error=f"{e.__class__.__name__}: {e}")
            log.info("%s", self.error)
            return False
        try:
            listener = keyboard.GlobalHotKeys({self.combo: self.activated.emit})
            listener.daemon = True
            listener.start()
        except (ValueError, OSError, RuntimeError) as e:
            self.error = msg("hotkey.not_usable", combo=self.combo, error=str(e))
            log.warning("%s", self.error)
            return False
        self._listener = listener
        self.error = ""
        log.info("global hotkey %s active", self.combo)
        return True

    def stop(self) -> None:
        """Stop listening and end pynput's thread."""
        listener, self._listener = self._listener, None
        if listener is None:
            return
        listener.stop()
        listener.join(0.2)
        if listener.is_alive():
            # pynput 1.8 on X11 queues the "disable" request on the blocked connection without
            # flushing it, so the thread waits for the next key press; send it on the listener's
            # second connection instead (what its own cleanup does).
            display, context = getattr(listener, "_display_stop", None), getattr(listener, "_context", None)
            if display is not None and context is not None:
                try:
                    display.record_disable_context(context)
                    display.flush()
                except Exception as e:  # noqa: BLE001 - best effort; the thread is a daemon
                    log.debug("could not wake the hotkey listener: %s", e)
            listener.join(2.0)
        if listener.is_alive():
            log.warning("the global hotkey listener did not stop")
