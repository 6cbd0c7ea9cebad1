"""ChatPane: one conversation: the model banner, the messages and the composer.

It turns the composer's input into controller turns and follows each turn's signals into a
streaming bubble. Regenerate and edit-and-resend rewind the conversation (the controller
drops the old messages) and the pane removes the matching bubbles before streaming again.

Opening a conversation reads it on the app's pool (never on the GUI thread): the pane shows it
when it lands, unless another conversation was opened meanwhile (each opening has a number;
an older one's messages are dropped). A question sent while it loads waits for it.

Signals:
    conversation_changed(object): the shown conversation's id changed (str, or None for a
        new, still empty chat).
    answer_selected(object): an answer bubble was selected (for the sources panel).
    citation_clicked(object, int): ``[N]`` clicked in an answer bubble.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from twin.app.documents_service import attach_text, split_attachment
from twin.core.conversation.events import TurnDone, TurnStarted
from twin.core.conversation.store import ConversationNotFound
from twin.errors import KnownError
from twin.ui.composer import Composer
from twin.ui.controller import ChatTurn, Controller
from twin.ui.i18n import shown
from twin.ui.conversation_jobs import Opened
from twin.ui.jobs import Delivery
from twin.ui.markdown_render import MarkdownRenderer
from twin.ui.memory_offer_bar import MemoryOfferBar
from twin.ui.message_bubble import MessageBubble
from twin.ui.message_view import MessageView

log = logging.getLogger("twin.ui")

#: An attached document may take about this share of the model's context (chars ≈ 3 × tokens).
ATTACH_SHARE = 0.5


class ChatPane(QWidget):
    conversation_changed = Signal(object)
    answer_selected = Signal(object)
    citation_clicked = Signal(object, int)
    settings_requested = Signal()

    def __init__(self, controller: Controller, renderer: MarkdownRenderer, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.conversation_id: str | None = None
        self.turn: ChatTurn | None = None
        self._answer: MessageBubble | None = None
        self._question: MessageBubble | None = None
        self._last_question = ""
        self._delivery = Delivery(self)
        self.opening = 0  # the number of the newest opening; an older one's messages are dropped
        self.loading = False  # a conversation is being read
        self._waiting: str | None = None  # a question sent while it was read
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 8)
        layout.setSpacing(6)

        banner_row = QHBoxLayout()
        banner_row.setContentsMargins(12, 8, 12, 0)
        self.banner = QLabel(objectName="Banner", wordWrap=True)
        self.banner_button = QPushButton(self.tr("Settings…"))
        self.banner_button.clicked.connect(self.settings_requested)
        self.load_bar = QProgressBar(maximumWidth=160)
        self.load_bar.setRange(0, 100)
        banner_row.addWidget(self.banner, 1)
        banner_row.addWidget(self.load_bar)
        banner_row.addWidget(self.banner_button)
        self._banner_widgets = (self.banner, self.banner_button, self.load_bar)
        layout.addLayout(banner_row)

        self.view = MessageView(renderer)
        self.view.answer_selected.connect(self.answer_selected)
        self.view.citation_clicked.connect(self.citation_clicked)
        self.view.regenerate_requested.connect(self.regenerate)
        self.view.edit_requested.connect(self._begin_edit)
        self.view.retry_requested.connect(self._retry)
        layout.addWidget(self.view, 1)

        offer_row = QHBoxLayout()
        offer_row.setContentsMargins(12, 0, 12, 0)
        self.offer_bar = MemoryOfferBar()
        self.offer_bar.remember_requested.connect(self._remember)
        self.offer_bar.dismissed.connect(lambda s: self.controller.dismiss_memory(self.conversation_id, s))
        offer_row.addWidget(self.offer_bar)
        layout.addLayout(offer_row)

        row = QHBoxLayout()
        row.setContentsMargins(12, 0, 12, 0)
        self.composer = Composer()
        self.composer.edit.setAcceptDrops(False)  # drops go to the window (ingest or attach)
        self.composer.think.setChecked(controller.settings.chat.thinking)
        self.composer.submitted.connect(self.send)
        self.composer.stop_requested.connect(self.stop)
        self.composer.scope.changed.connect(self._scope_changed)
        row.addWidget(self.composer)
        layout.addLayout(row)

        m = controller.model
        m.loading.connect(lambda _n: self._update_banner())
        m.progress.connect(lambda _f: self._update_banner())
        m.ready.connect(lambda _i: self._update_banner())
        m.failed.connect(lambda _e: self._update_banner())
        self._update_banner()

    # -- model banner -----------------------------------------------------------------------

    def _update_banner(self) -> None:
        m = self.controller.model
        if m.is_ready:
            for w in self._banner_widgets:
                w.hide()
            return
        if m.error:
            self.banner.setText(self.tr("No language model yet — {error}  Memory search (right panel) works "
                                        "meanwhile.").format(error=m.error.splitlines()[0]))
            self.load_bar.hide()
            self.banner_button.show()
        else:
            self.banner.setText(self.tr("Loading the model in the background… you can type already."))
            self.load_bar.setValue(int(m.fraction * 100))
            self.load_bar.show()
            self.banner_button.hide()
        self.banner.show()

    # -- conversations ----------------------------------------------------------------------

    def open_conversation(self, cid: str | None) -> None:
        """Show ``cid`` (None: a new chat); its messages are read on the pool and shown when
        they land, unless another conversation was opened meanwhile."""
        if self.turn is not None and not self.turn.is_finished and cid != self.conversation_id:
            self._detach_turn()
        self.opening += 1
        opening = self.opening
        self.conversation_id = cid
        self.composer.end_edit()
        self.offer_bar.clear()
        self.view.clear()
        self.loading = cid is not None
        if cid is None and self._waiting is not None:  # not sent: back into the composer
            if not self.composer.text():
                self.composer.edit.setPlainText(self._waiting)
            self._waiting = None
        if cid is not None:
            try:
                job = self.controller.history.load(cid)
            except RuntimeError:  # the app's pool is closed: shutting down
                return
            self._delivery.deliver(job, lambda done: self._opened(opening, cid, done))
        self.conversation_changed.emit(self.conversation_id)

    def _opened(self, opening: int, cid: str, job: Future[Opened]) -> None:
        if opening != self.opening:
            return  # another conversation was opened since: this one is not shown
        self.loading = False
        opened: Opened | None = None
        try:
            opened = job.result()
        except ConversationNotFound:
            pass
        except KnownError as e:  # unreadable (a damaged sealed value): said in the pane
            log.warning("cannot open conversation %s: %s", cid, e)
            self.view.add_error(shown(e))
        except Exception:  # noqa: BLE001 - logged; the window goes on with a new chat
            log.exception("cannot open conversation %s", cid)
        if opened is None:  # gone (deleted elsewhere) or unreadable: a new chat instead
            self.conversation_id = None
            self.conversation_changed.emit(None)
        else:
            self.view.load(opened.messages)
            # the chip shows the open conversation's scope (a new chat keeps the last choice)
            self.composer.scope.set_state(opened.conversation.scope, opened.conversation.as_memory)
        if self._waiting is not None:
            text, self._waiting = self._waiting, None
            self.send(text)

    def _scope_changed(self, scope: str, as_memory: bool) -> None:
        if self.conversation_id is not None:
            self.controller.set_options(self.conversation_id, scope=scope, as_memory=as_memory)

    def new_chat(self) -> None:
        self.open_conversation(None)
        self.composer.edit.setFocus()

    # -- turns ------------------------------------------------------------------------------

    def send(self, text: str) -> None:
        if self.loading:  # the conversation is still being read: ask once it is shown
            self._waiting = text
            return
        attachments = self.composer.take_attachments()
        if attachments:
            n_ctx = self.controller.model.info.n_ctx if self.controller.model.info else 8192
            budget = int(n_ctx * 3 * ATTACH_SHARE) // len(attachments)
            for a in attachments:
                text = attach_text(text or self.tr("Summarize this document."), a.name, a.text, budget)
        if not text:
            return
        rewind_from = self.composer.editing_id
        if rewind_from is not None:
            self.composer.end_edit()
            self._drop_bubbles_from(rewind_from)
        self._last_question = text
        chat = self.controller.model.chat
        if chat is not None:  # a new conversation starts with the chip's choice
            chat.default_scope, chat.default_as_memory = self.composer.scope.stored(), self.composer.scope.as_memory
        self._start(self.controller.ask(self.conversation_id, text, thinking=self.composer.think.isChecked(),
                                        rewind_from=rewind_from), text)

    def regenerate(self, answer_id: int) -> None:
        if self.conversation_id is None or not answer_id:
            return
        question = self._drop_bubbles_from(answer_id)
        self._start(self.controller.regenerate(self.conversation_id, answer_id), question)

    def _start(self, turn: ChatTurn, text: str) -> None:
        self._detach_turn()
        self.turn = turn
        self._question = self.view.add_user(text)
        self._answer = self.view.begin_answer()
        # each handler checks that the turn is still this pane's (a newer one replaces it)
        turn.started.connect(lambda ev, t=turn: t is self.turn and self._on_started(ev))
        turn.token.connect(lambda p, t=turn: t is self.turn and self._on_token(p))
        turn.thinking.connect(lambda p, t=turn: t is self.turn and self._on_thinking(p))
        turn.done.connect(lambda d, t=turn: t is self.turn and self._on_done(d))
        turn.failed.connect(lambda m, t=turn: t is self.turn and self._on_failed(m))
        turn.finished.connect(lambda t=turn: t is self.turn and self._on_finished())
        self.composer.set_busy(True)

    def _detach_turn(self) -> None:
        """Stop following the current turn (it may go on; its bubble stops streaming)."""
        if self._answer is not None and self._answer.streaming:
            self._answer.end_stream()
        self.turn = None
        self.composer.set_busy(False)

    def _drop_bubbles_from(self, message_id: int) -> str:
        """Remove the bubble of ``message_id`` (an answer: from its question) and all after."""
        bubbles = self.view.bubbles()
        idx = next((i for i, b in enumerate(bubbles) if b.message_id == message_id), None)
        if idx is None:
            return ""
        if bubbles[idx].role == "assistant":
            while idx > 0 and bubbles[idx].role != "user":
                idx -= 1
        question = bubbles[idx].text if bubbles[idx].role == "user" else ""
        for b in bubbles[idx:]:
            self.view.remove(b)
        return question

    def stop(self) -> None:
        self.controller.stop()

    def _on_started(self, ev: TurnStarted) -> None:
        if self.conversation_id != ev.conversation_id:
            self.conversation_id = ev.conversation_id
            self.conversation_changed.emit(ev.conversation_id)
        if self._question is not None:
            self._question.message_id = ev.user_message_id
        if self._answer is not None:
            self._answer.message_id = ev.assistant_message_id
            self._answer.set_citations(ev.citations)
            self._answer.memories = ev.memories  # carried by the event: no database read here
            if ev.warnings:
                self._answer.set_meta(self.tr("Twin") + " · " + " ".join(shown(w) for w in ev.warnings))

    def _on_token(self, piece: str) -> None:
        if self._answer is not None:
            self._answer.append(piece)

    def _on_thinking(self, piece: str) -> None:
        if self._answer is not None:
            self._answer.append_thinking(piece)

    def _on_done(self, done: TurnDone) -> None:
        if self._answer is not None:
            self.view.finish_answer(self._answer, done)
        if done.offers:
            self.offer_bar.offer(done.offers)

    def _remember(self, statement: str) -> None:
        async def remember() -> None:
            try:
                await self.controller.remember(statement, self.conversation_id)
            except KnownError as e:
                self.view.add_error(shown(e))

        self.controller.tasks.spawn(remember(), name=f"remember:{statement}")

    def _on_failed(self, message: str) -> None:
        if self._answer is not None and not self._answer.text.strip():
            self.view.remove(self._answer)
            self._answer = None
        elif self._answer is not None:
            self._answer.end_stream()
        self.view.add_error(message)

    def _on_finished(self) -> None:
        if self._answer is not None and self._answer.streaming:  # stopped before any event
            self._answer.end_stream()
        self.composer.set_busy(False)
        self.turn = None

    def _begin_edit(self, message_id: int, text: str) -> None:
        if message_id:
            self.composer.begin_edit(message_id, split_attachment(text)[0])

    def _retry(self) -> None:
        """Drop the error (and a question that never reached the store), then ask again."""
        if not self._last_question:
            return
        for b in self.view.bubbles():
            if b.role == "error":
                self.view.remove(b)
        bubbles = self.view.bubbles()
        if bubbles and bubbles[-1].role == "user" and not bubbles[-1].message_id:
            self.view.remove(bubbles[-1])
        self.send(self._last_question)
