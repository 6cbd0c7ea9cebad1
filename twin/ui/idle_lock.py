"""IdleWatcher: notices when nobody has used the app for a while (for the idle lock).

An application-wide event filter restarts a single-shot timer on every key press, mouse
press, wheel turn and mouse move; when the timer runs out, :attr:`IdleWatcher.idle` fires
once. ``twin.ui.main`` then locks: the window closes its data, the vault forgets the key, and
the unlock dialog asks for the passphrase before the window is built again.

Signals:
    idle(): no input for ``seconds``.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

_INPUT = frozenset({QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.Wheel,
                    QEvent.Type.MouseMove, QEvent.Type.TouchBegin})


class IdleWatcher(QObject):
    idle = Signal()

    def __init__(self, seconds: float, parent: QObject | None = None):
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(max(1, int(seconds * 1000)))
        self.timer.timeout.connect(self.idle)
        app = QApplication.instance()
        assert app is not None
        self._app = app
        app.installEventFilter(self)
        self.timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT and self.timer.isActive():
            self.timer.start()  # restart the countdown
        return False

    def stop(self) -> None:
        self.timer.stop()
        self._app.removeEventFilter(self)
