"""What a chat turn asks of memory: the question understood with the loaded model's help.

:func:`find_memories` runs in the turn's job, on the engine's own thread, before the answer
is generated (so the model's extra generations run inline, between turns, never beside one):

1. **Follow-up rewrite** (:class:`~twin.app.query_rewrite.FollowUpRewriter`; instruct models;
   ``search.rewrite_followups`` or ``--rewrite-followups``): "and then?" becomes a standalone
   question for the search.
2. **Translation** (``search.llm_expand``): the question in the other language (Russian ↔
   English), a short greedy completion by the loaded model, cached
   (:class:`~twin.core.memory.expand.CachedExpander`). The variants go to the retriever
   wherever it runs (the window's runs in a child process) as ``search(..., variants=…)``:
   both languages' words go to BM25, each variant is embedded and searched too.
3. **Search**, in the conversation's scope; ``search.llm_rerank_depth`` hits when reranking.
   A question that looks compound ("where did I live in 2019 and who did I work with?") is
   split by the model into its parts (``search.llm_split``, one cached generation); each part
   is searched too, and the lists are merged in turns (the whole question's first).
4. **Reranking** (``search.llm_rerank``): the loaded model orders the hits in one batched
   prompt (:class:`~twin.core.memory.rerank.LlmReranker`); then the first ``k``.
5. Superseded labels, past conversations kept as memory, and the dated facts of the period
   the question names ("where did I live in 2019?"). A period named only through an event
   ("the summer after I moved") is resolved first by the model against the dated facts
   (``search.llm_dates``, :mod:`twin.app.query_periods`) and added to the search query.

Every step that uses the model fails soft: a failed translation or reranking is one log
line and the search goes on without it.

**Cost.** A local model keeps the conversation in its KV cache between turns. A plain side
prompt would replace it, and the answer would then read the whole conversation again. So an
instruct model gets each side prompt as the conversation's next user message
(:func:`conversation_frame`): it reads only the request, and the answer after it finds the
conversation still cached. A base model gets plain prompts (it cannot take a request inside a
transcript), and pays the re-read. Measured with 12 notes, 6 turns, 1 CPU thread:
Gemma 3 270M (base) median turn 2.1 s without, 8.4 s with translation; in the frame (as an
instruct model gets it) 3.8 s. Hence ``llm_expand = "auto"``: on when the model runs on a GPU,
where the extra generation takes a fraction of a second; on a CPU it is seconds per new
question, so the user turns it on. ``llm_rerank`` reads every candidate: off by default.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import sqlite3
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from twin.app.chat_evidence import CONVERSATION_HITS, SCOPE_NONE, conversation_hits
from twin.app.query_rewrite import FollowUpRewriter
from twin.app.query_periods import PERIOD_PROMPT, all_dated_facts, names_relative_period, parse_period, period_facts
from twin.app.query_split import SPLIT_PROMPT, looks_compound, merge_lists, parse_parts
from twin.core.prompt.assemble import PastTurn, retrieval_query
from twin.core.types import Hit, Scope
from twin.errors import KnownError
from twin.messages import message_of, msg

if TYPE_CHECKING:
    from twin.app.chat_service import ChatService
    from twin.core.conversation.store import Conversation
    from twin.core.llm.engine import Engine
    from twin.core.prompt.assemble import AssembledPrompt
    from twin.core.prompt.persona import PromptStyle
    from twin.settings import SearchSettings

log = logging.getLogger("twin.chat")

#: A side prompt (a translation request, passages to rank) → the prompt to generate from.
Frame = Callable[[str], "AssembledPrompt"]

EXPAND_TOKENS = 48
RERANK_TOKENS = 32
SPLIT_TOKENS = 64
PERIOD_TOKENS = 16
CACHE_SIZE = 256

@dataclasses.dataclass(frozen=True)
class Found:
    """A turn's memories: what was searched, what came back, and how."""

    query: str  # the search text (a standalone rewrite first, then the recent questions)
    hits: list[Hit]
    warnings: list[str]
    searched: bool  # a search really ran (else there is nothing to abstain about)
    facts: str = ""  # the dated facts of the period the question names
    variants: tuple[str, ...] = ()  # the model's other wordings that went to the search
    period: str = ""  # the period the model read out of an event ("the summer after I moved")


