"""ModelSlot: the language model and the chat service over it, loaded in the background.

One slot per app (:class:`twin.app.twin.Twin`); the window and the CLI use the same one.
:meth:`ModelSlot.load` builds the engine (:func:`twin.app.engines.make_engine` starts
loading on the engine's own thread) and the chat service over it, and returns at once;
:meth:`ModelSlot.wait_ready` blocks for the outcome (the CLI), or the outcome comes as typed
events (the window's Qt bridge turns them into signals). :meth:`ModelSlot.reload` applies new
settings: chat settings at once, a new model only when the model settings changed; the old
engine is closed on the app's background pool, so a slow unload never blocks the caller.

Events (``on_event``, called from whichever thread produced them; keep the callback short):
:class:`ModelLoading`, :class:`ModelProgress`, :class:`ModelReady`, :class:`ModelFailed`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twin.core.llm.gguf_meta import read_gguf_header
from twin.errors import KnownError
from twin.llm_settings import ChatSettings, LlmSettings

if TYPE_CHECKING:
    from twin.app.background import Background
    from twin.app.chat_service import ChatService
    from twin.core.llm.engine import Engine, ModelInfo

log = logging.getLogger("twin.app")

NO_MODEL_MESSAGE = (
    "No language model is set. Choose a GGUF file in one of two ways:\n"
    "  - in the settings: llm.model_path = \"/path/to/model.gguf\" (file: {settings_file})\n"
    "  - for one run: TWIN_MODEL=/path/to/model.gguf twin ask …\n"
    "Download one with: twin models pull REPO FILE --use. "
    "Searching your memories (twin search) works without a model."
)


class NoModelError(KnownError):
    """Chatting was asked for but no model file is configured."""


@dataclass(frozen=True, slots=True)
class ModelLoading:
    """A model started loading: its file name (or the endpoint's address)."""

    name: str


@dataclass(frozen=True, slots=True)
class ModelProgress:
    fraction: float


@dataclass(frozen=True, slots=True)
class ModelReady:
    info: "ModelInfo"


@dataclass(frozen=True, slots=True)
class ModelFailed:
    """The model could not be loaded, or none is set. ``known``: ``message`` is fit to show as
    is (a :class:`KnownError`); else it names an unexpected exception (logged with its trace)."""

    message: str
    known: bool = True


ModelEvent = ModelLoading | ModelProgress | ModelReady | ModelFailed
EngineFactory = Callable[..., "Engine"]
ServiceFactory = Callable[["Engine"], "ChatService"]


def default_engine_factory(llm: LlmSettings, *, on_progress: Callable[[float], None] | None = None) -> "Engine":
    from twin.app.engines import make_engine

    return make_engine(llm, on_progress=on_progress)


class ModelSlot:
    """Owns the engine and the chat service; one generation at a time (the engine's).

    Args:
        llm, chat: the model and chat settings.
        make_service: builds the chat service over a new engine (the app wires it).
        background: the app's pool; old engines are closed there.
        engine_factory: settings → a started engine (tests pass a fake).
        on_event: receives the :data:`ModelEvent` s.
        settings_file: named in the "no model" message.
    """

    def __init__(self, llm: LlmSettings, chat: ChatSettings, *, make_service: ServiceFactory,
                 background: "Background", engine_factory: EngineFactory = default_engine_factory,
                 on_event: Callable[[ModelEvent], None] | None = None, settings_file: Path | str = ""):
        self.llm = llm
        self.chat_settings = chat
        self.engine_factory = engine_factory
        self.on_event = on_event
        self._make_service = make_service
        self._background = background
        self._settings_file = settings_file
        self._lock = threading.Lock()
        self.engine: Engine | None = None
        self.chat: ChatService | None = None
        self.info: ModelInfo | None = None
        self.error = ""
        self.exception: BaseException | None = None
        self.fraction = 0.0
        self._loaded: Future[Any] | None = None
        #: Set once the current load's outcome is in the slot (info or error) and reported.
        self._settled = threading.Event()

    # -- loading ----------------------------------------------------------------------------

    @property
    def configured(self) -> bool:
        return self.llm.backend != "llama" or bool(self.llm.model_path.strip())

    def require(self) -> None:
        """Raise :class:`NoModelError` (naming both ways to set one) when there is no model, and
        :class:`~twin.core.llm.errors.ModelFileError` at once for a missing, truncated or
        non-GGUF file (its header is read: milliseconds). An engine factory other than the
        default (the fake engine, tests) makes its own engine and needs no file."""
        if self.engine_factory is not default_engine_factory:
            return
        if not self.configured:
            raise NoModelError(NO_MODEL_MESSAGE.format(settings_file=self._settings_file))
        if self.llm.backend == "llama":
            read_gguf_header(Path(self.llm.model_path).expanduser())

    def load(self) -> None:
        """Build the engine for :attr:`llm` and start loading it (returns at once). A model that
        cannot be loaded (none set, a bad file) is reported as :class:`ModelFailed`; call
        :meth:`require` first to have the plain cases raised at once instead."""
        with self._lock:
            self.info, self.error, self.exception, self.fraction = None, "", None, 0.0
            self._settled = threading.Event()
        name = Path(self.llm.model_path).name if self.llm.backend == "llama" else self.llm.endpoint_url
        self._emit(ModelLoading(name))
        try:
            engine = self.engine_factory(self.llm, on_progress=self._on_progress)
        except KnownError as e:
            self._fail(e)
            return
        chat = self._make_service(engine)
        with self._lock:
            self.engine, self.chat = engine, chat
        start = getattr(engine, "start_loading", None)
        if callable(start):
            future: Future[Any] = start()
            self._loaded = future
            future.add_done_callback(partial(self._finished, engine))
        else:  # already usable (fake engine, HTTP endpoint)
            self._loaded = None
            self._finished(engine, None)

    def wait_ready(self, timeout: float | None = None) -> "ModelInfo":
        """Wait for the model to load; return its facts.

        Raises:
            KnownError: the model could not be loaded (none set, bad file, out of memory…).
            TimeoutError: it is still loading after ``timeout`` seconds.
        """
        if self.exception is not None:
            raise self.exception
        if self.engine is None:
            raise NoModelError(NO_MODEL_MESSAGE.format(settings_file=self._settings_file))
        if self._loaded is not None:
            self._loaded.result(timeout)
        # the loading future is done; its callback may still be putting the outcome in place
        if not self._settled.wait(timeout):
            raise TimeoutError("the model loaded but its outcome was not reported in time")
        if self.exception is not None:
            raise self.exception
        return self.engine.info

    def _on_progress(self, fraction: float) -> None:
        self.fraction = fraction
        self._emit(ModelProgress(fraction))

    def _finished(self, engine: "Engine", future: Future[Any] | None) -> None:
        if engine is not self.engine:
            return  # an engine replaced while it loaded
        try:
            info = future.result() if future is not None else engine.info
        except KnownError as e:
            self._fail(e)
            return
        except Exception as e:
            log.error("model loading failed", exc_info=e)
            self._fail(e, known=False)
            return
        with self._lock:
            if engine is not self.engine:
                return
            self.info, self.fraction = info, 1.0
            settled = self._settled
        log.info("model ready: %s", info.name or Path(info.path).name)
        try:
            self._emit(ModelReady(info))
        finally:
            settled.set()

    def _fail(self, error: BaseException, known: bool = True) -> None:
        message = str(error) if known else f"{error.__class__.__name__}: {error}"
        with self._lock:
            self.error, self.exception = message, error
            settled = self._settled
        log.warning("model unavailable: %s", message)
        try:
            self._emit(ModelFailed(message, known))
        finally:
            settled.set()

    def _emit(self, event: ModelEvent) -> None:
        if self.on_event is not None:
            self.on_event(event)

    # -- settings and shutdown --------------------------------------------------------------

    def reload(self, llm: LlmSettings, chat: ChatSettings) -> None:
        """Apply new settings: chat settings at once; a new model only if ``llm`` changed."""
        self.chat_settings = chat
        if self.chat is not None:
            self.chat.settings = chat
        if llm == self.llm and self.engine is not None and not self.error:
            return
        self.llm = llm
        self._retire()
        self.load()

    def _retire(self) -> Future[None] | None:
        with self._lock:
            old_chat, old_engine = self.chat, self.engine
            self.chat, self.engine, self.info = None, None, None
        if old_chat is None and old_engine is None:
            return None

        def close() -> None:
            if old_chat is not None:
                old_chat.close()
            if old_engine is not None:
                old_engine.close()
        if self._background.closed:  # shutting down: close here
            close()
            return None
        return self._background.submit(close)

    def stop(self) -> None:
        """Stop the answer being generated (the partial answer is kept)."""
        if self.chat is not None:
            self.chat.cancel()

    def close(self) -> None:
        """Stop generating, free the model (blocking: call it off a GUI thread)."""
        future = self._retire()
        if future is not None:
            future.result()

    # -- state ------------------------------------------------------------------------------

    @property
    def is_ready(self) -> bool:
        return self.info is not None and self.chat is not None

    def status_detail(self) -> str:
        """Where the model runs and why (n_gpu_layers "auto"), and loading warnings: a tooltip."""
        off = self.info.offload if self.info is not None else None
        if off is None:
            return ""
        return "\n".join(x for x in (off.auto_reason, *off.warnings) if x)
