"""Settings of the language model and of chatting: ``[llm]`` and ``[chat]`` sections.

Declared like ``twin.settings`` (a dataclass per section, each field with a default and a
``doc``; ``env`` names an environment override), to be wired into ``Settings`` as
``llm: LlmSettings`` and ``chat: ChatSettings``, with :func:`validate_llm_settings` called
from its validation. This module imports nothing from ``twin.settings`` so that either can
import the other's types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from twin.errors import ConfigError
from twin.messages import Msg, msg

#: ``n_gpu_layers = "auto"``: as many layers as fit (twin.core.llm.fit).
AUTO = "auto"

DEFAULT_PERSONA = (
    "Answer warmly and briefly, the way I would. I write in the language the question is in."
)


def described(text: str, **kw: Any) -> dict[str, Any]:
    """A settings field's metadata: its description (``doc``, written into settings.toml) and
    options such as ``env`` (an environment override)."""
    return {"doc": text, **kw}


@dataclass
class LlmSettings:
    backend: str = field(
        default="llama",
        metadata=described("'llama': run a GGUF in-process (llama-cpp-python). 'openai': an "
                      "OpenAI-compatible server (llama-server, vLLM, Ollama) at endpoint_url."),
    )
    model_path: str = field(
        default="",
        metadata=described("The GGUF model file (e.g. Qwen3-30B-A3B-Q6_K.gguf).", env="TWIN_MODEL"),
    )
    model_kind: str = field(
        default="auto",
        metadata=described("'auto' (no chat template or 'Base' in its name: base model), "
                      "'instruct' (chat template) or 'base' (transcript prompt)."),
    )
    n_gpu_layers: int | str = field(
        default="auto",
        metadata=described("Layers to put on the GPU: 'auto' = as many as fit the free VRAM with this "
                      "context and KV cache type (measured at load), -1 = all, 0 = CPU only, or a "
                      "number (a 24 GB card fits about 40 of Qwen3-30B-A3B Q6_K's 49)."),
    )
    n_ctx: int = field(
        default=32768,
        metadata=described("Context window in tokens (clamped to the model's trained context). "
                      "Each token of context costs KV-cache memory (96 KiB for Qwen3-30B-A3B)."),
    )
    n_batch: int = field(default=2048, metadata=described("Prompt tokens per llama_decode call."))
    n_ubatch: int = field(
        default=2048, metadata=described("Physical batch size; 2048 reads prompts ~25% faster than 512 on a GPU."))
    flash_attn: bool = field(
        default=True, metadata=described("Flash attention: faster (+16-80% on a GPU), needed by a quantized KV cache."))
    kv_cache_type: str = field(
        default="f16", metadata=described("KV cache precision: 'f16', 'q8_0' (half the memory) or 'q4_0'."))
    n_threads: int = field(default=0, metadata=described("CPU threads for decoding; 0 = automatic."))
    use_mmap: bool = field(default=True, metadata=described("Memory-map the model file (fast loads, shared pages)."))
    cpu_repack: bool = field(
        default=True,
        metadata=described("Repack weights for the CPU's fastest kernels (llama.cpp's default). Turn off "
                      "if the model crashes with 'illegal instruction' (a CPU or sandbox without AMX)."),
    )
    validate_model: bool = field(
        default=True,
        metadata=described("Check a model file in a separate process before loading it (a malformed "
                      "GGUF can crash llama.cpp)."),
    )
    lora_path: str = field(
        default="",
        metadata=described("A LoRA adapter GGUF applied on top of the model ('' = none), e.g. one trained "
                      "on your diaries (docs/FINETUNE.md). It must be made for the model's architecture.",
                      env="TWIN_LORA"),
    )
    lora_scale: float = field(
        default=1.0, metadata=described("Strength of the LoRA adapter: 0 = off, 1 = as trained (0-4)."))
    lora_enabled: bool = field(
        default=True, metadata=described("Apply the LoRA adapter (off: keep lora_path but run the base model)."))
    endpoint_url: str = field(
        default="http://127.0.0.1:8080/v1",
        metadata=described("Base URL of the OpenAI-compatible server (backend = 'openai')."),
    )
    endpoint_model: str = field(default="", metadata=described("Model name to ask the server for ('' = its default)."))
    endpoint_api_key: str = field(
        default="", metadata=described("API key for the server, if it needs one.", env="TWIN_ENDPOINT_API_KEY"))
    endpoint_timeout_s: float = field(default=600.0, metadata=described("Seconds to wait for the server."))
    endpoint_remote: bool = field(
        default=False,
        metadata=described("Allow a server on another computer (your questions and the memories sent with them "
                      "go to it, and only to it). Off: only a server on this computer (127.0.0.1, localhost)."),
    )


@dataclass
class ChatSettings:
    persona: str = field(default=DEFAULT_PERSONA, metadata=described("How your twin talks: any text, in your words."))
    persona_mode: str = field(
        default="me",
        metadata=described("'me': the twin speaks as you, in the first person. 'assistant': an "
                      "assistant who knows you from your notes."),
    )
    user_name: str = field(default="", metadata=described("Your name, as the twin should use it."))
    thinking: bool = field(
        default=False,
        metadata=described("Let reasoning models (Qwen3) think before answering, in new conversations. "
                      "Slower, sometimes better; the thinking is shown apart."),
    )
    memories_k: int = field(default=8, metadata=described("Memories retrieved per message."))
    memory_share: float = field(
        default=0.25, metadata=described("At most this share of the context is used for memories."))
    query_context_turns: int = field(
        default=1, metadata=described("Earlier questions added to the memory search (follow-ups find their topic)."))
    max_answer_tokens: int = field(default=1024, metadata=described("Longest answer, in tokens."))
    temperature: float = field(
        default=0.7, metadata=described("Randomness: 0 = always the likeliest word (fastest), 0.6-0.8 = natural."))
    top_p: float = field(default=0.8, metadata=described("Nucleus sampling (Qwen3: 0.8, thinking 0.95)."))
    top_k: int = field(default=20, metadata=described("Sample among the k likeliest tokens (0 = all)."))
    min_p: float = field(default=0.0, metadata=described("Drop tokens less likely than this share of the best."))
    repeat_penalty: float = field(default=1.0, metadata=described("Penalty for repeating tokens (1.0 = none)."))
    seed: int = field(default=-1, metadata=described("Sampling seed; -1 = random."))
    user_label: str = field(default="User", metadata=described("Speaker name of the user in base-model transcripts."))
    twin_label: str = field(default="Twin", metadata=described("Speaker name of the twin in base-model transcripts."))


def one_of(key: str, value: object, choices: tuple[object, ...]) -> tuple[bool, Msg]:
    """A value rule: ``value`` is one of ``choices`` (for :func:`first_broken`)."""
    return value in choices, msg("config.one_of", key=key, choices=", ".join(repr(c) for c in choices))


def first_broken(checks: list[tuple[bool, Msg]]) -> None:
    """Raise ConfigError with the message of the first rule that does not hold."""
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)


def validate_llm_settings(llm: LlmSettings, chat: ChatSettings) -> None:
    """Raise ConfigError naming the first invalid value (a keyed message: the window shows it
    in its language)."""
    first_broken([
        one_of("llm.backend", llm.backend, ("llama", "openai")),
        one_of("llm.model_kind", llm.model_kind, ("auto", "instruct", "base")),
        (llm.n_gpu_layers == AUTO if isinstance(llm.n_gpu_layers, str) else llm.n_gpu_layers >= -1,
         msg("config.gpu_layers")),
        (llm.n_ctx >= 256, msg("config.at_least", key="llm.n_ctx", min=256)),
        (llm.n_batch >= 1, msg("config.at_least", key="llm.n_batch", min=1)),
        (llm.n_ubatch >= 1, msg("config.at_least", key="llm.n_ubatch", min=1)),
        one_of("llm.kv_cache_type", llm.kv_cache_type, ("f16", "q8_0", "q4_0", "bf16", "f32")),
        (llm.flash_attn or llm.kv_cache_type in ("f16", "bf16", "f32"), msg("config.kv_needs_flash")),
        (llm.n_threads >= 0, msg("config.threads")),
        (llm.endpoint_timeout_s > 0, msg("config.positive", key="llm.endpoint_timeout_s")),
        (0.0 <= llm.lora_scale <= 4.0, msg("config.between", key="llm.lora_scale", low=0, high=4)),
        one_of("chat.persona_mode", chat.persona_mode, ("me", "assistant")),
        (chat.memories_k >= 0, msg("config.zero_or_more", key="chat.memories_k")),
        (0.0 <= chat.memory_share <= 0.9, msg("config.between", key="chat.memory_share", low=0, high=0.9)),
        (chat.max_answer_tokens >= 16, msg("config.at_least", key="chat.max_answer_tokens", min=16)),
        (chat.temperature >= 0.0, msg("config.zero_or_more", key="chat.temperature")),
        (0.0 < chat.top_p <= 1.0, msg("config.in_interval", key="chat.top_p", interval="(0, 1]")),
        (chat.top_k >= 0, msg("config.zero_or_more", key="chat.top_k")),
        (0.0 <= chat.min_p < 1.0, msg("config.in_interval", key="chat.min_p", interval="[0, 1)")),
        (chat.repeat_penalty > 0.0, msg("config.positive", key="chat.repeat_penalty")),
        (bool(chat.user_label.strip()), msg("config.not_empty", key="chat.user_label")),
        (bool(chat.twin_label.strip()), msg("config.not_empty", key="chat.twin_label")),
    ])
