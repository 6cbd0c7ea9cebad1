"""The loaded LLM in retrieval, on the real Gemma 3 270M: listwise reranking in one batched
prompt and query translation for cross-lingual search, through the real Retriever, LanceDB
and MiniLM. A 270M base model judges relevance poorly: these tests check the plumbing (one
prompt per search, a valid permutation, caching, the fused order kept when the reply has no
numbers), not its judgement; bench/retrieval_quality.py --rerank llm measures that."""

from __future__ import annotations

import time

import pytest

from twin.core.llm.llama import LlamaEngine
from twin.core.memory.expand import CachedExpander, llm_translator
from twin.core.memory.llm_hooks import engine_completer
from twin.core.memory.rerank import LlmReranker
from twin.core.memory.retriever import Retriever
from twin.core.memory.store import LanceStore, StoreRow, content_hash

pytestmark = pytest.mark.slow

NOTES = {
    "/n/cat.md": "My sister Anna adopted a grey cat named Pushok in 2019.",
    "/n/lisbon.md": "We moved to Lisbon in the spring; the flat is near the river.",
    "/n/work.md": "The quarterly report is due on Friday; the budget is tight.",
    "/n/bike.md": "Repaired the bicycle chain and rode along the river to Belem.",
    "/n/bread.md": "Sourdough needs a long cold proof overnight in the fridge.",
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, embedder) -> LanceStore:  # type: ignore[no-untyped-def]
    st = LanceStore(tmp_path_factory.mktemp("llmret") / "db", embedder.name, embedder.dim)
    vecs = embedder.embed_passages(list(NOTES.values()))
    st.replace_files({p: [StoreRow(ordinal=0, text=t, hash=content_hash(t), vector=v)]
                      for (p, t), v in zip(NOTES.items(), vecs)})
    st.maintain()
    return st


def test_gemma_reranks_in_one_prompt(gemma: LlamaEngine, store: LanceStore, embedder) -> None:  # type: ignore[no-untyped-def]
    complete = engine_completer(gemma, max_tokens=16)
    prompts: list[str] = []

    def counted(prompt: str) -> str:
        prompts.append(prompt)
        return complete(prompt)

    rr = LlmReranker(counted, name="gemma")
    base = Retriever(store, embedder, k=5, per_file=1)
    retr = Retriever(store, embedder, k=5, per_file=1, reranker=rr, rerank_depth=5)
    q = "Where did we move in the spring?"
    t0 = time.perf_counter()
    hits = retr.search(q)
    elapsed = time.perf_counter() - t0
    assert len(prompts) == 1 and all(f"[{i}]" in prompts[0] for i in range(1, 6))
    assert sorted(h.chunk_id for h in hits) == sorted(h.chunk_id for h in base.search(q))
    assert retr.last_timings["rerank_ms"] > 0 and elapsed < 120
    reply = complete(rr.prompt(q, [h.text for h in hits]))
    assert isinstance(reply, str)  # whatever it says, the order above is a permutation


def test_gemma_translation_expander_is_cached(gemma: LlamaEngine, store: LanceStore, embedder) -> None:  # type: ignore[no-untyped-def]
    complete = engine_completer(gemma, max_tokens=24)
    expander = CachedExpander(llm_translator(complete))
    variants = expander("Как зовут кошку моей сестры?")
    assert isinstance(variants, list) and all(isinstance(v, str) and v for v in variants)
    assert expander.calls == 1
    retr = Retriever(store, embedder, k=3, per_file=1, expander=expander)
    hits = retr.search("Как зовут кошку моей сестры?")
    assert expander.calls == 1  # the retriever's call hit the cache
    assert len(hits) == 3 and retr.last_timings["expand_ms"] < 1000
