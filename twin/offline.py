"""Keep twin off the network, and prove it.

Two layers:

1. **Offline switches.** Hugging Face libraries look things up on the hub unless told not
   to; :func:`enforce_offline` tells them (and turns their telemetry off) before they are
   imported.
2. **The network guard.** :func:`install_network_guard` adds a Python audit hook
   (:func:`sys.addaudithook`) that sees every ``socket.connect``/``sendto``/``sendmsg`` and
   every name lookup made through Python's ``socket`` module. Each attempt to reach another
   machine is recorded (host, port, time, where in the code) and BLOCKED: the call raises
   :class:`NetworkBlockedError` (an ``OSError``, so libraries treat it as a failed
   connection), and a warning names it in the log. Allowed without a record: local sockets
   (``AF_UNIX``, netlink: Qt, D-Bus, X11 use them) and loopback connections to a socket this
   same process listens on (asyncio's socketpair on Windows). Allowed *with* a record:

   - anything inside ``with allow_network_for_download(...)``: the one action that may
     connect, which the user starts and confirms;
   - connections to the model server the user configured (``llm.backend = "openai"``):
     :func:`permit_local_endpoint`. A server on this computer (127.0.0.1/localhost) is allowed;
     one on another computer only when the user said so (``llm.endpoint_remote = true``, a
     switch in the settings dialog), and then only that host and port (its name lookup and
     its addresses), each connection recorded and named in :func:`network_status`.

   :func:`network_status` says in plain words what happened ("offline: no connection has
   been made"); the settings window shows it. ``TWIN_NET_AUDIT=/path`` makes the guard also
   append each attempt as a JSON line to that file (tests prove a whole CLI session makes
   none; the app never sets it).

Limits: the hook sees Python's ``socket`` module only. Native code that opens sockets itself
(llama.cpp, LanceDB's Rust core, Qt's C++) is not seen here; none of them is asked to connect
anywhere (local paths, no telemetry), and the test suite checks the native layer too: it runs
the CLI under ``strace`` in a network namespace without routes (tests/integration/test_offline_proof.py).

Audit hooks cannot be removed, so the guard is process-wide by nature: one instance per
process, kept here; :func:`reset_network_guard` turns it back into a pass-through (tests).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import os
import socket
import sys
import threading
import time
import traceback
import weakref
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

_OFFLINE_VARS = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "DO_NOT_TRACK": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "LANCEDB_TELEMETRY": "0",  # LanceDB's own switch (it has none for local tables, but say so)
}
#: Environment variable: append every recorded attempt as a JSON line to this file.
AUDIT_ENV = "TWIN_NET_AUDIT"
#: The switches lifted for a download (huggingface_hub reads them at import).
_DOWNLOAD_VARS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")
_SENDS = ("socket.connect", "socket.sendto", "socket.sendmsg")
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}

log = logging.getLogger("twin.offline")


def enforce_offline() -> None:
    """Set the libraries' offline switches in this process (idempotent)."""
    for key, value in _OFFLINE_VARS.items():
        os.environ.setdefault(key, value)


class NetworkBlockedError(PermissionError):
    """A connection to another machine was attempted while twin is offline."""


@dataclass(frozen=True)
class NetAttempt:
    """One attempt to use the network, as the guard saw it."""

    event: str  # the audit event: socket.connect, socket.getaddrinfo, …
    host: str
    port: int | None
    allowed: bool
    reason: str  # "model download", "your model server", "blocked: twin is offline"
    when: float  # time.time()
    where: str  # the calling frames, innermost first

    def describe(self) -> str:
        target = f"{self.host}:{self.port}" if self.port else self.host
        return f"{target} at {_hhmm(self.when)}"


