"""The model server's connection test, and the network guard's rule for the user's own server.

Real sockets throughout: a tiny OpenAI-compatible ``/v1/models`` server on 127.0.0.1
(tests/fixtures/fake_openai.py), a port nothing listens on, and the real network guard (an
audit hook) as the app installs it. A server "on another computer" is an address reserved for
documentation (192.0.2.x, TEST-NET-1) or a ``.invalid`` name: the guard's decision is what is
tested; nothing leaves this machine.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
from fake_openai import FakeOpenAI, refused_port  # noqa: E402

from twin.app.endpoint_check import check_endpoint  # noqa: E402
from twin.offline import (  # noqa: E402
    NetworkBlockedError,
    install_network_guard,
    network_guard,
    network_status,
    permit_local_endpoint,
    reset_network_guard,
)


def test_ok_lists_the_models() -> None:
    with FakeOpenAI(models=["qwen3-30b-a3b", "qwen3-8b"]) as srv:
        r = check_endpoint(srv.url, "qwen3-8b")
    assert r.ok and r.kind == "ok" and r.models == ("qwen3-30b-a3b", "qwen3-8b")
    assert "qwen3-30b-a3b, qwen3-8b" in r.message and srv.requests == [("/v1/models", "")]


def test_a_model_the_server_does_not_offer_is_a_warning() -> None:
    with FakeOpenAI(models=["qwen3-8b"]) as srv:
        r = check_endpoint(srv.url + "/", "llama-70b")
    assert r.ok and r.kind == "model_missing" and "llama-70b" in r.message and "qwen3-8b" in r.message


def test_api_key_is_sent_and_a_wrong_one_is_named() -> None:
    with FakeOpenAI(api_key="s3cret") as srv:
        good = check_endpoint(srv.url, api_key="s3cret")
        bad = check_endpoint(srv.url, api_key="wrong")
        assert srv.requests[0] == ("/v1/models", "Bearer s3cret")
    assert good.ok
    assert not bad.ok and bad.kind == "auth" and "401" in bad.message and "key" in bad.message


def test_refused_port_wrong_path_and_not_an_openai_server() -> None:
    r = check_endpoint(f"http://127.0.0.1:{refused_port()}/v1")
    assert not r.ok and r.kind == "refused" and "connection refused" in r.message
    with FakeOpenAI() as srv:
        base = srv.url.removesuffix("/v1")
        missing = check_endpoint(base)  # forgot the /v1
        html = check_endpoint(base + "/html/v1")
    assert missing.kind == "not_found" and "/v1" in missing.message
    assert html.kind == "not_openai" and not html.ok


@pytest.mark.parametrize("url", ["", "127.0.0.1:8080", "ftp://host/v1", "http://", "http://h:99999/v1"])
def test_bad_urls_are_said_plainly(url: str) -> None:
    r = check_endpoint(url)
    assert r.kind == "bad_url" and not r.ok and "http://127.0.0.1:8080/v1" in r.message


def test_with_the_guard_a_local_server_is_reached_and_counted() -> None:
    reset_network_guard()
    install_network_guard()
    with FakeOpenAI() as srv:
        assert check_endpoint(srv.url).ok
    assert f"your model server on this computer (127.0.0.1:{srv.port}" in network_status()


def test_another_computer_needs_the_users_consent() -> None:
    reset_network_guard()
    guard = install_network_guard()
    r = check_endpoint("http://192.0.2.10:8000/v1")
    assert r.kind == "remote" and "another computer" in r.message
    with pytest.raises(NetworkBlockedError):
        socket.create_connection(("192.0.2.10", 8000), timeout=0.2)
    assert [a.allowed for a in guard.attempts] == [False]


def test_a_remote_server_allowed_by_the_user_is_the_only_one_reachable() -> None:
    reset_network_guard()
    guard = install_network_guard()
    assert permit_local_endpoint("http://192.0.2.10:8000/v1", allow_remote=True)
    try:  # the guard lets it through; the address itself goes nowhere (TEST-NET-1)
        socket.create_connection(("192.0.2.10", 8000), timeout=0.2).close()
    except NetworkBlockedError:
        raise
    except OSError:
        pass
    with pytest.raises(NetworkBlockedError):  # the same computer, another port
        socket.create_connection(("192.0.2.10", 8001), timeout=0.2)
    with pytest.raises(NetworkBlockedError):  # another computer
        socket.create_connection(("192.0.2.11", 8000), timeout=0.2)
    assert [a.allowed for a in guard.attempts] == [True, False, False]
    assert guard.attempts[0].reason == "your model server"
    status = network_status()
    assert "your model server on another computer (192.0.2.10:8000) is allowed" in status
    assert "your questions and the memories sent with them go there" in status


def test_a_remote_server_by_name_allows_that_name_only() -> None:
    reset_network_guard()
    guard = install_network_guard()
    assert permit_local_endpoint("http://gpu-box.invalid:8000/v1", allow_remote=True)
    with pytest.raises(OSError) as e:  # looked up (the .invalid name cannot resolve), not blocked
        socket.getaddrinfo("gpu-box.invalid", 8000)
    assert not isinstance(e.value, NetworkBlockedError)
    with pytest.raises(NetworkBlockedError):
        socket.getaddrinfo("elsewhere.invalid", 8000)
    assert network_guard() is guard
    assert any(a.allowed and a.host == "gpu-box.invalid" for a in guard.attempts)
    r = check_endpoint("http://gpu-box.invalid:8000/v1", allow_remote=True, timeout_s=2)
    assert r.kind in ("no_host", "unreachable", "timeout") and not r.ok
