"""Controller: what the window, the quick-ask popup and the tray ask the app to do.

Widgets never touch services directly; they call the controller, which runs the work off
the GUI thread (on the app's background pool) and reports back with Qt signals. The app itself
is :class:`twin.app.twin.Twin`, built the same way as the CLI's; the controller adds the Qt
side: the memory engine's bridge (:class:`MemoryHost`, also the app's retriever), the model's
(:class:`ModelBridge`), the chat turns and the profile schedule. A chat turn runs as the named task
``"chat"`` (a new question stops the answer in progress: ARCHITECTURE §2), consuming
``ChatService.ask_async`` on the qasync loop; its events go to the :class:`ChatTurn` that
:meth:`Controller.ask` returned, so each view follows only its own turns.

Signals (Controller):
    conversations_changed(): a conversation was created, renamed, deleted or answered in.
    busy_changed(bool): generating or indexing started/stopped (the tray's busy icon).
    status_changed(): the model or memory status text changed (tooltips, status bar).
    show_conversation(str): a view asks the main window to open this conversation.
    quit_requested(): Quit was chosen (tray, menu); the app shuts down.

Signals (ChatTurn):
    started(object): :class:`TurnStarted` (conversation id, citations).
    token(str): a piece of the answer.
    thinking(str): a piece of the model's reasoning.
    done(object): :class:`TurnDone` (also after Stop: ``complete`` False).
    failed(str): the turn ended with an error fit to show.
    finished(): the turn is over, whatever the outcome (always last).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from twin.app.container import Memory
from twin.app.conversation_edit import rewind
from twin.app.model_slot import EngineFactory, default_engine_factory
from twin.app.tasks import TaskRegistry
from twin.app.twin import Twin
from twin.app.vault_service import Vault
from twin.core.conversation.events import Thinking, Token, TurnDone, TurnStarted
from twin.errors import KnownError
from twin.paths import Paths
from twin.settings import Settings, save_settings
from twin.ui.i18n import shown
from twin.ui.jobs import off_gui
from twin.ui.memory_host import MemoryHost
from twin.ui.model_bridge import ModelBridge

if TYPE_CHECKING:
    from twin.app.chat_memories import ChatMemories
    from twin.app.profile_service import ProfileService
    from twin.core.conversation.store import ConversationStore

log = logging.getLogger("twin.ui")
#: How often the window checks whether the self-profile's schedule asks for a build.
PROFILE_CHECK_MS = 10 * 60 * 1000


def _closing_thread(fn: Callable[[], None]) -> asyncio.Future[None]:
    """The last job of all: closing the app drains its own background pool, so it cannot
    run there. One named thread, awaited (and so joined in effect) by :meth:`Controller.aclose`."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[None] = loop.create_future()

    def settle(error: BaseException | None) -> None:
        if not future.done():
            future.set_exception(error) if error is not None else future.set_result(None)

    def run() -> None:
        error: BaseException | None = None
        try:
            fn()
        except BaseException as e:  # noqa: BLE001 - thread boundary: re-raised on the loop
            error = e
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(settle, error)

    threading.Thread(target=run, name="twin-close").start()
    return future


class ChatTurn(QObject):
    """One question and its answer, as a view follows it."""

    started = Signal(object)
    token = Signal(str)
    thinking = Signal(str)
    done = Signal(object)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, question: str, parent: QObject | None = None):
        super().__init__(parent)
        self.question = question
        self.conversation_id: str | None = None
        self.answer = ""
        self.result: TurnDone | None = None
        self.error = ""
        self.is_finished = False

    def dispatch(self, event: object) -> None:
        if isinstance(event, Token):
            self.answer += event.text
            self.token.emit(event.text)
        elif isinstance(event, Thinking):
            self.thinking.emit(event.text)
        elif isinstance(event, TurnStarted):
            self.conversation_id = event.conversation_id
            self.started.emit(event)
        elif isinstance(event, TurnDone):
            self.result = event
            self.done.emit(event)


