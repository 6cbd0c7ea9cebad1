"""``twin models list`` (catalog with size, fit and a recommendation; files found on disk in a
fake home) and ``twin models pull NAME`` from the catalog against the fake hub."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
sys.path.insert(0, str(FIXTURES / "qwen3"))
from tiny_qwen3 import write_tiny_qwen3  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_qwen3(tmp_path_factory.mktemp("tiny") / "tiny.gguf")


def twin(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "twin", *args], env=env, capture_output=True, text=True,
                          timeout=180, stdin=subprocess.DEVNULL, cwd=ROOT)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "TWIN_HOME": str(tmp_path / "twin"), "PYTHONPATH": str(ROOT),
           "XDG_CACHE_HOME": str(home / ".cache"), "XDG_DATA_HOME": str(home / ".local/share")}
    env.pop("TWIN_SCAN_HOME", None)  # look in this fake HOME, as the app does in the real one
    return env


def test_list_shows_the_catalog_and_files_of_other_programs(env: dict[str, str], tiny: Path) -> None:
    home = Path(env["HOME"])
    lms = home / ".lmstudio/models/Qwen/Qwen3-8B-GGUF/Qwen3-8B-Q4_K_M.gguf"
    lms.parent.mkdir(parents=True)
    lms.write_bytes(tiny.read_bytes())
    blob = home / ".ollama/models/blobs/sha256-abcd"
    blob.parent.mkdir(parents=True)
    blob.write_bytes(tiny.read_bytes() + b"\0")
    manifest = home / ".ollama/models/manifests/registry.ollama.ai/library/qwen3/8b"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"layers": [{"mediaType": "application/vnd.ollama.image.model",
                                                "digest": "sha256:abcd"}]}))
    r = twin(env, "models", "list", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["machine"]["ram_total_bytes"] > 0 and d["machine"]["n_ctx"] == 32768
    assert len(d["catalog"]) >= 17 and sum(c["recommended"] for c in d["catalog"]) == 1
    q8b = next(c for c in d["catalog"] if c["id"] == "qwen3-8b-q4_k_m")
    assert q8b["size_bytes"] == 5_030_000_000 and q8b["fit"] in ("gpu", "partial", "cpu", "too-big")
    assert q8b["downloaded"]  # the LM Studio copy is this catalog file
    files = {f["source"]: f for f in d["files"]}
    assert files["LM Studio"]["path"] == str(lms) and files["LM Studio"]["catalog_id"] == "qwen3-8b-q4_k_m"
    assert files["Ollama"]["label"] == "qwen3:8b" and files["Ollama"]["architecture"] == "qwen3moe"
    r = twin(env, "models", "list")
    assert r.returncode == 0 and "<- recommended" in r.stdout and "[LM Studio]" in r.stdout
    assert "[Ollama: qwen3:8b]" in r.stdout and "never copied" in r.stdout
    assert not (Path(env["TWIN_HOME"]) / "data" / "models").exists() or \
        not any((Path(env["TWIN_HOME"]) / "data" / "models").iterdir())


@pytest.fixture
def hub(tiny: Path, tmp_path: Path) -> Iterator[str]:
    log = tmp_path / "hub.log"
    with log.open("w") as err:
        proc = subprocess.Popen([sys.executable, str(FIXTURES / "fake_hub.py"), str(tiny)],
                                stdout=subprocess.PIPE, stderr=err, text=True)
    assert proc.stdout is not None
    yield f"http://127.0.0.1:{int(proc.stdout.readline())}"
    proc.terminate()
    proc.wait(10)
    proc.stdout.close()


def test_pull_a_catalog_model_by_name(env: dict[str, str], hub: str, tiny: Path) -> None:
    env = {**env, "HF_ENDPOINT": hub}
    r = twin(env, "models", "pull", "no-such-model", "--yes")
    assert r.returncode == 2 and "not in twin's model list" in r.stderr
    r = twin(env, "models", "pull", "qwen3-1.7b-q8_0", "--yes", "--use")
    assert r.returncode == 0, r.stderr
    assert "model: Qwen3-1.7B Q8_0 (Qwen3-1.7B-Q8_0.gguf, 2.2 GB)" in r.stderr
    target = Path(env["TWIN_HOME"]) / "data" / "models" / "Qwen3-1.7B-Q8_0.gguf"
    assert target.read_bytes() == tiny.read_bytes() and "done:" in r.stdout
    assert "llm.model_path = " + str(target) in r.stdout
    r = twin(env, "models", "list", "--json", "--no-scan")
    d = json.loads(r.stdout)
    assert next(c for c in d["catalog"] if c["id"] == "qwen3-1.7b-q8_0")["downloaded"]
    assert [f["configured"] for f in d["files"]] == [True]
