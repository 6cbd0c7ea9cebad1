"""The child side of the model check (``llama_native.probe_model``): load a GGUF's metadata,
vocabulary and tensor shapes natively (no weights) and print what llama.cpp says as JSON.

Runs in its own process, because a malformed GGUF can abort llama.cpp's whole process. Split
from :mod:`twin.core.llm.llama`, which stays the one importer of ``llama_cpp``.
"""

from __future__ import annotations

from typing import Any


def probe_main(path: str) -> int:
    """Child side of the model check (``llama_native.probe_model``): print JSON, exit 0/1."""
    import ctypes
    import json

    from twin.core.llm.llama import import_llama_cpp  # the one module that imports llama_cpp

    L = import_llama_cpp()
    lines: list[str] = []

    @L.llama_log_callback
    def on_log(_level: int, text: bytes, _ud: Any) -> None:
        lines.append(text.decode("utf-8", errors="replace"))

    L.llama_log_set(on_log, ctypes.c_void_p(0))
    L.llama_backend_init()
    params = L.llama_model_default_params()
    params.n_gpu_layers = 0
    params.no_alloc = True  # metadata, vocabulary and tensor shapes only
    params.load_mode = L.LLAMA_LOAD_MODE_NONE  # no_alloc asserts without mmap
    params.use_extra_bufts = False
    model = L.llama_model_load_from_file(path.encode("utf-8"), params)
    if not model:
        print(json.dumps({"ok": False, "log": "".join(lines)[-4000:]}), flush=True)
        return 1
    buf = ctypes.create_string_buffer(256)
    L.llama_model_desc(model, buf, 256)
    print(json.dumps({
        "ok": True, "n_layer": L.llama_model_n_layer(model),
        "n_ctx_train": L.llama_model_n_ctx_train(model), "n_params": L.llama_model_n_params(model),
        "size": L.llama_model_size(model), "desc": buf.value.decode("utf-8", errors="replace"),
    }), flush=True)
    L.llama_model_free(model)
    return 0
