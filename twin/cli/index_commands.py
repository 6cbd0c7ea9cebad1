"""Index commands: ``index`` (bring the index up to date once), ``watch`` (keep it current)
and ``status`` (counts, model and per-file problems, without loading the model)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import signal
import sys
import threading
from pathlib import Path
from collections.abc import Callable
from typing import Any

from twin.cli.config_commands import load
from twin.cli.encryption_commands import cli_vault
from twin.cli.source_commands import add_sources
from twin.errors import KnownError
from twin.paths import Paths
from twin.settings import Settings, save_settings


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("index", help="add folders (optional) and bring the index up to date")
    p.add_argument("paths", nargs="*", type=Path, help="folders to add as sources first")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--wait", action="store_true",
                   help="if another twin process keeps the index current, wait for it to finish "
                        "(default: say so and exit with status 75)")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("watch", help="keep the index current until stopped (Ctrl-C)")
    p.add_argument("--wait", action="store_true",
                   help="if another twin process keeps the index current, wait and take over when it exits")
    p.set_defaults(func=cmd_watch)

    p = sub.add_parser("status", help="index counts, model and per-file problems")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)


class _Progress:
    """A tqdm progress bar on stderr fed by IndexProgress events (any thread)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar: Any = None
        self._lock = threading.Lock()

    def __call__(self, event: object) -> None:
        from twin.core.types import IndexProgress

        if not self.enabled or not isinstance(event, IndexProgress):
            return
        with self._lock:
            if event.phase == "scan":
                return
            if self.bar is None and event.total:
                from tqdm import tqdm

                self.bar = tqdm(total=event.total, unit="file", file=sys.stderr, dynamic_ncols=True,
                                desc="indexing")
            if self.bar is not None:
                self.bar.n = event.done
                name = Path(event.current).name if event.current else ""
                self.bar.set_postfix_str(f"{name[:30]} embedded={event.embedded} errors={event.errors}", refresh=False)
                self.bar.refresh()

    def close(self) -> None:
        with self._lock:
            if self.bar is not None:
                self.bar.close()
                self.bar = None


def _owner(lock: Any) -> str:
    owner = lock.owner()
    return owner.describe() if owner is not None else "another twin process"


def _report_json(report: Any) -> dict[str, Any]:
    return {
        "files_seen": report.files_seen,
        "files_indexed": report.files_indexed,
        "files_unchanged": report.files_unchanged,
        "files_removed": report.files_removed,
        "files_failed": report.files_failed,
        "chunks_embedded": report.chunks_embedded,
        "chunks_reused": report.chunks_reused,
        "seconds": round(report.seconds, 3),
        "problems": [{"path": e.path, "state": e.state, "reason": e.reason} for e in report.errors],
    }


# -- commands -------------------------------------------------------------------------------


def _locked_service(settings: Settings, paths: Paths, holder: str, *, wait: bool, what: str,
                    waiting: Callable[[str], None]) -> tuple[Any, Any]:
    """The memory and its index service, holding the index's writer lock (``twin index`` and
    ``twin watch``): waits for another writer when ``wait``, saying so through ``waiting``."""
    from twin.app.container import Memory

    memory = Memory(settings, paths, cli_vault(paths))
    memory.check_sources()
    lock = memory.writer_lock(holder)
    if wait and not lock.try_acquire():
        waiting(_owner(lock))
    lock.acquire_or_raise(wait=wait, what=what)
    try:
        return memory, memory.service(lock)
    except BaseException:
        lock.release()
        memory.close()
        raise


def cmd_index(args: argparse.Namespace, paths: Paths) -> int:
    from twin.app.index_service import Indexed

    settings = load(paths)
    if args.paths:
        if add_sources(settings, args.paths):
            save_settings(settings, paths.settings_file)
    if not settings.memory.sources:
        raise KnownError("no source folders yet: run `twin index FOLDER` or `twin sources add FOLDER`")
    memory, service = _locked_service(
        settings, paths, "twin index", wait=args.wait, what="`twin index --wait` waits for it",
        waiting=lambda owner: print(f"twin: waiting for {owner} to release the index…", file=sys.stderr))
    progress = _Progress(enabled=not args.json and sys.stderr.isatty())
    reports: list[Any] = []
    service.add_listener(progress)
    service.add_listener(lambda ev: reports.append(ev.report) if isinstance(ev, Indexed) else None)
    service.start(watch=False)
    try:
        while not service.wait_idle(timeout=0.5):
            pass
    except KeyboardInterrupt:
        service.pause()  # finish the batch in flight; everything committed so far is kept
        print("\ntwin: stopping after the current batch…", file=sys.stderr)
    finally:
        progress.close()
        memory.close()
    if not reports:
        if service.last_error:
            raise KnownError(f"indexing failed: {service.last_error}")
        return 130
    report = reports[-1]
    if args.json:
        print(json.dumps(_report_json(report), ensure_ascii=False, indent=2))
    else:
        print(
            f"{report.files_seen} files: {report.files_indexed} indexed, {report.files_unchanged} unchanged, "
            f"{report.files_removed} removed, {len(report.errors)} with problems; "
            f"{report.chunks_embedded} chunks embedded, {report.chunks_reused} reused, {report.seconds:.1f} s"
        )
        for e in report.errors[:20]:
            print(f"  {e.state}: {e.path}: {e.reason}")
        if len(report.errors) > 20:
            print(f"  … and {len(report.errors) - 20} more (twin status)")
    return 0


