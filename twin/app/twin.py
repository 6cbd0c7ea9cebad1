"""Twin: the app, built in one place and used alike by the window, the CLI and the tests.

One object holds what a session of twin works with: the settings and paths, the vault
(encryption at rest), the conversations database, the model slot (engine + chat service,
reloadable), the self-profile, the chat memories (facts remembered as notes), the app's
background pool, and the memory engine's side as the chat sees it (a retriever).

Where memory runs is the caller's choice, passed in, because only that differs between the
front ends: the CLI searches in this process (the :class:`~twin.app.container.Memory`
container, created on first use); the window hands in its memory client (the engine in a child
process, seen through :class:`twin.ui.memory_host.MemoryHost`), whose watcher indexes the notes
:meth:`Twin.remember` writes. Everything else is wired here once: the chat service gets the
memory offers, the self-profile, the period facts, the superseded labels and the model's part in
the memory search (translation, reranking, follow-up rewrites: ``[search]`` settings, see
:mod:`twin.app.query_understanding`) the same way in both front ends.

Everything heavy is created on first use; :meth:`Twin.close` frees it in order (the model on
the background pool, then the pool drained, then the databases).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from twin.app.background import Background
from twin.app.model_slot import (
    NO_MODEL_MESSAGE,
    EngineFactory,
    ModelEvent,
    ModelSlot,
    NoModelError,
    default_engine_factory,
)
from twin.errors import KnownError
from twin.paths import Paths
from twin.settings import Settings

if TYPE_CHECKING:
    from twin.app.chat_memories import ChatMemories, RememberedNote
    from twin.app.chat_service import ChatService
    from twin.app.container import Memory
    from twin.app.profile_service import ProfileService
    from twin.app.vault_service import Vault
    from twin.core.conversation.store import ConversationStore
    from twin.core.llm.engine import Engine, ModelInfo

__all__ = ["NO_MODEL_MESSAGE", "NoModelError", "Retriever", "Twin"]

log = logging.getLogger("twin.app")


class Retriever(Protocol):
    """What the chat needs of memory: a search (``scope``: a :class:`~twin.core.types.Scope`;
    ``variants``: the chat model's other wordings of the query, searched with it)."""

    def search(self, query: str, k: int, scope: Any = None, variants: Sequence[str] = ()) -> list[Any]: ...


class Twin:
    """The app over one data folder.

    Args:
        settings, paths: the loaded settings and where the data lives.
        vault: the encryption state (unlocked by the caller when the data is encrypted).
        memory: the in-process memory engine, when the caller made one (the CLI); else it is
            created on first use, unless ``retriever`` is given.
        retriever: memory search run elsewhere (the window's memory client); its watcher
            indexes the notes :meth:`remember` writes.
        engine_factory: settings → a started engine (tests pass a fake one).
        use_memories: retrieve memories for each turn (False: the model answers alone).
        on_model_event: receives the model slot's events (any thread).
        on_progress: receives only the loading fraction (0..1; a terminal's progress line).
    """

    def __init__(self, settings: Settings, paths: Paths, *, vault: "Vault | None" = None,
                 memory: "Memory | None" = None, retriever: Retriever | None = None,
                 engine_factory: EngineFactory = default_engine_factory, use_memories: bool = True,
                 on_model_event: Callable[[ModelEvent], None] | None = None,
                 on_progress: Callable[[float], None] | None = None):
        from twin.app.vault_service import Vault

        self.settings = settings
        self.paths = paths.ensure()
        #: The in-process memory engine is closed by :meth:`close` only when this app made it.
        self._owns_memory = memory is None
        if memory is not None:
            self.__dict__["memory"] = memory
            vault = vault or memory.vault
        self.vault = vault if vault is not None else Vault(self.paths)
        self.use_memories = use_memories
        self._retriever = retriever
        self.background = Background()
        if on_progress is not None and on_model_event is None:
            on_model_event = _progress_only(on_progress)
        self.model = ModelSlot(settings.llm, settings.chat, make_service=self._make_service,
                               background=self.background, engine_factory=engine_factory,
                               on_event=on_model_event, settings_file=self.paths.settings_file)
        self._closed = False
        self._opening = threading.Lock()  # the conversations database is opened once

    @classmethod
    def over(cls, memory: "Memory", **options: Any) -> "Twin":
        """The app over an in-process memory engine the caller made (and closes)."""
        return cls(memory.settings, memory.paths, memory=memory, **options)

    # -- the model (the CLI's blocking view of the slot) -------------------------------------

    @property
    def model_configured(self) -> bool:
        return self.model.configured

    def require_model(self) -> None:
        """See :meth:`ModelSlot.require`."""
        self.model.require()

    def start(self) -> None:
        """Begin loading the model (returns at once); a model that cannot start raises here."""
        if self.model.engine is None and self.model.exception is None:
            self.model.require()
            self.model.load()
        if self.model.exception is not None and self.model.engine is None:
            raise self.model.exception

    def wait_ready(self, timeout: float | None = None) -> "ModelInfo":
        """Start the model if needed and wait for it (see :meth:`ModelSlot.wait_ready`)."""
        self.start()
        return self.model.wait_ready(timeout)

    @property
    def engine(self) -> "Engine":
        """The engine; the first access starts loading it."""
        self.start()
        assert self.model.engine is not None
        return self.model.engine

    @property
    def service(self) -> "ChatService":
        """The chat service over the current engine; the first access starts loading it."""
        self.start()
        assert self.model.chat is not None
        return self.model.chat

    def _make_service(self, engine: "Engine") -> "ChatService":
        """The one place a chat service is wired (both front ends, every reload)."""
        from twin.app.chat_service import ChatService
        from twin.app.query_understanding import QueryUnderstanding
        from twin.app.time_facts import period_facts_fn, superseded_labels

        svc = ChatService(engine, self.retriever, self.conversations, self.model.chat_settings)
        svc.offer_memories = self._memory_offers
        svc.profile_text = self.profile.persona_text
        svc.period_facts = period_facts_fn(self.profile, self.chat_memories)
        svc.annotate_hits = superseded_labels(self.chat_memories)
        # the model translates questions and reranks memories as [search] asks, read each turn
        svc.understanding = QueryUnderstanding(engine, lambda: self.settings.search)
        return svc

    def _memory_offers(self, conversation_id: str, text: str) -> list[str]:
        """Runs on the chat's thread after each answer (``ChatService.offer_memories``)."""
        if not self.settings.memory.offer_chat_memories:
            return []
        return [o.statement for o in self.chat_memories.offers(conversation_id, text)]

    # -- memory ---------------------------------------------------------------------------

    @cached_property
    def memory(self) -> "Memory":
        """The in-process memory engine (the CLI's; the window's runs in its memory client)."""
        from twin.app.container import Memory

        return Memory(self.settings, self.paths, self.vault)

    @property
    def memories_available(self) -> bool:
        """Whether retrieving is worth it: sources are set, or an index exists."""
        if not self.use_memories or self.settings.chat.memories_k <= 0:
            return False
        if self._retriever is not None:
            return True
        p = self.paths
        return (bool(self.settings.memory.sources) or (p.index_dir / "chunks.lance").exists()
                or any(p.memories_dir.glob("*.md")) or any(p.memories_dir.glob("*.twin-sealed")))

    @property
    def retriever(self) -> Retriever | None:
        """What the chat searches: the given memory client, or this process's engine."""
        if not self.memories_available:
            return None
        return self._retriever if self._retriever is not None else _LazyRetriever(self.memory)

    def warm_up_memories(self) -> None:
        """Load the embedding model and open the index now (on the caller's thread), so that
        the first turn does not wait for them. A failure is left for the turn to report."""
        if self._retriever is not None or not self.memories_available:
            return
        try:
            self.memory.retriever  # noqa: B018
            self.memory.embedder.dim  # noqa: B018 - loads the model
        except KnownError as e:
            log.info("memories unavailable (the turn will say so): %s", e)

    # -- conversations, profile, chat memories ----------------------------------------------

    @cached_property
    def conversations(self) -> "ConversationStore":
        from twin.app.backup import before_migration
        from twin.core.conversation.store import ConversationStore

        # The window opens it on its pool while the model slot may wire a chat service on
        # another thread; cached_property does not lock (Python 3.12+): open it only once.
        with self._opening:
            if "conversations" not in self.__dict__:
                self.__dict__["conversations"] = ConversationStore(
                    self.paths.conversations_db, codec=self.vault.codec(),
                    before_migrate=before_migration(self.paths, self.settings.backup))
            return self.__dict__["conversations"]

    @cached_property
    def profile(self) -> "ProfileService":
        from twin.app.profile_service import ProfileService

        v = self.vault
        return ProfileService(self.settings, self.paths, encode=v.encode_bytes, decode=v.decode_bytes)

    @cached_property
    def chat_memories(self) -> "ChatMemories":
        from twin.app.chat_memories import ChatMemories
        from twin.app.sealed_files import note_hooks

        # With a memory client, its watcher indexes new notes (the memories folder is a source).
        on_written = self._index_note if self._retriever is None else None
        return ChatMemories(self.paths.memories_dir, on_written=on_written,
                            dismissed_file=self.paths.data_dir / "dismissed_memories.json",
                            **note_hooks(self.vault))

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
        chat = self.model.chat
        if chat is not None and chat.retriever is None and self.use_memories:
            chat.retriever = self.retriever

    # -- settings and shutdown --------------------------------------------------------------

    def apply_settings(self, new: Settings) -> None:
        """Use ``new`` from now on: the chat settings at once, a changed model reloads in the
        background. (Saving, and re-configuring the memory engine, are the caller's.)"""
        self.settings = new
        if "profile" in self.__dict__:
            self.profile.settings = new  # schedule, budget share, folders
        self.model.reload(new.llm, new.chat)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Stop a turn in flight, free the model, drain the background work, close the
        databases (blocking; the window calls it off the GUI thread)."""
        if self._closed:
            return
        self._closed = True
        try:
            self.model.close()
        finally:
            self.background.close(wait=True)
            if "conversations" in self.__dict__:
                self.conversations.close()
                del self.__dict__["conversations"]
            if self._owns_memory and "memory" in self.__dict__:
                self.memory.close()


def _progress_only(on_progress: Callable[[float], None]) -> Callable[[ModelEvent], None]:
    from twin.app.model_slot import ModelProgress

    def on_event(event: ModelEvent) -> None:
        if isinstance(event, ModelProgress):
            on_progress(event.fraction)
    return on_event


class _LazyRetriever:
    """The in-process engine's retriever, created on the first search (so that a broken index
    or a missing embedding model surfaces as the turn's warning, not as a failure to start)."""

    def __init__(self, memory: "Memory"):
        self._memory = memory

    def search(self, query: str, k: int, scope: Any = None, variants: Sequence[str] = ()) -> list[Any]:
        options: dict[str, Any] = {"scope": scope} if scope is not None else {}
        if variants:
            options["variants"] = tuple(variants)
        return list(self._memory.retriever.search(query, k=k, **options))
