"""Embedders: text → unit vectors. The only module that imports sentence_transformers.

The import is lazy (it costs seconds: torch), so the CLI and the window start fast. Models
that expect role prefixes get them here and nowhere else: the E5 family wants ``"query: "``
and ``"passage: "``; most others want none.

Models load from local files only (``local_files_only``); a model that is not on disk is a
:class:`~twin.errors.KnownError` that says how to download it. twin never downloads anything
the user did not ask for.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, Sequence

from twin.errors import KnownError
from twin.messages import msg

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger("twin.embed")

#: Name fragments → (query prefix, passage prefix).
_PREFIXES: tuple[tuple[str, tuple[str, str]], ...] = (
    ("e5-", ("query: ", "passage: ")),
    ("/e5", ("query: ", "passage: ")),
)

#: sentence-transformers (6.x) says this on every load of a plain model by name with a cache
#: folder: it passes ``cache_dir`` to its own Transformer module (library-internal, nothing
#: the caller can change), through a transformers logger, once per process.
_CACHE_DIR_NOTICE = "The Transformer `cache_dir` argument is deprecated"


class _DropCacheDirNotice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return _CACHE_DIR_NOTICE not in record.getMessage()


@contextlib.contextmanager
def quiet_cache_dir_notice() -> Iterator[None]:
    """Drops sentence-transformers' own ``cache_dir`` deprecation notice, and only that one,
    while a model loads (as a log record today; as a warning, should a release switch)."""
    loggers = [logging.getLogger(n) for n in ("sentence_transformers.util.decorators", "sentence_transformers")]
    dropper = _DropCacheDirNotice()
    for lg in loggers:
        lg.addFilter(dropper)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*" + _CACHE_DIR_NOTICE.replace("`", ".") + ".*")
            yield
    finally:
        for lg in loggers:
            lg.removeFilter(dropper)


#: A chunk never grows past this many tokens, even for long-context models: long chunks
#: blur the meaning of the vector and waste the LLM's context when injected.
MAX_CHUNK_TOKENS = 384


class Embedder(Protocol):
    """What the indexer and the retriever need from an embedding model."""

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    @property
    def max_tokens(self) -> int:
        """Chunk budget in model tokens (role prefix and special tokens left out)."""
        ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...

    def embed_passages(self, texts: Sequence[str]) -> "np.ndarray": ...

    def embed_query(self, text: str) -> "np.ndarray": ...


def prefixes_for(model_name: str) -> tuple[str, str]:
    """The (query, passage) prefixes a model expects; ("", "") when it expects none."""
    low = model_name.lower().replace("\\", "/")
    if "instruct" in low:
        return ("", "")
    for fragment, pair in _PREFIXES:
        if fragment in low:
            return pair
    return ("", "")


def resolve_device(device: str) -> str:
    """Turn ``auto`` into ``cuda``/``mps``/``cpu`` (needs torch; call off the GUI thread)."""
    if device != "auto":
        return device
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded on first use (thread-safe), normalised vectors."""

    def __init__(self, model: str, device: str = "auto", batch_size: int = 32, chunk_tokens: int = 0,
                 cache_folder: Path | None = None):
        self._model_ref = model
        self._cache_folder = cache_folder
        self._device = device
        self._batch_size = batch_size
        self._chunk_tokens = chunk_tokens
        self._model = None
        self._lock = threading.Lock()
        # One encode at a time: the indexer embeds in model-sized batches, so a query waits
        # for at most one batch instead of competing with it for the same cores.
        self._encode_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._count_tokenizer = None
        self._query_prefix, self._passage_prefix = prefixes_for(model)

    # -- identity ----------------------------------------------------------------------

    @property
    def name(self) -> str:
        """A stable identity for the index: the model's folder name or hub name."""
        p = Path(self._model_ref).expanduser()
        if p.is_dir():
            return str(p.resolve())
        return self._model_ref

    @property
    def model(self):  # type: ignore[no-untyped-def]  # SentenceTransformer loads lazily (torch)
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self):  # type: ignore[no-untyped-def]  # SentenceTransformer loads lazily (torch)
        from twin.offline import enforce_offline

        enforce_offline()
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as e:  # pragma: no cover - a broken install
            raise KnownError(f"sentence-transformers is not installed: {e}") from e
        device = resolve_device(self._device)
        ref = self._model_ref
        path = Path(ref).expanduser()
        log.info("loading embedding model %s on %s", ref, device)
        try:
            with quiet_cache_dir_notice():
                if path.exists():
                    return SentenceTransformer(str(path), device=device)
                return SentenceTransformer(
                    ref, device=device, local_files_only=True,
                    cache_folder=str(self._cache_folder) if self._cache_folder else None,
                )
        except (OSError, ValueError) as e:
            raise KnownError(msg("embed.offline", ref=ref, kind=e.__class__.__name__)) from e

    @property
    def dim(self) -> int:
        getter = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(getter())

    @property
    def max_tokens(self) -> int:
        if self._chunk_tokens > 0:
            return self._chunk_tokens
        seq = int(getattr(self.model, "max_seq_length", 256) or 256)
        prefix = len(self.count_tokens([self._passage_prefix])[0:1] or [0]) if self._passage_prefix else 0
        # Leave room for [CLS]/[SEP], the role prefix and a heading line.
        return max(32, min(MAX_CHUNK_TOKENS, seq - 2 - prefix - 24))

    # -- work ----------------------------------------------------------------------------

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Token counts without special tokens or prefix. Thread-safe.

        Uses its own copy of the tokenizer: a Hugging Face fast tokenizer keeps padding and
        truncation state per call, so sharing it with a concurrent ``encode`` on another
        thread corrupts that batch ("expected sequence of length …").
        """
        if not texts:
            return []
        with self._count_lock:
            if self._count_tokenizer is None:
                import copy

                self._count_tokenizer = copy.deepcopy(self.model.tokenizer)
            enc = self._count_tokenizer(list(texts), add_special_tokens=False, return_attention_mask=False,
                                        return_token_type_ids=False, truncation=False)
        return [len(ids) for ids in enc["input_ids"]]

    def embed_passages(self, texts: Sequence[str]) -> "np.ndarray":
        import numpy as np

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        batch = [self._passage_prefix + t for t in texts] if self._passage_prefix else list(texts)
        model = self.model
        with self._encode_lock:
            vecs = model.encode(
                batch,
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vecs, dtype=np.float32)

    def embed_query(self, text: str) -> "np.ndarray":
        import numpy as np

        model = self.model
        with self._encode_lock:
            vec = model.encode(
                [self._query_prefix + text],
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vec[0], dtype=np.float32)
