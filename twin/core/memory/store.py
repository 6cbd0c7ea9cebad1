"""The memory index: chunks with their vectors in one LanceDB table. The lancedb adapter.

One table, ``chunks`` (see :data:`COLUMNS`), under ``db_dir``, with a ``meta.json`` beside it
that records the embedding model and dimension the vectors came from (and the FTS text
format). A store opened with another model or dimension says so (:attr:`LanceStore.model_changed`)
and refuses to mix vectors until :meth:`LanceStore.reset` empties it.

:class:`LanceStore` is in four modules, by what they hold; every name is importable from here:

* this one: opening the table, its ``meta.json``, and the writes (replace, delete, rename);
* :mod:`~twin.core.memory.store_rows`: the schema, rows in and candidates out (no lancedb);
* :mod:`~twin.core.memory.store_search`: every read, the vector and full-text searches;
* :mod:`~twin.core.memory.store_upkeep`: indexes, compaction, purge, copy, stats.

Only this module, store_search and store_upkeep import lancedb (the import-linter contract in
pyproject.toml), lazily, in the methods that use it: importing it costs ~0.5 s.

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
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from twin.atomic import write_atomic
from twin.core.crypto import PLAIN, Codec
from twin.core.memory.store_rows import (COLUMNS, RESULT_COLUMNS, TABLE, Candidate, RowLike, StoreRow,
                                         chunk_id, content_hash, renamed, schema, sql_in, sql_str,
                                         to_arrow)
from twin.core.memory.store_search import ALL_DATES, Search
from twin.core.memory.store_upkeep import Upkeep, table_rows
from twin.core.memory.textnorm import FTS_VERSION
from twin.core.types import DateRange, Scope
from twin.errors import StoreError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["ALL_DATES", "COLUMNS", "FORMAT_VERSION", "META_FILE", "RESULT_COLUMNS", "TABLE", "Candidate",
           "LanceStore", "RowLike", "StoreRow", "chunk_id", "content_hash", "schema", "sql_in", "sql_str",
           "table_rows"]

log = logging.getLogger("twin.store")

T = TypeVar("T")

META_FILE = "meta.json"
#: Bump when the table layout changes incompatibly (the store then reports model_changed).
FORMAT_VERSION = 1

_MAX_RETRIES = 8


def _is_retryable(exc: BaseException) -> bool:
    msg = str(exc).lower()
    return "commit conflict" in msg or "retryable" in msg or "concurrent" in msg


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
        vector_index: "ivf_sq" (default), "ivf_pq" or "ivf_hnsw_sq" (measured: see
            :mod:`~twin.core.memory.store_upkeep`).
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
        self._upkeep = Upkeep(self)
        self._search = Search(self, self._upkeep.ensure_fts)
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
        self._upkeep.has_fts = None

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
        """The open table (for this module, Search and Upkeep); StoreError after a model change."""
        if self.model_changed or self._table is None:
            raise StoreError(
                f"The memory index was built with another embedding model "
                f"({self.recorded.get('model')}, {self.recorded.get('dim')}-d); "
                f"re-index to use {self.model_name}."
            )
        return self._table

    def _write(self, what: str, op: Callable[[Any], T]) -> T:
        """Run ``op(table)`` on the latest version, retrying on commit conflicts (every write,
        here and in Upkeep, goes through this)."""
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
        data = to_arrow(rows_by_path, self._schema, self.dim, self.codec)
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
        """Move the chunks of ``old`` to ``new`` (replacing any ``new`` had), keeping vectors;
        returns how many chunks moved (0 if ``old`` had none: ``new`` is then left as it was)."""
        if old == new:
            return 0
        return self._move(f"path = {sql_str(old)}", lambda p: new,
                          f"path IN ({sql_str(old)}, {sql_str(new)})")

    def rename_prefix(self, old_dir: str, new_dir: str) -> int:
        """Move the chunks of every path under folder ``old_dir`` to ``new_dir`` (one commit);
        returns how many chunks moved."""
        old_p, new_p = _as_dir(old_dir), _as_dir(new_dir)
        if old_p == new_p:
            return 0
        return self._move(
            f"starts_with(path, {sql_str(old_p)})",
            lambda p: new_p + p[len(old_p):],
            f"starts_with(path, {sql_str(old_p)}) OR starts_with(path, {sql_str(new_p)})",
        )

    def _move(self, where: str, rename: Callable[[str], str], delete_where: str) -> int:
        def op(table: Any) -> int:
            rows = table.search().where(where).limit(None).to_arrow()
            if rows.num_rows == 0:
                return 0
            rows = renamed(rows, rename, self._schema)
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
        if self._upkeep.has_fts is not True:
            self._upkeep.ensure_fts()

    # -- reads and searches: store_search.Search -------------------------------------------

    def count(self) -> int:
        """Number of chunks."""
        return self._search.count()

    def paths(self) -> dict[str, int]:
        """Every indexed path with its number of chunks."""
        return self._search.paths()

    def vectors_for_hashes(self, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        """Stored vectors by content hash, for the hashes that are in the index."""
        return self._search.vectors_for_hashes(hashes)

    def rows_for_path(self, path: str) -> list[Candidate]:
        """The chunks of one path, in ordinal order (score 0)."""
        return self._search.rows_for_path(path)

    def by_date(self, dates: DateRange, k: int, *, newest_first: bool = False,
                scope: Scope | None = None) -> list[Candidate]:
        """Up to ``k`` dated chunks in ``dates`` (and ``scope``), in chronological order (score 0)."""
        return self._search.by_date(dates, k, newest_first=newest_first, scope=scope)

    def on_month_days(self, month_days: Iterable[tuple[int, int]], k: int, *,
                      before: dt.date | None = None) -> list[Candidate]:
        """Up to ``k`` chunks dated on any of ``month_days`` (``(month, day)``) of any year
        before ``before``, newest first (score 0): "on this day" in one query."""
        return self._search.on_month_days(month_days, k, before=before)

    def search_vector(self, qvec: Any, k: int, dates: DateRange = ALL_DATES,
                      scope: Scope | None = None) -> list[Candidate]:
        """The ``k`` chunks nearest to ``qvec`` (cosine), best first; score = similarity
        (:meth:`Search.vector <twin.core.memory.store_search.Search.vector>`)."""
        return self._search.vector(qvec, k, dates, scope)

    def search_fts(self, query_text: str, k: int, dates: DateRange = ALL_DATES,
                   scope: Scope | None = None) -> list[Candidate]:
        """BM25 over the stemmed ``fts`` column, best first; score = BM25 score
        (:meth:`Search.fts <twin.core.memory.store_search.Search.fts>`)."""
        return self._search.fts(query_text, k, dates, scope)

    # -- upkeep: store_upkeep.Upkeep --------------------------------------------------------

    def maintain(self, *, cleanup_older_than: dt.timedelta | None = None,
                 force_vector_index: bool = False) -> dict[str, Any]:
        """Build missing indexes and compact; call after a batch of writes, from one owner
        at a time (:meth:`Upkeep.maintain <twin.core.memory.store_upkeep.Upkeep.maintain>`).
        Returns what was done, with timings in seconds."""
        return self._upkeep.maintain(cleanup_older_than=cleanup_older_than,
                                     force_vector_index=force_vector_index)

    def purge(self) -> dict[str, Any]:
        """Make deleted chunks unrecoverable from disk: rewrite the table and its indexes,
        drop every older version (:meth:`Upkeep.purge <twin.core.memory.store_upkeep.Upkeep.purge>`).
        Returns what was done, with timings in seconds."""
        return self._upkeep.purge()

    def copy_to(self, dst: LanceStore, renames: Mapping[str, str] | None = None) -> int:
        """Copy every row into ``dst``, in ``dst``'s codec, vectors kept, a path in
        ``renames`` under its new name (the encryption switch). Returns the rows copied."""
        return self._upkeep.copy_to(dst, renames)

    def stats(self) -> dict[str, Any]:
        """Sizes, versions, fragments and indexes, for ``twin status`` and the benches."""
        return self._upkeep.stats()


def _as_dir(path: str) -> str:
    return path if path.endswith(("/", os.sep)) else path + os.sep
