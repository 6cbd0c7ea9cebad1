"""``twin doctor``: print :func:`twin.app.doctor.diagnose`'s report (or its JSON)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from twin.paths import Paths


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("doctor", help="check the model, GPU, embedding model and index; give advice")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--load", action="store_true",
                   help="also load the model to see how many layers really go to the GPU (slow)")
    p.set_defaults(func=cmd_doctor)


def _size(n: int | None) -> str:
    if n is None:
        return "?"
    return f"{n / 1e9:.2f} GB" if n >= 1e8 else f"{n / 1e6:.1f} MB"


def cmd_doctor(args: argparse.Namespace, paths: Paths) -> int:
    from twin.app.doctor import diagnose
    from twin.cli.config_commands import load
    from twin.cli.index_commands import status_dict

    settings = load(paths)
    report = diagnose(settings, paths, load=args.load, index_status=status_dict(settings, paths))
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print_report(report)
    return 0


def print_report(r: dict[str, Any]) -> None:
    py, lc = r["python"], r["llama_cpp"]
    print(f"python        {py['version']} ({py['executable']})")
    if lc["installed"]:
        offload = "supported" if lc["gpu_offload"] else "NOT built in (CPU only)"
        print(f"llama-cpp     {lc['version']}, GPU offload {offload}")
    else:
        print("llama-cpp     not installed")
    for g in r["gpus"] or [None]:
        print("gpu           " + (f"{g['name']}: {g['used_mib']}/{g['total_mib']} MiB used" if g
                                  else "no NVIDIA GPU found"))
    m = r["model"]
    if m is None:
        print("model         not set")
    elif m.get("backend") == "openai":
        print(f"model         served at {m['endpoint']}")
    elif m.get("error"):
        print(f"model         {m['path']}: unusable")
    else:
        print(f"model         {m['name']} ({m['path']}, from {m['configured_by']})")
        print(f"              {m['architecture']}, {m['kind']}, chat template {'yes' if m['chat_template'] else 'no'}, "
              f"trained context {m['context_length']}, {m['n_layer']} layers, {m['quant'] or '?'}, "
              f"{_size(m['size_bytes'])}")
    e = r["memory_estimate"]
    if e:
        fits = {True: "fits", False: "does NOT fit", None: "no GPU to compare"}[e["fits"]]
        print(f"full offload  {_size(e['total_bytes'])} = weights {_size(e['weights_bytes'])} + KV "
              f"{_size(e['kv_bytes'])} ({e['kv_bytes_per_token'] / 1024:.0f} KiB/token × {e['n_ctx']}) + compute "
              f"{_size(e['compute_bytes'])}: {fits}")
    g = r.get("gpu_layers") or {}
    if g.get("reason"):
        how = "auto" if g["setting"] == "auto" else f"set to {g['setting']}; auto would pick {g['auto']}"
        print(f"gpu layers    {g['chosen'] if g['chosen'] != -1 else 'all'} of {g['total']} ({how}): {g['reason']}")
    o = r["offload"]
    requested = o["requested"]
    req = "all" if isinstance(requested, int) and requested < 0 else requested
    line = f"offload       requested {req} layers"
    if o.get("loaded"):
        line += f"; loaded in {o['load_s']} s: {o['summary']}"
    print(line)
    for w in o.get("load_warnings") or []:
        print("              " + w.replace("\n", " "))
    lo = r.get("lora")
    if lo:
        state = "off" if not lo["enabled"] else ("NOT usable" if lo["error"] else f"{lo['name']}, scale {lo['scale']:g}")
        print(f"lora          {lo['path']}: {state}" + (f"; loaded: {o['lora']}" if o.get("lora") else ""))
    emb = r["embedding"]
    available = "available offline" if emb["available_offline"] else "NOT available offline"
    print(f"embedding     {emb['model']}: {available}")
    ix = r["index"]
    if ix["rows"] is not None:
        print(f"index         {ix['rows']} chunks from {ix['indexed']}/{ix['files']} files, "
              f"{ix['errors']} with errors, "
              f"{len(ix['sources'])} source folder(s)")
    if r["warnings"]:
        print()
        for w in r["warnings"]:
            print("! " + w.replace("\n", "\n  "))
    else:
        print("\neverything looks fine")
