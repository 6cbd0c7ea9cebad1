"""``twin eval``: the user measures their own twin on their own notes.

:meth:`EvalService.build` reads the indexed chunks (no embedding model needed) and makes a
question set (:mod:`twin.core.eval.questions`); with a language model it also asks for
paraphrase questions. :meth:`EvalService.run` searches each question through the app's
retriever, with the held-apart entries removed from the hits (as if they were not indexed),
and measures recall@k, MRR and abstention; with a model it also answers some questions through
the real chat service (in a throwaway conversation database) and has the model judge each
answer against the source passage. The run is stored with the config that produced it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from twin.app.eval_runs import EvalError, EvalFiles
from twin.core.eval import metrics as M
from twin.core.eval.questions import Passage, Question, QuestionSet, build_question_set, paraphrase_prompt, \
    parse_question, passage_text, usable_paraphrase
from twin.core.llm.engine import ChatMessage, GenerationRequest, SamplingParams, Segment
from twin.core.types import DateRange
from twin.errors import KnownError

if TYPE_CHECKING:
    from twin.app.container import Memory
    from twin.core.llm.engine import Engine

log = logging.getLogger("twin.eval")

try:  # the retrieval side's evidence test (issue 12); without it abstention is not measured
    from twin.core.memory.abstain import enough_evidence
except ImportError:  # pragma: no cover - an older retrieval module
    enough_evidence = None  # type: ignore[assignment]  # optional module absent: the check is skipped

MAX_ROWS = 2_000_000


# -- reading the index ----------------------------------------------------------------------


def indexed_passages(store: Any) -> list[Passage]:
    """Every indexed chunk as a :class:`Passage`: dated chunks in one query, then the chunks
    of files that have no dated chunk."""
    dated = store.by_date(DateRange(), MAX_ROWS)
    seen = {c.path for c in dated}
    rows = list(dated)
    for path in sorted(set(store.paths()) - seen):
        rows.extend(store.rows_for_path(path))
    return [Passage(c.path, c.entry_date, c.id, c.ordinal, c.start_line, c.end_line, c.heading, c.text)
            for c in rows]


class HeldApartRetriever:
    """A retriever whose results never hold the held-apart entries (as if not indexed)."""

    def __init__(self, retriever: Any, held: Sequence[tuple[str, dt.date | None]]):
        self.retriever = retriever
        self.held = set(held)

    def search(self, query: str, k: int | None = None, **kw: Any) -> list[Any]:
        k = self.retriever.k if k is None else k
        want = k
        for _ in range(4):
            hits = list(self.retriever.search(query, want, **kw))
            kept = [h for h in hits if (h.path, h.date) not in self.held]
            if len(kept) >= k or len(hits) < want:
                return kept[:k]
            want *= 2
        return kept[:k]


# -- the model: one-shot prompts ------------------------------------------------------------


def complete(engine: Engine, prompt: str, *, max_tokens: int, stop: tuple[str, ...] = (), grammar: str = "",
             temperature: float = 0.0) -> str:
    """``prompt`` as the model's input (its chat template when it has one, else plain text);
    the answer (greedy by default; seeded)."""
    from twin.core.prompt.template import ChatTemplate, TemplateError

    info = engine.info
    params = SamplingParams(max_tokens=max_tokens, temperature=temperature, seed=7, stop=stop, grammar=grammar,
                            repeat_penalty=1.1)
    msgs = (ChatMessage("user", prompt),)
    request = GenerationRequest((Segment(prompt),), msgs, chat=False, params=params)
    if info.kind == "instruct" and info.chat_template:
        try:
            tpl = ChatTemplate(info.chat_template, bos_token=info.bos_token, eos_token=info.eos_token)
            request = GenerationRequest(tuple(tpl.render(list(msgs), enable_thinking=False)), msgs, chat=True,
                                        params=params, enable_thinking=False)
        except TemplateError as e:
            log.info("chat template unusable for eval prompts (%s): plain text", e)
    return "".join(engine.generate(request)).strip()


def model_paraphraser(engine: Engine) -> Callable[[Passage], str | None]:
    """Asks for a question greedily, then once more with some randomness (seeded): small models
    often copy the example at first."""

    def write(p: Passage) -> str | None:
        for temperature in (0.0, 0.8):
            answer = complete(engine, paraphrase_prompt(p.text), max_tokens=48, stop=("\n\n", "\nPassage:"),
                              temperature=temperature)
            q = parse_question(answer)
            ok = q is not None and usable_paraphrase(q, p.text)
            log.info("paraphrase for %s: %r -> %s", p.path, answer[:120], "kept" if ok else "dropped")
            if ok:
                return q
        return None

    return write


# -- the service ----------------------------------------------------------------------------


def run_config(settings: Any, index_meta: dict[str, Any], engine: Engine | None, threshold: float | None) -> dict[str, Any]:
    """The config that produced a run: what a change of embedder, reranker or LoRA shows in."""
    search = dataclasses.asdict(settings.search)
    llm = settings.llm
    cfg: dict[str, Any] = {
        "embedder": settings.embedding.model, "index_model": index_meta.get("model"),
        "search": search,
        # what the settings ask for; what is really in use is ``reranker`` (retriever_config)
        "reranker_configured": search.get("rerank_model") or None,
        "abstain_threshold": threshold,
        "model": None, "lora": None,
    }
    if engine is not None:
        info = engine.info
        cfg["model"] = info.model_id
        if info.lora is not None:
            cfg["lora"] = {"path": info.lora.path, "scale": info.lora.scale, "applied": info.lora.applied}
        cfg["chat"] = {"memories_k": settings.chat.memories_k, "max_answer_tokens": settings.chat.max_answer_tokens}
    elif getattr(llm, "lora_enabled", False) and getattr(llm, "lora_path", ""):
        cfg["lora"] = {"path": llm.lora_path, "scale": llm.lora_scale, "applied": None}
    return cfg


RETRIEVER_FIELDS = ("k", "per_file", "candidates", "fusion", "vector_weight", "bm25_weight", "rrf_k", "rerank_depth")


def retriever_config(retriever: Any, mode: str | None) -> dict[str, Any]:
    """The live retriever's settings: its mode, fusion and weights, and the reranker really in
    use (None when reranking is off, e.g. a configured cross-encoder that is not on disk)."""
    out: dict[str, Any] = {"mode": mode or getattr(retriever, "mode", "hybrid"),
                           "retriever": {f: getattr(retriever, f) for f in RETRIEVER_FIELDS if hasattr(retriever, f)}}
    reranker = getattr(retriever, "reranker", None)
    out["reranker"] = None if reranker is None else str(getattr(reranker, "name", type(reranker).__name__))
    return out


class EvalService:
    """Builds and runs question sets over an open :class:`~twin.app.container.Memory`."""

    def __init__(self, memory: Memory, files: EvalFiles | None = None):
        self.memory = memory
        self.files = files or EvalFiles(memory.paths.data_dir, memory.vault)

    def index_meta(self) -> dict[str, Any]:
        from twin.core.memory.store import META_FILE

        try:
            return dict(json.loads((self.memory.paths.index_dir / META_FILE).read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return {}

    def passages(self) -> list[Passage]:
        from twin.app.recall_service import open_index_for_reading

        store = open_index_for_reading(self.memory.paths.index_dir, self.memory.vault.codec())
        return indexed_passages(store)

    def build(self, name: str = "default", *, seed: int = 0, dated: int = 30, keyword: int = 30,
              paraphrase: int = 0, unanswerable: int = 10, engine: Engine | None = None) -> QuestionSet:
        passages = self.passages()
        if not passages:
            raise EvalError("nothing is indexed yet: run `twin index FOLDER` first")
        t0 = time.perf_counter()
        qs = build_question_set(passages, seed=seed, dated=dated, keyword=keyword,
                                paraphrase=paraphrase if engine is not None else 0, unanswerable=unanswerable,
                                paraphraser=model_paraphraser(engine) if engine is not None else None)
        qs.meta.update(name=name, created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                       index_model=self.index_meta().get("model"),
                       question_model=engine.info.model_id if engine is not None else None,
                       seconds=round(time.perf_counter() - t0, 1))
        self.files.save_set(name, qs)
        return qs

    # -- running ----------------------------------------------------------------------------

    def run(self, qs: QuestionSet, *, ks: Sequence[int] = M.DEFAULT_KS, engine: Engine | None = None,
            llm_questions: int = 10, llm_unanswerable: int = 3, answer_tokens: int = 96,
            threshold: float | None = None, judge_template: str = M.JUDGE_TEMPLATE, mode: str | None = None,
            on_question: Callable[[int, int, str], None] | None = None) -> dict[str, Any]:
        """Run ``qs``; store and return the run record (``summary`` holds the numbers).

        ``mode``: the retrieval mode for the recall numbers ("hybrid", "vector", "bm25"; None:
        the retriever's default); answers always use the chat's own retrieval."""
        t0 = time.perf_counter()
        retriever = HeldApartRetriever(self.memory.retriever, qs.held_apart)
        k_chat = max(1, self.memory.settings.chat.memories_k)
        depth = max(max(ks), k_chat)
        details: dict[str, dict[str, Any]] = {}
        outcomes: dict[str, M.Outcome] = {}
        indexed = set(self.memory.store.paths())
        stale = [q.id for q in qs.questions if q.answerable and q.source.path not in indexed]
        if stale:  # notes deleted or moved since the set was built: their questions cannot be found
            log.warning("eval: %d questions skipped: their notes are no longer indexed", len(stale))
            qs = QuestionSet([q for q in qs.questions if q.id not in set(stale)], qs.held_apart, qs.meta)
        for i, q in enumerate(qs.questions):
            if on_question:
                on_question(i + 1, len(qs.questions), "search")
            hits = retriever.search(q.text, depth, **({"mode": mode} if mode else {}))
            rank = M.first_rank(hits, q) if q.answerable else None
            abstained = None if enough_evidence is None else not enough_evidence(hits[:k_chat], threshold)
            outcomes[q.id] = M.Outcome(q.id, q.kind, q.answerable, rank, abstained)
            details[q.id] = {**q.to_json(), "rank": rank, "abstained": abstained,
                             "top": [_hit_json(h) for h in hits[:3]]}
        search_s = time.perf_counter() - t0
        if engine is not None:
            self._answer_and_judge(qs, engine, retriever, outcomes, details, llm_questions, llm_unanswerable,
                                   answer_tokens, judge_template, on_question)
        summary = M.summarise(list(outcomes.values()), ks)
        summary["abstention"]["available"] = enough_evidence is not None
        now = dt.datetime.now(dt.UTC)
        record: dict[str, Any] = {
            "id": now.strftime("%Y%m%d-%H%M%S"), "at": now.isoformat(timespec="seconds"),
            "set": qs.meta.get("name"), "set_created": qs.meta.get("created"), "set_counts": qs.counts(),
            "skipped_stale": stale,
            "config": {**run_config(self.memory.settings, self.index_meta(), engine, threshold),
                       **retriever_config(self.memory.retriever, mode)},
            "llm": engine is not None, "ks": list(ks),
            "judge_prompt": judge_template if engine is not None else None,
            "seconds": {"search": round(search_s, 1), "total": round(time.perf_counter() - t0, 1)},
            "summary": summary,
        }
        while any(r["id"] == record["id"] for r in self.files.runs()):
            record["id"] += "b"
        self.files.add_run(record, list(details.values()))
        return record

    def _answer_and_judge(self, qs: QuestionSet, engine: Engine, retriever: HeldApartRetriever,
                          outcomes: dict[str, M.Outcome], details: dict[str, dict[str, Any]], n_answerable: int,
                          n_unanswerable: int, answer_tokens: int, judge_template: str,
                          on_question: Callable[[int, int, str], None] | None) -> None:
        from twin.app.chat_service import ChatService
        from twin.core.conversation.events import TurnDone
        from twin.core.conversation.store import ConversationStore
        from twin.core.prompt.abstain import NOT_IN_NOTES

        chosen = pick_for_llm(qs.questions, n_answerable, n_unanswerable)
        store = ConversationStore(":memory:")  # a throwaway: the user's conversations stay untouched
        chat = dataclasses.replace(self.memory.settings.chat, temperature=0.0, seed=7,
                                   max_answer_tokens=min(answer_tokens, self.memory.settings.chat.max_answer_tokens))
        svc = ChatService(engine, retriever, store, chat)
        svc.search_conversations = False
        try:
            for i, q in enumerate(chosen):
                if on_question:
                    on_question(i + 1, len(chosen), "answer")
                try:
                    done = next((ev for ev in svc.ask(None, q.text) if isinstance(ev, TurnDone)), None)
                except KnownError as e:  # e.g. the context is too small: this question only
                    log.warning("eval: no answer to %s: %s", q.id, e)
                    details[q.id].update(answer="", finish_reason="error", error=str(e))
                    continue
                answer = done.answer if done is not None else ""
                refused = bool(done and (done.finish_reason == "abstained"
                                         or any(answer.startswith(s) for s in NOT_IN_NOTES.values())))
                d = details[q.id]
                d.update(answer=answer, finish_reason=done.finish_reason if done else "error",
                         answer_abstained=refused)
                verdict = control = None
                if q.answerable:
                    if refused:
                        verdict, d["judge"] = False, "not judged: the answer says the notes do not say"
                    else:
                        prompt = M.judge_prompt(q.text, self.source_text(q), answer, template=judge_template)
                        raw = complete(engine, prompt, max_tokens=3, grammar=M.JUDGE_GRAMMAR, stop=("\n",))
                        verdict = M.parse_verdict(raw)
                        d.update(judge_prompt=prompt, judge=raw)
                    wrong = M.CONTROL_ANSWERS[i % len(M.CONTROL_ANSWERS)]
                    raw = complete(engine, M.judge_prompt(q.text, self.source_text(q), wrong, template=judge_template),
                                   max_tokens=3, grammar=M.JUDGE_GRAMMAR, stop=("\n",))
                    control = M.parse_verdict(raw)
                    d.update(control_answer=wrong, control_judge=raw)
                d["verdict"] = verdict
                outcomes[q.id] = dataclasses.replace(outcomes[q.id], answer_abstained=refused, verdict=verdict,
                                                     control=control)
        finally:
            svc.close()
            store.close()

    def source_text(self, q: Question) -> str:
        """The passage that holds ``q``'s answer: the whole entry for a dated question, else
        the chunk the question was made from (found by id, else by its lines)."""
        rows = self.memory.store.rows_for_path(q.source.path)
        entry = [c for c in rows if q.source.date is None or c.entry_date == q.source.date]
        if q.kind == "dated":
            return passage_text("\n".join(c.text for c in entry))
        chunk = next((c for c in entry if c.id == q.source.chunk_id), None) or next(
            (c for c in entry if c.start_line <= q.source.end_line and c.end_line >= q.source.start_line), None)
        return passage_text(chunk.text if chunk else "\n".join(c.text for c in entry))


def pick_for_llm(questions: Sequence[Question], n_answerable: int, n_unanswerable: int) -> list[Question]:
    """The first questions of each kind in turn (answerable), then unanswerable ones."""
    out: list[Question] = []
    for answerable, n in ((True, n_answerable), (False, n_unanswerable)):
        by_kind = [[q for q in questions if q.kind == k and q.answerable == answerable] for k in M.KINDS]
        i = 0
        while sum(1 for q in out if q.answerable == answerable) < n and any(i < len(g) for g in by_kind):
            for g in by_kind:
                if i < len(g) and sum(1 for q in out if q.answerable == answerable) < n:
                    out.append(g[i])
            i += 1
    return out


def _hit_json(h: Any) -> dict[str, Any]:
    return {"path": h.path, "date": h.date.isoformat() if h.date else None, "start_line": h.start_line,
            "score": round(float(h.score), 4), "evidence": None if h.evidence is None else round(h.evidence, 4)}
