"""Python's cyclic garbage collector, run on the GUI thread only.

Python collects reference cycles in whichever thread happens to allocate when a generation's
threshold is crossed: with the window open that is as often a pool worker (a search, a
decode, a conversation read) as the GUI thread. When such a cycle holds a Qt object that
Python owns (a window of a closed session, a turn, a dialog), its C++ destructor then runs on
that worker, while the GUI thread's event loop may be using it, its timers or its children:
a QObject destroyed off its thread cannot stop its timers, so one fires later on freed
memory and the process dies in the Qt loop, at random (a clean-clone test run's core dump: an
earlier test's qasync timer object, freed by a worker's collection). The known cure
(pyqtgraph's ``GarbageCollector``) is to switch automatic collection off and collect, by
the same generation thresholds, from a timer on the GUI thread.

:class:`GuiCollector` does that while it runs; :meth:`GuiCollector.stop` collects once more
(on the calling, GUI, thread) and gives automatic collection back.
"""

from __future__ import annotations

import gc
import logging
import threading

from PySide6.QtCore import QObject, QTimer

log = logging.getLogger("twin.ui")

#: How often the GUI thread checks the collector's counts (milliseconds). A check is a few
#: integer comparisons; a young-generation collection takes well under a millisecond.
INTERVAL_MS = 200


class GuiCollector(QObject):
    """Collect reference cycles on the GUI thread only, while started (see the module)."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS):
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)
        self._was_enabled = True
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        if self.running:
            return
        self._thread = threading.current_thread()
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer.start()
        log.debug("garbage collection: on the GUI thread only, every %d ms", self._timer.interval())

    def check(self) -> None:
        """Collect the generations whose thresholds the counts crossed (as Python would)."""
        t0, t1, t2 = gc.get_threshold()
        c0, c1, c2 = gc.get_count()
        if c0 <= t0:
            return
        generation = 2 if (c1 > t1 and c2 > t2) else 1 if c1 > t1 else 0
        gc.collect(generation)

    def stop(self) -> None:
        """Collect what is left on this (GUI) thread, then give collection back to Python."""
        if not self.running:
            return
        if threading.current_thread() is not self._thread:
            raise RuntimeError("GuiCollector.stop() must run on the thread that started it")
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
        self._thread = None
