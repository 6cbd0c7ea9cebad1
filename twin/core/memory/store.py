"""The memory index: chunks with their vectors in one LanceDB table. The only lancedb importer.

One table, ``chunks`` (see :data:`COLUMNS`), under ``db_dir``, with a ``meta.json`` beside it
that records the embedding model and dimension the vectors came from (and the FTS text
format). A store opened with another model or dimension says so (:attr:`LanceStore.model_changed`)
and refuses to mix vectors until :meth:`LanceStore.reset` empties it.

Invariants:

* **A file's chunks change in one commit.** :meth:`LanceStore.replace_files` writes all the
  chunks of a set of paths with a single ``merge_insert`` that also deletes every other row of
  those paths. LanceDB commits are atomic, so after a crash (even SIGKILL) each path has
  either all its old chunks or all its new ones: never a mix, never duplicates.
* **Moves keep vectors.** :meth:`LanceStore.rename_path` / :meth:`LanceStore.rename_prefix`
  rewrite ``path``/``id`` of existing rows in one commit; nothing is re-embedded.
* **Vectors are unit length** (the embedder normalises), searched by cosine distance;
  ``score`` of a vector candidate is ``1 - distance`` (cosine similarity).
* **The ``fts`` column holds :func:`twin.core.memory.textnorm.fts_terms` of the chunk** and the
  FTS index is a plain whitespace index over it, so Russian and English are stemmed alike
  and a query can never inject FTS syntax.
* **Writes start from the latest version** (``checkout_latest``) and retry on commit
  conflicts, because a CLI ``twin index`` and the window may have the store open at once.

lancedb itself is imported lazily, in the constructor: importing it costs ~0.5 s.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from twin.atomic import write_atomic
from twin.core.crypto import PLAIN, Codec
from twin.core.memory.textnorm import FTS_VERSION, fts_terms, query_terms
from twin.core.memory.scope import combine, date_filter, scope_filter
from twin.core.types import Chunk, DateRange, Scope
from twin.errors import StoreError

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

log = logging.getLogger("twin.store")

T = TypeVar("T")

TABLE = "chunks"
META_FILE = "meta.json"
#: Bump when the table layout changes incompatibly (the store then reports model_changed).
FORMAT_VERSION = 1

#: Columns returned by searches (everything but ``vector`` and ``fts``).
RESULT_COLUMNS = ["id", "path", "ordinal", "heading", "text", "entry_date", "start_line",
                  "end_line", "hash"]

#: How many values go into one ``IN (...)`` list when looking rows up.
_IN_BATCH = 1000

_MAX_RETRIES = 8

#: No date filter.
ALL_DATES = DateRange()


def content_hash(text: str) -> str:
    """The content hash stored in ``hash``: 32 hex digits of BLAKE2b over the UTF-8 text."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def sql_str(value: str) -> str:
    """A SQL string literal: single quotes doubled, so any path is safe in a filter."""
    return "'" + value.replace("'", "''") + "'"


def sql_in(column: str, values: Iterable[str]) -> str:
    """``column IN ('a', 'b')`` with every value quoted by :func:`sql_str`."""
    return f"{column} IN ({', '.join(sql_str(v) for v in values)})"


def chunk_id(path: str, ordinal: int, hash: str) -> str:
    """The row id: unique per (path, ordinal); the hash makes an edited chunk a new row."""
    return f"{hash}:{ordinal}:{path}"


def _is_retryable(exc: BaseException) -> bool:
    msg = str(exc).lower()
    return "commit conflict" in msg or "retryable" in msg or "concurrent" in msg


