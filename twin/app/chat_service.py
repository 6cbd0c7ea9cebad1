"""ChatService: one chat turn end to end — retrieve, assemble, generate, store.

One token pump: a turn runs as one job on the engine's own thread (``Engine.submit``):
retrieval, prompt assembly (token counts are direct calls there), tokenizing, prefill and
decode, and every event goes from that thread straight to the caller's sink. ``ask_async()``
(the window) posts each event onto its asyncio loop with ``call_soon_threadsafe``; ``ask()``
(the CLI, tests) is a plain generator whose sink is a blocking queue it reads. No thread of
the service's own, no polling.

Per turn: the user's words and the memories block they were sent with are stored; the
answer's row is created (incomplete) before the first token, saved about every second while
it streams, and finished at the end — cancelled and failed answers stay, marked incomplete.
Thinking goes to its own events and column and is never put back into a prompt.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import queue
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import Future
from typing import Protocol

from twin.app.chat_evidence import LEXICAL_SUPPORT, EvidenceFn, PeriodFactsFn, default_evidence, known_facts
from twin.app.engines import make_engine  # noqa: F401 - re-exported: its old home
from twin.app.query_rewrite import FollowUpRewriter
from twin.app.query_understanding import QueryUnderstanding, find_memories
from twin.core.conversation.events import Thinking, Token, TurnDone, TurnEvent, TurnStarted, TurnTimings, TurnUsage
from twin.core.conversation.store import ConversationStore, Message
from twin.core.llm.engine import Engine, GenerationRequest, GenerationResult, SamplingParams, Segment, Usage
from twin.core.prompt import abstain as A
from twin.core.prompt.assemble import AssembledPrompt, PastTurn, assemble
from twin.core.prompt.budget import Budget
from twin.core.prompt.citations import Citation, cited_numbers
from twin.core.prompt.persona import PromptStyle
from twin.core.prompt.template import ChatTemplate
from twin.core.prompt.thinking import THINKING, ThinkSplitter
from twin.core.types import Hit
from twin.errors import KnownError
from twin.llm_settings import ChatSettings

log = logging.getLogger("twin.chat")

SAVE_EVERY_S = 1.0
TITLE_CHARS = 60


class Retriever(Protocol):
    def search(self, query: str, k: int) -> list[Hit]: ...


#: After-answer hook: (conversation id, the user's words) → statements to offer to remember.
OfferFn = Callable[[str, str], Sequence[str]]


def past_turns(messages: Sequence[Message]) -> list[PastTurn]:
    """Earlier exchanges from stored messages (a user message and the answer after it).
    Exchanges without an answer text are left out."""
    turns: list[PastTurn] = []
    pending: Message | None = None
    for m in messages:
        if m.role == "user":
            pending = m
        elif pending is not None:
            if m.content.strip():
                turns.append(PastTurn(pending.content, pending.memories, m.content))
            pending = None
    return turns


def auto_title(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1].rstrip() + "…"


class ChatService:
    """Chat turns over an engine, a retriever (duck-typed; may be None) and a store."""

    def __init__(self, engine: Engine, retriever: Retriever | None, conversations: ConversationStore,
                 settings: ChatSettings):
        self.engine = engine
        self.retriever = retriever
        self.conversations = conversations
        self.settings = settings
        self._stop: threading.Event | None = None
        self._turn_future: Future[None] | None = None
        self._template: tuple[str, ChatTemplate] | None = None
        #: Set by the app (see twin.app.chat_memories): fills ``TurnDone.offers``.
        self.offer_memories: OfferFn | None = None
        #: Set by the app (see twin.app.profile_service): (n_ctx, token counter) → the accepted
        #: self-profile facts for the persona part of the prompt, within their budget.
        self.profile_text: Callable[[int, Callable[[str], int]], str] | None = None
        #: Decides whether the memories found answer the question (abstention); None: never abstain.
        self.evidence: EvidenceFn | None = default_evidence
        #: Set by the app: the profile facts and chat memories that held in a period the
        #: question names ("where did I live in 2019?"), shown before the memories.
        self.period_facts: PeriodFactsFn | None = None
        #: Search past conversations kept as memory (``Conversation.as_memory``) in each turn.
        self.search_conversations = True
        #: New conversations: their scope and whether they are kept as memory.
        self.default_scope = ""
        self.default_as_memory = False
        self.today: Callable[[], dt.date] = dt.date.today
        #: Set by the app (see twin.app.time_facts): labels memories a newer note superseded.
        self.annotate_hits: Callable[[Sequence[Hit]], list[Hit]] | None = None
        #: Rewrites a follow-up into a standalone question for the search (None: off, the
        #: default: it costs a short generation and, locally, the next turn's KV-cache prefix).
        self.rewriter: FollowUpRewriter | None = None
        #: Set by the app: the model's translation of the question for the search, reranking,
        #: and the rewriter the settings ask for (:mod:`twin.app.query_understanding`).
        self.understanding: QueryUnderstanding | None = None

    def close(self) -> None:
        """Stop the turn that is running and wait until it has stored its partial answer."""
        self.cancel()
        turn = self._turn_future
        if turn is not None:
            try:
                turn.result(timeout=60)
            except BaseException:  # noqa: BLE001 - its error went to its consumer already
                pass

    def cancel(self) -> None:
        """Stop the turn that is running (if any); its partial answer is kept."""
        if self._stop is not None:
            self._stop.set()

    # -- the turn ---------------------------------------------------------------------------

    def ask(self, conversation_id: str | None, text: str, *, should_stop: Callable[[], bool] | None = None,
            thinking: bool | None = None) -> Iterator[TurnEvent]:
        """Answer ``text`` in a conversation (a new one when ``conversation_id`` is None).

        The turn runs on the engine's thread; this generator reads its events from a queue
        (blocking, no timer). Leaving the loop early stops the turn and keeps the partial answer.

        Raises:
            KnownError: e.g. ConversationNotFound, ContextOverflowError, or the engine's errors.
        """
        events: queue.SimpleQueue[object] = queue.SimpleQueue()
        stop = threading.Event()

        def stopping() -> bool:
            return stop.is_set() or (should_stop is not None and should_stop())

        turn = self.start_turn(conversation_id, text, events.put, should_stop=stopping, thinking=thinking)
        try:
            while True:
                item = events.get()
                if item is _END:
                    break
                if isinstance(item, _Failure):
                    raise item.error
                yield item  # type: ignore[misc]  # the queue holds only this turn's events
        finally:
            stop.set()
            try:
                turn.result()
            except BaseException:  # noqa: BLE001 - relayed as a _Failure above
                pass

    def start_turn(self, conversation_id: str | None, text: str, sink: Callable[[object], None], *,
                   should_stop: Callable[[], bool] | None = None, thinking: bool | None = None) -> Future[None]:
        """Run one turn on the engine's thread; ``sink`` gets each :class:`TurnEvent` there,
        then a ``_Failure`` if it failed, then ``_END``. Raises EngineNotReadyError at once
        (nothing stored) when the model is not loaded."""
        self.engine.info  # noqa: B018 - EngineNotReadyError before anything is queued or stored
        stop = self._stop = threading.Event()  # cancel() works while the turn waits for the engine

        def stopping() -> bool:
            return stop.is_set() or (should_stop is not None and should_stop())

        def job() -> None:
            try:
                self._turn(conversation_id, text, sink, stopping, thinking)
            except BaseException as e:  # noqa: BLE001 - thread boundary: re-raised by the consumer
                if not isinstance(e, KnownError):
                    log.exception("chat turn failed")
                sink(_Failure(e))
            finally:
                sink(_END)

        turn = self._turn_future = self.engine.submit(job)
        return turn

    def _turn(self, conversation_id: str | None, text: str, emit: Callable[[TurnEvent], None],
              stopping: Callable[[], bool], thinking: bool | None) -> None:
        """The whole turn, on the engine's thread: events go to ``emit`` as they happen."""
        t0 = time.perf_counter()
        s, store = self.settings, self.conversations
        info = self.engine.info  # EngineNotReadyError before anything is stored
        conv = (store.get(conversation_id) if conversation_id
                else store.create(auto_title(text), persona_mode=s.persona_mode, thinking=s.thinking,
                                  scope=self.default_scope, as_memory=self.default_as_memory))
        try:
            history = past_turns(store.messages(conv.id))
            profile = self._profile(info.n_ctx)
            style = PromptStyle(persona=s.persona, mode=conv.persona_mode, user_name=s.user_name,
                                thinking=conv.thinking if thinking is None else thinking,
                                user_label=s.user_label, twin_label=s.twin_label, profile=profile)
            found = find_memories(self, conv, text, history, stopping, style)  # may use the model first
            hits, warnings, searched, facts = found.hits, found.warnings, found.searched, found.facts
            plan = A.plan_answer(text, enough=self._enough(text, hits, profile, facts) if searched else None,
                                 close=A.lexical_support(text, hits) > 0)
            prompt = assemble(
                text, hits, history, style=style,
                budget=Budget(info.n_ctx, s.max_answer_tokens, s.memory_share),
                count=lambda t, trusted: self.engine.count_tokens(t, trusted=trusted),
                template=self._chat_template(), min_history_start=conv.history_start,
                notice=A.CLOSEST_NOTICE if plan.mode != "answer" else "",
                instruction=A.HEDGE_INSTRUCTION.format(preface=plan.preface) if plan.mode == "hedge" else "",
                facts=facts,
            )
        except BaseException:
            if conversation_id is None:  # leave no empty conversation behind
                store.delete(conv.id, vacuum=False)
            raise
        user_msg = store.add_user_message(conv.id, text, memories=prompt.memories)
        if prompt.history_start != conv.history_start:
            store.set_options(conv.id, history_start=prompt.history_start)
        answer_id = store.begin_assistant_message(conv.id, model=info.model_id, citations=prompt.citations)
        emit(TurnStarted(conv.id, prompt.citations, user_msg.id, answer_id, tuple(warnings), prompt.memories))
        if plan.mode == "abstain":  # about the user, and the notes do not say: no model, no invention
            for event in self._abstain(plan, hits, prompt, answer_id, conv.id, text, t0, info.model_id):
                emit(event)
            return

        params = SamplingParams(
            max_tokens=s.max_answer_tokens, temperature=s.temperature, top_p=s.top_p, top_k=s.top_k,
            min_p=s.min_p, repeat_penalty=s.repeat_penalty, seed=s.seed, stop=prompt.stop)
        segments = prompt.segments
        prefilled = bool(plan.preface) and not prompt.enable_thinking
        if prefilled:
            # the model continues after the fixed sentence, as if it had said it (the next turn's
            # history then renders the same tokens it already read: the KV cache is kept)
            segments += (Segment(plan.preface if prompt.chat else " " + plan.preface, trusted=False),)
        request = GenerationRequest(segments, prompt.messages, chat=prompt.chat, params=params,
                                    enable_thinking=prompt.enable_thinking)
        splitter = ThinkSplitter(preface=plan.preface, prefilled=prefilled)
        t_first: float | None = None
        saved = time.monotonic()

        def on_piece(piece: str) -> None:  # on the engine's thread, between two decodes
            nonlocal t_first, saved
            for channel, part in splitter.feed(piece):
                t_first = t_first or time.perf_counter()
                emit(Thinking(part) if channel == THINKING else Token(part))
            if time.monotonic() - saved > SAVE_EVERY_S:
                store.update_partial(answer_id, splitter.answer, splitter.thinking)
                saved = time.monotonic()

        try:
            # on the engine's thread this runs inline: tokenize, prefill, decode, on_piece
            gen = self.engine.generate(request, should_stop=stopping, on_piece=on_piece)
            result = gen.wait()
            for channel, part in splitter.finish():
                emit(Thinking(part) if channel == THINKING else Token(part))
        except BaseException:  # engine errors: keep the partial answer
            store.finish_assistant_message(answer_id, content=splitter.answer.strip(), thinking=splitter.thinking,
                                           citations=prompt.citations, complete=False, finish_reason="error")
            raise
        done = self._finish(answer_id, conv.id, splitter, prompt.citations, result, t0, t_first, info.model_id)
        emit(self._with_offers(done, text))

    def _with_offers(self, done: TurnDone, text: str) -> TurnDone:
        """``done`` with the self-facts of ``text`` to offer to remember (never fails the turn)."""
        if self.offer_memories is None:
            return done
        try:
            offers = tuple(self.offer_memories(done.conversation_id, text))
        except (OSError, ValueError, KnownError) as e:
            log.warning("memory offers unavailable: %s", e)
            return done
        return dataclasses.replace(done, offers=offers) if offers else done

    def _profile(self, n_ctx: int) -> str:
        if self.profile_text is None:
            return ""
        try:
            return self.profile_text(n_ctx, lambda t: self.engine.count_tokens(t))
        except (OSError, ValueError, KnownError) as e:  # a broken profile must not stop chatting
            log.warning("profile facts unavailable for this answer: %s", e)
            return ""

    def _enough(self, question: str, hits: Sequence[Hit], profile: str = "", facts: str = "") -> bool | None:
        """Whether the memories, or the profile facts in the prompt, answer ``question``."""
        if self.evidence is None:
            return None
        try:
            if facts or self.evidence(question, hits):  # dated facts of the period asked about answer it
                return True
            # accepted profile facts in the prompt are evidence too
            return bool(A.lexical_support(question, known_facts(profile)) >= LEXICAL_SUPPORT)
        except (KnownError, ValueError, TypeError) as e:  # no decision: answer as usual
            log.warning("evidence check failed: %s", e)
            return None

    def _abstain(self, plan: A.AnswerPlan, hits: Sequence[Hit], prompt: AssembledPrompt, answer_id: int,
                 conversation_id: str, text: str, t0: float, model: str) -> Iterator[TurnEvent]:
        """The deterministic answer of a personal question the notes do not answer."""
        answer = A.closest_answer(plan, hits[:len(prompt.citations)])
        yield Token(answer)
        splitter = ThinkSplitter()
        splitter.feed(answer)
        splitter.finish()
        result = GenerationResult(answer, "abstained", Usage(prompt.prompt_tokens, 0, 0), None, 0.0)
        done = self._finish(answer_id, conversation_id, splitter, prompt.citations, result, t0,
                            time.perf_counter(), model)
        log.info("abstained: the notes do not answer a personal question")
        yield self._with_offers(done, text)

    def _chat_template(self) -> ChatTemplate | None:
        info = self.engine.info
        if info.kind != "instruct" or not info.chat_template:
            return None
        if self._template is None or self._template[0] != info.chat_template:
            self._template = (info.chat_template,
                              ChatTemplate(info.chat_template, bos_token=info.bos_token, eos_token=info.eos_token))
        return self._template[1]

    def _finish(self, answer_id: int, conversation_id: str, splitter: ThinkSplitter, citations: tuple[Citation, ...],
                result: GenerationResult, t0: float, t_first: float | None, model: str) -> TurnDone:
        answer = splitter.answer.strip()
        usage = TurnUsage(result.usage.prompt_tokens, result.usage.prompt_tokens_evaluated,
                          result.usage.completion_tokens)
        total = time.perf_counter() - t0
        timings = TurnTimings(ttft_s=(t_first - t0) if t_first else None, tokens_per_s=result.tokens_per_s,
                              total_s=total)
        self.conversations.finish_assistant_message(
            answer_id, content=answer, thinking=splitter.thinking.strip(), citations=citations,
            complete=result.complete, finish_reason=result.finish_reason, prompt_tokens=usage.prompt_tokens,
            prompt_tokens_evaluated=usage.prompt_tokens_evaluated, completion_tokens=usage.completion_tokens,
            ttft_ms=timings.ttft_s * 1000 if timings.ttft_s is not None else None, duration_ms=total * 1000,
            tokens_per_s=timings.tokens_per_s)
        log.info("turn done: %d prompt tokens (%d read), %d generated, %s", usage.prompt_tokens,
                 usage.prompt_tokens_evaluated, usage.completion_tokens, result.finish_reason)
        return TurnDone(conversation_id, answer, splitter.thinking.strip(), citations, usage, timings,
                        result.complete, result.finish_reason, model, tuple(cited_numbers(answer)))

    # -- asyncio ----------------------------------------------------------------------------

    async def ask_async(self, conversation_id: str | None, text: str, *,
                        thinking: bool | None = None) -> AsyncIterator[TurnEvent]:
        """:meth:`ask` for the event loop: the turn runs on the engine's thread, which posts
        each event onto this loop (``call_soon_threadsafe``); yields on the loop.

        Cancelling the consuming task, ``aclose()``, or :meth:`cancel` stops the turn. A
        consumer that may leave early should wrap it in ``contextlib.aclosing`` so the stop
        happens at once rather than when the generator is collected.
        """
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[object] = asyncio.Queue()
        stop = threading.Event()

        def post(item: object) -> None:  # on the engine's thread
            try:
                loop.call_soon_threadsafe(events.put_nowait, item)
            except RuntimeError:  # the loop is closed: nobody is listening any more
                stop.set()

        turn = self.start_turn(conversation_id, text, post, should_stop=stop.is_set, thinking=thinking)
        try:
            while True:
                item = await events.get()
                if item is _END:
                    break
                if isinstance(item, _Failure):
                    raise item.error
                yield item  # type: ignore[misc]  # the queue holds only this turn's events
        finally:
            stop.set()
            try:
                await asyncio.shield(asyncio.wrap_future(turn))
            except BaseException:  # noqa: BLE001 - its error was relayed above; a cancel ends the wait
                pass


_END = object()


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error
