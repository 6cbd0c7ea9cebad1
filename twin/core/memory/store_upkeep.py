"""Upkeep of the ``chunks`` table: its indexes, compaction, purging, copying and stats.

:class:`Upkeep` is a part of :class:`~twin.core.memory.store.LanceStore` (which delegates
``maintain``, ``purge``, ``copy_to`` and ``stats`` here) and knows whether the FTS index
exists. Indexes:

* **FTS** on ``fts``: a plain whitespace index (the column is already stemmed and, in a
  sealed store, blinded), made as soon as the table has rows, since FTS queries fail
  without it; rows written later are scanned until :meth:`Upkeep.maintain` folds them in;
* **BTREE** on ``path`` and ``hash`` (filters, vector reuse) and ``id`` (merges);
* **IVF** (SQ by default) on ``vector``, cosine, once the table is large enough that exact
  search gets slow, rebuilt as it grows. Measured at 100k rows on 2 cores
  (bench/search_latency.py): IVF_SQ builds in ~20 s with recall@10 0.97; IVF_PQ takes
  150–250 s for 0.90 (PQ codes too coarse for the refine step to recover); IVF_HNSW_SQ
  builds in ~80 s, recall 0.98, but date-prefiltered queries get 2–3× slower.

Writes go through the store's retrying ``_write``. Imports ``lancedb.index`` lazily.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twin.core.memory.store_rows import TABLE, StoreRow, content_hash, sql_str

if TYPE_CHECKING:
    from twin.core.memory.store import LanceStore

log = logging.getLogger("twin.store")

#: The index columns besides ``fts`` and ``vector``.
_BTREE_COLUMNS = ("path", "hash", "id")


def _btree(column: str) -> Callable[[Any], Any]:
    """A write that (re)builds the BTREE index on ``column``."""
    from lancedb.index import BTree

    return lambda t: t.create_index(column, config=BTree(), replace=True)


class Upkeep:
    """Indexes and compaction of ``store``'s table, from one owner (the writer) at a time."""

    def __init__(self, store: LanceStore):
        self._store = store
        #: Whether the FTS index exists (None: not checked since the table was opened).
        self.has_fts: bool | None = None

    def _index_names(self) -> dict[str, Any]:
        return {cfg.columns[0]: cfg for cfg in self._store._ready().list_indices() if cfg.columns}

    def ensure_fts(self) -> bool:
        """Create the FTS index if missing; False if the table is empty (nothing to index)."""
        if self.has_fts:
            return True
        table = self._store._ready()
        if "fts" in self._index_names():
            self.has_fts = True
            return True
        if table.count_rows() == 0:
            return False
        self._create_fts(replace=False)
        return True

    def _create_fts(self, replace: bool) -> None:
        from lancedb.index import FTS

        cfg = FTS(base_tokenizer="whitespace", lower_case=False, stem=False,
                  remove_stop_words=False, ascii_folding=False, with_position=False,
                  max_token_length=64)
        try:
            self._store._write("create fts index", lambda t: t.create_index("fts", config=cfg,
                                                                             replace=replace))
        except (OSError, RuntimeError, ValueError) as e:
            if "already exists" not in str(e).lower():  # another process made it first
                raise
        self.has_fts = True

    def maintain(self, *, cleanup_older_than: dt.timedelta | None = None,
                 force_vector_index: bool = False) -> dict[str, Any]:
        """Indexes and compaction; call after a batch of writes, from one owner at a time.

        * FTS index on ``fts`` (created once; new rows folded in by ``optimize``);
        * BTREE indexes on ``path`` and ``hash`` (filters, hash reuse) and ``id`` (merges);
        * an IVF (SQ by default) cosine index on ``vector`` once there are ``vector_index_threshold``
          rows, rebuilt when the table grew ``vector_index_regrow``-fold since it was built;
        * ``optimize``: compacts small fragments, updates indexes, deletes versions older
          than ``cleanup_older_than``.

        Returns:
            What was done, with timings in seconds.
        """
        store = self._store
        report: dict[str, Any] = {}
        table = store._ready()
        rows = table.count_rows()
        t0 = time.perf_counter()
        if rows:
            self.ensure_fts()
            present = self._index_names()
            for column in _BTREE_COLUMNS:
                if column not in present:
                    store._write(f"btree {column}", _btree(column))
                    report.setdefault("created", []).append(column)
            built = int(store.recorded.get("vector_index_rows", 0) or 0)
            has_vec = "vector" in present
            if (force_vector_index or rows >= store.vector_index_threshold) and (
                    not has_vec or rows >= built * store.vector_index_regrow):
                t1 = time.perf_counter()
                self._build_vector_index(rows)
                report["vector_index_s"] = round(time.perf_counter() - t1, 3)
        report["indexes_s"] = round(time.perf_counter() - t0, 3)
        t2 = time.perf_counter()
        older = store.cleanup_older_than if cleanup_older_than is None else cleanup_older_than
        if self._needs_optimize(older):
            with warnings.catch_warnings():
                # Asked for explicitly (tests, `twin index --compact`): no need to warn.
                warnings.filterwarnings("ignore", "optimize\\(cleanup_older_than=0\\)")
                store._write("optimize", lambda t: t.optimize(cleanup_older_than=older))
            report["optimize_s"] = round(time.perf_counter() - t2, 3)
        else:
            report["optimize_s"] = 0.0
        report["rows"] = rows
        return report

    def purge(self) -> dict[str, Any]:
        """Make deleted chunks unrecoverable from disk ("delete means deleted").

        A LanceDB delete only marks rows in a deletion file; their text stays in the data
        file (often compressed, so a byte search would not even show it), in the FTS and
        BTREE index files, and in every older version. Compaction rewrites a fragment only
        when more than 10% of it is deleted. So: rewrite every row into new fragments (the
        old, now fully deleted fragments leave the manifest), rebuild every index from the
        new rows, then delete all older versions and unreferenced files at once.

        Costs a rewrite of the table (see the report's timings); run it after deletions,
        from the writer. Readers in other processes reading an old version during the
        cleanup may see one failed query.

        Returns:
            What was done, with timings in seconds.
        """
        store = self._store
        t0 = time.perf_counter()
        table = store._ready()
        rows = table.count_rows()
        report: dict[str, Any] = {"rows": rows}
        if rows:
            store._write("purge rewrite", lambda t: t.update(values_sql={"ordinal": "ordinal"}))
            present = self._index_names()
            for column in _BTREE_COLUMNS:
                if column in present:
                    store._write(f"purge btree {column}", _btree(column))
            if "fts" in present:
                self.has_fts = False
                self._create_fts(replace=True)
            if "vector" in present:
                self._build_vector_index(rows)
        report["rewrite_s"] = round(time.perf_counter() - t0, 3)
        t1 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "optimize\\(cleanup_older_than=0\\)")
            store._write("purge cleanup", lambda t: t.optimize(cleanup_older_than=dt.timedelta(0),
                                                               delete_unverified=True))
        report["cleanup_s"] = round(time.perf_counter() - t1, 3)
        report["seconds"] = round(time.perf_counter() - t0, 3)
        log.info("purged deleted chunks: %s", report)
        return report

    def _needs_optimize(self, older: dt.timedelta) -> bool:
        """False when optimize would find nothing to do (it costs seconds at 100k rows
        even then): no unindexed rows, one fragment without deletions, no old versions."""
        table = self._store._ready()
        table.checkout_latest()
        if any((cfg.num_unindexed_rows or 0) > 0 for cfg in table.list_indices()):
            return True
        versions = table.list_versions()
        latest = max(versions, key=lambda v: v["version"])
        meta = latest.get("metadata") or {}
        if int(meta.get("total_fragments", 2)) > 1 or int(meta.get("total_deletion_files", 1)) > 0:
            return True
        cutoff = dt.datetime.now() - older
        return any(v["version"] != latest["version"] and v["timestamp"] <= cutoff for v in versions)

    def _build_vector_index(self, rows: int) -> None:
        from lancedb.index import IvfHnswSq, IvfPq, IvfSq

        store = self._store
        # ~sqrt(n)/2 partitions (100k rows → 158 of ~630 rows).
        partitions = max(1, min(1024, int(rows ** 0.5 / 2)))
        cfg: Any
        if store.vector_index == "ivf_sq":
            cfg = IvfSq(distance_type="cosine", num_partitions=partitions)
        elif store.vector_index == "ivf_hnsw_sq":
            cfg = IvfHnswSq(distance_type="cosine", num_partitions=max(1, partitions // 8))
        else:
            sub_vectors = next(s for s in (48, 32, 24, 16, 8, 4, 2, 1) if store.dim % s == 0)
            cfg = IvfPq(distance_type="cosine", num_partitions=partitions,
                        num_sub_vectors=sub_vectors)
        store._write("vector index", lambda t: t.create_index("vector", config=cfg, replace=True))
        store._write_meta(vector_index_rows=rows)
        log.info("%s vector index built over %d rows (%d partitions)", store.vector_index, rows,
                 partitions)

    def stats(self) -> dict[str, Any]:
        """Sizes, versions, fragments and indexes, for ``twin status`` and the benches."""
        store = self._store
        table = store._ready()
        st = table.stats()
        st = st if isinstance(st, dict) else getattr(st, "__dict__", {})
        frags = st.get("fragment_stats", {})
        frags = frags if isinstance(frags, dict) else getattr(frags, "__dict__", {})
        indices = {}
        for cfg in table.list_indices():
            indices[cfg.name] = {
                "type": str(cfg.index_type),
                "columns": list(cfg.columns),
                "indexed": getattr(cfg, "num_indexed_rows", None),
                "unindexed": getattr(cfg, "num_unindexed_rows", None),
            }
        return {
            "model": store.model_name,
            "dim": store.dim,
            "rows": int(table.count_rows()),
            "version": int(table.version),
            "versions": len(table.list_versions()),
            "fragments": int(frags.get("num_fragments", 0) or 0),
            "small_fragments": int(frags.get("num_small_fragments", 0) or 0),
            "bytes": int(st.get("total_bytes", 0) or 0),
            "indices": indices,
        }

    def copy_to(self, dst: LanceStore, renames: Mapping[str, str] | None = None) -> int:
        """Copy every row into ``dst``, file by file, in ``dst``'s codec (the encryption
        switch): text opened with this store's codec, vectors kept (nothing is embedded
        again), a path in ``renames`` stored under its new name. Returns the rows copied."""
        src = self._store
        codec = src.codec
        table, copied = src._ready(), 0
        for path in sorted(src.paths()):
            raw = table.search().where(f"path = {sql_str(path)}").limit(None).to_arrow().to_pylist()
            out = []
            for r in raw:
                text = codec.open_text(r["text"] or "", "chunk.text")
                heading = codec.open_text(r["heading"] or "", "chunk.heading")
                # The indexer hashes what it embedded (heading line, then text); a plain store
                # holds that hash as is, a sealed one a keyed hash of it.
                h = r["hash"] if not codec.encrypted else content_hash(f"{heading}\n{text}" if heading else text)
                out.append(StoreRow(ordinal=r["ordinal"], text=text, hash=h, vector=r["vector"],
                                    heading=heading, entry_date=r["entry_date"], start_line=r["start_line"] or 0,
                                    end_line=r["end_line"] or 0, mtime=r["mtime"] or 0.0))
            dst.replace_files({(renames or {}).get(path, path): out})
            copied += len(out)
        return copied


def table_rows(db_dir: Path) -> int | None:
    """Rows of the ``chunks`` table in ``db_dir`` (None: no table), reading every data file
    of the latest version: a check that a copied index is whole (backups)."""
    import lancedb

    db = lancedb.connect(str(db_dir))
    names = db.list_tables()
    if TABLE not in list(getattr(names, "tables", names)):
        return None
    table = db.open_table(TABLE)
    return int(table.search().select(["ordinal"]).limit(None).to_arrow().num_rows)