@dataclass(frozen=True)
class StoreRow:
    """One chunk to store. The path comes from the key of :meth:`LanceStore.replace_files`.

    ``hash`` is the content hash of the text that was embedded (:func:`content_hash`); equal
    hashes let :meth:`LanceStore.vectors_for_hashes` reuse a vector. ``fts`` defaults to
    :func:`fts_terms` of the heading and the text. ``vector`` is a float32 array of ``dim``.
    """

    ordinal: int
    text: str
    hash: str
    vector: Any
    heading: str = ""
    entry_date: dt.date | None = None
    start_line: int = 0
    end_line: int = 0
    mtime: float = 0.0
    fts: str | None = None

    @classmethod
    def from_chunk(cls, chunk: Chunk, vector: Any, *, hash: str | None = None,
                   mtime: float = 0.0) -> StoreRow:
        """A row for ``chunk``; ``hash`` defaults to :func:`content_hash` of its text."""
        return cls(
            ordinal=chunk.ordinal,
            text=chunk.text,
            hash=hash if hash is not None else content_hash(chunk.text),
            vector=vector,
            heading=chunk.heading,
            entry_date=chunk.entry_date,
            start_line=chunk.start_line,
            end_line=chunk.end_line,
            mtime=mtime,
        )

    def fts_text(self) -> str:
        return self.fts if self.fts is not None else fts_terms(f"{self.heading}\n{self.text}")


@dataclass(frozen=True)
class Candidate:
    """One search result row, best first; ``score`` is higher-is-better for its search."""

    id: str
    path: str
    ordinal: int
    heading: str
    text: str
    entry_date: dt.date | None
    start_line: int
    end_line: int
    hash: str
    score: float


#: What :meth:`LanceStore.replace_files` accepts for one chunk.
RowLike = StoreRow | Mapping[str, Any]


def schema(dim: int) -> pa.Schema:
    """The ``chunks`` table schema for vectors of ``dim`` floats."""
    import pyarrow as pa

    return pa.schema([
        pa.field("id", pa.string(), nullable=False),
        pa.field("path", pa.string(), nullable=False),
        pa.field("ordinal", pa.int32(), nullable=False),
        pa.field("heading", pa.string()),
        pa.field("text", pa.string()),
        pa.field("entry_date", pa.date32()),
        pa.field("start_line", pa.int32()),
        pa.field("end_line", pa.int32()),
        pa.field("mtime", pa.float64()),
        pa.field("hash", pa.string(), nullable=False),
        pa.field("fts", pa.string()),
        pa.field("vector", pa.list_(pa.float32(), dim)),
    ])


#: Column names of the ``chunks`` table, in order.
COLUMNS = ("id", "path", "ordinal", "heading", "text", "entry_date", "start_line", "end_line",
           "mtime", "hash", "fts", "vector")


