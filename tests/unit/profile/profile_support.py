"""A scripted engine for profile tests: answers every map batch with one valid fact per entry."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from twin.core.llm.engine import Generation, GenerationRequest
from twin.core.llm.fake import FakeEngine

_ENTRY = re.compile(r"^\[(e\d+)\] (\S+)\n> (\S+)", re.MULTILINE)


def batch_entries(request: GenerationRequest) -> list[tuple[str, str, str]]:
    """(id, date, first word) of the real batch (the last entries block of the prompt)."""
    text = request.text
    text = text[text.rfind("[e1]"):]  # the worked example comes first
    return _ENTRY.findall(text)


class ProfileEngine(FakeEngine):
    """Answers with a theme fact per entry of the batch; ``fail_after`` raises (a crash),
    ``garbage`` answers unusable text for that many calls first."""

    def __init__(self, *, fail_after: int | None = None, garbage: int = 0, **kw: object):
        super().__init__(**kw)  # type: ignore[arg-type]
        self.fail_after = fail_after
        self.garbage = garbage
        self.batches: list[list[str]] = []  # the dates each call saw

    def generate(self, request: GenerationRequest, *, should_stop: Callable[[], bool] | None = None,
                 on_piece: Callable[[str], None] | None = None) -> Generation:
        if self.fail_after is not None and len(self.batches) >= self.fail_after:
            raise RuntimeError("simulated crash")
        entries = batch_entries(request)
        self.batches.append([d for _, d, _ in entries])
        if self.garbage > 0:
            self.garbage -= 1
            self.enqueue('{"kind": "person", "subj')
        else:
            lines = [json.dumps({"kind": "theme", "subject": f"day {d}", "statement": f"I wrote about {w} on {d}.",
                                 "sources": [i]}) for i, d, w in entries]
            self.enqueue("\n".join(lines) + "\n### End")
        return super().generate(request, should_stop=should_stop, on_piece=on_piece)


def write_vault(folder: Path, days: int, first: int = 1) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for d in range(first, first + days):
        (folder / f"2021-03-{d:02d}.md").write_text(f"# Day {d}\n\nWalked{d} with Elizabeth to Whitehall. "
                                                    f"We talked about the Navy Office.\n", encoding="utf-8")
    return folder
