"""The [llm] and [chat] settings sections and building an engine from them."""

from __future__ import annotations

import dataclasses

import pytest

from twin.app.chat_service import make_engine
from twin.core.llm.openai_http import OpenAIEngine
from twin.errors import ConfigError
from twin.llm_settings import ChatSettings, LlmSettings, validate_llm_settings


def test_defaults_are_valid_and_documented() -> None:
    validate_llm_settings(LlmSettings(), ChatSettings())
    for cls in (LlmSettings, ChatSettings):
        for f in dataclasses.fields(cls):
            assert f.metadata.get("doc"), f"{cls.__name__}.{f.name} has no doc"
    llm = LlmSettings()
    assert llm.n_gpu_layers == "auto" and llm.flash_attn and llm.n_ubatch == 2048 and llm.n_ctx == 32768
    assert dataclasses.fields(LlmSettings)[1].metadata["env"] == "TWIN_MODEL"


@pytest.mark.parametrize("llm,chat,message", [
    (LlmSettings(backend="gpt"), ChatSettings(), "llm.backend"),
    (LlmSettings(kv_cache_type="q8_0", flash_attn=False), ChatSettings(), "flash_attn"),
    (LlmSettings(n_gpu_layers=-2), ChatSettings(), "n_gpu_layers"),
    (LlmSettings(n_gpu_layers="most"), ChatSettings(), "n_gpu_layers"),
    (LlmSettings(), ChatSettings(persona_mode="boss"), "persona_mode"),
    (LlmSettings(), ChatSettings(memory_share=0.95), "memory_share"),
    (LlmSettings(), ChatSettings(top_p=0.0), "top_p"),
])
def test_invalid_values_name_the_key(llm: LlmSettings, chat: ChatSettings, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        validate_llm_settings(llm, chat)


def test_make_engine_for_an_endpoint() -> None:
    engine = make_engine(LlmSettings(backend="openai", endpoint_url="http://127.0.0.1:9/v1", n_ctx=4096))
    try:
        assert isinstance(engine, OpenAIEngine)
        assert engine.info.n_ctx == 4096 and engine.info.kind == "instruct"
    finally:
        engine.close()


def test_gpu_layers_auto_or_a_number_from_the_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from twin.settings import load_settings

    for text, expected in (("", "auto"), ('n_gpu_layers = "auto"', "auto"), ("n_gpu_layers = -1", -1),
                           ("n_gpu_layers = 20", 20)):
        f = tmp_path / "settings.toml"
        f.write_text(f"[llm]\n{text}\n")
        assert load_settings(f, {}).llm.n_gpu_layers == expected
    f.write_text('[llm]\nn_gpu_layers = "half"\n')
    with pytest.raises(ConfigError, match="n_gpu_layers"):
        load_settings(f, {})