def cmd_watch(args: argparse.Namespace, paths: Paths) -> int:
    from twin.app.index_service import Indexed

    settings = load(paths)
    if not settings.memory.sources:
        raise KnownError("no source folders yet: run `twin sources add FOLDER` first")
    memory, service = _locked_service(
        settings, paths, "twin watch", wait=args.wait, what="`twin watch --wait` takes over when it exits",
        waiting=lambda owner: print(f"waiting for {owner} to release the index…", flush=True))
    done = threading.Event()

    def on_event(ev: object) -> None:
        if isinstance(ev, Indexed):
            r = ev.report
            what = "rescan" if ev.rescan else ", ".join(Path(p).name for p in ev.paths[:3])
            print(f"[{dt.datetime.now():%H:%M:%S}] {what}: {r.files_indexed} indexed, {r.files_removed} removed, "
                  f"{r.chunks_embedded} embedded ({r.seconds:.2f} s)", flush=True)
            for e in r.errors:
                print(f"  {e.state}: {e.path}: {e.reason}", flush=True)

    service.add_listener(on_event)
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print(f"watching {len(memory.sources)} folder(s); Ctrl-C to stop", flush=True)
    service.start(watch=True)
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        memory.close()
    return 0


def status_dict(settings: Settings, paths: Paths) -> dict[str, Any]:
    """Index status without loading the embedding model (fast)."""
    from twin.core.memory.filestate import FileState

    counts: dict[str, int] = {}
    problems: list[dict[str, Any]] = []
    if paths.state_db.exists():
        state = FileState(paths.state_db)
        try:
            counts = state.counts()
            problems = [{"path": r.path, "state": r.state, "reason": r.reason} for r in state.problems()]
        finally:
            state.close()
    return {
        "sources": [{"path": s, "exists": Path(s).is_dir()} for s in settings.memory.sources],
        "embedding_model": settings.embedding.model,
        "index": {"path": str(paths.index_dir), **_index_meta(paths.index_dir)},
        "files": counts,
        "problems": problems,
        "settings_file": str(paths.settings_file),
        "log_file": str(paths.log_file),
    }


def _index_meta(index_dir: Path) -> dict[str, Any]:
    """The model the index was built with and its row count, without loading the model."""
    from twin.core.memory.store import META_FILE, table_rows

    try:
        meta = json.loads((index_dir / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out: dict[str, Any] = {"model": meta.get("model"), "dim": meta.get("dim")}
    rows = table_rows(index_dir)  # the store is lancedb's one importer
    if rows is not None:
        out["rows"] = rows
    return out


def cmd_status(args: argparse.Namespace, paths: Paths) -> int:
    settings = load(paths)
    st = status_dict(settings, paths)
    if args.json:
        print(json.dumps(st, ensure_ascii=False, indent=2))
        return 0
    print("sources:")
    for s in st["sources"]:
        print(f"  {s['path']}{'' if s['exists'] else '  (missing)'}")
    if not st["sources"]:
        print("  (none: twin sources add FOLDER)")
    print(f"embedding model: {st['embedding_model']}")
    idx = st["index"]
    if idx.get("model"):
        print(f"index: {idx.get('rows', 0)} chunks, model {idx['model']} ({idx.get('dim')}-d) in {idx['path']}")
    else:
        print(f"index: empty ({idx['path']})")
    f = st["files"]
    if f:
        print(f"files: {f.get('files', 0)} ({f.get('indexed', 0)} indexed, {f.get('partial', 0)} partial, "
              f"{f.get('skipped', 0)} skipped, {f.get('error', 0)} errors)")
    for p in st["problems"][:50]:
        print(f"  {p['state']}: {p['path']}: {p['reason']}")
    return 0
