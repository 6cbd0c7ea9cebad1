"""Builds the memory engine from settings, in one readable place.

Everything heavy (the embedding model, LanceDB) is created on first use, so ``twin status``
and the window start fast. Collaborators are passed in through constructors; there are no
globals or singletons.
"""

from __future__ import annotations

import logging
from functools import cached_property
from pathlib import Path

from twin.core.memory.embedder import SentenceTransformerEmbedder
from twin.core.memory.filestate import FileState
from twin.core.memory.sources import FileFilter
from twin.errors import SourceError
from twin.paths import Paths
from twin.settings import Settings

log = logging.getLogger("twin.app")


class Memory:
    """The memory engine: embedder, store, file records, indexer, retriever, index service."""

    def __init__(self, settings: Settings, paths: Paths):
        self.settings = settings
        self.paths = paths.ensure()
        self._service = None

    @property
    def sources(self) -> list[Path]:
        return [Path(s).expanduser() for s in self.settings.memory.sources]

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
        return FileFilter(m.extensions, m.exclude, m.index_hidden)

    @cached_property
    def state(self) -> FileState:
        return FileState(self.paths.state_db)

    @cached_property
    def store(self):  # type: ignore[no-untyped-def]
        from twin.core.memory.store import LanceStore

        emb = self.embedder
        return LanceStore(
            self.paths.index_dir, emb.name, emb.dim,
            vector_index_threshold=self.settings.search.vector_index_min_rows,
        )

    @cached_property
    def indexer(self):  # type: ignore[no-untyped-def]
        from twin.core.memory.indexer import Indexer

        return Indexer(
            self.store, self.embedder, self.state, self.file_filter,
            max_file_bytes=self.settings.memory.max_file_mb * 1024 * 1024,
            batch_size=self.settings.embedding.batch_size,
        )

    @cached_property
    def retriever(self):  # type: ignore[no-untyped-def]
        from twin.core.memory.retriever import Retriever

        s = self.settings.search
        return Retriever(self.store, self.embedder, k=s.k, per_file=s.per_file)

    def service(self):  # type: ignore[no-untyped-def]
        from twin.app.index_service import IndexService

        if self._service is None:
            self._service = IndexService(self.indexer, self.sources, self.settings.memory.debounce_ms / 1000)
        return self._service

    def close(self) -> None:
        if self._service is not None:
            self._service.stop()
            self._service = None
        if "state" in self.__dict__:
            self.state.close()
