"""GGUFs other programs downloaded are found in their own layouts (built here in a fake home
under tmp; the real home is never read), offered in place, never copied."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

from twin.app.local_models import find_local_models, locations, ollama_models
from twin.app.model_files import describe

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures" / "qwen3"))
from tiny_qwen3 import write_tiny_qwen3  # noqa: E402


@pytest.fixture(scope="module")
def gguf_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return write_tiny_qwen3(tmp_path_factory.mktemp("tiny") / "tiny.gguf").read_bytes()


def put(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def ollama(root: Path, model: str, tag: str, data: bytes, namespace: str = "library") -> Path:
    digest = hashlib.sha256(data).hexdigest()
    blob = put(root / "blobs" / f"sha256-{digest}", data)
    put(root / "blobs" / "sha256-0000params", b'{"stop": ["<|im_end|>"]}')
    manifest = {"schemaVersion": 2, "layers": [
        {"mediaType": "application/vnd.ollama.image.params", "digest": "sha256:0000params", "size": 24},
        {"mediaType": "application/vnd.ollama.image.model", "digest": f"sha256:{digest}", "size": len(data)}]}
    put(root / "manifests" / "registry.ollama.ai" / namespace / model / tag, json.dumps(manifest).encode())
    return blob


def test_every_known_place_is_found(tmp_path: Path, gguf_bytes: bytes) -> None:
    home = tmp_path / "home"
    expected = {
        "LM Studio": put(home / ".lmstudio/models/Qwen/Qwen3-8B-GGUF/Qwen3-8B-Q4_K_M.gguf", gguf_bytes),
        "GPT4All": put(home / ".local/share/nomic.ai/GPT4All/qwen3-4b.Q4_0.gguf", gguf_bytes + b"1"),
        "llama.cpp": put(home / ".cache/llama.cpp/unsloth_Qwen3-1.7B-GGUF_Qwen3-1.7B-Q8_0.gguf", gguf_bytes + b"2"),
        "~/models": put(home / "models/tiny.gguf", gguf_bytes + b"3"),
    }
    old_lms = put(home / ".cache/lm-studio/models/x/y/old.gguf", gguf_bytes + b"4")
    blob = ollama(home / ".ollama/models", "qwen3", "30b-a3b", gguf_bytes + b"5")
    hf = home / ".cache/huggingface/hub/models--Qwen--Qwen3-4B-GGUF"
    real = put(hf / "blobs/abc123", gguf_bytes + b"6")
    link = hf / "snapshots/0123/Qwen3-4B-Q4_K_M.gguf"
    link.parent.mkdir(parents=True)
    link.symlink_to(real)
    put(home / "models/notes.txt", b"not a model")
    put(home / "models/part-00002-of-00002.gguf", gguf_bytes)  # only first parts are offered

    found = find_local_models(home, env={})
    by_source = {m.source: m for m in reversed(found)}  # the first of each source
    for source, path in expected.items():
        assert by_source[source].path == path
    assert any(m.path == old_lms for m in found)
    assert by_source["Ollama"].path == blob and by_source["Ollama"].label == "qwen3:30b-a3b"
    assert by_source["Hugging Face"].path == link
    assert len(found) == 7  # each once; nothing else
    # offered in place: describing reads the header where the file is; nothing is copied
    before = sorted(p for p in tmp_path.rglob("*"))
    info = describe(by_source["Ollama"].path)
    assert not info.error and info.architecture == "qwen3moe"
    assert sorted(p for p in tmp_path.rglob("*")) == before


def test_environment_overrides_and_bad_manifests(tmp_path: Path, gguf_bytes: bytes) -> None:
    home = tmp_path / "home"
    models = tmp_path / "elsewhere/ollama"
    ollama(models, "gemma3", "270m", gguf_bytes, namespace="someone")
    put(models / "manifests/registry.ollama.ai/library/broken/latest", b"{not json")
    put(models / "manifests/registry.ollama.ai/library/nomodel/latest", b'{"layers": []}')
    put(models / "manifests/registry.ollama.ai/library/missing/latest", json.dumps(
        {"layers": [{"mediaType": "application/vnd.ollama.image.model", "digest": "sha256:ffff"}]}).encode())
    not_gguf = put(models / "blobs/sha256-eeee", b"PK\x03\x04 a zip")
    put(models / "manifests/registry.ollama.ai/library/adapter/latest", json.dumps(
        {"layers": [{"mediaType": "application/vnd.ollama.image.model", "digest": "sha256:eeee"}]}).encode())
    cache = put(tmp_path / "llcache/m.gguf", gguf_bytes + b"x")
    env = {"OLLAMA_MODELS": str(models), "LLAMA_CACHE": str(cache.parent)}
    found = find_local_models(home, env=env)
    assert [(m.source, m.label) for m in found] == [("llama.cpp", "m.gguf"), ("Ollama", "someone/gemma3:270m")]
    assert not_gguf not in [m.path for m in found]
    assert ollama_models(tmp_path / "nothing") == []
    places = dict((str(p), s) for s, p in locations(home, env))
    assert places[str(models)] == "Ollama" and places[str(cache.parent)] == "llama.cpp"