class NetworkGuard:
    """The audit-hook state of one process (see the module docstring)."""

    def __init__(self, audit_file: str | None = None):
        self.attempts: list[NetAttempt] = []
        self.active = True
        self.audit_file = audit_file
        self._lock = threading.Lock()
        self._downloads = 0  # depth of allow_network_for_download() blocks (any thread)
        self._download_what = ""
        self._endpoints: set[tuple[str, int]] = set()  # (host or address, port) of the user's model server
        self._remote: set[str] = set()  # "host:port" of a model server on another computer
        self._listening: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._busy = threading.local()
        self.external_downloads: list[tuple[str, float]] = []  # (host, time) of download processes

    # -- decisions ----------------------------------------------------------------------------

    def hook(self, event: str, args: tuple[object, ...]) -> None:
        if not self.active or not event.startswith("socket.") or getattr(self._busy, "on", False):
            return
        self._busy.on = True
        try:
            self._check(event, args)
        finally:
            self._busy.on = False

    def _check(self, event: str, args: tuple[object, ...]) -> None:
        if event in _SENDS:
            sock, address = args[0], args[1]
            family = getattr(sock, "family", None)
            if family not in (socket.AF_INET, socket.AF_INET6) or not isinstance(address, tuple):
                return  # AF_UNIX, netlink…: this machine only (sendmsg without address: connected)
            host, port = str(address[0]), int(address[1]) if len(address) > 1 else None
            if _is_loopback(host) and self._own_listener(port):
                return  # a connection inside this process
            self._decide(event, host, port, loopback=_is_loopback(host))
        elif event == "socket.bind":
            sock, address = args[0], args[1]
            if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
                self._listening.add(sock)
        elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex",
                       "socket.gethostbyaddr"):
            host = args[0]
            if host is None or host == "":
                return  # a passive lookup (binding): no query leaves
            name = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
            if _is_ip_literal(name) or name.lower() in _LOCAL_NAMES:
                return  # nothing to resolve (the connect that follows is checked)
            port = args[1] if event == "socket.getaddrinfo" and isinstance(args[1], int) else None
            self._decide(event, name, port, loopback=False)

    def _own_listener(self, port: int | None) -> bool:
        for s in list(self._listening):
            try:
                if s.getsockname()[1] == port:
                    return True
            except OSError:
                continue
        return False

    def _decide(self, event: str, host: str, port: int | None, *, loopback: bool) -> None:
        if self._downloads:
            self._record(NetAttempt(event, host, port, True, f"model download ({self._download_what})",
                                    time.time(), _where()))
            return
        if port is not None and (_norm_host(host), port) in self._endpoints:
            self._record(NetAttempt(event, host, port, True, "your model server", time.time(), _where()))
            return
        attempt = NetAttempt(event, host, port, False, "blocked: twin is offline", time.time(), _where())
        self._record(attempt)
        log.warning("blocked a network %s to %s (twin is offline; only a model download you start may "
                    "connect) from %s", event.split(".", 1)[1], attempt.describe(), attempt.where)
        raise NetworkBlockedError(
            f"twin is offline: the connection to {host}{f':{port}' if port else ''} was blocked "
            "(only a model download you start may connect).")

    def _record(self, attempt: NetAttempt) -> None:
        with self._lock:
            self.attempts.append(attempt)
            if self.audit_file:
                try:
                    with open(self.audit_file, "a", encoding="utf-8") as f:
                        f.write(json.dumps({"pid": os.getpid(), **asdict(attempt)}) + "\n")
                except OSError:
                    pass  # the audit file is for tests; never break the app over it

    # -- scopes -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def download(self, what: str) -> Iterator[None]:
        with self._lock:
            self._downloads += 1
            self._download_what = what
        try:
            yield
        finally:
            with self._lock:
                self._downloads -= 1

    def note_download_process(self, host: str) -> None:
        with self._lock:
            self.external_downloads.append((host, time.time()))

    def permit_endpoint(self, host: str, port: int, *, remote: bool = False) -> None:
        with self._lock:
            self._endpoints.add((_norm_host(host), port))
            if remote:
                self._remote.add(f"{host}:{port}")

    # -- status -------------------------------------------------------------------------------

    def status(self) -> str:
        with self._lock:
            attempts = list(self.attempts)
            endpoints = sorted(e for e in self._endpoints if _is_loopback(e[0]) or e[0] in _LOCAL_NAMES)
            remote = sorted(self._remote)
            external = list(self.external_downloads)
        blocked = [a for a in attempts if not a.allowed]
        downloads = [a for a in attempts if a.allowed and a.reason.startswith("model download")
                     and a.event in _SENDS]
        server = [a for a in attempts if a.allowed and a.reason == "your model server"]
        parts: list[str] = []
        if not downloads and not external:
            parts.append("offline: no connection has been made")
        if downloads:
            n = len(downloads)
            parts.append(f"{n} connection{'s' if n != 1 else ''} made for the model download "
                         f"at {_hhmm(downloads[-1].when)}")
        if external:
            host, when = external[-1]
            parts.append(f"the model download you started at {_hhmm(when)} connects to {host}")
        used = f" and was used {len(server)} time{'s' if len(server) != 1 else ''}" if server else ""
        if endpoints:
            where = ", ".join(f"{h}:{p}" for h, p in endpoints)
            parts.append(f"your model server on this computer ({where}) is allowed" + ("" if remote else used))
        if remote:
            parts.append(f"your model server on another computer ({', '.join(remote)}) is allowed: your questions "
                         f"and the memories sent with them go there{used}")
        if blocked:
            shown = "; ".join(a.describe() for a in blocked[:3]) + (" …" if len(blocked) > 3 else "")
            parts.append(f"{len(blocked)} blocked attempt{'s' if len(blocked) != 1 else ''}: {shown} (see the log)")
        return "; ".join(parts)


