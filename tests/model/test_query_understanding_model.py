"""The loaded model translates a Russian question for the memory search, on real parts: Gemma 3
270M (a base model: its translations may be poor, so these tests check the wiring, not the
translation), MiniLM, LanceDB over English notes. Through the app as the CLI builds it (memory
in this process) and as the window does (the memory client's child process, through
twin.ui.memory_host.MemoryHost): the variant the model wrote is the one the retriever used.

An instruct model (the tiny Qwen3 GGUF: a chat template, random weights) gets the translation
request as the conversation's next message, so the answer after it still finds the conversation
in the KV cache; a base model (Gemma) gets a plain prompt, and the answer reads it all again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from twin.app.twin import Twin
from twin.core.conversation.events import TurnDone, TurnStarted
from twin.paths import resolve_paths
from twin.settings import Settings

pytestmark = pytest.mark.slow

NOTES = {
    "sister.md": "My sister Anna lives in Lisbon now, in a small flat near the river.",
    "bread.md": "Sourdough needs a long cold proof overnight in the fridge.",
    "report.md": "The quarterly report is due on Friday; the budget is tight again.",
    "bike.md": "Repaired the bicycle chain and rode along the coast to the lighthouse.",
}
RU = "Где сейчас живёт моя сестра Анна?"


@pytest.fixture()
def vault(tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    folder.mkdir()
    for name, text in NOTES.items():
        (folder / name).write_text(text + "\n", encoding="utf-8")
    return folder


def _settings(gemma_path: Path, vault: Path, minilm_path: str) -> Settings:
    s = Settings()
    s.llm.model_path = str(gemma_path)
    s.llm.n_ctx, s.llm.n_gpu_layers, s.llm.n_threads, s.llm.cpu_repack = 2048, 0, 1, False
    s.chat.max_answer_tokens, s.chat.memories_k, s.chat.temperature = 8, 3, 0.0
    s.memory.sources = [str(vault)]
    s.embedding.model, s.embedding.device = minilm_path, "cpu"
    s.search.rerank_model = ""  # no cross-encoder in the child: only the model's variants differ
    s.search.llm_expand = "on"  # the default "auto" is off on a CPU
    return s


def _turn(app: Twin, text: str, cid: str | None = None) -> tuple[TurnStarted, TurnDone]:
    events = list(app.service.ask(cid, text))
    assert isinstance(events[0], TurnStarted) and isinstance(events[-1], TurnDone), events[-1]
    return events[0], events[-1]


def _variants_written(app: Twin, question: str) -> list[str]:
    """What the model wrote for ``question`` (from the cache: asking again runs nothing)."""
    qu = app.service.understanding
    assert qu is not None
    calls = qu.expander.calls
    variants = qu.expander(question)
    assert qu.expander.calls == calls  # it was cached by the turn
    return variants


def _check_hits(start: TurnStarted, variants: list[str]) -> None:
    words = {w.strip("?.,!").lower() for v in variants for w in v.split()}
    if words & {"sister", "anna", "lisbon", "lives", "live"}:  # the note's words reached BM25
        assert Path(start.citations[0].path).name == "sister.md", start.citations


def test_the_cli_app_translates_and_its_retriever_uses_the_variant(gemma_path: Path, vault: Path, minilm_path: str,
                                                                   embedder: Any) -> None:
    s = _settings(gemma_path, vault, minilm_path)
    app = Twin(s, resolve_paths().ensure())  # as `twin ask` builds it: memory in this process
    try:
        app.memory.__dict__["embedder"] = embedder  # the session's loaded MiniLM
        report = app.memory.indexer.reconcile([vault])
        assert report.files_indexed == len(NOTES)
        app.wait_ready(180)
        start, done = _turn(app, RU)
        variants = _variants_written(app, RU)
        assert variants and all(v.strip() and v != RU for v in variants)  # the model wrote something
        assert app.memory.retriever.last_variants == variants  # and the search used exactly that
        _check_hits(start, variants)

        # A base model (no chat template) gets a plain prompt, which replaces the conversation in
        # the KV cache: the answer after it reads the whole conversation again.
        t0 = time.perf_counter()
        _, on = _turn(app, "Расскажи про квартальный отчёт.", done.conversation_id)
        t_on = time.perf_counter() - t0
        assert app.service.understanding.expander.calls == 2  # type: ignore[union-attr]
        assert on.usage.prompt_tokens - on.usage.prompt_tokens_evaluated <= 1  # all but the BOS
        s.search.llm_expand = "off"  # read at each turn: no reload
        t0 = time.perf_counter()
        _, off = _turn(app, "А про велосипед?", done.conversation_id)
        t_off = time.perf_counter() - t0
        assert app.service.understanding.expander.calls == 2  # type: ignore[union-attr]
        assert off.usage.prompt_tokens_evaluated < off.usage.prompt_tokens / 2
        print(f"\nbase model, llm_expand on: {on.usage.prompt_tokens_evaluated}/{on.usage.prompt_tokens} prompt "
              f"tokens read, {t_on:.2f} s; off: {off.usage.prompt_tokens_evaluated}/{off.usage.prompt_tokens}, "
              f"{t_off:.2f} s")
    finally:
        app.close()


def test_an_instruct_models_request_keeps_the_conversation_in_the_cache(qwen_path: Path, vault: Path,
                                                                        minilm_path: str, embedder: Any) -> None:
    s = _settings(qwen_path, vault, minilm_path)
    s.llm.n_ctx = 4096
    app = Twin(s, resolve_paths().ensure())
    try:
        app.memory.__dict__["embedder"] = embedder
        app.memory.indexer.reconcile([vault])
        assert app.wait_ready(180).chat_template
        _, first = _turn(app, RU)
        qu = app.service.understanding
        assert qu is not None and qu.expander.calls == 1 and qu.frame is None  # the frame is the turn's only
        _, second = _turn(app, "Расскажи про квартальный отчёт.", first.conversation_id)
        assert qu.expander.calls == 2  # a new question: the model was asked
        assert second.usage.prompt_tokens_evaluated < second.usage.prompt_tokens / 2  # the past turn stayed cached
        assert app.memory.retriever.last_variants == qu.expander("Расскажи про квартальный отчёт.")
    finally:
        app.close()


@pytest.fixture()
def host(vault: Path, gemma_path: Path, minilm_path: str) -> Iterator[Any]:
    from twin.ui.memory_host import MemoryHost

    host = MemoryHost(_settings(gemma_path, vault, minilm_path), resolve_paths().ensure(), watch=False)
    assert host.isolated  # the window's default: the engine in a child process
    yield host
    host.close()


def test_the_windows_memory_client_gets_the_models_variant(host: Any, gemma_path: Path, vault: Path,
                                                           minilm_path: str) -> None:
    host.start().result(180)
    deadline = time.monotonic() + 180
    while host.snapshot().result(30).counts.get("indexed", 0) < len(NOTES) or host.busy:
        assert time.monotonic() < deadline, host.snapshot().result(30).counts
        time.sleep(0.2)
    app = Twin(_settings(gemma_path, vault, minilm_path), resolve_paths().ensure(), retriever=host)
    try:
        app.wait_ready(180)
        start, done = _turn(app, RU)
        variants = _variants_written(app, RU)
        details = host.client.last_search().result(30)
        assert variants and details.variants == tuple(variants)  # crossed the pipe, used in the child
        assert details.timings["fts_ms"] > 0 and details.timings["embed_ms"] > 0
        _check_hits(start, variants)
        assert done.complete or done.finish_reason == "length"
    finally:
        app.close()
