"""Process-wide hooks into llama.cpp: its log, and the subprocess check of a model file.

This module never imports ``llama_cpp`` itself: :mod:`twin.core.llm.llama` (the one importer)
passes the module in, and the child process runs ``llama.probe_main``. It is split out to keep
``llama.py`` about loading and generating.

Why a subprocess check: a malformed GGUF (e.g. a MoE without ``expert_count``) can hit a
``GGML_ASSERT`` inside llama.cpp, which aborts the whole process. The child loads the model
with ``no_alloc`` (metadata, vocabulary, tensor shapes; no weights read, no memory taken) and
reports as JSON; if it dies, only the child dies.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import json
import logging
import os
import re
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from twin.core.llm import hardware
from twin.core.llm.errors import ModelFileError, UnsupportedModelError
from twin.messages import msg

native_log = logging.getLogger("twin.llm.native")

# What llama.cpp logs as errors when a stop request aborts llama_decode through the abort
# callback (status 1 = GGML_STATUS_ABORTED): expected, so logged at DEBUG.
_ABORT_NOISE = re.compile(r"failed with error 1$|compute status: 1$|removing memory module entries")

# enum ggml_log_level in the vendored ggml.h (llama-cpp-python's own _logger uses an older order)
_GGML_LEVELS = {0: logging.CRITICAL, 1: logging.DEBUG, 2: logging.INFO, 3: logging.WARNING,
                4: logging.ERROR}


class NativeLog:
    """llama.cpp's log routed to Python logging, with the recent lines kept for diagnosis.

    The C callback is process-global and must outlive every model, so one instance is made
    per process (:func:`install_native_log`) and kept referenced by the ``llama_cpp`` module.
    """

    def __init__(self, llama_cpp: ModuleType, maxlen: int = 600):
        self.lines: collections.deque[str] = collections.deque(maxlen=maxlen)
        self._partial = ""
        self._last_level = logging.DEBUG
        self._lock = threading.Lock()
        self._sinks: list[list[str]] = []
        self.callback = llama_cpp.llama_log_callback(self._on_log)
        llama_cpp.llama_log_set(self.callback, ctypes.c_void_p(0))

    def _on_log(self, level: int, text: bytes, _user_data: Any) -> None:
        msg = text.decode("utf-8", errors="replace")
        py_level = self._last_level if level == 5 else _GGML_LEVELS.get(level, logging.DEBUG)
        self._last_level = py_level
        with self._lock:
            msg = self._partial + msg
            *complete, self._partial = msg.split("\n")
            for line in complete:
                if line.strip(". "):
                    self.lines.append(line)
                    for sink in self._sinks:
                        sink.append(line)
                    # llama.cpp is chatty at INFO: keep it at DEBUG unless it warns
                    quiet = py_level < logging.WARNING or _ABORT_NOISE.search(line)
                    native_log.log(logging.DEBUG if quiet else py_level, "%s", line)

    @contextlib.contextmanager
    def capture(self) -> Iterator[list[str]]:
        """Collect the lines logged inside the ``with`` block (e.g. one model load)."""
        sink: list[str] = []
        with self._lock:
            self._sinks.append(sink)
        try:
            yield sink
        finally:
            with self._lock:
                self._sinks.remove(sink)

    def text(self) -> str:
        with self._lock:
            return "\n".join(self.lines)


def install_native_log(llama_cpp: ModuleType) -> NativeLog:
    """Install (once per process) and return the log hook."""
    hook = getattr(llama_cpp, "_twin_native_log", None)
    if hook is None:
        hook = NativeLog(llama_cpp)
        llama_cpp._twin_native_log = hook  # type: ignore[attr-defined]  # keeps the ctypes callback alive
    return hook


# -- the subprocess check ---------------------------------------------------------------

def probe_model(path: str, timeout_s: float = 120.0) -> dict[str, Any]:
    """Parent side: check ``path`` in a child process; return what it learnt.

    Raises:
        ModelFileError: the child crashed (corrupt file) or llama.cpp refused the file.
        UnsupportedModelError: llama.cpp does not know the architecture.
    """
    root = str(Path(__file__).resolve().parents[3])
    env = dict(os.environ)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    from twin.helpers import helper_command  # a frozen build runs it as `twin-gui --helper check-model`

    try:
        proc = subprocess.run(helper_command("check-model", path), capture_output=True,
                              text=True, timeout=timeout_s, env=env)
    except subprocess.TimeoutExpired as e:
        raise ModelFileError(msg("model.check_slow", path=path, seconds=f"{timeout_s:.0f}")) from e
    result: dict[str, Any] | None = None
    for line in reversed(proc.stdout.strip().splitlines()):
        try:
            result = json.loads(line)
            break
        except json.JSONDecodeError:
            continue
    if result is not None and result.get("ok") and proc.returncode == 0:
        return result
    log_text = (result or {}).get("log", "") + "\n" + proc.stderr[-4000:]
    arch = hardware.unknown_architecture(log_text)
    if arch is not None:
        raise UnsupportedModelError(msg("model.unsupported_arch", path=path, arch=arch))
    reason = hardware.load_error_line(log_text) or hardware.assert_line(log_text) or _last_meaningful(log_text)
    if proc.returncode < 0 or result is None:
        raise ModelFileError(msg("model.crashed_reason", path=path, reason=reason) if reason else
                             msg("model.crashed", path=path))
    raise ModelFileError(msg("model.cannot_load_reason", path=path, reason=reason) if reason else
                         msg("model.cannot_load", path=path))


def probe_cli(args: list[str]) -> int:
    """The ``check-model PATH`` helper (:mod:`twin.helpers`): the child side of :func:`probe_model`."""
    from twin.core.llm.llama import probe_main

    return probe_main(args[0])


def _last_meaningful(log_text: str) -> str:
    for line in reversed(log_text.strip().splitlines()):
        line = line.strip()
        if line and not line.startswith(("llama_model_loader: - kv", "print_info")):
            return line[:300]
    return ""


ProgressFn = Callable[[float], bool]


class ModelParamsHook:
    """Set model parameters that ``Llama()`` takes no argument for: a load-progress callback
    and ``use_extra_bufts`` (llama.cpp's CPU weight repacking, ``--no-repack``).

    ``Llama.__init__`` starts from ``llama_cpp.llama_model_default_params()``; for the duration
    of one constructor call (on the engine's own thread) that function is wrapped. Returning
    False from ``on_progress`` aborts the load.
    """

    def __init__(self, llama_cpp: ModuleType, on_progress: ProgressFn, *, repack: bool = True):
        self._L = llama_cpp
        self._on_progress = on_progress
        self._repack = repack
        self.callback = llama_cpp.llama_progress_callback(self._call)
        self._original: Callable[[], Any] | None = None

    def _call(self, progress: float, _user_data: Any) -> bool:
        try:
            return bool(self._on_progress(float(progress)))
        except Exception:  # noqa: BLE001 - a C callback must never raise; boundary, logged
            logging.getLogger("twin.llm").exception("load progress callback failed")
            return True

    def __enter__(self) -> "ModelParamsHook":
        module = self._L.llama_cpp  # the submodule llama.py calls through
        self._original = module.llama_model_default_params
        original, callback, repack = self._original, self.callback, self._repack

        def default_params() -> Any:
            params = original()
            params.progress_callback = callback
            if not repack:
                params.use_extra_bufts = False
            return params

        module.llama_model_default_params = default_params
        return self

    def __exit__(self, *_exc: object) -> None:
        self._L.llama_cpp.llama_model_default_params = self._original
