"""Controller: what the window, the quick-ask popup and the tray ask the app to do.

Widgets never touch services directly; they call the controller, which runs the work off
the GUI thread (on the app's background pool) and reports back with Qt signals. The app itself
is :class:`twin.app.twin.Twin`, built the same way as the CLI's; the controller adds the Qt
side: the memory engine's bridge (:class:`MemoryHost`, also the app's retriever), the model's
(:class:`ModelBridge`), the chat turns and the profile schedule. A chat turn runs as the named task
``"chat"`` (a new question stops the answer in progress: ARCHITECTURE §2), consuming
``ChatService.ask_async`` on the qasync loop; its events go to the :class:`ChatTurn` that
:meth:`Controller.ask` returned (its signals: :mod:`twin.ui.chat_turn`), so each view follows
only its own turns. The conversations database is reached only through :attr:`Controller.history`
(:mod:`twin.ui.conversation_jobs`): never on the GUI thread.

Signals (Controller):
    conversations_changed(): a conversation was created, renamed, deleted or answered in.
    busy_changed(bool): generating or indexing started/stopped (the tray's busy icon).
    status_changed(): the model or memory status text changed (tooltips, status bar).
    show_conversation(str): a view asks the main window to open this conversation.
    quit_requested(): Quit was chosen (tray, menu); the app shuts down.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from twin.app.container import Memory
from twin.app.conversation_edit import rewind
from twin.app.model_slot import EngineFactory, default_engine_factory
from twin.app.tasks import TaskRegistry
from twin.app.twin import Twin
from twin.app.vault_service import Vault
from twin.core.conversation.events import TurnStarted
from twin.core.conversation.store import ConversationStore
from twin.errors import KnownError
from twin.paths import Paths
from twin.settings import Settings, save_settings
from twin.ui.chat_turn import ChatTurn
from twin.ui.conversation_jobs import ConversationJobs, question_before
from twin.ui.i18n import shown
from twin.ui.jobs import closing_thread, log_failure, off_gui
from twin.ui.memory_host import MemoryHost
from twin.ui.model_bridge import ModelBridge

if TYPE_CHECKING:
    from twin.app.chat_memories import ChatMemories
    from twin.app.profile_service import ProfileService

log = logging.getLogger("twin.ui")
#: How often the window checks whether the self-profile's schedule asks for a build.
PROFILE_CHECK_MS = 10 * 60 * 1000


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
        #: The conversations database, only ever through the app's pool (never the GUI thread).
        self.history = ConversationJobs(self.app)
        self.profile_status = ""
        self._profile_incomplete = False
        self.profile_builds = 0  # builds started (the schedule said due)
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
        """The database itself: for pool jobs only (the GUI thread goes through :attr:`history`)."""
        return self.history.store()

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
        """Start opening the conversations, loading the model and the memory engine (all in
        the background)."""
        self.history.open().add_done_callback(log_failure("cannot open the conversations"))
        self.app.model.load()
        self.memory.start(memory_delay_s)

    # -- chat -------------------------------------------------------------------------------

    def ask(self, conversation_id: str | None, text: str | None, *, thinking: bool | None = None,
            rewind_from: int | None = None) -> ChatTurn:
        """Ask ``text`` (in a new conversation when ``conversation_id`` is None).

        With ``rewind_from`` (a message id), that message and all after it are dropped first:
        "regenerate" passes the answer's id, "edit and resend" the question's. A ``text`` of
        None asks again the question that ``rewind_from`` (an answer) replied to.
        """
        turn = ChatTurn(text or "")
        turn.conversation_id = conversation_id
        self.turn = turn
        self.tasks.spawn(self._run_turn(turn, conversation_id, text, thinking, rewind_from), name="chat")
        return turn

    def regenerate(self, conversation_id: str, answer_id: int) -> ChatTurn:
        return self.ask(conversation_id, None, rewind_from=answer_id)

    def stop(self) -> None:
        """Stop the answer being generated; the partial answer is kept."""
        self.app.model.stop()

    @property
    def generating(self) -> bool:
        return self.tasks.get("chat") is not None

    async def _run_turn(self, turn: ChatTurn, conversation_id: str | None, text: str | None,
                        thinking: bool | None, rewind_from: int | None) -> None:
        self._update_busy()
        try:
            if text is None and rewind_from is not None and conversation_id is not None:
                turn.question = text = await asyncio.wrap_future(
                    self.history.submit(question_before, conversation_id, rewind_from))
            if rewind_from is not None and conversation_id is not None:
                conversation_id, _ = await asyncio.wrap_future(
                    self.history.write(rewind, conversation_id, rewind_from))
                turn.conversation_id = conversation_id
                self.conversations_changed.emit()
            chat = self.model.chat
            if chat is None or not self.model.is_ready:
                raise KnownError(self.model.error or self.tr(
                    "The model is still loading ({percent}%). Memory search works meanwhile.").format(
                    percent=int(self.model.fraction * 100)))
            async with contextlib.aclosing(chat.ask_async(conversation_id, text or "", thinking=thinking)) as events:
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
        """When the model is idle, start a background check of the profile's schedule, which
        builds the profile when due (or when the last build was interrupted); returns whether
        a check started. (The profile's files may be encrypted: read off the GUI thread.)"""
        if self._closed or self.tasks.get("profile") is not None or self.generating:
            return False
        engine = self.model.engine
        if engine is None or not self.model.is_ready:
            return False
        self.tasks.spawn(self._build_profile(engine), name="profile")
        return True

    async def _build_profile(self, engine: Any) -> None:
        try:
            due = self._profile_incomplete or await self.run(self.profile.due, dt.datetime.now(dt.timezone.utc))
        except Exception:  # noqa: BLE001 - a broken profile file must not stop the window
            log.exception("profile schedule check failed")
            return
        if not due or self._closed:
            return
        self.profile_builds += 1

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
        if conversation_id:  # a file write: on the pool
            self.app.background.submit(lambda: self.chat_memories.dismiss(conversation_id, statement)) \
                .add_done_callback(log_failure("cannot keep a dismissed memory offer"))

    # -- conversations (written one at a time, in order, on the pool) -----------------------

    def rename(self, conversation_id: str, title: str) -> Future[None]:
        job = self.history.write(ConversationStore.rename, conversation_id, title)
        job.add_done_callback(self._written("cannot rename a conversation"))
        return job

    def set_options(self, conversation_id: str, **options: Any) -> Future[None]:
        """Change a conversation's scope or as-memory flag (:meth:`ConversationStore.set_options`)."""
        job = self.history.write(lambda store: store.set_options(conversation_id, **options))
        job.add_done_callback(log_failure("cannot change a conversation's options"))
        return job

    async def delete(self, conversation_id: str) -> None:
        """Delete for good (the store vacuums)."""
        await asyncio.wrap_future(self.history.write(ConversationStore.delete, conversation_id))
        self.conversations_changed.emit()

    def _written(self, what: str) -> Callable[[Future[Any]], None]:
        def done(job: Future[Any]) -> None:  # on the pool: the signal is queued to the views
            log_failure(what)(job)
            with contextlib.suppress(RuntimeError):  # the controller is gone (shut down)
                self.conversations_changed.emit()
        return done

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
            await closing_thread(self.app.close)
        except Exception:
            log.exception("error while closing")
        log.info("controller closed")