class QueryUnderstanding:
    """The loaded model's help with a turn's memory search (see the module doc).

    Args:
        engine: the chat engine; its extra generations run on its own thread (inline in a turn).
        options: the ``[search]`` settings, or a callable returning the current ones (so that
            applied settings take effect at the next turn).
        complete: ``prompt -> reply`` instead of the engine's greedy completion (tests).
    """

    def __init__(self, engine: "Engine", options: "SearchSettings | Callable[[], SearchSettings]", *,
                 complete: Callable[[str], str] | None = None):
        from twin.core.memory.expand import CachedExpander, llm_translator
        from twin.core.memory.rerank import LlmReranker

        self.engine = engine
        self._options = options if callable(options) else (lambda: options)
        self._complete = complete
        self._stopping: Callable[[], bool] | None = None
        #: Set for a turn: builds its side prompts in the conversation's frame (None: plain prompts).
        self.frame: Frame | None = None
        self.expander = CachedExpander(llm_translator(lambda p: self._run(p, EXPAND_TOKENS)))
        self.reranker = LlmReranker(lambda p: self._run(p, RERANK_TOKENS), name="chat-model")
        self.splitter = CachedExpander(
            lambda q: parse_parts(self._run(SPLIT_PROMPT.format(question=q[:300]), SPLIT_TOKENS), q))
        self._rewriter: FollowUpRewriter | None = None
        self._periods: OrderedDict[tuple[str, str, dt.date], str] = OrderedDict()

    @property
    def options(self) -> "SearchSettings":
        return self._options()

    def _run(self, prompt: str, max_tokens: int) -> str:
        if self._complete is not None:
            return self._complete(prompt)
        if self.frame is not None:
            try:
                framed = self.frame(prompt)
            except KnownError as e:  # e.g. the conversation fills the context: a plain prompt
                log.info("side prompt outside the conversation: %s", e)
            else:
                return self._generate(framed, max_tokens)
        from twin.core.memory.llm_hooks import engine_completer

        return engine_completer(self.engine, max_tokens, should_stop=self._stopping)(prompt)

    def _generate(self, prompt: "AssembledPrompt", max_tokens: int) -> str:
        from twin.core.llm.engine import GenerationRequest, SamplingParams

        params = SamplingParams(max_tokens=max_tokens, temperature=0.0, top_k=1, stop=(*prompt.stop, "\n\n"))
        gen = self.engine.generate(GenerationRequest(prompt.segments, prompt.messages, chat=prompt.chat,
                                                     params=params, enable_thinking=False),
                                   should_stop=self._stopping)
        for _ in gen:
            pass
        return gen.result.text if gen.result is not None else ""

    @property
    def rewriter(self) -> FollowUpRewriter | None:
        """The follow-up rewriter when ``search.rewrite_followups`` is on."""
        if not self.options.rewrite_followups:
            return None
        if self._rewriter is None:
            self._rewriter = FollowUpRewriter(self.engine)
        return self._rewriter

    @property
    def expanding(self) -> bool:
        """Whether questions are translated now (``search.llm_expand``; "auto": on a GPU)."""
        mode = self.options.llm_expand
        if mode == "auto":
            try:
                offload = self.engine.info.offload
            except KnownError:
                return False
            return offload is not None and offload.offloaded_layers > 0
        return mode == "on"

    @property
    def reranking(self) -> bool:
        return bool(self.options.llm_rerank)

    def depth(self, k: int) -> int:
        """How many hits to ask the search for: more when the model reranks them."""
        return max(k, self.options.llm_rerank_depth) if self.reranking else k

    def variants(self, question: str, should_stop: Callable[[], bool] | None = None) -> list[str]:
        """The question in the other language (cached; [] when off, stopped or failed)."""
        question = " ".join(question.split())
        if not question or not self.expanding:
            return []
        calls = self.expander.calls
        self._stopping = should_stop
        try:
            found = self.expander(question)
        finally:
            self._stopping = None
        if should_stop is not None and should_stop():
            self.expander.forget(question)  # a cut-off translation must not be reused
            return []
        if self.expander.calls != calls:
            log.info("question translated for the search: %r -> %r", question, found)
        return found

    def period(self, question: str, dated_facts: Callable[[], str], today: dt.date,
               should_stop: Callable[[], bool] | None = None) -> str:
        """The period a question names through an event of the user's life, as a date phrase
        ("summer 2019"), resolved against ``dated_facts()`` (cached; "" when off, not such a
        question, no facts, stopped or failed). See :mod:`twin.app.query_periods`."""
        if not (self.options.llm_dates and names_relative_period(question, today)):
            return ""
        facts = dated_facts()
        key = (" ".join(question.split()), facts, today)
        if not facts or key in self._periods:
            return self._periods.get(key, "")
        self._stopping = should_stop
        try:
            reply = self._run(PERIOD_PROMPT.format(facts=facts[:3000], today=today.isoformat(), question=key[0]),
                              PERIOD_TOKENS)
        except Exception as e:  # noqa: BLE001 - no period is a fine answer
            log.warning("the question's period not resolved, searching without it: %s", e)
            return ""
        finally:
            self._stopping = None
        if should_stop is not None and should_stop():
            return ""
        found = self._periods[key] = parse_period(reply, today)
        while len(self._periods) > CACHE_SIZE:
            self._periods.popitem(last=False)
        log.info("the question's period for the search: %r -> %r", key[0], found)
        return found

    def parts(self, question: str, should_stop: Callable[[], bool] | None = None) -> list[str]:
        """A compound question's parts (cached; [] when off, simple, stopped or failed)."""
        question = " ".join(question.split())
        if not (self.options.llm_split and looks_compound(question)):
            return []
        self._stopping = should_stop
        try:
            found = self.splitter(question)
        finally:
            self._stopping = None
        if should_stop is not None and should_stop():
            self.splitter.forget(question)
            return []
        return found

    def rerank(self, question: str, hits: list[Hit], k: int, should_stop: Callable[[], bool] | None = None) -> list[Hit]:
        """``hits`` ordered by the model in one prompt (when on), then the first ``k``."""
        if self.reranking and len(hits) > 1 and not (should_stop is not None and should_stop()):
            from twin.core.memory.rerank import rerank

            self._stopping = should_stop
            try:
                hits = rerank(self.reranker, question, hits, _passage)
            finally:
                self._stopping = None
        return hits[:k]


