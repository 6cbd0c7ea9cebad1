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
    from twin.app.chat_memories import ChatMemories, RememberedNote
    from twin.app.chat_service import ChatService
    from twin.app.profile_service import ProfileService
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
        return (bool(self.settings.memory.sources) or (self.paths.index_dir / "chunks.lance").exists()
                or any(self.paths.memories_dir.glob("*.md")) or any(self.paths.memories_dir.glob("*.twin-sealed")))

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
        from twin.app.backup import before_migration
        from twin.core.conversation.store import ConversationStore

        return ConversationStore(self.paths.ensure().conversations_db, codec=self.memory.vault.codec(),
                                 before_migrate=before_migration(self.paths, self.settings.backup))

    @cached_property
    def service(self) -> "ChatService":
        from twin.app.chat_service import ChatService

        retriever = _SafeRetriever(self.memory) if self.memories_available else None
        svc = ChatService(self.engine, retriever, self.conversations, self.settings.chat)
        if self.settings.memory.offer_chat_memories:
            svc.offer_memories = lambda cid, text: [o.statement for o in self.chat_memories.offers(cid, text)]
        svc.profile_text = self.profile.persona_text
        from twin.app.time_facts import period_facts_fn, superseded_labels

        svc.period_facts = period_facts_fn(self.profile, self.chat_memories)
        svc.annotate_hits = superseded_labels(self.chat_memories)
        return svc

    @cached_property
    def profile(self) -> "ProfileService":
        from twin.app.profile_service import ProfileService

        vault = self.memory.vault
        return ProfileService(self.settings, self.paths, encode=vault.encode_bytes, decode=vault.decode_bytes)

    @cached_property
    def chat_memories(self) -> "ChatMemories":
        from twin.app.chat_memories import ChatMemories
        from twin.app.sealed_files import note_hooks

        return ChatMemories(self.paths.memories_dir, on_written=self._index_note,
                            dismissed_file=self.paths.data_dir / "dismissed_memories.json",
                            **note_hooks(self.memory.vault))

    def remember(self, statement: str, conversation_id: str | None = None) -> "RememberedNote":
        """Write ``statement`` as a memory note (from ``conversation_id``) and index it now.

        Raises:
            MemoryNoteError: empty, too long, or the note cannot be written.
        """
        title = ""
        if conversation_id:
            try:
                title = self.conversations.get(conversation_id).title
            except KnownError:
                conversation_id = None
        return self.chat_memories.remember(statement, conversation_id=conversation_id or "",
                                           conversation_title=title)

    def _index_note(self, path: Path) -> None:
        """Index a new memory note at once, so the next answer can use it. When another
        process owns the index (the window, ``twin watch``), its watcher picks the note up."""
        from twin.app.writer_lock import WriterLock

        running = self.memory.running_service
        if running is not None:  # this process keeps the index: its worker does the write
            running.notify("changed", path)
            return
        lock = WriterLock(self.paths.data_dir, "twin chat")
        if not lock.try_acquire():
            log.info("%s: the index owner's watcher will index it", path.name)
            return
        try:
            memory = self.memory
            if memory.store.model_changed:  # a full re-index is due: that is `twin index`'s job
                log.info("%s: the index needs a re-index first (twin index)", path.name)
                return
            memory.indexer.index_paths([path], memory.sources)
        except KnownError as e:
            log.warning("cannot index %s now (the next `twin index` will): %s", path, e)
        finally:
            lock.release()
        if "service" in self.__dict__ and self.service.retriever is None and self.use_memories:
            self.service.retriever = _SafeRetriever(self.memory)

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

    def search(self, query: str, k: int, scope: Any = None) -> list[Any]:
        if scope is not None:
            return list(self._memory.retriever.search(query, k=k, scope=scope))
        return list(self._memory.retriever.search(query, k=k))
