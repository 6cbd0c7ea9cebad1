"""What the ``chunks`` table holds: its schema, the rows going in, the candidates coming out.

Pure data and conversions (pyarrow, no lancedb): :class:`StoreRow` → an Arrow table for a
write (:func:`to_arrow`, which seals text with the store's codec), an Arrow search result →
:class:`Candidate` (:func:`candidates`, which opens it again), and the SQL literals the
store's filters are built from. :class:`~twin.core.memory.store.LanceStore` re-exports
every public name here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from twin.core.crypto import PLAIN, Codec
from twin.core.memory.scope import sql_str
from twin.core.memory.textnorm import fts_terms
from twin.core.types import Chunk

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["COLUMNS", "RESULT_COLUMNS", "TABLE", "Candidate", "RowLike", "StoreRow", "as_row", "candidates",
           "chunk_id", "content_hash", "renamed", "schema", "sql_in", "sql_str", "to_arrow"]

TABLE = "chunks"

#: Columns returned by searches (everything but ``vector`` and ``fts``).
RESULT_COLUMNS = ["id", "path", "ordinal", "heading", "text", "entry_date", "start_line",
                  "end_line", "hash"]

#: Column names of the ``chunks`` table, in order.
COLUMNS = ("id", "path", "ordinal", "heading", "text", "entry_date", "start_line", "end_line",
           "mtime", "hash", "fts", "vector")


def content_hash(text: str) -> str:
    """The content hash stored in ``hash``: 32 hex digits of BLAKE2b over the UTF-8 text."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def sql_in(column: str, values: Iterable[str]) -> str:
    """``column IN ('a', 'b')`` with every value quoted by :func:`sql_str`."""
    return f"{column} IN ({', '.join(sql_str(v) for v in values)})"


def chunk_id(path: str, ordinal: int, hash: str) -> str:
    """The row id: unique per (path, ordinal); the hash makes an edited chunk a new row."""
    return f"{hash}:{ordinal}:{path}"


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

_ROW_FIELDS = frozenset(StoreRow.__dataclass_fields__)


def as_row(row: RowLike) -> StoreRow:
    """``row`` as a :class:`StoreRow` (a dict's keys that are no field are ignored)."""
    if isinstance(row, StoreRow):
        return row
    return StoreRow(**{k: v for k, v in row.items() if k in _ROW_FIELDS})


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


def to_arrow(rows_by_path: Mapping[str, Sequence[RowLike]], table_schema: pa.Schema, dim: int,
             codec: Codec = PLAIN) -> pa.Table:
    """The rows of every path as one Arrow table of ``table_schema``, stored by ``codec``
    (text and heading sealed, hash keyed, FTS terms blinded).

    Raises:
        ValueError: a vector that is not ``dim`` floats, or two rows of a path with one ordinal.
    """
    import numpy as np
    import pyarrow as pa

    cols: dict[str, list[Any]] = {name: [] for name in COLUMNS if name != "vector"}
    vectors = []
    seen: set[str] = set()
    for path, rows in rows_by_path.items():
        for r in map(as_row, rows):
            stored_hash = codec.hash(r.hash)
            rid = chunk_id(path, r.ordinal, stored_hash)
            if rid in seen:
                raise ValueError(f"duplicate chunk (ordinal {r.ordinal}) for {path}")
            seen.add(rid)
            vec = np.asarray(r.vector, dtype=np.float32).reshape(-1)
            if vec.shape[0] != dim:
                raise ValueError(f"vector of {vec.shape[0]} floats, the index holds {dim}")
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
    arrays = [pa.array(cols[f.name], type=f.type) for f in table_schema if f.name != "vector"]
    arrays.append(pa.FixedSizeListArray.from_arrays(pa.array(flat, pa.float32()), dim))
    return pa.Table.from_arrays(arrays, schema=table_schema)


def renamed(rows: pa.Table, rename: Callable[[str], str], table_schema: pa.Schema) -> pa.Table:
    """Whole rows of the table with each path renamed by ``rename`` and its id to match
    (vectors, hashes and text kept), as ``table_schema``: a move's new rows."""
    import pyarrow as pa

    paths = [rename(p) for p in rows.column("path").to_pylist()]
    ids = [chunk_id(p, o, h) for p, o, h in zip(
        paths, rows.column("ordinal").to_pylist(), rows.column("hash").to_pylist())]
    rows = rows.set_column(rows.schema.get_field_index("path"), "path", pa.array(paths, pa.string()))
    rows = rows.set_column(rows.schema.get_field_index("id"), "id", pa.array(ids, pa.string()))
    return rows.select(list(COLUMNS)).cast(table_schema)


def candidates(tbl: pa.Table, score_col: str | None, codec: Codec = PLAIN) -> list[Candidate]:
    """The rows of a search result (:data:`RESULT_COLUMNS`) as candidates, text opened by
    ``codec``. ``score_col``: ``_distance`` (score = 1 - cosine distance), another column
    taken as is (``_score``: BM25), or None (score 0)."""
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
