#!/usr/bin/env python3
"""Decode and prompt speed with full GPU offload: twin's engine beside llama.cpp's own numbers.

Run by ``run_gpu_bench.sh`` (which builds llama.cpp with CUDA and writes the synthetic
Qwen3-30B-A3B Q6_K GGUF); usable alone on any GGUF. In one process, interleaved round-robin:

  raw     llama.cpp's C API loop (bench/llm_reference.py; decode launched before the Python
          work for each token on a GPU, greedy by numpy argmax) + llama.cpp's own timing
  engine  twin's LlamaEngine.generate() with twin's settings (flash attention, n_ubatch 2048),
          consumed on the main thread as the app does + llama.cpp's timing of its decodes

Decode: ``--n-gen`` greedy tokens after a ``--n-prompt``-token prompt. Prompt: the time to
the first token for a fresh prompt of ``--n-prompt`` tokens (a different first token each
run, so nothing comes from the KV cache), and llama.cpp's own prompt rate. With
``--llama-bench PATH``, llama-bench's pp/tg for the same model and settings are added.
Both contexts hold the weights (2 × 25 GB for the real shape: fine on an H200).

    python bench/gpu/gpu_bench.py MODEL.gguf --out DIR [--llama-bench build/bin/llama-bench]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import llama_cpp as L  # noqa: E402
from llm_reference import RawModel  # noqa: E402

from twin.core.llm.engine import GenerationRequest, SamplingParams, Segment  # noqa: E402
from twin.core.llm.llama import LlamaConfig, LlamaEngine  # noqa: E402

pc = time.perf_counter
TEXT = ("The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs. "
        "How vexingly quick daft zebras jump! Sphinx of black quartz, judge my vow. 0123456789 ")


def prompt_text(engine: LlamaEngine, n: int, salt: int) -> str:
    """Text of about ``n`` tokens whose first tokens differ with ``salt``."""
    text = f"{salt}: "
    while engine.count_tokens(text) < n:
        text += TEXT
    tokens = engine.tokenize(text)[:n]
    return engine.detokenize(tokens)


def engine_run(engine: LlamaEngine, text: str, n_gen: int) -> dict[str, Any]:
    ctx = engine._llm._ctx.ctx  # idle between runs: its counters may be read and reset here
    L.llama_perf_context_reset(ctx)
    req = GenerationRequest((Segment(text),), chat=False, params=SamplingParams(max_tokens=n_gen, temperature=0.0))
    t0 = pc()
    gen = engine.generate(req)
    stamps = []
    for _ in gen:
        stamps.append(pc())
    perf = L.llama_perf_context(ctx)
    r = gen.result
    assert r is not None
    n = r.usage.completion_tokens
    return {"tok_s": (n - 1) / (stamps[-1] - stamps[0]) if n > 1 else float("nan"), "n": n, "text": r.text,
            "c_tok_s": perf.n_eval / perf.t_eval_ms * 1e3 if perf.t_eval_ms else float("nan"),
            "ttft_s": stamps[0] - t0 if stamps else float("nan"), "evaluated": r.usage.prompt_tokens_evaluated,
            "c_prompt_tok_s": perf.n_p_eval / perf.t_p_eval_ms * 1e3 if perf.t_p_eval_ms else float("nan")}


def llama_bench(exe: str, model: str, a: argparse.Namespace) -> dict[str, Any]:
    cmd = [exe, "-m", model, "-ngl", str(99 if a.n_gpu_layers < 0 else a.n_gpu_layers), "-fa", "1",
           "-b", "2048", "-ub", "2048", "-p", str(a.n_prompt), "-n", str(a.n_gen), "-r", str(a.reps), "-o", "json",
           "--repack", "1" if a.repack else "0"]
    if a.threads:
        cmd += ["-t", str(a.threads)]
    print("# " + " ".join(cmd), flush=True)
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=True).stdout
    except (OSError, subprocess.SubprocessError) as e:
        return {"error": str(e)}
    res = {}
    for row in json.loads(out):
        kind = "prompt_tok_s" if row.get("n_prompt") else "decode_tok_s"
        res[kind] = row.get("avg_ts")
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("--n-gpu-layers", type=int, default=-1)
    ap.add_argument("--n-ctx", type=int, default=8192)
    ap.add_argument("--n-prompt", type=int, default=512)
    ap.add_argument("--n-gen", type=int, default=256)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0: llama.cpp's choice)")
    ap.add_argument("--repack", action="store_true", help="CPU weight repacking (off: safe on CPUs without AMX)")
    ap.add_argument("--llama-bench", default=None, help="path of llama-bench, if it was built")
    ap.add_argument("--out", default=".", help="folder for gpu_bench.json and gpu_bench.md")
    a = ap.parse_args()

    t0 = pc()
    engine = LlamaEngine.open(LlamaConfig(a.model, n_gpu_layers=a.n_gpu_layers, n_ctx=a.n_ctx, n_threads=a.threads,
                                          n_threads_batch=a.threads, cpu_repack=a.repack))
    info = engine.info
    t_load = pc() - t0
    off = info.offload
    gpu = bool(off and off.offloaded_layers)
    cp = engine._llm.context_params
    print(f"# llama-cpp-python {L.__version__}, GPU offload supported: {bool(L.llama_supports_gpu_offload())}; "
          f"{info.name}: {info.architecture}, {info.n_params / 1e9:.2f} B params, {info.size_bytes / 2**30:.2f} GiB; "
          f"loaded in {t_load:.1f} s: {off.summary if off else '?'}; n_ctx {info.n_ctx}, n_batch {cp.n_batch}, "
          f"n_ubatch {cp.n_ubatch}, flash attention {cp.flash_attn_type == 1}", flush=True)
    raw = RawModel(a.model, n_ctx=a.n_ctx, n_batch=cp.n_batch, n_ubatch=cp.n_ubatch, flash_attn=cp.flash_attn_type == 1,
                   n_threads=a.threads or cp.n_threads, n_gpu_layers=a.n_gpu_layers, repack=a.repack, overlap=gpu)
    stop = engine._loop.end_tokens if engine._loop else frozenset()
    res: dict[str, list[dict[str, Any]]] = {"raw": [], "engine": []}
    try:
        for rep in range(1 + a.reps):  # the first round warms up
            text = prompt_text(engine, a.n_prompt, rep)
            tokens = engine._on_thread(engine._prompt_tokens, (Segment(text),))
            runs = {"raw": lambda t=tokens: raw.run(t, a.n_gen, stop),
                    "engine": lambda t=text: engine_run(engine, t, a.n_gen)}
            for way in (("raw", "engine") if rep % 2 else ("engine", "raw")):
                r = runs[way]()
                if way == "raw":
                    r = {"tok_s": r.tokens_per_s, "n": len(r.ids), "text": r.text, "c_tok_s": r.c_tokens_per_s,
                         "ttft_s": r.ttft_s, "evaluated": len(tokens), "c_prompt_tok_s": r.c_prompt_tokens_per_s}
                r["prompt_tokens"] = len(tokens)
                print(json.dumps({"rep": rep, "way": way, **{k: v for k, v in r.items() if k != "text"}}), flush=True)
                if rep:
                    res[way].append(r)
    finally:
        raw.close()
        engine.close()
    med = statistics.median
    s = {w: {k: med([r[k] for r in rs]) for k in ("tok_s", "c_tok_s", "ttft_s", "c_prompt_tok_s", "n", "prompt_tokens")}
         for w, rs in res.items()}
    for w in s:
        s[w]["prompt_tok_s_seen"] = s[w]["prompt_tokens"] / s[w]["ttft_s"]
    same = all(x["text"] == y["text"] for x, y in zip(res["raw"], res["engine"]))
    summary = {"model": a.model, "name": info.name, "offload": off.summary if off else "", "load_s": t_load,
               "n_prompt": a.n_prompt, "n_gen": a.n_gen, "reps": a.reps, "ways": s, "same_text": same,
               "engine_vs_raw_decode": s["engine"]["tok_s"] / s["raw"]["tok_s"],
               "engine_vs_llama_internal_decode": s["engine"]["tok_s"] / s["raw"]["c_tok_s"]}
    if a.llama_bench:
        summary["llama_bench"] = llama_bench(a.llama_bench, a.model, a)
    lines = [
        f"{info.name} ({off.summary if off else ''}), prompt {a.n_prompt}, {a.n_gen} tokens greedy, "
        f"median of {a.reps}",
        "",
        "| | decode tok/s (consumer) | decode tok/s (llama.cpp timing) | time to first token | prompt tok/s "
        "(llama.cpp timing) |",
        "|---|---:|---:|---:|---:|",
    ]
    for w, label in (("raw", "llama.cpp C-API loop"), ("engine", "twin LlamaEngine")):
        x = s[w]
        lines.append(f"| {label} | {x['tok_s']:.1f} | {x['c_tok_s']:.1f} | {x['ttft_s'] * 1e3:.0f} ms | "
                     f"{x['c_prompt_tok_s']:.0f} |")
    lb = summary.get("llama_bench") or {}
    if lb.get("decode_tok_s"):
        lines.append(f"| llama-bench (pp{a.n_prompt}/tg{a.n_gen}) | | {lb['decode_tok_s']:.1f} | | "
                     f"{lb.get('prompt_tok_s', 0):.0f} |")
    lines += ["", f"twin decode / raw loop: {summary['engine_vs_raw_decode'] * 100:.1f} %; twin decode / llama.cpp's "
              f"own decode timing: {summary['engine_vs_llama_internal_decode'] * 100:.1f} %; same text: {same}"]
    if lb.get("decode_tok_s"):
        lines.append(f"twin decode / llama-bench tg: {s['engine']['tok_s'] / lb['decode_tok_s'] * 100:.1f} %")
    print("\n".join(lines))
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu_bench.json").write_text(json.dumps(summary, indent=2))
    (out / "gpu_bench.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
