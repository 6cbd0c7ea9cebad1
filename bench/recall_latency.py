#!/usr/bin/env python3
"""Latency of the recall date queries (``twin recall``) on a synthetic store.

``--rows`` chunks (random unit vectors of ``--dim`` floats, ~40-word texts) dated one or two a
day from 1990 on, in one LanceDB table after ``maintain()``. Measures the median of 5 runs
(after one warm-up) of: "on this day" (one ``date_part`` month-day query), a one-year period
and a three-month period (``by_date``), each grouped into entries by RecallService.

    .venv/bin/python bench/recall_latency.py                 # 50k rows, 384-d
    .venv/bin/python bench/recall_latency.py --rows 200000
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from twin.app.recall_service import RecallService  # noqa: E402
from twin.core.memory.store import LanceStore, StoreRow, content_hash  # noqa: E402
from twin.core.types import DateRange  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--dim", type=int, default=384)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        store = LanceStore(Path(tmp) / "db", "bench", args.dim)
        rows: dict[str, list[StoreRow]] = {}
        start = dt.date(1990, 1, 1)
        for i in range(args.rows):
            day = start + dt.timedelta(days=int(i * 0.7))
            path = f"/diary/{day.isoformat()}.md"
            vec = rng.standard_normal(args.dim).astype(np.float32)
            rows.setdefault(path, []).append(StoreRow(len(rows.get(path, [])), f"entry {i} " * 40, content_hash(str(i)),
                                                      vec / np.linalg.norm(vec), entry_date=day))
        t0 = time.perf_counter()
        store.replace_files(rows)
        store.maintain()
        print(f"{store.count()} rows written and maintained in {time.perf_counter() - t0:.1f} s")
        recall = RecallService(store)
        cases = {
            "on this day": lambda: recall.on_this_day(dt.date(2026, 3, 15)),
            "period, 1 year": lambda: recall.period(DateRange(dt.date(2019, 1, 1), dt.date(2019, 12, 31))),
            "period, 3 months": lambda: recall.period(DateRange(dt.date(2019, 3, 1), dt.date(2019, 5, 31))),
        }
        for name, fn in cases.items():
            found = fn()
            times = []
            for _ in range(5):
                t = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t)
            print(f"{name:18s} median {statistics.median(times) * 1000:7.1f} ms   ({len(found)} groups/entries)")


if __name__ == "__main__":
    main()
