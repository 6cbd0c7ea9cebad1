"""Keep the GUI thread ahead of background work for the CPU (Linux).

On a machine with few cores, the model's decode thread, the embedder's OpenMP team and
LanceDB's runtime keep every core busy; the GUI thread then waits for a core (not for the
GIL: it uses almost no CPU during such gaps), and the window stalls for 50–450 ms
(measured with ``bench/gui_stall.py`` on 2 cores). Lowering the background threads' nice
value lets the scheduler run the GUI thread as soon as it wakes, without slowing the
background work when the GUI is idle.

Together with :func:`limit_math_threads` (fewer OpenMP threads than cores), this kept the
worst stall under 50 ms while answering and indexing at once; either alone did not.

Threads are found in ``/proc/self/task`` (native threads too: OpenMP, ggml, tokio), so a
periodic sweep also catches threads that libraries start later. The GUI thread and Qt's own
helper threads (names starting with "Q", e.g. ``QXcbEventQueue``, which feed input events)
keep their priority. Lowering priority needs no privilege; nothing else is ever raised.
On other systems this does nothing (TODO: Windows thread priority / macOS QoS classes).

Signals: none.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path

from PySide6.QtCore import QObject, QTimer

log = logging.getLogger("twin.ui")

BACKGROUND_NICE = 10
SWEEP_MS = 500


def lower_background_threads(nice: int = BACKGROUND_NICE) -> int:
    """Set every thread but the GUI thread and Qt's to at least ``nice``; return how many changed."""
    if not sys.platform.startswith("linux"):
        return 0
    main = threading.main_thread().native_id
    changed = 0
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return 0
    for name in tasks:
        tid = int(name)
        if tid == main:
            continue
        try:
            comm = Path(f"/proc/self/task/{tid}/comm").read_text().strip()
            if comm.startswith("Q"):
                continue
            if os.getpriority(os.PRIO_PROCESS, tid) < nice:
                os.setpriority(os.PRIO_PROCESS, tid, nice)
                changed += 1
        except (OSError, ValueError):  # the thread ended meanwhile, or not permitted
            continue
    return changed


def limit_math_threads() -> int | None:
    """Give OpenMP/MKL (the embedder's torch) at most half the cores, so the model's decode
    thread and the GUI thread still find one free. Must run before torch is imported; a
    user's own ``OMP_NUM_THREADS`` wins. Returns the limit set, or None.

    Measured on 2 cores (``bench/gui_stall.py``): torch's 2 intra-op threads next to the
    decode thread made GUI stalls of 65–108 ms; with 1, stalls stayed under 50 ms and
    indexing got faster too.
    """
    if "OMP_NUM_THREADS" in os.environ or "torch" in sys.modules:
        return None
    n = max(1, min(4, (os.cpu_count() or 2) // 2))
    os.environ["OMP_NUM_THREADS"] = str(n)
    os.environ.setdefault("MKL_NUM_THREADS", str(n))
    return n


#: The GIL switch interval for the GUI process (CPython's default is 5 ms). A waiting GUI
#: thread gets the GIL sooner from Python-heavy workers (the embedder's per-layer Python,
#: chunking, the decode loop); bench/gui_stall.py, 3 runs each: 5 ms 63–64 ms worst stall,
#: 1 ms 44–92 ms (too many switches), 2 ms 21–43 ms.
GIL_SWITCH_S = 0.002


def tune_for_gui() -> None:
    """Process settings for a responsive window: call first thing in the GUI's main()."""
    limit_math_threads()
    sys.setswitchinterval(GIL_SWITCH_S)


class BackgroundPriority(QObject):
    """Sweeps the process's threads every ``SWEEP_MS`` while the app runs."""

    def __init__(self, parent: QObject | None = None, *, nice: int = BACKGROUND_NICE):
        super().__init__(parent)
        self.nice = nice
        self._timer = QTimer(self, interval=SWEEP_MS, timeout=self.sweep)

    def start(self) -> None:
        if sys.platform.startswith("linux"):
            self.sweep()
            self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def sweep(self) -> None:
        n = lower_background_threads(self.nice)
        if n:
            log.debug("lowered the CPU priority of %d background thread(s)", n)
