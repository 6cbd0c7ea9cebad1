"""Forgetting files: out of the index, off the disk, and out of future indexing.

A forgotten path is excluded first (a source folder is removed from the sources; anything
under a source gets an exclude pattern), so no indexer brings it back; then its chunks and
file records are deleted and the store is purged (:meth:`LanceStore.purge`), which rewrites
the table and deletes every older version and index file, so the text is gone from the disk.
The caller holds the index writer lock.

Not touched: the files themselves (twin never deletes your notes), and backups taken before
(snapshots; ``twin backup prune``). A conversation that quoted a forgotten note keeps its
quote: delete the conversation to remove it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twin.settings import Settings

if TYPE_CHECKING:
    from twin.app.container import Memory

log = logging.getLogger("twin.forget")


@dataclass
class ForgetPlan:
    """What forgetting ``targets`` changes in the settings."""

    targets: list[Path]
    remove_sources: list[str] = field(default_factory=list)
    add_excludes: list[str] = field(default_factory=list)

    def apply(self, settings: Settings) -> None:
        m = settings.memory
        m.sources = [s for s in m.sources if s not in self.remove_sources]
        m.exclude += [e for e in self.add_excludes if e not in m.exclude]

    def describe(self) -> list[str]:
        return ([f"removed source folder {s}" for s in self.remove_sources]
                + [f"excluded from indexing: {e}" for e in self.add_excludes])


def plan_forget(settings: Settings, targets: list[Path]) -> ForgetPlan:
    """Work out the settings change for forgetting ``targets`` (absolute paths)."""
    plan = ForgetPlan(list(dict.fromkeys(targets)))
    sources = {s: Path(s).expanduser().resolve() for s in settings.memory.sources}
    for t in plan.targets:
        exact = [s for s, p in sources.items() if p == t]
        if exact:
            plan.remove_sources += exact
            continue
        for p in sources.values():
            if p in t.parents:
                rel = t.relative_to(p).as_posix()
                plan.add_excludes.append(rel + "/**" if t.is_dir() else rel)
                break
    return plan


def forget(memory: Memory, plan: ForgetPlan) -> dict[str, Any]:
    """Delete the chunks and records of every path at or under the plan's targets, then purge."""
    t0 = time.perf_counter()
    store, state = memory.store, memory.state
    known = set(state.all()) | set(store.paths())
    chunks = store.paths()
    gone = sorted(p for p in known if any(_under(p, t) for t in plan.targets))
    store.delete_paths(gone)
    state.delete_many(gone)
    purge = store.purge()
    report = {"files": len(gone), "chunks": sum(chunks.get(p, 0) for p in gone), "purge": purge,
              "seconds": round(time.perf_counter() - t0, 3)}
    log.info("forgot %d file(s): %s", len(gone), report)
    return report


def _under(path: str, target: Path) -> bool:
    t = str(target)
    return path == t or path.startswith(t.rstrip("/") + "/")
