"""Model downloads against the fake hub (tests/fixtures/fake_hub.py; never the network): split
GGUFs come whole, a cancelled download resumes where it stopped, progress has bytes and speed,
and a damaged file is caught by its sha256 and deleted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from twin.app.model_download import main as _unused  # noqa: F401  (the module must import cleanly)

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
sys.path.insert(0, str(FIXTURES / "qwen3"))
from tiny_qwen3 import write_tiny_qwen3  # noqa: E402

PAD = 24 << 20  # bytes after the tensors (a GGUF may carry trailing bytes): enough to watch progress


class Hub:
    def __init__(self, files: list[Path], log: Path, **env: str):
        self.log = log
        with log.open("a") as err:
            self.proc = subprocess.Popen([sys.executable, str(FIXTURES / "fake_hub.py"), *map(str, files)],
                                         stdout=subprocess.PIPE, stderr=err, text=True, env={**os.environ, **env})
        assert self.proc.stdout is not None
        self.url = f"http://127.0.0.1:{int(self.proc.stdout.readline())}"

    def requests(self) -> list[str]:
        return self.log.read_text().splitlines()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A 'split' model: the tiny Qwen3 GGUF written twice under split names, padded."""
    d = tmp_path_factory.mktemp("hubfiles")
    tiny = write_tiny_qwen3(d / "tiny.gguf").read_bytes()
    out = []
    for i in (1, 2):
        p = d / f"Tiny-Q8_0-0000{i}-of-00002.gguf"
        p.write_bytes(tiny + os.urandom(PAD))
        out.append(p)
    return out


@pytest.fixture
def hubs(tmp_path: Path) -> Iterator[list[Hub]]:
    started: list[Hub] = []
    yield started
    for h in started:
        h.stop()


def download(hub: Hub, dest: Path, files: list[str], **kw: object) -> subprocess.Popen[str]:
    env = {**os.environ, "HF_ENDPOINT": hub.url, "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_XET": "1",
           "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "twin.app.model_download", "someone/Tiny-GGUF", files[0],
                             str(dest), *files[1:]], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kw)  # type: ignore[call-overload]


def lines(out: str) -> list[dict[str, object]]:
    return [json.loads(x) for x in out.splitlines() if x.startswith("{")]


def test_a_split_model_downloads_whole_and_verified(parts: list[Path], tmp_path: Path, hubs: list[Hub]) -> None:
    hub = Hub(parts, tmp_path / "hub.log")
    hubs.append(hub)
    names = [p.name for p in parts]
    proc = download(hub, tmp_path / "models", names)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, out + err
    msgs = lines(out)
    assert msgs[-1] == {"path": str(tmp_path / "models" / names[0])}
    for p in parts:
        assert (tmp_path / "models" / p.name).read_bytes() == p.read_bytes()
    progress = [m for m in msgs if "done" in m]
    total = sum(p.stat().st_size for p in parts)
    assert progress and all(m["total"] == total for m in progress)  # the total of all parts, from the start
    assert progress[-1]["done"] == total and {m["file"] for m in progress} == set(names)
    assert hub.requests()[:2] == [f"HEAD /someone/Tiny-GGUF/resolve/main/{n}" for n in names]  # sizes first
    # a second run finds both verified and downloads nothing
    n = len(hub.requests())
    proc = download(hub, tmp_path / "models", names)
    assert proc.communicate(timeout=120)[0] and proc.returncode == 0
    assert len(hub.requests()) == n


