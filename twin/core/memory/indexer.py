"""The indexer: brings the vector store in line with the files on disk.

``reconcile`` walks the sources, skips files whose size and mtime match their record, parses
the rest, embeds only chunks whose content hash the store has not seen (so a moved, renamed
or touched file costs no embedding), replaces each file's chunks in one store commit, then
records the file. ``index_paths`` does the same for a handful of paths (the watcher's path).

Work is pipelined: a prefetch thread reads and chunks the next files while this thread embeds
(torch releases the GIL), so the pipeline costs little beyond the embedding itself.

Invariants (crash safety): a file's chunks are replaced atomically (all old or all new); its
record is written after that commit; deletions happen last. A SIGKILL at any moment therefore
leaves no duplicate and no orphan chunks, and the next run re-embeds nothing it already had.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence

from twin.core.memory.chunking import chunk_document
from twin.core.memory.dates import date_from_path
from twin.core.memory.documents import Decoder, read_document
from twin.core.memory.filestate import FileRecord, FileState, record
from twin.core.memory.markdown import parse_markdown, parse_plain_text
from twin.core.memory.sources import FileFilter, FoundFile, source_of, walk_sources
from twin.core.memory.store import StoreRow, content_hash
from twin.core.types import Chunk, FileStatus, IndexProgress, IndexReport
from twin.errors import DocumentError
from twin.messages import message_of

if TYPE_CHECKING:
    import numpy as np

    from twin.core.memory.embedder import Embedder
    from twin.core.memory.store import LanceStore

log = logging.getLogger("twin.index")

ProgressFn = Callable[[IndexProgress], None]
StopFn = Callable[[], bool]

#: Flush a batch to the store once it holds this many chunks to embed, or this many files.
FLUSH_CHUNKS = 256
FLUSH_FILES = 200


def embed_text(chunk: Chunk) -> str:
    """What the embedding model sees for a chunk: its heading path, then its text."""
    return f"{chunk.heading}\n{chunk.text}" if chunk.heading_path else chunk.text


@dataclass
class Prepared:
    """One file read, parsed and chunked, waiting for its vectors."""

    found: FoundFile
    state: str  # "indexed" | "partial" | "skipped" | "error"
    reason: str = ""
    file_hash: str = ""
    chunks: list[Chunk] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)
    keep_old: bool = False  # a read error: keep the chunks we had rather than lose them

    @property
    def key(self) -> str:
        return str(self.found.path)


class Indexer:
    """Owns the write path into the store and the file records (one writer thread).

    Args:
        store: the vector store.
        embedder: the embedding model.
        state: file records (SQLite).
        file_filter: which files are indexed.
        max_file_bytes: read at most this much of one file.
        chunk_tokens: chunk budget in model tokens (defaults to the embedder's).
    """

    def __init__(
        self,
        store: "LanceStore",
        embedder: "Embedder",
        state: FileState,
        file_filter: FileFilter,
        max_file_bytes: int = 20 * 1024 * 1024,
        chunk_tokens: int | None = None,
        batch_size: int = 32,
        decode: "Decoder | None" = None,
    ):
        self.decode = decode  # opens files twin sealed (encryption at rest); None: refused
        self.store = store
        self.embedder = embedder
        self.state = state
        self.filter = file_filter
        self.max_file_bytes = max_file_bytes
        self.chunk_tokens = chunk_tokens or embedder.max_tokens
        self.batch_size = batch_size
        if store.model_changed:
            log.warning("embedding model changed to %s: the index will be rebuilt", embedder.name)
            store.reset()
            state.clear()

    # -- public ---------------------------------------------------------------------------

    def reconcile(
        self,
        sources: Sequence[Path],
        progress: ProgressFn | None = None,
        should_stop: StopFn | None = None,
    ) -> IndexReport:
        """Index new and changed files under ``sources``; drop chunks of files that are gone."""
        t0 = time.perf_counter()
        run = _Run(progress, should_stop)
        walk_errors: list[FileStatus] = []
        found = list(walk_sources(sources, self.filter, lambda p, why: walk_errors.append(FileStatus(str(p), "error", 0, why))))
        run.report(IndexProgress(0, len(found), phase="scan"))
        records = self.state.all()
        todo: list[FoundFile] = []
        for f in found:
            rec = records.get(str(f.path))
            if rec is not None and rec.state != "error" and rec.size == f.size and rec.mtime_ns == f.mtime_ns:
                run.unchanged += 1
            else:
                todo.append(f)
        on_disk = {str(f.path) for f in found}
        unreadable = {e.path for e in walk_errors}
        stored = set(self.store.paths())
        gone = sorted((set(records) | stored) - on_disk - unreadable)
        run.total = len(todo)
        log.info("reconcile: %d files, %d to index, %d gone", len(found), len(todo), len(gone))
        self._process(todo, run, records)
        if not run.stopped():
            self._delete(gone, run)
        for err in walk_errors:
            run.errors.append(err)
        self.store.maintain()
        run.report(IndexProgress(run.done, run.total, "", len(run.errors), "done", run.embedded, run.reused))
        return run.result(len(found), time.perf_counter() - t0)

    def index_paths(self, paths: Iterable[Path], sources: Sequence[Path]) -> IndexReport:
        """Bring the given paths up to date (created, changed or deleted), as the watcher asks."""
        t0 = time.perf_counter()
        run = _Run(None, None)
        todo: list[FoundFile] = []
        gone: list[str] = []
        for p in paths:
            src = source_of(p, sources)
            if src is None or not self.filter.accepts(p.relative_to(src).as_posix()):
                continue
            try:
                st = p.stat()
            except OSError:
                gone.append(str(p))
                continue
            if p.is_file():
                todo.append(FoundFile(p, src, st.st_size, st.st_mtime_ns))
        run.total = len(todo)
        self._process(todo, run, {str(f.path): r for f in todo if (r := self.state.get(str(f.path)))})
        self._delete(gone, run)
        return run.result(len(todo) + len(gone), time.perf_counter() - t0)

    def remove_prefix(self, folder: Path) -> int:
        """Forget every file under ``folder`` (a deleted or moved-away directory)."""
        prefix = str(folder).rstrip("/") + "/"
        paths = [p for p in set(self.state.all()) | set(self.store.paths()) if p.startswith(prefix)]
        run = _Run(None, None)
        self._delete(paths, run)
        return len(paths)

    # -- pipeline -------------------------------------------------------------------------

    def _process(self, todo: list[FoundFile], run: "_Run", records: dict[str, FileRecord]) -> None:
        batch: list[Prepared] = []
        pending_new = 0
        for prep in _prefetch(todo, self._prepare, run.stopped):
            run.current = prep.key
            rec = records.get(prep.key)
            if rec is not None and prep.state != "error" and rec.file_hash == prep.file_hash and rec.state == prep.state:
                # Touched, not changed: refresh the record, keep the chunks.
                self.state.put_many([record(prep.key, str(prep.found.source), prep.found.size,
                                            prep.found.mtime_ns, prep.file_hash, rec.state, rec.chunks, rec.reason)])
                run.unchanged += 1
                run.done += 1
                run.tick()
                continue
            batch.append(prep)
            pending_new += len(prep.hashes)
            if pending_new >= FLUSH_CHUNKS or len(batch) >= FLUSH_FILES:
                self._flush(batch, run)
                batch, pending_new = [], 0
        if batch:
            self._flush(batch, run)

    def _prepare(self, f: FoundFile) -> Prepared:
        """Read, parse and chunk one file (runs on the prefetch thread; never raises)."""
        try:
            doc = read_document(f.path, self.max_file_bytes, self.decode)
        except DocumentError as e:
            state = "skipped" if "binary" in str(e) else "error"
            return Prepared(f, state, message_of(e) or str(e), keep_old=state == "error")
        try:
            parsed = parse_plain_text(doc.text) if doc.kind == "text" else parse_markdown(doc.text)
            rel = f.path.relative_to(f.source).as_posix()
            chunks = chunk_document(parsed, self.embedder.count_tokens, self.chunk_tokens, date_from_path(rel))
        except Exception as e:  # noqa: BLE001 - one bad file never stops the batch
            log.exception("cannot parse %s", f.path)
            return Prepared(f, "error", f"cannot parse: {e.__class__.__name__}: {e}", keep_old=True)
        texts = [embed_text(c) for c in chunks]
        # one warning stays the keyed message it is (shown in the window's language, stored so)
        reason = doc.warnings[0] if len(doc.warnings) == 1 else "; ".join(doc.warnings)
        state = "partial" if doc.warnings else "indexed"
        return Prepared(f, state, reason, content_hash(doc.text), chunks, texts, [content_hash(t) for t in texts])

    def _flush(self, batch: list[Prepared], run: "_Run") -> None:
        wanted = {h for p in batch for h in p.hashes}
        vectors = self.store.vectors_for_hashes(wanted) if wanted else {}
        missing: dict[str, str] = {}
        for p in batch:
            for h, t in zip(p.hashes, p.texts):
                if h not in vectors:
                    missing.setdefault(h, t)
        run.reused += sum(len(p.hashes) for p in batch) - sum(
            1 for p in batch for h in p.hashes if h in missing)
        if missing:
            vectors.update(self._embed(missing, run))
        rows_by_path: dict[str, list[StoreRow]] = {}
        records: list[FileRecord] = []
        for p in batch:
            if p.keep_old:
                log.warning("%s: %s", p.key, p.reason)
                run.errors.append(FileStatus(p.key, p.state, 0, p.reason))
                records.append(record(p.key, str(p.found.source), -1, -1, "", p.state, 0, p.reason))
                continue
            if p.state in ("skipped", "partial"):
                log.warning("%s: %s", p.key, p.reason)
                run.errors.append(FileStatus(p.key, p.state, len(p.chunks), p.reason))
            rows_by_path[p.key] = [
                self._row(p, c, h, vectors[h]) for c, h in zip(p.chunks, p.hashes)
            ]
            records.append(record(p.key, str(p.found.source), p.found.size, p.found.mtime_ns,
                                  p.file_hash, p.state, len(p.chunks), p.reason))
        if rows_by_path:
            self.store.replace_files(rows_by_path)
        self.state.put_many(records)
        run.indexed += sum(1 for p in batch if not p.keep_old)
        run.failed += sum(1 for p in batch if p.keep_old)
        run.done += len(batch)
        run.tick()

    def _embed(self, missing: dict[str, str], run: "_Run") -> dict[str, "np.ndarray"]:
        """Embed texts longest-first in model-sized batches (short waits for queries between)."""
        items = sorted(missing.items(), key=lambda kv: len(kv[1]), reverse=True)
        out: dict[str, np.ndarray] = {}
        step = self.batch_size
        for i in range(0, len(items), step):
            part = items[i:i + step]
            vecs = self.embedder.embed_passages([t for _, t in part])
            for (h, _), v in zip(part, vecs):
                out[h] = v
            run.embedded += len(part)
        return out

    @staticmethod
    def _row(p: Prepared, c: Chunk, h: str, vector: "np.ndarray") -> StoreRow:
        return StoreRow.from_chunk(c, vector, hash=h, mtime=p.found.mtime_ns / 1e9)

    def _delete(self, paths: Sequence[str], run: "_Run") -> None:
        if not paths:
            return
        run.report(IndexProgress(run.done, run.total, "", len(run.errors), "delete", run.embedded, run.reused))
        self.store.delete_paths(paths)
        self.state.delete_many(paths)
        run.removed += len(paths)


class _Run:
    """Counters and callbacks of one indexing run."""

    def __init__(self, progress: ProgressFn | None, should_stop: StopFn | None):
        self.progress, self.should_stop = progress, should_stop
        self.total = self.done = self.unchanged = self.indexed = self.failed = self.removed = 0
        self.embedded = self.reused = 0
        self.current = ""
        self.errors: list[FileStatus] = []
        self._last = 0.0

    def stopped(self) -> bool:
        return bool(self.should_stop and self.should_stop())

    def report(self, p: IndexProgress) -> None:
        if self.progress is not None:
            self.progress(p)

    def tick(self) -> None:
        self.report(IndexProgress(self.done, self.total, self.current, len(self.errors), "index",
                                  self.embedded, self.reused))

    def result(self, seen: int, seconds: float) -> IndexReport:
        return IndexReport(
            files_seen=seen, files_indexed=self.indexed, files_unchanged=self.unchanged,
            files_removed=self.removed, files_failed=self.failed,
            chunks_embedded=self.embedded, chunks_reused=self.reused, seconds=seconds,
            errors=tuple(self.errors),
        )


def _prefetch(items: list[FoundFile], fn: Callable[[FoundFile], Prepared], stop: StopFn,
              depth: int = 64) -> Iterator[Prepared]:
    """Run ``fn`` over ``items`` on a helper thread, at most ``depth`` results ahead."""
    if not items:
        return
    q: queue.Queue[Prepared | None] = queue.Queue(maxsize=depth)
    cancelled = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if cancelled.is_set() or stop():
                    break
                q.put(fn(item))
        finally:
            q.put(None)

    t = threading.Thread(target=produce, name="twin-index-read", daemon=True)
    t.start()
    try:
        while (prep := q.get()) is not None:
            yield prep
    finally:
        cancelled.set()
        while t.is_alive():  # drain so the producer can finish
            try:
                q.get(timeout=0.05)
            except queue.Empty:
                pass
        t.join()
