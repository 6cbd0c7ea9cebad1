"""The engine the settings ask for: a local GGUF (llama.cpp) or the user's OpenAI-compatible
server. (It lived in :mod:`twin.app.chat_service`, which still re-exports it.)"""

from __future__ import annotations

from collections.abc import Callable

from twin.core.llm.engine import Engine
from twin.llm_settings import LlmSettings


def make_engine(llm: LlmSettings, *, on_progress: Callable[[float], None] | None = None) -> Engine:
    """The engine the settings ask for. A local model starts loading in the background
    (``engine.info`` raises EngineNotReadyError until it is loaded; see ``LlamaEngine``)."""
    if llm.backend == "openai":
        from twin.core.llm.openai_http import EndpointConfig, OpenAIEngine
        from twin.offline import permit_local_endpoint

        # the user's own server: on this computer, or elsewhere if they allowed that
        permit_local_endpoint(llm.endpoint_url, allow_remote=llm.endpoint_remote)
        kind = "base" if llm.model_kind == "base" else "instruct"
        return OpenAIEngine(EndpointConfig(llm.endpoint_url, llm.endpoint_model, llm.endpoint_api_key,
                                           llm.endpoint_timeout_s, llm.n_ctx, kind))
    from twin.core.llm.llama import LlamaConfig, LlamaEngine

    engine = LlamaEngine(LlamaConfig(
        model_path=llm.model_path, n_gpu_layers=llm.n_gpu_layers, n_ctx=llm.n_ctx, n_batch=llm.n_batch,
        n_ubatch=llm.n_ubatch, flash_attn=llm.flash_attn, kv_cache_type=llm.kv_cache_type,
        n_threads=llm.n_threads, use_mmap=llm.use_mmap, model_kind=llm.model_kind,
        cpu_repack=llm.cpu_repack, validate=llm.validate_model,
        lora_path=llm.lora_path if llm.lora_enabled else "", lora_scale=llm.lora_scale), on_progress=on_progress)
    engine.start_loading()
    return engine
