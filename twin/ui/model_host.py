"""ModelHost: the language model and the chat service over it, loaded in the background.

A thin adapter (the window's counterpart of the CLI's wiring; TODO(lead): replace with
``twin.app.chat_container`` once it lands): it builds the engine with
:func:`twin.app.chat_service.make_engine`, which starts loading on the engine's own thread,
and a :class:`ChatService` over it. Loading progress and the outcome come back as Qt
signals (emitted from the loading thread, delivered queued). A reload closes the old engine
on the ``twin-model`` thread, so a slow unload never blocks the window.

Signals:
    loading(str): a model file started loading (its name).
    progress(float): loading progress, 0…1.
    ready(object): the model is loaded (:class:`ModelInfo`).
    failed(str): the model could not be loaded (a message fit to show), or none is set.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QCoreApplication, QObject, Signal

from twin.app.chat_service import ChatService, make_engine
from twin.core.conversation.store import ConversationStore
from twin.core.llm.engine import Engine, ModelInfo
from twin.errors import KnownError
from twin.llm_settings import ChatSettings, LlmSettings
from twin.ui.i18n import num

log = logging.getLogger("twin.ui")

EngineFactory = Callable[..., Engine]


class Retriever(Protocol):
    def search(self, query: str, k: int) -> list[Any]: ...


def describe(info: ModelInfo) -> str:
    """``Qwen3-30B-A3B · GPU 49/49 layers · ctx 32768`` for the status bar."""
    where = QCoreApplication.translate("ModelHost", "CPU")
    off = info.offload
    if off is not None and off.offloaded_layers:
        where = QCoreApplication.translate("ModelHost", "GPU {done}/{total} layers").format(done=off.offloaded_layers, total=off.total_layers)
        if off.vram_total_mib:
            where += " " + QCoreApplication.translate("ModelHost", "({used}/{total} GB VRAM)").format(
                used=num((off.vram_used_mib or 0) / 1024, 1), total=num(off.vram_total_mib / 1024))
    if off is not None and off.auto_reason:
        where += " " + QCoreApplication.translate("ModelHost", "(auto)")  # why: ModelHost.status_detail()
    lora = f" · {info.lora.summary}" if info.lora is not None else ""
    ctx = QCoreApplication.translate("ModelHost", "ctx {n}").format(n=num(info.n_ctx))
    return f"{info.name or Path(info.path).name} · {where} · {ctx}{lora}"


class ModelHost(QObject):
    """Owns the engine and the chat service; one generation at a time (the engine's)."""

    loading = Signal(str)
    progress = Signal(float)
    ready = Signal(object)
    failed = Signal(str)
    _finished = Signal(object, object)  # (engine, future) from the loading thread

    def __init__(self, llm: LlmSettings, chat: ChatSettings, retriever: Retriever | None,
                 conversations: ConversationStore, *, engine_factory: EngineFactory = make_engine,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.llm = llm
        self.chat_settings = chat
        self.retriever = retriever
        self.conversations = conversations
        self.engine_factory = engine_factory
        self.engine: Engine | None = None
        self.chat: ChatService | None = None
        self.info: ModelInfo | None = None
        self.error = ""
        self.fraction = 0.0
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="twin-model")
        self._finished.connect(self._on_finished)

    # -- loading ----------------------------------------------------------------------------

    def load(self) -> None:
        """Build the engine for ``self.llm`` and start loading it (returns at once)."""
        self.info, self.error, self.fraction = None, "", 0.0
        name = Path(self.llm.model_path).name if self.llm.backend == "llama" else self.llm.endpoint_url
        self.loading.emit(name or self.tr("no model"))
        try:
            engine = self.engine_factory(self.llm, on_progress=self._on_progress)
        except KnownError as e:
            self._fail(str(e))
            return
        self.engine = engine
        self.chat = ChatService(engine, self.retriever, self.conversations, self.chat_settings)
        start = getattr(engine, "start_loading", None)
        if callable(start):
            future: Future[ModelInfo] = start()
            future.add_done_callback(lambda f, e=engine: self._finished.emit(e, f))
        else:  # already usable (fake engine, HTTP endpoint)
            self._on_finished(engine, None)

    def _on_progress(self, fraction: float) -> None:
        self.fraction = fraction
        self.progress.emit(fraction)

    def _on_finished(self, engine: Engine, future: Future[ModelInfo] | None) -> None:
        if engine is not self.engine:
            return  # an engine replaced while it loaded
        try:
            info = future.result() if future is not None else engine.info
        except KnownError as e:
            self._fail(str(e))
            return
        except Exception as e:
            log.error("model loading failed", exc_info=e)
            self._fail(self.tr("The model could not be loaded: {error}").format(error=f"{e.__class__.__name__}: {e}"))
            return
        self.info = info
        self.fraction = 1.0
        log.info("model ready: %s", describe(info))
        self.ready.emit(info)

    def _fail(self, message: str) -> None:
        self.error = message
        log.warning("model unavailable: %s", message)
        self.failed.emit(message)

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
        old_chat, old_engine = self.chat, self.engine
        self.chat, self.engine, self.info = None, None, None
        if old_chat is None and old_engine is None:
            return None

        def close() -> None:
            if old_chat is not None:
                old_chat.close()
            if old_engine is not None:
                old_engine.close()
        return self._executor.submit(close)

    def close(self) -> None:
        """Stop generating, free the model, end the threads (blocking: off the GUI thread)."""
        future = self._retire()
        if future is not None:
            future.result()
        self._executor.shutdown(wait=True)

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

    def status_text(self) -> str:
        if self.info is not None:
            return describe(self.info)
        if self.error:
            return self.tr("No model: {error}").format(error=self.error.split("\n", 1)[0])
        return self.tr("Loading model… {percent}%").format(percent=int(self.fraction * 100))
