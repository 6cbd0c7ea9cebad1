"""``twin eval``: measure your own twin on your own notes.

    twin eval build [--name NAME] [--seed N] [--dated N] [--keyword N] [--paraphrase N]
                    [--unanswerable N] [--no-llm]
    twin eval run [--name NAME] [--k 1,3,5,10] [--no-llm] [--llm-questions N]
                  [--llm-unanswerable N] [--show-judge-prompt] [--json]
    twin eval history [--json]
    twin eval compare A B [--json]      (A, B: run ids, id prefixes, or -1 = latest, -2 …)

``build`` needs an index (``twin index``); paraphrase questions and the answer/judge part of
``run`` need a language model (without one, or with ``--no-llm``, retrieval only).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from twin.paths import Paths


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("eval", help="measure your twin on questions made from your own notes",
                       description="Build a question set from your indexed notes, run it (recall@k, MRR, "
                       "abstention, LLM-judged answer accuracy) and compare runs over time.")
    ss = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    b = ss.add_parser("build", help="make a question set from your indexed notes")
    b.add_argument("--name", default="default", help="the set's name (default: default)")
    b.add_argument("--seed", type=int, default=0, help="random seed (same notes + seed = same set)")
    b.add_argument("--dated", type=int, default=30, metavar="N", help="questions from entry dates")
    b.add_argument("--keyword", type=int, default=30, metavar="N", help="questions from rare words of an entry")
    b.add_argument("--paraphrase", type=int, default=10, metavar="N",
                   help="questions written by the language model (needs a model)")
    b.add_argument("--unanswerable", type=int, default=10, metavar="N",
                   help="entries held apart: questions whose answer is in no other note")
    b.add_argument("--no-llm", action="store_true", help="no paraphrase questions, no model loaded")
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=cmd_build)

    r = ss.add_parser("run", help="run a question set and keep the results")
    r.add_argument("--name", default="default", help="the question set (default: default)")
    r.add_argument("--k", default="1,3,5,10", help="recall cut-offs, comma-separated (default 1,3,5,10)")
    r.add_argument("--no-llm", action="store_true", help="retrieval only: no answers, no judge")
    r.add_argument("--mode", choices=("hybrid", "vector", "bm25"), default=None,
                   help="retrieval mode for the recall numbers (default: hybrid, as in chat)")
    r.add_argument("--llm-questions", type=int, default=10, metavar="N", help="answerable questions to answer and judge")
    r.add_argument("--llm-unanswerable", type=int, default=3, metavar="N", help="unanswerable questions to answer")
    r.add_argument("--answer-tokens", type=int, default=96, metavar="N", help="longest answer, in tokens")
    r.add_argument("--threshold", type=float, default=None, help="evidence threshold for abstention (default: calibrated)")
    r.add_argument("--show-judge-prompt", action="store_true", help="print the judge's prompts and verdicts")
    r.add_argument("--json", action="store_true", help="print the run record as JSON")
    r.set_defaults(func=cmd_run)

    h = ss.add_parser("history", help="the runs kept so far")
    h.add_argument("--json", action="store_true")
    h.set_defaults(func=cmd_history)

    c = ss.add_parser("compare", help="two runs side by side (ids, prefixes, or -1 = latest, -2 …)")
    c.add_argument("a")
    c.add_argument("b")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_compare)


# -- wiring ---------------------------------------------------------------------------------


def _open(paths: Paths) -> Any:
    from twin.app.container import Memory
    from twin.cli.encryption_commands import cli_vault
    from twin.cli.config_commands import load

    return Memory(load(paths), paths, cli_vault(paths))


def _engine(memory: Any, no_llm: bool) -> tuple[Any, Any]:
    """(chat container, engine), or (None, None) with --no-llm or when no model is set."""
    if no_llm:
        return None, None
    from twin.app.twin import Twin

    chat = Twin.over(memory, use_memories=False)
    if not chat.model_configured:
        print("twin eval: no language model is set: retrieval only (set llm.model_path, or use --no-llm "
              "to silence this)", file=sys.stderr)
        return None, None
    chat.require_model()
    chat.start()
    chat.wait_ready()
    return chat, chat.engine


def _ks(text: str) -> list[int]:
    from twin.errors import KnownError

    try:
        ks = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError:
        raise KnownError(f"--k wants numbers like 1,5,10, not {text!r}") from None
    if not ks or ks[0] < 1 or ks[-1] > 100:
        raise KnownError("--k values must be between 1 and 100")
    return ks


def _f(x: Any) -> str:
    return "  -  " if x is None else f"{x:.3f}"


# -- commands -------------------------------------------------------------------------------


def cmd_build(args: argparse.Namespace, paths: Paths) -> int:
    from twin.app.eval_service import EvalService
    from twin.errors import KnownError

    if min(args.dated, args.keyword, args.paraphrase, args.unanswerable) < 0:
        raise KnownError("question counts cannot be negative")
    memory = _open(paths)
    chat = None
    try:
        chat, engine = _engine(memory, args.no_llm or args.paraphrase == 0)
        svc = EvalService(memory)
        qs = svc.build(args.name, seed=args.seed, dated=args.dated, keyword=args.keyword,
                       paraphrase=args.paraphrase, unanswerable=args.unanswerable, engine=engine)
    finally:
        if chat is not None:
            chat.close()
        memory.close()
    counts = qs.counts()
    path = svc.files.set_path(args.name)
    if args.json:
        print(json.dumps({"path": str(path), "counts": counts, **qs.meta}, ensure_ascii=False, indent=2))
        return 0
    print(f"question set {args.name!r}: {len(qs.questions)} questions from {qs.meta['entries']} entries -> {path}")
    for kind, n in counts.items():
        print(f"  {kind:<24}{n}")
    if engine is None and args.paraphrase and not args.no_llm:
        print("  (no paraphrase questions: no language model)")
    return 0


def cmd_run(args: argparse.Namespace, paths: Paths) -> int:
    from twin.app.eval_service import EvalService
    from twin.core.eval.metrics import JUDGE_TEMPLATE

    ks = _ks(args.k)
    memory = _open(paths)
    chat = None
    try:
        svc = EvalService(memory)
        qs = svc.files.load_set(args.name)
        chat, engine = _engine(memory, args.no_llm)
        if engine is not None and args.show_judge_prompt:
            print("Judge prompt (filled in per question):\n" + JUDGE_TEMPLATE + "\n", file=sys.stderr)
        tty = sys.stderr.isatty() and not args.json

        def progress(i: int, n: int, what: str) -> None:
            if tty:
                print(f"\r{what} {i}/{n}", end="", file=sys.stderr, flush=True)

        record = svc.run(qs, ks=ks, engine=engine, llm_questions=args.llm_questions,
                         llm_unanswerable=args.llm_unanswerable, answer_tokens=args.answer_tokens,
                         threshold=args.threshold, mode=args.mode, on_question=progress)
        if tty:
            print("\r" + " " * 30 + "\r", end="", file=sys.stderr)
        details = svc.files.details(record["id"]) if args.show_judge_prompt else []
    finally:
        if chat is not None:
            chat.close()
        memory.close()
    if args.json:
        print(json.dumps(record, ensure_ascii=False, indent=2))
    else:
        print_run(record, sys.stdout)
    for d in details:
        if d.get("judge_prompt"):
            print(f"\n--- {d['id']} judge prompt ---\n{d['judge_prompt']}\n--- verdict: {d.get('judge')!r} -> "
                  f"{d.get('verdict')}")
    return 0


def print_run(record: dict[str, Any], out: Any) -> None:
    s = record["summary"]
    cfg = record["config"]
    print(f"run {record['id']} on set {record['set']!r}: {s['answerable']} answerable, {s['unanswerable']} "
          f"unanswerable questions ({record['seconds']['total']} s)", file=out)
    print(f"embedder {cfg['embedder']} ({cfg.get('mode', 'hybrid')}); model {cfg.get('model') or '(none: retrieval only)'}"
          + f"; {_reranker_line(cfg)}", file=out)
    if record.get("skipped_stale"):
        print(f"note: {len(record['skipped_stale'])} questions skipped: their notes are no longer indexed "
              "(build the set again: twin eval build)", file=out)
    ks = record["ks"]
    print(f"\n{'retrieval':<12}{'n':>5}" + "".join(f"{'R@' + str(k):>8}" for k in ks) + f"{'MRR':>8}", file=out)
    for kind, row in s["retrieval"].items():
        print(f"{kind:<12}{row['n']:>5}" + "".join(f"{_f(row[f'recall@{k}']):>8}" for k in ks)
              + f"{_f(row['mrr']):>8}", file=out)
    ab = s["abstention"]
    if not ab.get("available", True):
        print("\nabstention: unavailable (this twin's retrieval has no evidence test)", file=out)
    else:
        print(f"\nabstention (retrieval evidence): unanswerable flagged 'not in my notes' "
              f"{_f(ab['unanswerable_abstained'])} of {ab['n_unanswerable']}; answerable wrongly refused "
              f"{_f(ab['answerable_refused'])} of {ab['n_answerable']}", file=out)
        kinds = ab.get("unanswerable_by_kind") or {}
        if len(kinds) > 1:
            print("  unanswerable flagged by kind: " + ", ".join(
                f"{k} {_f(v['abstained'])} of {v['n']}" for k, v in kinds.items()), file=out)
    if ab.get("n_answers_unanswerable") or ab.get("n_answers_answerable"):
        print(f"abstention (answers): unanswerable answered 'not in my notes' "
              f"{_f(ab['answers_unanswerable_abstained'])} of {ab['n_answers_unanswerable']}; answerable refused "
              f"{_f(ab['answers_answerable_refused'])} of {ab['n_answers_answerable']}", file=out)
    if s["accuracy"]:
        print("answer accuracy (judged by the model against the source passage): " + ", ".join(
            f"{k} {_f(v['accuracy'])} of {v['n']}" for k, v in s["accuracy"].items()), file=out)
    judge = s.get("judge", {})
    if judge.get("n_control"):
        print(f"judge check: it said YES to a known-wrong answer {_f(judge['false_yes'])} of {judge['n_control']} "
              "times (near 1: its verdicts mean little)", file=out)


def _reranker_line(cfg: dict[str, Any]) -> str:
    """The reranker really used; a configured one that was not available says so."""
    used, wanted = cfg.get("reranker"), cfg.get("reranker_configured")
    if used:
        return f"reranker {used}"
    if wanted:
        return f"reranker off ({wanted} is configured but not available here)"
    return "reranker off"


def cmd_history(args: argparse.Namespace, paths: Paths) -> int:
    from twin.app.eval_runs import EvalFiles

    runs = EvalFiles(paths.data_dir, _vault(paths)).runs()
    if args.json:
        print(json.dumps(runs, ensure_ascii=False, indent=2))
        return 0
    if not runs:
        print("no eval runs yet (twin eval build, then twin eval run)")
        return 0
    print(f"{'run':<18}{'set':<10}{'n':>5}{'R@5':>7}{'MRR':>7}{'abst':>7}{'refus':>7}{'acc':>7}  config")
    for r in runs:
        s = r["summary"]
        a = s["retrieval"].get("all", {})
        ab = s["abstention"]
        acc = s["accuracy"].get("all", {}).get("accuracy")
        cfg = r["config"]
        what = _short(cfg.get("embedder")) + f" {cfg.get('mode', 'hybrid')}" + (
            f" + {_short(cfg['model'])}" if cfg.get("model") else "")
        if cfg.get("reranker"):
            what += f" rerank={_short(cfg['reranker'])}"
        print(f"{r['id']:<18}{str(r.get('set')):<10}{s['questions']:>5}{_f(a.get('recall@5')):>7}"
              f"{_f(a.get('mrr')):>7}{_f(ab.get('unanswerable_abstained')):>7}{_f(ab.get('answerable_refused')):>7}"
              f"{_f(acc):>7}  {what}")
    return 0


def cmd_compare(args: argparse.Namespace, paths: Paths) -> int:
    from twin.app.eval_runs import EvalFiles
    from twin.core.eval.metrics import flat_metrics

    files = EvalFiles(paths.data_dir, _vault(paths))
    a, b = files.find_run(args.a), files.find_run(args.b)
    ma, mb = flat_metrics(a["summary"]), flat_metrics(b["summary"])
    ca, cb = _flat(a["config"]), _flat(b["config"])
    changed = {k: (ca.get(k), cb.get(k)) for k in sorted(set(ca) | set(cb)) if ca.get(k) != cb.get(k)}
    if args.json:
        print(json.dumps({"a": a["id"], "b": b["id"], "config_changes": changed,
                          "metrics": {k: [ma.get(k), mb.get(k)] for k in dict.fromkeys([*ma, *mb])}},
                         ensure_ascii=False, indent=2))
        return 0
    if a.get("set") != b.get("set") or a.get("set_created") != b.get("set_created"):
        print("note: the two runs used different question sets; numbers are not strictly comparable")
    print(f"{'':<40}{a['id']:>18}{b['id']:>18}{'change':>9}")
    for k in dict.fromkeys([*ma, *mb]):
        x, y = ma.get(k), mb.get(k)
        delta = f"{y - x:+.3f}" if x is not None and y is not None else ""
        print(f"{k:<40}{_f(x):>18}{_f(y):>18}{delta:>9}")
    if changed:
        print("\nconfig changes:")
        for k, (x, y) in changed.items():
            print(f"  {k}: {x} -> {y}")
    return 0


def _vault(paths: Paths) -> Any:
    from twin.cli.encryption_commands import cli_vault

    return cli_vault(paths)


def _short(x: Any) -> str:
    """A model path or id, short: its file or folder name (with the parent for a generic
    ``model`` folder, as sentence-transformers packages ship them)."""
    parts = str(x).replace("\\", "/").rstrip("/").split("/")
    name = "/".join(parts[-2:]) if len(parts) > 1 and parts[-1].lower() in ("model", "models") else parts[-1]
    return name[:40]


def _flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out
