"""The cross-encoder's token budget (twin.core.memory.rerank): on the CPU only the first
passages are scored, each pair cut to fit; the rest keep their fused order. A real
sentence-transformers CrossEncoder: MiniLM's BERT with a fresh, seeded relevance head
(scores meaningless, cost real)."""

from __future__ import annotations

from typing import Any

import pytest

from twin.core.memory.rerank import CPU_TOKEN_BUDGET, MIN_PAIR_TOKENS, CrossEncoderReranker, load_cross_encoder

QUERY = "what did I see of the great fire by the bridge"
WORDS = ("fire bridge river boat goods church office king duke fleet money wine garden street night "
         "morning coach supper wife letters").split()


def passages(n: int, words: int) -> list[str]:
    return [" ".join(WORDS[(i * 7 + j) % len(WORDS)] for j in range(words)) + f" entry{i}" for i in range(n)]


@pytest.fixture(scope="module")
def reranker(minilm_path: str) -> CrossEncoderReranker:
    import torch

    torch.manual_seed(0)
    rr = load_cross_encoder(minilm_path, device="cpu")
    assert isinstance(rr, CrossEncoderReranker)
    return rr


def pair_tokens(rr: CrossEncoderReranker, text: str) -> int:
    return len(rr.model.tokenizer(QUERY, text)["input_ids"])


def test_the_cpu_default_is_the_budget_and_none_means_whole(reranker: CrossEncoderReranker, minilm_path: str) -> None:
    assert reranker.token_budget == CPU_TOKEN_BUDGET
    texts = passages(20, 150)
    assert all(pair_tokens(reranker, t) > 150 for t in texts)
    cut = reranker.budgeted(QUERY, texts)
    pairs = CPU_TOKEN_BUDGET // MIN_PAIR_TOKENS
    assert len(cut) == pairs
    for whole, part in zip(texts, cut):
        assert whole.startswith(part) and len(part) < len(whole)
        assert pair_tokens(reranker, part) <= CPU_TOKEN_BUDGET // pairs
    assert sum(pair_tokens(reranker, p) for p in cut) <= CPU_TOKEN_BUDGET
    # short passages are not cut; fewer passages than the budget allows are all scored
    short = passages(pairs, 10)
    assert reranker.budgeted(QUERY, short) == short
    assert reranker.budgeted(QUERY, passages(pairs + 3, 10)) == short  # the first ones only
    unbudgeted = CrossEncoderReranker(reranker.model, token_budget=None)
    assert unbudgeted.budgeted(QUERY, texts) == texts


def test_order_scores_the_budgeted_head_and_keeps_the_tail(reranker: CrossEncoderReranker) -> None:
    texts = passages(20, 150)
    order = reranker.order(QUERY, texts)
    pairs = CPU_TOKEN_BUDGET // MIN_PAIR_TOKENS
    assert sorted(order) == list(range(20))
    assert order[pairs:] == list(range(pairs, 20))  # unscored: the fused order
    scores = reranker.scores(QUERY, reranker.budgeted(QUERY, texts))
    assert order[:pairs] == sorted(range(pairs), key=lambda i: -scores[i])
    whole = CrossEncoderReranker(reranker.model, token_budget=None)
    all_scores = whole.scores(QUERY, texts)
    assert whole.order(QUERY, texts) == sorted(range(20), key=lambda i: -all_scores[i])


def test_a_tiny_budget_still_orders_one_pair_cut_short(reranker: CrossEncoderReranker) -> None:
    tiny = CrossEncoderReranker(reranker.model, token_budget=40)
    cut = tiny.budgeted(QUERY, passages(5, 150))
    assert len(cut) == 1 and pair_tokens(reranker, cut[0]) <= 40
    assert tiny.order(QUERY, passages(5, 150)) == [0, 1, 2, 3, 4]


def test_no_budget_off_the_cpu(minilm_path: str, monkeypatch: Any) -> None:
    import sentence_transformers

    made: list[dict[str, Any]] = []

    class Model:  # stands in for the model on a device this machine lacks; the loader's choice is tested
        def __init__(self, name: str, **kw: Any):
            made.append(kw)

    monkeypatch.setattr(sentence_transformers, "CrossEncoder", Model)
    rr = load_cross_encoder(minilm_path, device="cuda")
    assert rr is not None and rr.token_budget is None and made[0]["device"] == "cuda"
    assert load_cross_encoder(minilm_path, device="cpu", token_budget=None).token_budget is None  # type: ignore[union-attr]
