"""Stop sequences over a stream of text pieces (pure).

A stop string may arrive split over several tokens ("\\nUs" + "er:"), so text that could be
the start of a stop string is held back until it is clear; text after a stop is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence


class StopMatcher:
    """Feed pieces; get back the text safe to show and whether a stop string was hit."""

    def __init__(self, stops: Sequence[str]):
        self._stops = tuple(s for s in stops if s)
        self._pending = ""
        self.stopped = False

    def feed(self, piece: str) -> str:
        """Add ``piece``; return the text that can be emitted now ("" while undecided)."""
        if self.stopped:
            return ""
        if not self._stops:
            return piece
        text = self._pending + piece
        cut = min((i for i in (text.find(s) for s in self._stops) if i >= 0), default=-1)
        if cut >= 0:
            self.stopped = True
            self._pending = ""
            return text[:cut]
        hold = self._held_suffix(text)
        self._pending = text[len(text) - hold:] if hold else ""
        return text[: len(text) - hold]

    def flush(self) -> str:
        """The held-back text at the end of the stream (no stop string completed)."""
        out, self._pending = self._pending, ""
        return "" if self.stopped else out

    def _held_suffix(self, text: str) -> int:
        """Length of the longest suffix of ``text`` that is a proper prefix of a stop string."""
        best = 0
        for s in self._stops:
            for n in range(min(len(s) - 1, len(text)), best, -1):
                if text.endswith(s[:n]):
                    best = n
                    break
        return best
