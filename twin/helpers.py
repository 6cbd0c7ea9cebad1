"""Helper processes: how twin starts its own children, in a venv and in a frozen build.

twin runs a few jobs in child processes (a crash or a hang there cannot take the window
down): the model-file check (llama.cpp may abort on a malformed GGUF), the model download
(the app process stays offline), and the memory engine (``multiprocessing``, spawn).

In a venv the child is ``python -m twin.helpers NAME ARGS…``. In a frozen build (PyInstaller:
``sys.frozen`` is set and ``sys.executable`` is the app itself, ``twin-gui`` or ``twin``) there
is no ``python -m``: the child is ``<the app> --helper NAME ARGS…``, and both entry points
call :func:`dispatch` first thing, before parsing their own options. ``multiprocessing``'s
spawn children (the memory engine: ``--multiprocessing-fork``, and its resource tracker:
``-c "from multiprocessing.resource_tracker import main…"``) are recognised the same way,
because the frozen app is also the executable ``multiprocessing`` starts (see
:func:`prepare_multiprocessing`).

The table maps a helper name to ``module:function``; the function takes the argument list
and returns an exit code. It is imported only when the helper runs (no layer import here).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

#: helper name -> "module:function(args: list[str]) -> int"
HELPERS: dict[str, str] = {
    "check-model": "twin.core.llm.llama_native:probe_cli",
    "download-model": "twin.app.model_download:main",
}

#: multiprocessing's command lines for the children it spawns (CPython's spawn and resource
#: tracker; PyInstaller's own runtime hook recognises the same ones)
_MP_FORK = "--multiprocessing-fork"
_MP_EXEC = ("from multiprocessing.resource_tracker import main", "from multiprocessing.forkserver import main")


def frozen() -> bool:
    """True in a standalone (PyInstaller) build."""
    return bool(getattr(sys, "frozen", False))


def helper_command(name: str, *args: str) -> list[str]:
    """The command line that runs helper ``name`` with ``args`` in a child process."""
    if name not in HELPERS:
        raise ValueError(f"unknown helper {name!r}")
    if frozen():
        return [sys.executable, "--helper", name, *args]
    return [sys.executable, "-m", "twin.helpers", name, *args]


def run_helper(name: str, args: Sequence[str]) -> int:
    target = HELPERS.get(name)
    if target is None:
        print(f"twin: unknown helper {name!r} (known: {', '.join(sorted(HELPERS))})", file=sys.stderr)
        return 2
    module, func = target.split(":")
    return int(getattr(importlib.import_module(module), func)(list(args)) or 0)


def prepare_multiprocessing(ctx: object) -> None:
    """In a frozen build, let ``ctx`` (a spawn context) start children through the app itself."""
    if frozen():
        ctx.set_executable(sys.executable)  # type: ignore[attr-defined]  # a spawn context, typed loosely here


def dispatch(argv: Sequence[str] | None = None) -> int | None:
    """Run the helper ``argv`` asks for and return its exit code; None when it asks for none.

    ``argv`` is the whole command line (``sys.argv`` by default). The entry points call this
    before anything else: ``code = dispatch(); if code is not None: return code``.
    """
    argv = list(sys.argv if argv is None else argv)
    rest = argv[1:]
    if len(rest) >= 2 and rest[0] == "--helper":
        return run_helper(rest[1], rest[2:])
    if rest and rest[0] == "--helper":
        print(f"twin: --helper needs a name (known: {', '.join(sorted(HELPERS))})", file=sys.stderr)
        return 2
    if rest and rest[0] == _MP_FORK:  # the memory engine's process (multiprocessing, spawn)
        from multiprocessing import spawn

        kwds: dict[str, int | None] = {}
        for arg in rest[1:]:
            key, _, value = arg.partition("=")
            kwds[key] = None if value == "None" else int(value)
        spawn.spawn_main(**kwds)  # type: ignore[arg-type]  # the parent's own fork arguments, as given
        return 0
    if len(rest) >= 2 and rest[-2] == "-c" and rest[-1].startswith(_MP_EXEC):
        exec(rest[-1])  # noqa: S102 - multiprocessing's own one-line bootstrap, nothing else matches
        return 0
    return None


def main() -> int:
    """``python -m twin.helpers NAME ARGS…``."""
    if len(sys.argv) < 2:
        print(f"usage: python -m twin.helpers NAME ARGS… (known: {', '.join(sorted(HELPERS))})", file=sys.stderr)
        return 2
    return run_helper(sys.argv[1], sys.argv[2:])


if __name__ == "__main__":
    raise SystemExit(main())
