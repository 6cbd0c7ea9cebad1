"""Errors of the language-model layer.

Each is a :class:`~twin.errors.KnownError`: the user can act on it (pick another file, offload
fewer layers, shorten the message), so the edge shows its text as is.
"""

from __future__ import annotations

from twin.errors import KnownError

CUDA_REINSTALL = (
    'CMAKE_ARGS="-DGGML_CUDA=on" pip install --force-reinstall --no-cache-dir llama-cpp-python'
)


class LlmError(KnownError):
    """Base of the language-model errors."""


class BackendMissingError(LlmError):
    """llama-cpp-python (or another backend's client) is not installed."""


class ModelFileError(LlmError):
    """The model file is missing, unreadable, not a GGUF or corrupt."""


class UnsupportedModelError(LlmError):
    """llama.cpp does not know the model's architecture (or its variant)."""


class OutOfMemoryError(LlmError):
    """The model or its context did not fit in GPU or system memory."""


class ContextOverflowError(LlmError):
    """A prompt does not fit in the model's context window."""


class EndpointError(LlmError):
    """An OpenAI-compatible HTTP endpoint is unreachable or answered with an error."""


class EngineNotReadyError(LlmError):
    """A generation was asked for before the model finished loading (or after close)."""
