"""Builds chatting from settings, next to the memory engine: the model, the conversations
database and the chat service, in one readable place.

Everything is created on first use. The model is the slow part (seconds to load, a subprocess
check first), so :meth:`Chat.start` begins loading it on the engine's own thread at once and
returns; the caller does other work meanwhile (the CLI loads the embedding model) and then
waits with :meth:`Chat.wait_ready`. Without a configured model, :meth:`Chat.require_model`
raises :class:`NoModelError`; memory search needs no model and keeps working.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twin.app.container import Memory
from twin.core.llm.gguf_meta import read_gguf_header
from twin.errors import KnownError

if TYPE_CHECKING:
    from twin.app.chat_service import ChatService
    from twin.core.conversation.store import ConversationStore
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


class Chat:
    """The chat side of the app over a :class:`~twin.app.container.Memory`.

    Args:
        memory: the memory engine; its settings and paths are used.
        use_memories: retrieve memories for each turn (False: the model answers alone).
        on_progress: called with the loading fraction (0..1) from the loading thread.
    """

    def __init__(self, memory: Memory, *, use_memories: bool = True,
                 on_progress: Callable[[float], None] | None = None):
        self.memory = memory
        self.settings = memory.settings
        self.paths = memory.paths
        self.use_memories = use_memories
        self._on_progress = on_progress
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    # -- the model -------------------------------------------------------------------------

    @property
    def model_configured(self) -> bool:
        llm = self.settings.llm
        return llm.backend != "llama" or bool(llm.model_path.strip())

    def require_model(self) -> None:
        """Raise :class:`NoModelError` (naming both ways to set one) when there is no model, and
        :class:`~twin.core.llm.errors.ModelFileError` at once for a missing, truncated or
        non-GGUF file (its header is read: milliseconds)."""
        if not self.model_configured:
            raise NoModelError(NO_MODEL_MESSAGE.format(settings_file=self.paths.settings_file))
        if self.settings.llm.backend == "llama":
            read_gguf_header(Path(self.settings.llm.model_path).expanduser())

    @property
    def engine(self) -> "Engine":
        """The engine; the first access creates it and starts loading the model in the background."""
        with self._lock:
            if self._engine is None:
                self.require_model()
                from twin.app.chat_service import make_engine

                log.info("starting the language model (%s)", self.settings.llm.backend)
                self._engine = make_engine(self.settings.llm, on_progress=self._on_progress)
            return self._engine

    def start(self) -> None:
        """Begin loading the model (returns at once)."""
        self.engine  # noqa: B018 - creating the engine starts the load

    def wait_ready(self, timeout: float | None = None) -> "ModelInfo":
        """Wait for the model to load; return its facts.

        Raises:
            KnownError: the model could not be loaded (bad file, out of memory…).
            TimeoutError: it is still loading after ``timeout`` seconds.
        """
        engine = self.engine
        loading: Callable[[], Future[Any]] | None = getattr(engine, "start_loading", None)
        if loading is not None:
            loading().result(timeout)
        return engine.info

    # -- memories and conversations ---------------------------------------------------------

    @property
    def memories_available(self) -> bool:
        """Whether retrieving is worth it: sources are set, or an index exists."""
        if not self.use_memories or self.settings.chat.memories_k <= 0:
            return False
        return bool(self.settings.memory.sources) or (self.paths.index_dir / "chunks.lance").exists()

    def warm_up_memories(self) -> None:
        """Load the embedding model and open the index now (on the caller's thread), so that
        the first turn does not wait for them. A failure is left for the turn to report."""
        if not self.memories_available:
            return
        try:
            self.memory.retriever  # noqa: B018
            self.memory.embedder.dim  # noqa: B018 - loads the model
        except KnownError as e:
            log.info("memories unavailable (the turn will say so): %s", e)

    @cached_property
    def conversations(self) -> "ConversationStore":
        from twin.core.conversation.store import ConversationStore

        return ConversationStore(self.paths.ensure().conversations_db)

    @cached_property
    def service(self) -> "ChatService":
        from twin.app.chat_service import ChatService

        retriever = _SafeRetriever(self.memory) if self.memories_available else None
        return ChatService(self.engine, retriever, self.conversations, self.settings.chat)

    def close(self) -> None:
        """Stop a turn in flight, free the model on its own thread, close the database."""
        if "service" in self.__dict__:
            self.service.close()
        with self._lock:
            if self._engine is not None:
                self._engine.close()
                self._engine = None
        if "conversations" in self.__dict__:
            self.conversations.close()
            del self.__dict__["conversations"]


class _SafeRetriever:
    """The memory engine's retriever, created on the first search (so that a broken index or
    a missing embedding model surfaces as the turn's warning, not as a failure to start)."""

    def __init__(self, memory: Memory):
        self._memory = memory

    def search(self, query: str, k: int) -> list[Any]:
        return list(self._memory.retriever.search(query, k=k))