def _passage(h: Hit) -> str:
    return f"{h.heading}\n{h.text}" if h.heading else h.text


def find_memories(svc: "ChatService", conv: "Conversation", text: str, history: Sequence[PastTurn],
                  stopping: Callable[[], bool], style: "PromptStyle | None" = None) -> Found:
    """The memories for ``text`` in ``conv`` (see the module doc), on the engine's thread.
    ``style``: the turn's prompt style; an instruct model's side prompts then go in the
    conversation's frame (:func:`conversation_frame`). A base model gets plain prompts: it
    continues text, and a request inside a chat transcript it continues as more transcript."""
    qu = svc.understanding
    if qu is None or style is None or svc._chat_template() is None:
        return _find(svc, conv, text, history, stopping)
    qu.frame = conversation_frame(svc, conv, history, style)
    try:
        return _find(svc, conv, text, history, stopping)
    finally:
        qu.frame = None


def conversation_frame(svc: "ChatService", conv: "Conversation", history: Sequence[PastTurn],
                       style: "PromptStyle") -> Frame:
    """Side prompts as the conversation's next user message: its persona and past turns first,
    as the KV cache holds them from the last answer, so a local model reads only the request;
    and the answer's prompt after it finds the same prefix (a plain prompt would replace the
    cache, and the answer would read the whole conversation again)."""
    from twin.core.prompt.assemble import assemble
    from twin.core.prompt.budget import Budget

    s, n_ctx = svc.settings, svc.engine.info.n_ctx
    plain = dataclasses.replace(style, thinking=False)

    def frame(request: str) -> "AssembledPrompt":
        return assemble(request, [], history, style=plain, budget=Budget(n_ctx, s.max_answer_tokens, s.memory_share),
                        count=lambda t, trusted: svc.engine.count_tokens(t, trusted=trusted),
                        template=svc._chat_template(), min_history_start=conv.history_start)

    return frame