class Controller(QObject):
    conversations_changed = Signal()
    busy_changed = Signal(bool)
    status_changed = Signal()
    show_conversation = Signal(str)
    quit_requested = Signal()
    profile_progress = Signal()

    def __init__(self, settings: Settings, paths: Paths, *,
                 engine_factory: EngineFactory = default_engine_factory,
                 memory_factory: Callable[[Settings, Paths], Memory] | None = None, watch: bool = True,
                 parent: QObject | None = None, vault: Vault | None = None):
        super().__init__(parent)
        #: Encryption at rest: unlocked before the window is built (twin.ui.unlock_dialog).
        vault = vault if vault is not None else Vault(paths)
        self.tasks = TaskRegistry()
        #: The memory engine (a child process by default), seen as Qt signals; the chat's retriever.
        self.memory = MemoryHost(settings, paths, watch=watch, memory_factory=memory_factory, parent=self,
                                 dek=vault.dek)
        #: The app: conversations, the model slot, the self-profile, chat memories, background work.
        self.app = Twin(settings, paths, vault=vault, retriever=self.memory, engine_factory=engine_factory)
        self.model = ModelBridge(self.app.model, parent=self)
        self.profile_status = ""
        self._profile_incomplete = False
        self._profile_timer = QTimer(self)
        self._profile_timer.setInterval(PROFILE_CHECK_MS)
        self._profile_timer.timeout.connect(self.maybe_build_profile)
        self.model.ready.connect(lambda *_: self._profile_timer.start())
        self.profile_progress.connect(self._status_update)
        self.turn: ChatTurn | None = None
        self._busy = False
        self._closed = False
        for sig in (self.model.ready, self.model.failed, self.model.loading, self.memory.ready,
                    self.memory.failed, self.memory.indexed):
            sig.connect(self._status_update)
        self.memory.progress.connect(self._status_update)

    # -- the app's parts, as the views name them ----------------------------------------------

    @property
    def settings(self) -> Settings:
        return self.app.settings

    @property
    def paths(self) -> Paths:
        return self.app.paths

    @property
    def vault(self) -> Vault:
        return self.app.vault

    @property
    def conversations(self) -> "ConversationStore":
        return self.app.conversations

    @property
    def chat_memories(self) -> "ChatMemories":
        return self.app.chat_memories

    @property
    def profile(self) -> "ProfileService":
        return self.app.profile

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a blocking call on the app's background pool; await its result."""
        return await off_gui(self.app.background, fn, *args)

    def start(self, memory_delay_s: float = 0.0) -> None:
        """Start loading the model and the memory engine (both in the background)."""
        self.app.model.load()
        self.memory.start(memory_delay_s)

    # -- chat -------------------------------------------------------------------------------

    def ask(self, conversation_id: str | None, text: str, *, thinking: bool | None = None,
            rewind_from: int | None = None) -> ChatTurn:
        """Ask ``text`` (in a new conversation when ``conversation_id`` is None).

        With ``rewind_from`` (a message id), that message and all after it are dropped first:
        "regenerate" passes the answer's id, "edit and resend" the question's.
        """
        turn = ChatTurn(text)
        turn.conversation_id = conversation_id
        self.turn = turn
        self.tasks.spawn(self._run_turn(turn, conversation_id, text, thinking, rewind_from), name="chat")
        return turn

    def regenerate(self, conversation_id: str, answer_id: int) -> ChatTurn:
        question = next((m.content for m in reversed(self.conversations.messages(conversation_id))
                         if m.role == "user" and m.id < answer_id), "")
        return self.ask(conversation_id, question, rewind_from=answer_id)

    def stop(self) -> None:
        """Stop the answer being generated; the partial answer is kept."""
        self.app.model.stop()

    @property
    def generating(self) -> bool:
        return self.tasks.get("chat") is not None

    async def _run_turn(self, turn: ChatTurn, conversation_id: str | None, text: str,
                        thinking: bool | None, rewind_from: int | None) -> None:
        self._update_busy()
        try:
            if rewind_from is not None and conversation_id is not None:
                conversation_id, _ = await self.run(rewind, self.conversations, conversation_id, rewind_from)
                turn.conversation_id = conversation_id
                self.conversations_changed.emit()
            chat = self.model.chat
            if chat is None or not self.model.is_ready:
                raise KnownError(self.model.error or self.tr(
                    "The model is still loading ({percent}%). Memory search works meanwhile.").format(
                    percent=int(self.model.fraction * 100)))
            async with contextlib.aclosing(chat.ask_async(conversation_id, text, thinking=thinking)) as events:
                async for event in events:
                    turn.dispatch(event)
                    if isinstance(event, TurnStarted):
                        self.conversations_changed.emit()
        except asyncio.CancelledError:
            turn.error = "stopped"
            raise
        except KnownError as e:
            turn.error = shown(e)  # twin's keyed messages in the window's language
            turn.failed.emit(turn.error)
        except Exception as e:
            log.exception("chat turn failed")
            turn.error = self.tr("Something went wrong ({error}); details are in the log.").format(
                error=e.__class__.__name__)
            turn.failed.emit(turn.error)
        finally:
            turn.is_finished = True
            turn.finished.emit()
            self.conversations_changed.emit()
            asyncio.get_running_loop().call_soon(self._update_busy)

    # -- the self-profile on its schedule ---------------------------------------------------

    def maybe_build_profile(self) -> bool:
        """Start a background profile build when the schedule asks for one (or the last one
        was interrupted) and the model is idle; returns whether one started."""
        if self._closed or self.tasks.get("profile") is not None or self.generating:
            return False
        engine = self.model.engine
        if engine is None or not self.model.is_ready:
            return False
        try:
            due = self._profile_incomplete or self.profile.due(dt.datetime.now(dt.timezone.utc))
        except Exception:  # noqa: BLE001 - a broken profile file must not stop the window
            log.exception("profile schedule check failed")
            return False
        if not due:
            return False
        self.tasks.spawn(self._build_profile(engine), name="profile")
        return True

    async def _build_profile(self, engine: Any) -> None:
        def progress(p: Any) -> None:
            self.profile_status = self.tr("Profile: reading entries, batch {done}/{total}").format(
                done=p.batches_done, total=p.batches_total)
            self.profile_progress.emit()  # queued to the GUI thread

        def stop() -> bool:  # a question from the user comes first: the batch is redone later
            return self._closed or self.generating

        self.profile_status = self.tr("Profile: starting…")
        self._status_update()
        try:
            report = await self.run(lambda: self.profile.build(engine, on_progress=progress, should_stop=stop))
        except KnownError as e:
            log.warning("scheduled profile build skipped: %s", e)
            self._profile_incomplete = False
        except Exception:  # noqa: BLE001 - logged; the window goes on
            log.exception("scheduled profile build failed")
            self._profile_incomplete = False
        else:
            self._profile_incomplete = report.map.cancelled
            log.info("scheduled profile build: %d facts (%d proposed)%s", report.facts, report.proposed,
                     ", interrupted by a question" if report.map.cancelled else "")
        finally:
            self.profile_status = ""
            if not self._closed:
                self._status_update()

    async def remember(self, statement: str, conversation_id: str | None) -> Path:
        """Write ``statement`` as a memory note (off the GUI thread); returns its path.

        Raises:
            MemoryNoteError: the note cannot be written.
        """
        note = await self.run(self.app.remember, statement, conversation_id)
        return note.path

    def dismiss_memory(self, conversation_id: str | None, statement: str) -> None:
        if conversation_id:
            self.chat_memories.dismiss(conversation_id, statement)

    # -- conversations ----------------------------------------------------------------------

    def rename(self, conversation_id: str, title: str) -> None:
        self.conversations.rename(conversation_id, title)
        self.conversations_changed.emit()

    async def delete(self, conversation_id: str) -> None:
        """Delete for good (the store vacuums: off the GUI thread)."""
        await self.run(self.conversations.delete, conversation_id)
        self.conversations_changed.emit()

    # -- memory -----------------------------------------------------------------------------

    async def add_documents(self, paths: Sequence[Path], mode: str) -> Any:
        return await asyncio.wrap_future(self.memory.ingest(paths, mode))

    async def set_sources(self, sources: Sequence[str]) -> None:
        await asyncio.wrap_future(self.memory.set_sources(sources))
        self.save_settings()

    def toggle_pause(self) -> None:
        if self.memory.paused:
            self.memory.resume()
        else:
            self.memory.pause()
        self._status_update()

    # -- settings ---------------------------------------------------------------------------

    def save_settings(self) -> None:
        save_settings(self.settings, self.paths.settings_file)

    def apply_settings(self, new: Settings) -> None:
        """Save ``new`` and apply it without a restart (a changed model reloads in the background)."""
        old = self.settings
        self.app.apply_settings(new)
        self.save_settings()
        if (new.memory, new.embedding, new.search) != (old.memory, old.embedding, old.search):
            self.memory.reconfigure(new)
        else:
            self.memory.settings = new
        self._status_update()

    # -- status -----------------------------------------------------------------------------

    def _update_busy(self) -> None:
        busy = self.generating or self.memory.busy
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)

    def _status_update(self, *_: object) -> None:
        self._update_busy()
        self.status_changed.emit()

    def memory_status_text(self) -> str:
        if self.memory.error:
            return self.tr("Memory unavailable: {error}").format(error=shown(self.memory.error).split("\n", 1)[0])
        if not self.memory.is_ready:
            return self.tr("Memory: opening…")
        if self.memory.paused:
            return self.tr("Memory: indexing paused")
        text = self.tr("Memory: indexing…") if self.memory.busy else self.tr("Memory: up to date")
        return f"{text} · {self.profile_status}" if self.profile_status else text

    def status_text(self) -> str:
        return f"twin — {self.model.status_text()}\n{self.memory_status_text()}"

    # -- shutdown ---------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    async def aclose(self) -> None:
        """Stop generating, close the model, the index and the database; end every thread."""
        if self._closed:
            return
        self._closed = True
        self.stop()
        await self.tasks.cancel_all(timeout=15)
        memory_closed = self.run(self.memory.close)
        model_closed = self.run(self.app.model.close)
        for job in (memory_closed, model_closed):
            try:
                await job
            except Exception:
                log.exception("error while closing")
        try:  # drains the background pool (a profile batch may still be ending), then the databases
            await _closing_thread(self.app.close)
        except Exception:
            log.exception("error while closing")
        log.info("controller closed")
