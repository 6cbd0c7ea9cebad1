"""Guards against known-bad Qt binding releases.

PySide6 6.12.0 drops a reference to ``True`` on every ``Signal.emit`` (any signal type): a
streamed answer emits a signal per token, so after a few thousand tokens ``True`` is
deallocated and the interpreter aborts ("bool_dealloc: deallocating True or False"), at the
latest when the app quits. pyproject.toml excludes it; this test catches a release that
brings it back.
"""

from __future__ import annotations

import sys
from typing import Any


def test_signal_emit_keeps_reference_counts(qapp: Any) -> None:
    from PySide6.QtCore import QObject, Signal

    class Emitter(QObject):
        flag = Signal(bool)
        number = Signal(int)
        thing = Signal(object)
        bare = Signal()

    e = Emitter()
    got: list[object] = []
    for sig in (e.flag, e.number, e.thing, e.bare):
        sig.connect(lambda *a: got.append(a))
    payload = object()
    rounds = 2000  # the bad release loses 2 * rounds references to True (one per emit)
    before = (sys.getrefcount(True), sys.getrefcount(False), sys.getrefcount(payload))
    for _ in range(rounds):
        e.flag.emit(True)
        e.flag.emit(False)
        e.number.emit(7)
        e.thing.emit(payload)
        e.bare.emit()
    got.clear()
    after = (sys.getrefcount(True), sys.getrefcount(False), sys.getrefcount(payload))
    # Other threads (earlier tests' idle workers) may hold a few references meanwhile: allow
    # that noise, not one lost reference per emit.
    drift = [abs(a - b) for a, b in zip(after, before)]
    assert max(drift) < rounds // 4, f"refcounts of (True, False, payload) changed: {before} -> {after}"