def _find(svc: "ChatService", conv: "Conversation", text: str, history: Sequence[PastTurn],
          stopping: Callable[[], bool]) -> Found:
    s, qu = svc.settings, svc.understanding
    query = retrieval_query(text, history, turns=s.query_context_turns)
    rewriter = svc.rewriter or (qu.rewriter if qu is not None else None)
    standalone = rewriter.standalone(text, history, svc._chat_template(), stopping) if rewriter is not None else ""
    if standalone:
        query = f"{standalone}\n{query}"
    question = standalone or text
    k = s.memories_k
    wanted = svc.retriever is not None and k > 0 and bool(query) and conv.scope.strip() != SCOPE_NONE
    variants = qu.variants(question, stopping) if qu is not None and wanted else []
    when = qu.period(question, lambda: all_dated_facts(svc), svc.today(), stopping) if qu is not None and wanted else ""
    if when:  # the retriever reads the period from the query (it narrows only where notes answer)
        query = f"{query} ({when})"
    depth = qu.depth(k) if qu is not None else k
    hits, warnings, searched = search_memories(svc.retriever, query, depth, conv.scope, variants)
    parts = qu.parts(question, stopping) if qu is not None and searched else []
    if parts:
        lists = [hits] + [search_memories(svc.retriever, p, depth, conv.scope)[0] for p in parts]
        hits = merge_lists(lists)[:depth]
    if searched:
        hits = qu.rerank(question, hits, k, stopping) if qu is not None else hits[:k]
        hits = _with_conversations(svc, _annotated(svc, hits), query, conv.id)
    facts = period_facts(svc, f"{text} ({when})" if when else text) if conv.scope.strip() != SCOPE_NONE else ""
    return Found(query, hits, warnings, searched, facts, tuple(variants), when)


def search_memories(retriever: Any, query: str, k: int, scope: str = "",
                    variants: Sequence[str] = ()) -> tuple[list[Hit], list[str], bool]:
    """The memories, warnings, and whether a search really ran (scope "none", memory off or
    a failed search: no, so there is nothing to abstain about)."""
    try:
        chosen = Scope.parse(scope)
    except ValueError as e:  # a scope stored by a newer version, or edited by hand
        log.warning("ignoring the conversation's scope: %s", e)
        chosen = Scope.all()
    if retriever is None or k <= 0 or not query or chosen.kind == "none":
        return [], [], False
    options: dict[str, Any] = {"variants": tuple(variants)} if variants else {}
    try:
        if chosen.kind != "all":
            try:
                return list(_search(retriever, query, k, options, scope=chosen)), [], True
            except TypeError as e:  # a retriever that cannot limit the scope: say so, never widen it
                log.warning("the memory search cannot apply scope %s: %s", chosen, e)
                return [], [msg("chat.scope_unsupported", scope=str(chosen))], False
        return list(_search(retriever, query, k, options)), [], True
    except KnownError as e:  # an unusable index must not make chatting impossible
        log.warning("memory search failed: %s", e)
        return [], [msg("chat.memories_unavailable", error=message_of(e) or str(e))], False


def _search(retriever: Any, query: str, k: int, options: dict[str, Any], **kw: Any) -> list[Hit]:
    """``retriever.search`` with the variants, or without them when it takes none."""
    if options:
        try:
            return retriever.search(query, k, **kw, **options)
        except TypeError as e:
            if "variants" not in str(e):
                raise
            log.info("this memory search takes no query variants: searching the question alone")
    return retriever.search(query, k, **kw)


def _with_conversations(svc: "ChatService", hits: list[Hit], query: str, conversation_id: str) -> list[Hit]:
    """``hits`` plus the best messages of past conversations kept as memory (after the
    notes: notes are the primary record), cited as "conversation: <title>"."""
    if not svc.search_conversations:
        return hits
    try:
        found = svc.conversations.search_memory(query, CONVERSATION_HITS, exclude=conversation_id)
    except (KnownError, sqlite3.Error) as e:  # a damaged database must not stop chatting
        log.warning("past conversations unavailable for this answer: %s", e)
        return hits
    return hits + conversation_hits(found)


def _annotated(svc: "ChatService", hits: list[Hit]) -> list[Hit]:
    if svc.annotate_hits is None or not hits:
        return hits
    try:
        return svc.annotate_hits(hits)
    except (OSError, ValueError, KnownError) as e:
        log.warning("memory labels unavailable: %s", e)
        return hits
