"""Builds the memory engine from settings, in one readable place.

Everything heavy (the embedding model, LanceDB) is created on first use, so ``twin status``
and the window start fast. Collaborators are passed in through constructors; there are no
globals or singletons.
"""

from __future__ import annotations

import logging
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from twin.core.memory.embedder import SentenceTransformerEmbedder
from twin.core.memory.filestate import FileState
from twin.core.memory.sources import FileFilter
from twin.errors import SourceError
from twin.paths import Paths
from twin.settings import Settings

if TYPE_CHECKING:
    from twin.app.index_service import IndexService
    from twin.app.sealed_files import SealedFiles
    from twin.app.vault_service import Vault
    from twin.core.memory.indexer import Indexer
    from twin.core.memory.retriever import Retriever
    from twin.core.memory.store import LanceStore
    from twin.app.writer_lock import WriterLock

log = logging.getLogger("twin.app")


class Memory:
    """The memory engine: embedder, store, file records, indexer, retriever, index service."""

    def __init__(self, settings: Settings, paths: Paths, vault: Vault | None = None):
        from twin.app.vault_service import Vault

        self.settings = settings
        self.paths = paths.ensure()
        #: Encryption state; stores get their codec from it (asks for the passphrase if locked).
        self.vault = vault if vault is not None else Vault(self.paths)
        self._service: IndexService | None = None
        #: The index writer lock when this process holds it (set by :meth:`service`).
        self.held_lock: "WriterLock | None" = None

    @property
    def sources(self) -> list[Path]:
        """The user's source folders plus twin's own memories folder (facts remembered from
        chats), which is always watched and indexed without being configured."""
        own = self.paths.memories_dir
        try:
            own.mkdir(parents=True, exist_ok=True)
        except OSError as e:  # a read-only data folder: the user's sources still work
            log.warning("cannot create %s: %s", own, e)
        user = [Path(s).expanduser() for s in self.settings.memory.sources]
        return user + ([own] if own.is_dir() and own not in user else [])

    def check_sources(self) -> list[Path]:
        """The source folders, or SourceError naming each missing one."""
        missing = [str(s) for s in self.sources if not s.is_dir()]
        if missing:
            raise SourceError("source folder not found: " + ", ".join(missing))
        return self.sources

    @cached_property
    def embedder(self) -> SentenceTransformerEmbedder:
        e = self.settings.embedding
        from twin.app.downloads import hf_cache

        return SentenceTransformerEmbedder(e.model, e.device, e.batch_size, e.chunk_tokens, hf_cache(self.paths.cache_dir))

    @cached_property
    def file_filter(self) -> FileFilter:
        m = self.settings.memory
        # Files twin sealed (encryption on) are taken only when they can be opened.
        return FileFilter(m.extensions, m.exclude, m.index_hidden, sealed=self.vault.enabled)

    @cached_property
    def sealed(self) -> SealedFiles:
        """twin's own sealed files (notes, inbox copies) over :attr:`vault`."""
        from twin.app.sealed_files import SealedFiles

        return SealedFiles(self.vault)

    @cached_property
    def state(self) -> FileState:
        return FileState(self.paths.state_db)

    @cached_property
    def store(self) -> LanceStore:
        from twin.core.memory.store import LanceStore

        codec = self.vault.codec()  # first: a locked vault fails before the model loads
        emb = self.embedder
        return LanceStore(
            self.paths.index_dir, emb.name, emb.dim,
            vector_index_threshold=self.settings.search.vector_index_min_rows,
            codec=codec,
        )

    def writer_lock(self, kind: str) -> "WriterLock":
        """The index writer lock (:mod:`twin.app.writer_lock`) for a process of ``kind``."""
        from twin.app.writer_lock import WriterLock

        return WriterLock(self.paths.data_dir, kind)

    @cached_property
    def indexer(self) -> Indexer:
        """The index writer. Only for the holder of the writer lock: an index built with
        another embedding model is backed up here, then emptied (a full re-index)."""
        from twin.core.memory.indexer import Indexer

        if self.store.model_changed:
            from twin.app.backup import create_backup

            info = create_backup(self.paths, self.settings.backup, "before re-index",
                                 lock=self.held_lock)
            log.warning("embedding model changed: full re-index; the old index is in backup %s", info.name)
        return Indexer(
            self.store, self.embedder, self.state, self.file_filter,
            max_file_bytes=self.settings.memory.max_file_mb * 1024 * 1024,
            batch_size=self.settings.embedding.batch_size,
            decode=self.sealed.decode,
        )

    @cached_property
    def retriever(self) -> Retriever:
        from twin.core.memory.retriever import Retriever

        from twin.core.memory.embedder import resolve_device
        from twin.core.memory.rerank import load_cross_encoder

        s = self.settings.search
        # Beside the embedder (the GPU when it has one): a CPU scores only what its token
        # budget allows (rerank.CPU_TOKEN_BUDGET), a GPU the whole rerank depth.
        device = resolve_device(self.settings.embedding.device)
        reranker = load_cross_encoder(s.rerank_model, device=device) if s.rerank_model else None
        return Retriever(self.store, self.embedder, k=s.k, per_file=s.per_file, reranker=reranker,
                         rerank_depth=s.rerank_depth)

    def service(self, lock: WriterLock | None = None) -> IndexService:
        """The index service; ``lock``, the writer lock the caller took, goes with it."""
        from twin.app.index_service import IndexService

        if self._service is None:
            self.held_lock = lock  # for the backup before a re-index
            self._service = IndexService(self.indexer, self.sources, self.settings.memory.debounce_ms / 1000,
                                         lock=lock)
        return self._service

    @property
    def running_service(self) -> IndexService | None:
        """The index service if this process started one (it owns the index's writes), else None."""
        return self._service

    def close(self) -> None:
        if self._service is not None:
            self._service.stop()
            self._service = None
        if "state" in self.__dict__:
            self.state.close()
