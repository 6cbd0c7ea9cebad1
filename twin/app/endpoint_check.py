"""Is the model server reachable? The "Test connection" of Settings → Model (``llm.backend = 'openai'``).

Asks the server's ``GET {base}/models`` (llama-server, ``python -m llama_cpp.server``, vLLM,
Ollama's ``/v1`` all answer it) through the same client the chat uses
(:class:`~twin.core.llm.openai_http.OpenAIEngine`), after the same permission from the network
guard (:func:`twin.offline.permit_local_endpoint`): a test can reach exactly what a chat could.
Blocking (up to ``timeout_s``): call it off the GUI thread.

The result says what went wrong in words a user can act on (:attr:`EndpointCheck.message`) and,
for a window that words it in its own language, as a :attr:`~EndpointCheck.kind` plus detail.
"""

from __future__ import annotations

import json
import socket
import urllib.error
from dataclasses import dataclass
from urllib.parse import urlsplit

from twin.core.llm.errors import EndpointError
from twin.core.llm.openai_http import EndpointConfig, OpenAIEngine

#: kind → ok. "model_missing" is a warning: the server answers, without the model asked for.
KINDS = {"ok": True, "model_missing": True, "bad_url": False, "remote": False, "blocked": False,
         "refused": False, "no_host": False, "timeout": False, "auth": False, "not_found": False,
         "http": False, "not_openai": False, "unreachable": False}


@dataclass(frozen=True)
class EndpointCheck:
    kind: str  # one of KINDS
    url: str
    detail: str = ""  # the server's or the system's words (an HTTP status, an error)
    models: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return KINDS[self.kind]

    @property
    def message(self) -> str:
        models = ", ".join(self.models[:5]) + (" …" if len(self.models) > 5 else "")
        return {
            "ok": f"Connected to {self.url}: " + (f"model(s) {models}." if self.models else "the server lists no models."),
            "model_missing": f"Connected to {self.url}, but it does not offer the model '{self.detail}' "
                             f"(it offers: {models or 'none'}). Leave the model name empty to use its default.",
            "bad_url": f"'{self.url}' is not a server address: use e.g. http://127.0.0.1:8080/v1.",
            "remote": f"{self.url} is on another computer: allow that first (your questions and memories would "
                      "be sent to it).",
            "blocked": f"twin's network guard blocked {self.url}: {self.detail}",
            "refused": f"Nothing answers at {self.url} (connection refused): is the server running, on this port?",
            "no_host": f"The server's name in {self.url} is not known: {self.detail}",
            "timeout": f"{self.url} did not answer in time: {self.detail}",
            "auth": f"{self.url} refused the API key (HTTP {self.detail}): check the key.",
            "not_found": f"{self.url} has no /models (HTTP 404): the address usually ends in /v1.",
            "http": f"{self.url} answered with an error: HTTP {self.detail}",
            "not_openai": f"{self.url} answered, but not like an OpenAI-compatible server: {self.detail}",
            "unreachable": f"Cannot reach {self.url}: {self.detail}",
        }[self.kind]


def check_endpoint(url: str, model: str = "", api_key: str = "", *, allow_remote: bool = False,
                   timeout_s: float = 5.0) -> EndpointCheck:
    """Ask the server at ``url`` for its models; never raises for a server's or a network's fault."""
    from twin.offline import NetworkBlockedError, permit_local_endpoint

    url = url.strip()
    parts = urlsplit(url)
    try:
        _ = parts.port
    except ValueError:
        return EndpointCheck("bad_url", url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return EndpointCheck("bad_url", url)
    if not permit_local_endpoint(url, allow_remote=allow_remote):
        return EndpointCheck("remote", url)
    engine = OpenAIEngine(EndpointConfig(url, model.strip(), api_key.strip(), timeout_s))
    try:
        models = tuple(engine.models())
    except EndpointError as e:
        return _failure(url, e.__cause__ or e, NetworkBlockedError)
    except OSError as e:  # the answer stopped coming (a read timeout, a reset)
        return _failure(url, e, NetworkBlockedError)
    except (ValueError, AttributeError, TypeError) as e:  # not JSON, or JSON of another shape
        return EndpointCheck("not_openai", url, str(e)[:200])
    finally:
        engine.close()
    if model.strip() and model.strip() not in models:
        return EndpointCheck("model_missing", url, model.strip(), models)
    return EndpointCheck("ok", url, "", models)


def _failure(url: str, cause: BaseException, blocked: type[BaseException]) -> EndpointCheck:
    if isinstance(cause, urllib.error.HTTPError):
        kind = {401: "auth", 403: "auth", 404: "not_found"}.get(cause.code, "http")
        return EndpointCheck(kind, url, f"{cause.code} {cause.reason}".strip())
    reason = getattr(cause, "reason", cause)
    if isinstance(reason, blocked):
        return EndpointCheck("blocked", url, str(reason))
    if isinstance(reason, ConnectionRefusedError):
        return EndpointCheck("refused", url, str(reason))
    if isinstance(reason, socket.gaierror):
        return EndpointCheck("no_host", url, str(reason))
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return EndpointCheck("timeout", url, str(reason) or "timed out")
    if isinstance(reason, json.JSONDecodeError):
        return EndpointCheck("not_openai", url, str(reason))
    return EndpointCheck("unreachable", url, str(reason))
