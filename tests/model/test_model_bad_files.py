"""Safe model loading: a user's bad GGUF gets a clear message naming the problem, through the
app's own path (``chat_service.make_engine``, and ``twin ask`` as a process), and the process
that asked survives — including files that abort llama.cpp's whole process, which only the
model check's child process reads natively.

The files are the tiny Qwen3 GGUF (tests/fixtures/qwen3) with one thing broken each, plus a
header-only GGUF of an unknown architecture."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from model_support import write_tiny_qwen3

from twin.app.chat_service import make_engine
from twin.core.llm.errors import ModelFileError, UnsupportedModelError
from twin.errors import KnownError
from twin.llm_settings import LlmSettings

pytestmark = pytest.mark.slow


def _gguf(path: Path, arch: str, tensors: list[tuple[str, tuple[int, ...]]], *, with_data: bool = True,
          kv: dict[str, str] | None = None) -> Path:
    import gguf

    w = gguf.GGUFWriter(str(path), arch)
    w.add_block_count(1)
    w.add_context_length(128)
    for key, value in (kv or {}).items():
        w.add_string(key, value)
    for name, shape in tensors:
        if with_data:
            w.add_tensor(name, np.zeros(shape, dtype=np.float32))
        else:
            w.add_tensor_info(name, shape, np.float32, 4)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    if with_data:
        w.write_tensors_to_file()
    else:
        w.write_ti_data_to_file()
    w.close()
    return path


@pytest.fixture(scope="module")
def bad(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """name -> a broken model file."""
    d = tmp_path_factory.mktemp("bad_models")
    data = write_tiny_qwen3(d / "good.gguf").read_bytes()
    files: dict[str, bytes] = {
        "empty": b"",
        "bad magic": b"PK\x03\x04" + data[4:],
        "old ggml format": b"tjgg" + data[4:],
        "unsupported version": data[:4] + struct.pack("<I", 7) + data[8:],
        "truncated header": data[:300],
        "truncated tensor data": data[:-1000],
        "absurd tensor count": data[:8] + struct.pack("<Q", 2**62) + data[16:],
        "absurd metadata count": data[:16] + struct.pack("<Q", 2**40) + data[24:],
        "absurd string length": data[:24] + struct.pack("<Q", 2**60) + data[32:],
    }
    tokens = data.index(b"tokenizer.ggml.tokens") + len(b"tokenizer.ggml.tokens")
    assert struct.unpack("<II", data[tokens:tokens + 8]) == (9, 8)  # an array of strings
    files["absurd array length"] = data[:tokens + 8] + struct.pack("<Q", 2**62) + data[tokens + 16:]
    arch = data.index(b"general.architecture")
    files["no architecture"] = data[:arch] + b"general.architecturX" + data[arch + 20:]
    out = {}
    for name, content in files.items():
        out[name] = d / (name.replace(" ", "_") + ".gguf")
        out[name].write_bytes(content)
    out["folder"] = d / "folder.gguf"
    out["folder"].mkdir()
    out["unknown architecture"] = _gguf(d / "alien.gguf", "twinalien", [("token_embd.weight", (8, 8))])
    out["absurd tensor shape"] = _gguf(d / "huge.gguf", "qwen3", [("token_embd.weight", (2**31, 2**31, 2**20))],
                                       with_data=False)
    out["too many dimensions"] = _gguf(d / "dims.gguf", "qwen3", [("token_embd.weight", (1,) * 9)], with_data=False)
    out["lora adapter"] = _gguf(d / "adapter.gguf", "qwen3", [("blk.0.attn_q.weight.lora_a", (8, 8))],
                                kv={"general.type": "adapter", "adapter.type": "lora"})
    out["llama.cpp aborts"] = write_tiny_qwen3(d / "no_experts.gguf", omit_expert_count=True)  # GGML_ASSERT
    return out


#: what the message must say, per file
EXPECTED: dict[str, tuple[type[KnownError], str]] = {
    "empty": (ModelFileError, r"is empty \(0 bytes\)"),
    "bad magic": (ModelFileError, "is not a GGUF model file"),
    "old ggml format": (ModelFileError, "old GGJT format, which llama.cpp no longer reads"),
    "unsupported version": (ModelFileError, "unsupported GGUF version 7"),
    "truncated header": (ModelFileError, "header ends early: the file is truncated"),
    "truncated tensor data": (ModelFileError, "is truncated: its tensors need 448,192 bytes but the file has 447,192"),
    "absurd tensor count": (ModelFileError, "header claims 4,611,686,018,427,387,904 tensors"),
    "absurd metadata count": (ModelFileError, "header claims 1,099,511,627,776 metadata entries"),
    "absurd string length": (ModelFileError, "a text value claims 1,152,921,504,606,846,976 bytes"),
    "absurd array length": (ModelFileError, "the list 'tokenizer.ggml.tokens' claims 4,611,686,018,427,387,904 items"),
    "no architecture": (ModelFileError, r"names no model architecture \(general.architecture is missing\)"),
    "folder": (ModelFileError, "is a folder, not a model file"),
    "unknown architecture": (UnsupportedModelError, "does not support the model architecture 'twinalien'"),
    "absurd tensor shape": (ModelFileError, "the tensor 'token_embd.weight' claims the shape 1048576 x 2147483648"),
    "too many dimensions": (ModelFileError, r"the tensor 'token_embd.weight' claims 9 dimensions \(at most 4\)"),
    "lora adapter": (ModelFileError, "is a LoRA adapter, not a model"),
    "llama.cpp aborts": (ModelFileError, r"corrupt or malformed: llama.cpp crashed while reading it \(GGML_ASSERT"),
}


def settings(path: Path) -> LlmSettings:
    return LlmSettings(model_path=str(path), cpu_repack=False, n_threads=1, n_ctx=512, n_gpu_layers=0)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_a_bad_model_file_gets_a_clear_message_and_the_app_lives_on(bad: dict[str, Path], name: str) -> None:
    error, message = EXPECTED[name]
    engine = make_engine(settings(bad[name]))
    try:
        with pytest.raises(error, match=message) as caught:
            engine.start_loading().result(120)
    finally:
        engine.close()
    assert str(bad[name]) in str(caught.value)  # names the file
    assert os.getpid() and not engine.ready  # this process is still here, with no model


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_an_unreadable_model_file(bad: dict[str, Path], tmp_path: Path) -> None:
    """Mode 0, and a folder this user may not enter. Root reads anything, so as root the check
    runs in a child process as ``nobody`` (setpriv), through the same app path."""
    import shutil

    shared = Path(os.environ.get("TMPDIR", "/tmp")) / f"twin-unreadable-{os.getpid()}"
    shared.mkdir(mode=0o755, exist_ok=True)
    locked = shared / "locked.gguf"
    locked.write_bytes(bad["truncated header"].read_bytes())
    locked.chmod(0)
    closed = shared / "closed"
    closed.mkdir(mode=0o700, exist_ok=True)
    hidden = closed / "model.gguf"
    hidden.write_bytes(b"GGUF")
    try:
        for path in (locked, hidden):
            code = ("import sys; from twin.app.chat_service import make_engine; from twin.llm_settings import LlmSettings\n"
                    "e = make_engine(LlmSettings(model_path=sys.argv[1], cpu_repack=False, n_threads=1))\n"
                    "try: e.start_loading().result(60)\n"
                    "except Exception as x: print(type(x).__name__, x)\n"
                    "finally: e.close()")
            prefix: list[str] = []
            if os.geteuid() == 0:
                if shutil.which("setpriv") is None:
                    pytest.skip("running as root without setpriv: cannot make a file unreadable")
                prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
            root = str(Path(__file__).resolve().parents[2])
            r = subprocess.run([*prefix, sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                               timeout=60, cwd="/", env={**os.environ, "PYTHONPATH": root, "TWIN_HOME": str(shared)})
            assert r.stdout.startswith(f"ModelFileError Cannot read model file {path}: Permission denied"), \
                r.stdout + r.stderr
    finally:
        shutil.rmtree(shared, ignore_errors=True)


@pytest.mark.parametrize("name", ["empty", "llama.cpp aborts", "unknown architecture", "folder"])
def test_twin_ask_with_a_bad_model_says_why(bad: dict[str, Path], name: str, tmp_path: Path) -> None:
    env = {**os.environ, "TWIN_HOME": str(tmp_path / "home"), "TWIN_MODEL": str(bad[name])}
    r = subprocess.run([sys.executable, "-m", "twin", "ask", "Where did I go?", "--no-memories"], env=env,
                       capture_output=True, text=True, timeout=180)
    _, message = EXPECTED[name]
    assert r.returncode == 2, r.stderr
    assert "twin: error:" in r.stderr and "Traceback" not in r.stderr and "internal error" not in r.stderr
    import re

    assert re.search(message, r.stderr), r.stderr
