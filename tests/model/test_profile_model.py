"""The self-profile with real models: Gemma 3 270M (base, completion prompt) on Pepys's diary,
and the tiny random Qwen3 (instruct, chat prompt); both under the output grammar."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from twin.app.chat_service import ChatService
from twin.app.profile_service import ProfileService
from twin.core.conversation.events import TurnDone
from twin.core.conversation.store import ConversationStore
from twin.core.llm.engine import GenerationRequest, SamplingParams, Segment
from twin.core.llm.llama import LlamaEngine
from twin.core.profile.job import JobConfig
from twin.llm_settings import ChatSettings
from twin.paths import resolve_paths
from twin.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
from pepys_vault import make_vault

pytestmark = pytest.mark.slow

SMALL = JobConfig(batch_tokens=500, max_entries=3, answer_tokens=160, max_facts=3, retries=1)


def _service(vault: Path) -> ProfileService:
    settings = Settings()
    settings.memory.sources = [str(vault)]
    return ProfileService(settings, resolve_paths().ensure())


def test_grammar_constrains_greedy_and_sampled_decoding(gemma: LlamaEngine) -> None:
    prompt = (Segment("Question: is the sky green? Answer (yes or no):"),)
    for temperature in (0.0, 0.8):
        gen = gemma.generate(GenerationRequest(prompt, chat=False, params=SamplingParams(
            max_tokens=8, temperature=temperature, grammar='root ::= " maybe" | " never"')))
        assert "".join(gen) in (" maybe", " never")
        assert gen.result is not None and gen.result.finish_reason == "stop"


def test_gemma_builds_a_cited_profile_from_pepys(gemma: LlamaEngine, tmp_path: Path) -> None:
    vault = make_vault(tmp_path, first="1660-06-09", count=6)
    svc = _service(vault)
    report = svc.build(gemma, config=SMALL)
    assert report.entries == 6 and report.map.batches >= 2 and report.map.units_mapped >= 6
    facts = svc.facts()
    assert facts, report.map.problems  # the grammar keeps even a 270M model's lines valid
    on_disk = {str(p) for p in vault.glob("*.md")}
    for f in facts:
        assert f.sources and all(s.path in on_disk and Path(s.path).stem == s.date for s in f.sources)
    md = (svc.folder / "profile.md").read_text(encoding="utf-8")
    assert facts[0].statement in md or facts[0].subject in md

    first = facts[0]
    svc.accept([first.id])
    rejected = facts[1] if len(facts) > 1 else None
    if rejected is not None:
        svc.reject([rejected.id])
    again = _service(vault)  # persisted
    assert {f.id: f.status for f in again.facts()}[first.id] == "accepted"
    if rejected is not None:
        assert rejected.id not in {f.id for f in again.facts()} or \
            again.facts() and next(f for f in again.facts() if f.id == rejected.id).statement != rejected.statement

    # nothing changed: a second build maps nothing
    assert again.build(gemma, config=SMALL).map.units_mapped == 0

    # the accepted fact is in the next answer's prompt (a base-model transcript)
    store = ConversationStore(tmp_path / "c.sqlite3")
    chat = ChatService(gemma, None, store, ChatSettings(memories_k=0, max_answer_tokens=4, temperature=0))
    chat.profile_text = again.persona_text
    captured: list[GenerationRequest] = []
    real = gemma.generate

    def spy(request, **kw):  # type: ignore[no-untyped-def]
        captured.append(request)
        return real(request, **kw)

    chat.engine = type("Spy", (), {"generate": staticmethod(spy), "info": gemma.info,
                                    "count_tokens": gemma.count_tokens, "submit": gemma.submit})()
    assert isinstance(list(chat.ask(None, "Who is in my life?"))[-1], TurnDone)
    assert first.statement in captured[0].text
    chat.close()
    store.close()


def test_tiny_qwen_chat_prompt_gives_valid_or_no_facts_never_a_crash(make_qwen, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    qwen = make_qwen(n_ctx=4096)
    assert qwen.info.kind == "instruct"
    vault = make_vault(tmp_path, first="1660-06-09", count=3)
    svc = _service(vault)
    report = svc.build(qwen, config=JobConfig(batch_tokens=600, max_entries=3, answer_tokens=120, max_facts=2,
                                               retries=0))
    # random weights: whatever it wrote was parsed, validated and recorded, batch by batch
    assert report.map.units_mapped == report.map.units_total >= 3 and report.map.failed_batches == 0
    records = [json.loads(line) for line in (svc.folder / "map.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(records) == report.map.batches
    on_disk = {str(p) for p in vault.glob("*.md")}
    assert all(path in on_disk for rec in records for f in rec["facts"] for path, _ in f["sources"])