class LanceStore:
    """The ``chunks`` table in ``db_dir`` for vectors of ``model_name`` with ``dim`` floats.

    Args:
        db_dir: folder of the LanceDB database (created if missing).
        model_name: identity of the embedding model (``Embedder.name``).
        dim: vector dimension.
        vector_index_threshold: :meth:`maintain` builds an ANN vector index once the table
            has this many rows (below it, exact search is fast enough: ~16 ms at 10k).
        vector_index_regrow: rebuild that index when the table grew by this factor since.
        cleanup_older_than: how old a version must be before :meth:`maintain` deletes its
            files. Other processes reading an older version than that would fail, so not 0
            by default.
        vector_index: "ivf_sq" (default), "ivf_pq" or "ivf_hnsw_sq". Measured at 100k
            rows on 2 cores (bench/search_latency.py): IVF_SQ builds in ~20 s with recall@10
            0.97; IVF_PQ takes 150–250 s for 0.90 (PQ codes too coarse for the refine step
            to recover); IVF_HNSW_SQ builds in ~80 s, recall 0.98, but date-prefiltered
            queries get 2–3× slower.
        nprobes, refine_factor: ANN search knobs: IVF partitions searched (of ~sqrt(n)/2),
            and candidates re-ranked with exact distances (``k * refine_factor``).
        read_consistency_interval: how stale a read may be with respect to other
            processes' writes (0 = always check for a newer version; costs ~0.1 ms a read).
        codec: how user text is stored (:mod:`twin.core.crypto`): with a sealed codec,
            ``text`` and ``heading`` hold AES-GCM ciphertext, ``fts`` blind tokens and
            ``hash`` keyed hashes; searches return plain text. Recorded in ``meta.json``.
    """

    def __init__(
        self,
        db_dir: Path,
        model_name: str,
        dim: int,
        *,
        vector_index_threshold: int = 20_000,
        vector_index_regrow: float = 2.0,
        cleanup_older_than: dt.timedelta = dt.timedelta(minutes=1),
        vector_index: str = "ivf_sq",
        nprobes: int = 40,
        refine_factor: int = 10,
        read_consistency_interval: dt.timedelta | None = dt.timedelta(0),
        codec: Codec = PLAIN,
    ):
        import lancedb

        self.db_dir = Path(db_dir)
        self.codec = codec
        self.model_name = model_name
        self.dim = int(dim)
        self.vector_index_threshold = vector_index_threshold
        self.vector_index_regrow = vector_index_regrow
        self.cleanup_older_than = cleanup_older_than
        if vector_index not in ("ivf_pq", "ivf_sq", "ivf_hnsw_sq"):
            raise ValueError(f"unknown vector index type {vector_index!r}")
        self.vector_index = vector_index
        self.nprobes = nprobes
        self.refine_factor = refine_factor
        self.db_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._db = lancedb.connect(str(self.db_dir),
                                       read_consistency_interval=read_consistency_interval)
        except (OSError, RuntimeError, ValueError) as e:
            raise StoreError(f"Cannot open the memory index at {self.db_dir}: {e}") from e
        self._schema = schema(self.dim)
        self._table: Any = None
        self._has_fts: bool | None = None
        self.model_changed = False
        self.recorded: dict[str, Any] = {}
        self._open()

    # -- lifecycle --------------------------------------------------------------------------

    def _meta_path(self) -> Path:
        return self.db_dir / META_FILE

    def _wanted_meta(self) -> dict[str, Any]:
        wanted = {"format": FORMAT_VERSION, "model": self.model_name, "dim": self.dim,
                  "fts_version": FTS_VERSION}
        if self.codec.id:
            wanted["codec"] = self.codec.id
        return wanted

    def _read_meta(self) -> dict[str, Any]:
        try:
            data = json.loads(self._meta_path().read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as e:
            log.warning("unreadable %s (%s): treating the index as foreign", self._meta_path(), e)
            return {"format": -1}
        return data if isinstance(data, dict) else {"format": -1}

    def _write_meta(self, **extra: Any) -> None:
        data = {**self.recorded, **self._wanted_meta(), **extra}
        write_atomic(self._meta_path(), json.dumps(data, indent=2, sort_keys=True))
        self.recorded = data

    def _table_names(self) -> list[str]:
        names = self._db.list_tables()
        return list(getattr(names, "tables", names))

    def _open(self) -> None:
        meta = self._read_meta()
        exists = TABLE in self._table_names()
        if exists:
            self._table = self._db.open_table(TABLE)
            field = self._table.schema.field("vector")
            table_dim = getattr(field.type, "list_size", -1)
        else:
            table_dim = self.dim
        wanted = self._wanted_meta()
        if exists and not meta:
            meta = {**wanted, "model": None}  # a table without a record: origin unknown
        self.recorded = dict(meta)
        self.model_changed = bool(meta) and (
            any(meta.get(key) != value for key, value in wanted.items()) or table_dim != self.dim
            or (meta.get("codec") or "") != self.codec.id
        )
        if self.model_changed:
            log.warning("memory index was built with %s/%s, now %s/%s: re-index needed",
                        meta.get("model"), meta.get("dim"), self.model_name, self.dim)
            return
        if not meta:
            self._write_meta()  # record the model before the first vector lands
        if not exists:
            self._create_table()

    def _create_table(self) -> None:
        try:
            self._table = self._db.create_table(TABLE, schema=self._schema, exist_ok=True)
        except TypeError:  # pragma: no cover - older signature
            self._table = self._db.create_table(TABLE, schema=self._schema)
        self._has_fts = None

    def reset(self) -> None:
        """Drop every chunk and record the current model (after a model change)."""
        if TABLE in self._table_names():
            self._db.drop_table(TABLE)
        self.recorded = {}
        self._write_meta()
        self._create_table()
        self.model_changed = False
        log.info("memory index reset for %s (%d-d)", self.model_name, self.dim)

    def _ready(self) -> Any:
        if self.model_changed or self._table is None:
            raise StoreError(
                f"The memory index was built with another embedding model "
                f"({self.recorded.get('model')}, {self.recorded.get('dim')}-d); "
                f"re-index to use {self.model_name}."
            )
        return self._table

    def _write(self, what: str, op: Callable[[Any], T]) -> T:
        """Run a write on the latest version, retrying on commit conflicts."""
        table = self._ready()
        delay = 0.02
        for attempt in range(_MAX_RETRIES):
            table.checkout_latest()
            try:
                return op(table)
            except (OSError, RuntimeError, ValueError) as e:
                if not _is_retryable(e) or attempt == _MAX_RETRIES - 1:
                    raise
                log.info("%s: commit conflict, retrying (%s)", what, e)
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
        raise AssertionError("unreachable")  # pragma: no cover

    # -- writes -----------------------------------------------------------------------------

    def _to_arrow(self, rows_by_path: Mapping[str, Sequence[RowLike]]) -> pa.Table:
        import numpy as np
        import pyarrow as pa

        cols: dict[str, list[Any]] = {name: [] for name in COLUMNS if name != "vector"}
        vectors = []
        seen: set[str] = set()
        codec = self.codec
        for path, rows in rows_by_path.items():
            for r in map(_as_row, rows):
                stored_hash = codec.hash(r.hash)
                rid = chunk_id(path, r.ordinal, stored_hash)
                if rid in seen:
                    raise ValueError(f"duplicate chunk (ordinal {r.ordinal}) for {path}")
                seen.add(rid)
                vec = np.asarray(r.vector, dtype=np.float32).reshape(-1)
                if vec.shape[0] != self.dim:
                    raise ValueError(f"vector of {vec.shape[0]} floats, the index holds {self.dim}")
                vectors.append(vec)
                cols["id"].append(rid)
                cols["path"].append(path)
                cols["ordinal"].append(r.ordinal)
                cols["heading"].append(codec.seal_text(r.heading, "chunk.heading"))
                cols["text"].append(codec.seal_text(r.text, "chunk.text"))
                cols["entry_date"].append(r.entry_date)
                cols["start_line"].append(r.start_line)
                cols["end_line"].append(r.end_line)
                cols["mtime"].append(float(r.mtime))
                cols["hash"].append(stored_hash)
                fts = r.fts_text()
                cols["fts"].append(" ".join(codec.terms(fts.split())) if codec.encrypted else fts)
        flat = np.concatenate(vectors) if vectors else np.zeros(0, dtype=np.float32)
        arrays = [pa.array(cols[f.name], type=f.type) for f in self._schema if f.name != "vector"]
        arrays.append(pa.FixedSizeListArray.from_arrays(pa.array(flat, pa.float32()), self.dim))
        return pa.Table.from_arrays(arrays, schema=self._schema)

    def replace_files(self, rows_by_path: Mapping[str, Sequence[RowLike]]) -> None:
        """Make the given paths hold exactly the given rows, in ONE commit.

        A path mapped to an empty sequence loses all its chunks. Rows of other paths are
        untouched. Unchanged rows (same path, ordinal and hash) are rewritten in place.

        Args:
            rows_by_path: path → its chunks, as :class:`StoreRow` or dicts with the same
                keys (``id`` and ``path`` keys are ignored: the store derives them).

        Raises:
            ValueError: a vector of the wrong size, or two rows with one ordinal.
        """
        if not rows_by_path:
            return
        data = self._to_arrow(rows_by_path)
        cond = sql_in("path", rows_by_path.keys())
        if data.num_rows == 0:
            self._write("delete", lambda t: t.delete(cond))
        else:
            self._write("replace_files", lambda t: (
                t.merge_insert("id")
                .when_matched_update_all()
                .when_not_matched_insert_all()
                .when_not_matched_by_source_delete(cond)
                .execute(data)
            ))
        self._after_write()

    def delete_paths(self, paths: Iterable[str]) -> None:
        """Remove every chunk of ``paths`` (one commit)."""
        paths = list(dict.fromkeys(paths))
        if paths:
            self._write("delete_paths", lambda t: t.delete(sql_in("path", paths)))

    def rename_path(self, old: str, new: str) -> int:
        """Move the chunks of ``old`` to ``new`` (replacing any ``new`` had), keeping vectors.

        Returns:
            How many chunks moved (0 if ``old`` had none; ``new`` is then left as it was).
        """
        if old == new:
            return 0
        return self._move(f"path = {sql_str(old)}", lambda p: new,
                          f"path IN ({sql_str(old)}, {sql_str(new)})")

    def rename_prefix(self, old_dir: str, new_dir: str) -> int:
        """Move the chunks of every path under folder ``old_dir`` to ``new_dir`` (one commit).

        Returns:
            How many chunks moved.
        """
        old_p, new_p = _as_dir(old_dir), _as_dir(new_dir)
        if old_p == new_p:
            return 0
        return self._move(
            f"starts_with(path, {sql_str(old_p)})",
            lambda p: new_p + p[len(old_p):],
            f"starts_with(path, {sql_str(old_p)}) OR starts_with(path, {sql_str(new_p)})",
        )

    def _move(self, where: str, rename: Callable[[str], str], delete_where: str) -> int:
        import pyarrow as pa

        def op(table: Any) -> int:
            rows = table.search().where(where).limit(None).to_arrow()
            if rows.num_rows == 0:
                return 0
            paths = [rename(p) for p in rows.column("path").to_pylist()]
            ids = [chunk_id(p, o, h) for p, o, h in zip(
                paths, rows.column("ordinal").to_pylist(), rows.column("hash").to_pylist())]
            rows = rows.set_column(rows.schema.get_field_index("path"), "path",
                                   pa.array(paths, pa.string()))
            rows = rows.set_column(rows.schema.get_field_index("id"), "id",
                                   pa.array(ids, pa.string()))
            rows = rows.select(list(COLUMNS)).cast(self._schema)
            (table.merge_insert("id")
             .when_matched_update_all()
             .when_not_matched_insert_all()
             .when_not_matched_by_source_delete(delete_where)
             .execute(rows))
            return rows.num_rows

        moved = self._write("rename", op)
        self._after_write()
        return moved

    def _after_write(self) -> None:
        # The FTS index must exist for FTS queries to run at all; later rows are found
        # unindexed (a flat scan) until maintain() folds them in.
        if self._has_fts is not True:
            self._ensure_fts()

    def copy_to(self, dst: LanceStore, renames: Mapping[str, str] | None = None) -> int:
        """Copy every row into ``dst``, file by file, in ``dst``'s codec (the encryption
        switch): text opened with this store's codec, vectors kept (nothing is embedded
        again), a path in ``renames`` stored under its new name. Returns the rows copied."""
        table, copied = self._ready(), 0
        for path in sorted(self.paths()):
            raw = table.search().where(f"path = {sql_str(path)}").limit(None).to_arrow().to_pylist()
            out = []
            for r in raw:
                text = self.codec.open_text(r["text"] or "", "chunk.text")
                heading = self.codec.open_text(r["heading"] or "", "chunk.heading")
                # The indexer hashes what it embedded (heading line, then text); a plain store
                # holds that hash as is, a sealed one a keyed hash of it.
                h = r["hash"] if not self.codec.encrypted else content_hash(f"{heading}\n{text}" if heading else text)
                out.append(StoreRow(ordinal=r["ordinal"], text=text, hash=h, vector=r["vector"],
                                    heading=heading, entry_date=r["entry_date"], start_line=r["start_line"] or 0,
                                    end_line=r["end_line"] or 0, mtime=r["mtime"] or 0.0))
            dst.replace_files({(renames or {}).get(path, path): out})
            copied += len(out)
        return copied

    # -- reads ------------------------------------------------------------------------------

    def count(self) -> int:
        """Number of chunks."""
        return int(self._ready().count_rows())

    def paths(self) -> dict[str, int]:
        """Every indexed path with its number of chunks."""
        tbl = self._ready().search().select(["path"]).limit(None).to_arrow()
        if tbl.num_rows == 0:
            return {}
        counts = tbl.column("path").value_counts()
        return {str(v): int(c) for v, c in zip(counts.field("values").to_pylist(),
                                                 counts.field("counts").to_pylist())}

    def vectors_for_hashes(self, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        """Stored vectors by content hash, for the hashes that are in the index."""

        plain_of = {self.codec.hash(h): h for h in hashes}  # stored (maybe keyed) → given
        wanted = list(plain_of)
        out: dict[str, np.ndarray] = {}
        table = self._ready()
        for i in range(0, len(wanted), _IN_BATCH):
            batch = wanted[i:i + _IN_BATCH]
            tbl = (table.search().where(sql_in("hash", batch))
                   .select(["hash", "vector"]).limit(None).to_arrow())
            if tbl.num_rows == 0:
                continue
            vecs = tbl.column("vector").combine_chunks().flatten().to_numpy(zero_copy_only=False)
            vecs = vecs.reshape(-1, self.dim)
            for j, h in enumerate(tbl.column("hash").to_pylist()):
                h = plain_of[h]
                if h not in out:
                    out[h] = vecs[j].copy()
        return out

    def rows_for_path(self, path: str) -> list[Candidate]:
        """The chunks of one path, in ordinal order (score 0)."""
        tbl = (self._ready().search().where(f"path = {sql_str(path)}")
               .select(RESULT_COLUMNS).limit(None).to_arrow())
        return sorted(_candidates(tbl, None, self.codec), key=lambda c: c.ordinal)

    def by_date(self, dates: DateRange, k: int, *, newest_first: bool = False,
                scope: Scope | None = None) -> list[Candidate]:
        """Up to ``k`` dated chunks in ``dates`` (and ``scope``), in chronological order (score 0)."""
        where = combine(date_filter(dates) or "entry_date IS NOT NULL", scope_filter(scope))
        tbl = (self._ready().search().where(where)
               .select(RESULT_COLUMNS).limit(None).to_arrow())
        rows = sorted(_candidates(tbl, None, self.codec), key=lambda c: (c.entry_date, c.path, c.ordinal),
                      reverse=newest_first)
        return rows[:k]

    def on_month_days(self, month_days: Iterable[tuple[int, int]], k: int, *,
                      before: dt.date | None = None) -> list[Candidate]:
        """Up to ``k`` chunks dated on any of ``month_days`` (``(month, day)``) of any year
        before ``before``, newest first (score 0): "on this day" in one query."""
        days = " OR ".join(f"(date_part('month', entry_date) = {int(m)} AND date_part('day', entry_date) = {int(d)})"
                           for m, d in dict.fromkeys(month_days))
        if not days:
            return []
        where = f"entry_date IS NOT NULL AND ({days})"
        if before is not None:
            where += f" AND entry_date < date '{before.isoformat()}'"
        tbl = self._ready().search().where(where).select(RESULT_COLUMNS).limit(None).to_arrow()
        rows = sorted(_candidates(tbl, None, self.codec), key=lambda c: (c.entry_date, c.path, -c.ordinal),
                      reverse=True)
        return rows[:k]

    def stats(self) -> dict[str, Any]:
        """Sizes, versions, fragments and indexes, for ``twin status`` and the benches."""
        table = self._ready()
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
            "model": self.model_name,
            "dim": self.dim,
            "rows": int(table.count_rows()),
            "version": int(table.version),
            "versions": len(table.list_versions()),
            "fragments": int(frags.get("num_fragments", 0) or 0),
            "small_fragments": int(frags.get("num_small_fragments", 0) or 0),
            "bytes": int(st.get("total_bytes", 0) or 0),
            "indices": indices,
        }

    # -- search -----------------------------------------------------------------------------

    def search_vector(self, qvec: Any, k: int, dates: DateRange = ALL_DATES,
                      scope: Scope | None = None) -> list[Candidate]:
        """The ``k`` chunks nearest to ``qvec`` (cosine), best first; score = similarity.
        ``dates`` and ``scope`` prefilter (the ``k`` nearest *within* them)."""
        import numpy as np

        q = np.asarray(qvec, dtype=np.float32).reshape(-1)
        if q.shape[0] != self.dim:
            raise ValueError(f"query vector of {q.shape[0]} floats, the index holds {self.dim}")
        builder = (self._ready().search(q, vector_column_name="vector")
                   .distance_type("cosine")
                   .nprobes(self.nprobes)
                   .refine_factor(self.refine_factor))
        where = combine(date_filter(dates), scope_filter(scope))
        if where:
            builder = builder.where(where, prefilter=True)
        tbl = builder.select([*RESULT_COLUMNS, "_distance"]).limit(k).to_arrow()
        return _candidates(tbl, "_distance", self.codec)

    def search_fts(self, query_text: str, k: int, dates: DateRange = ALL_DATES,
                   scope: Scope | None = None) -> list[Candidate]:
        """BM25 over the stemmed ``fts`` column, best first; score = BM25 score. ``dates``
        and ``scope`` prefilter.

        ``query_text`` is raw user text: it goes through the same normalisation as the
        stored text, which also strips any query syntax.
        """
        from lancedb.query import FullTextOperator, MatchQuery

        terms = self.codec.terms(query_terms(query_text))
        table = self._ready()
        if not terms or not self._ensure_fts():
            return []
        builder = table.search(MatchQuery(" ".join(terms), "fts", operator=FullTextOperator.OR),
                               query_type="fts")
        where = combine(date_filter(dates), scope_filter(scope))
        if where:
            builder = builder.where(where, prefilter=True)
        tbl = builder.select([*RESULT_COLUMNS, "_score"]).limit(k).to_arrow()
        return _candidates(tbl, "_score", self.codec)

    # -- maintenance ------------------------------------------------------------------------

    def _index_names(self) -> dict[str, Any]:
        return {cfg.columns[0]: cfg for cfg in self._ready().list_indices() if cfg.columns}

    def _ensure_fts(self) -> bool:
        """Create the FTS index if missing; False if the table is empty (nothing to index)."""
        if self._has_fts:
            return True
        table = self._ready()
        if "fts" in self._index_names():
            self._has_fts = True
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
            self._write("create fts index", lambda t: t.create_index("fts", config=cfg,
                                                                      replace=replace))
        except (OSError, RuntimeError, ValueError) as e:
            if "already exists" not in str(e).lower():  # another process made it first
                raise
        self._has_fts = True

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
        from lancedb.index import BTree

        report: dict[str, Any] = {}
        table = self._ready()
        rows = table.count_rows()
        t0 = time.perf_counter()
        if rows:
            self._ensure_fts()
            present = self._index_names()
            for column in ("path", "hash", "id"):
                if column not in present:
                    self._write(f"btree {column}", lambda t, c=column: t.create_index(
                        c, config=BTree(), replace=True))
                    report.setdefault("created", []).append(column)
            built = int(self.recorded.get("vector_index_rows", 0) or 0)
            has_vec = "vector" in present
            if (force_vector_index or rows >= self.vector_index_threshold) and (
                    not has_vec or rows >= built * self.vector_index_regrow):
                t1 = time.perf_counter()
                self._build_vector_index(rows)
                report["vector_index_s"] = round(time.perf_counter() - t1, 3)
        report["indexes_s"] = round(time.perf_counter() - t0, 3)
        t2 = time.perf_counter()
        older = self.cleanup_older_than if cleanup_older_than is None else cleanup_older_than
        if self._needs_optimize(older):
            with warnings.catch_warnings():
                # Asked for explicitly (tests, `twin index --compact`): no need to warn.
                warnings.filterwarnings("ignore", "optimize\\(cleanup_older_than=0\\)")
                self._write("optimize", lambda t: t.optimize(cleanup_older_than=older))
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
        from lancedb.index import BTree

        t0 = time.perf_counter()
        table = self._ready()
        rows = table.count_rows()
        report: dict[str, Any] = {"rows": rows}
        if rows:
            self._write("purge rewrite", lambda t: t.update(values_sql={"ordinal": "ordinal"}))
            present = self._index_names()
            for column in ("path", "hash", "id"):
                if column in present:
                    self._write(f"purge btree {column}", lambda t, c=column: t.create_index(
                        c, config=BTree(), replace=True))
            if "fts" in present:
                self._has_fts = False
                self._create_fts(replace=True)
            if "vector" in present:
                self._build_vector_index(rows)
        report["rewrite_s"] = round(time.perf_counter() - t0, 3)
        t1 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "optimize\\(cleanup_older_than=0\\)")
            self._write("purge cleanup", lambda t: t.optimize(cleanup_older_than=dt.timedelta(0),
                                                              delete_unverified=True))
        report["cleanup_s"] = round(time.perf_counter() - t1, 3)
        report["seconds"] = round(time.perf_counter() - t0, 3)
        log.info("purged deleted chunks: %s", report)
        return report

    def _needs_optimize(self, older: dt.timedelta) -> bool:
        """False when optimize would find nothing to do (it costs seconds at 100k rows
        even then): no unindexed rows, one fragment without deletions, no old versions."""
        table = self._ready()
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

        # ~sqrt(n)/2 partitions (100k rows → 158 of ~630 rows).
        partitions = max(1, min(1024, int(rows ** 0.5 / 2)))
        cfg: Any
        if self.vector_index == "ivf_sq":
            cfg = IvfSq(distance_type="cosine", num_partitions=partitions)
        elif self.vector_index == "ivf_hnsw_sq":
            cfg = IvfHnswSq(distance_type="cosine", num_partitions=max(1, partitions // 8))
        else:
            sub_vectors = next(s for s in (48, 32, 24, 16, 8, 4, 2, 1) if self.dim % s == 0)
            cfg = IvfPq(distance_type="cosine", num_partitions=partitions,
                        num_sub_vectors=sub_vectors)
        self._write("vector index", lambda t: t.create_index("vector", config=cfg, replace=True))
        self._write_meta(vector_index_rows=rows)
        log.info("%s vector index built over %d rows (%d partitions)", self.vector_index, rows,
                 partitions)


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


_ROW_FIELDS = frozenset(StoreRow.__dataclass_fields__)


def _as_row(row: RowLike) -> StoreRow:
    if isinstance(row, StoreRow):
        return row
    return StoreRow(**{k: v for k, v in row.items() if k in _ROW_FIELDS})


def _as_dir(path: str) -> str:
    return path if path.endswith(("/", os.sep)) else path + os.sep


def _candidates(tbl: pa.Table, score_col: str | None, codec: Codec = PLAIN) -> list[Candidate]:
    cols = {name: tbl.column(name).to_pylist() for name in RESULT_COLUMNS}
    if score_col == "_distance":
        scores = [1.0 - float(d) for d in tbl.column("_distance").to_pylist()]
    elif score_col:
        scores = [float(s) for s in tbl.column(score_col).to_pylist()]
    else:
        scores = [0.0] * tbl.num_rows
    return [
        Candidate(id=cols["id"][i], path=cols["path"][i], ordinal=int(cols["ordinal"][i]),
                  heading=codec.open_text(cols["heading"][i] or "", "chunk.heading"),
                  text=codec.open_text(cols["text"][i] or "", "chunk.text"),
                  entry_date=cols["entry_date"][i], start_line=int(cols["start_line"][i] or 0),
                  end_line=int(cols["end_line"][i] or 0), hash=cols["hash"][i],
                  score=scores[i])
        for i in range(tbl.num_rows)
    ]