def test_cancel_then_resume_with_progress_and_speed(parts: list[Path], tmp_path: Path, hubs: list[Hub]) -> None:
    rate = 8 << 20
    slow = Hub(parts[:1], tmp_path / "hub.log", FAKE_HUB_RATE=str(rate))  # 8 MiB/s: ~3 s for the file
    hubs.append(slow)
    dest = tmp_path / "models"
    proc = download(slow, dest, [parts[0].name], start_new_session=True)
    assert proc.stdout is not None
    seen: list[dict[str, object]] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("{"):
            seen.append(json.loads(line))
            if len(seen) >= 2 and int(seen[-1].get("done", 0)) > (10 << 20):  # type: ignore[call-overload]
                break
    os.killpg(proc.pid, signal.SIGTERM)  # the window's Cancel ends the process
    proc.wait(30)
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()
    speeds = [int(m["speed"]) for m in seen if "speed" in m]  # type: ignore[call-overload]
    assert speeds and 0.3 * rate < speeds[-1] < 3 * rate, seen  # about the hub's rate
    assert not (dest / parts[0].name).exists()
    partial = dest / f".{parts[0].name}.part"  # kept, hidden from model listings
    assert partial.stat().st_size >= (8 << 20)
    slow.stop()
    hubs.remove(slow)

    fast = Hub(parts[:1], tmp_path / "hub.log")
    hubs.append(fast)
    proc = download(fast, dest, [parts[0].name])
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, out + err
    assert (dest / parts[0].name).read_bytes() == parts[0].read_bytes()
    resumed = [r for r in fast.requests() if r.startswith("GET") and r.endswith("-")]
    assert resumed, fast.requests()  # the second GET asked only for the rest ("bytes=N-")
    assert int(resumed[-1].rsplit(" ", 1)[1].rstrip("-")) >= (8 << 20)
    assert not partial.exists()


def test_a_damaged_download_is_caught_and_deleted(parts: list[Path], tmp_path: Path, hubs: list[Hub]) -> None:
    bad = Hub(parts[:1], tmp_path / "hub.log", FAKE_HUB_CORRUPT="1")
    hubs.append(bad)
    proc = download(bad, tmp_path / "models", [parts[0].name])
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, out + err
    error = str(lines(out)[-1]["error"])
    assert "is damaged" in error and "sha256" in error and "download it again" in error
    assert not (tmp_path / "models" / parts[0].name).exists()


def test_a_missing_file_is_a_clear_error(parts: list[Path], tmp_path: Path, hubs: list[Hub]) -> None:
    hub = Hub(parts, tmp_path / "hub.log")
    hubs.append(hub)
    proc = download(hub, tmp_path / "models", ["Nope-Q4_K_M.gguf"])
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and "could not reach someone/Tiny-GGUF" in str(lines(out)[-1]["error"]), out + err


@pytest.fixture(scope="module")
def embedder_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    d = tmp_path_factory.mktemp("embedder")
    (d / "config.json").write_text('{"model_type": "bert"}')
    (d / "model.safetensors").write_bytes(os.urandom(2 << 20))
    (d / "notes.md").write_text("not part of a sentence-transformers download")
    return [d / "config.json", d / "model.safetensors", d / "notes.md"]


def embedding(hub: Hub, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_ENDPOINT": hub.url, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "twin.helpers", "download-model", "--embedding", "someone/e5",
                           str(cache)], env=env, capture_output=True, text=True, timeout=120)


def test_the_embedding_model_downloads_into_the_cache_verified(embedder_files: list[Path], tmp_path: Path,
                                                               hubs: list[Hub]) -> None:
    from twin.app.downloads import embedding_available

    hub = Hub(embedder_files, tmp_path / "hub.log")
    hubs.append(hub)
    r = embedding(hub, tmp_path / "cache")
    assert r.returncode == 0, r.stdout + r.stderr
    msgs = lines(r.stdout)
    snapshot = Path(str(msgs[-1]["path"]))
    assert snapshot.parent.parent == tmp_path / "cache" / "hf" / "models--someone--e5"
    assert (snapshot / "model.safetensors").read_bytes() == embedder_files[1].read_bytes()
    assert not (snapshot / "notes.md").exists()  # only what sentence-transformers needs
    assert any("done" in m for m in msgs) and embedding_available("someone/e5", tmp_path / "cache")


def test_a_damaged_embedding_file_is_caught(embedder_files: list[Path], tmp_path: Path, hubs: list[Hub]) -> None:
    from twin.app.downloads import embedding_available

    hub = Hub(embedder_files, tmp_path / "hub.log", FAKE_HUB_CORRUPT="1")
    hubs.append(hub)
    r = embedding(hub, tmp_path / "cache")
    assert r.returncode == 1 and "is damaged" in str(lines(r.stdout)[-1]["error"])
    snapshot = next((tmp_path / "cache/hf/models--someone--e5/snapshots").iterdir())
    assert not (snapshot / "config.json").exists()  # the damaged file is gone, so it is fetched again
    assert not embedding_available("someone/e5", tmp_path / "cache")