_guard: NetworkGuard | None = None
_guard_lock = threading.Lock()


def install_network_guard() -> NetworkGuard:
    """Install the guard in this process (once; later calls return it and re-activate it)."""
    global _guard
    with _guard_lock:
        if _guard is None:
            _guard = NetworkGuard(os.environ.get(AUDIT_ENV) or None)
            sys.addaudithook(_guard.hook)
        _guard.active = True
        return _guard


def network_guard() -> NetworkGuard | None:
    """The active guard of this process, or None when none is installed."""
    return _guard if _guard is not None and _guard.active else None


def reset_network_guard() -> None:
    """Make the installed hook a pass-through and forget what it saw (tests; the hook stays)."""
    global _guard
    with _guard_lock:
        if _guard is not None:
            _guard.active = False
            _guard = None


def network_status() -> str:
    """The plain-language state: ``offline: no connection has been made``, a download's
    connections, the allowed local model server, blocked attempts."""
    guard = network_guard()
    if guard is None:
        return "offline switches are set, but connections are not watched in this process"
    return guard.status()


@contextlib.contextmanager
def allow_network_for_download(what: str = "model") -> Iterator[None]:
    """The one scope in which twin may connect: a download the user asked for (and confirmed).

    Lifts the libraries' offline switches for this process (they stay lifted: huggingface_hub
    reads them once, at import) and lets the guard pass connections while the block runs,
    recording each one as made for the model download.

    Raises:
        RuntimeError: ``huggingface_hub`` was imported before (it would stay offline).
    """
    if "huggingface_hub" in sys.modules and os.environ.get("HF_HUB_OFFLINE") == "1":
        raise RuntimeError("huggingface_hub was imported before the network was allowed")
    for key in _DOWNLOAD_VARS:
        os.environ.pop(key, None)
    guard = network_guard()
    if guard is None:
        yield
        return
    log.info("network allowed for the download of %s", what)
    with guard.download(what):
        yield


def record_download_process(host: str) -> None:
    """Note that a separate download process (which connects itself) was started now."""
    guard = network_guard()
    if guard is not None:
        guard.note_download_process(host)


def permit_local_endpoint(url: str, *, allow_remote: bool = False) -> bool:
    """Let the guard pass connections to the model server the user configured, if it is on
    this computer (loopback), or elsewhere when ``allow_remote`` (the user's explicit
    ``llm.endpoint_remote``). Returns whether it was permitted; otherwise its connections stay
    blocked, with a message that says why."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return False
    if not host:
        return False
    if not (_is_loopback(host) or host.lower() in _LOCAL_NAMES):
        if not allow_remote:
            log.warning("the model server %s is not on this computer: twin stays offline and will not connect to "
                        "it (allow a server on another computer in Settings → Model, or llm.endpoint_remote)", url)
            return False
        _permit_remote(host, port)
        return True
    guard = network_guard()
    if guard is not None:
        for h in ({host, "127.0.0.1", "::1"} if host.lower() in _LOCAL_NAMES else {host}):
            guard.permit_endpoint(h, port)
        log.info("network guard: loopback connections to your model server %s:%d are allowed", host, port)
    return True


def _permit_remote(host: str, port: int) -> None:
    """The user's model server on another computer: its name lookup and the addresses it has now."""
    guard = network_guard()
    if guard is None:
        return
    guard.permit_endpoint(host, port, remote=True)
    if not _is_ip_literal(host):
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as e:
            log.warning("cannot look up your model server %s: %s", host, e)
            infos = []
        for info in infos:
            guard.permit_endpoint(str(info[4][0]), port)
    log.warning("network guard: connections to your model server on another computer (%s:%d) are allowed",
                host, port)


# -- helpers ---------------------------------------------------------------------------------

def _hhmm(when: float) -> str:
    return time.strftime("%H:%M", time.localtime(when))


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _norm_host(host: str) -> str:
    try:
        addr = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host.lower()
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return str(addr.ipv4_mapped)
    return str(addr)


def _where() -> str:
    """The innermost frames outside this module and the socket/ssl/http plumbing."""
    frames = [f for f in traceback.extract_stack()[:-3]
              if not f.filename.endswith(("offline.py", "socket.py", "ssl.py"))]
    return " < ".join(f"{os.path.basename(f.filename)}:{f.lineno} {f.name}" for f in reversed(frames[-4:]))
