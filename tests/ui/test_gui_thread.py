"""The window never runs SQLite or decryption on its GUI thread (twin.threads, issue 11).

Every window test runs strict (tests/ui/conftest.py ``gui_thread_strict``): here, that the
harness really fails a GUI-thread read, and that the window's reads, now on the app's pool,
keep their order: an answer to an older request never replaces a newer one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

import pytest
from PySide6.QtCore import QTimer

from tests.ui.gui_thread import elsewhere, stored
from twin import threads
from twin.core.crypto import Keys
from twin.core.llm.fake import FakeEngine


def ask(shell: Any, run_until: Any, text: str) -> str:
    w = shell.window
    w.pane.send(text)
    run_until(lambda: w.pane.turn is None and w.pane.conversation_id is not None, what="an answer")
    return w.pane.conversation_id


@pytest.fixture()
def two_chats(shell: Any, run_until: Any, fake_engine: FakeEngine) -> tuple[str, str]:
    fake_engine.enqueue("About the sea.", "About books.")
    first = ask(shell, run_until, "Tell me about the sea")
    shell.window.new_chat()
    second = ask(shell, run_until, "Which books did I read?")
    return first, second


@pytest.fixture()
def gate() -> Iterator[threading.Event]:
    """Holds back a job until the test sets it (set at the end whatever happens)."""
    event = threading.Event()
    yield event
    event.set()


def held(shell: Any, gate: threading.Event, job: Callable[..., Future[Any]], when: Callable[..., bool]) -> Any:
    """``job`` (a ConversationJobs method) whose calls matching ``when`` wait for ``gate`` on
    the pool before running; the futures handed out are recorded in ``.futures``."""
    futures: list[Future[Any]] = []

    def call(*args: Any) -> Future[Any]:
        if not when(*args):
            return job(*args)
        future = shell.controller.app.background.submit(lambda: (gate.wait(30), job(*args).result())[1])
        futures.append(future)
        return future

    call.futures = futures  # type: ignore[attr-defined]
    return call


def test_window_tests_run_strict_on_a_marked_gui_thread() -> None:
    assert os.environ.get("TWIN_STRICT_THREADS") == "1"
    with pytest.raises(threads.BlockingOnGuiThread, match="on the GUI thread"):
        threads.check("a test's blocking call")
    elsewhere(threads.check, "a worker's blocking call")  # another thread may block


def test_a_gui_thread_read_or_decryption_fails_a_window_test(shell: Any, qtbot: Any, run_until: Any) -> None:
    run_until(lambda: shell.window.conversations.settled, what="the list")
    with pytest.raises(threads.BlockingOnGuiThread, match="conversations database on the GUI thread"):
        shell.controller.conversations.list_conversations()  # what ConversationList.refresh used to do
    keys = Keys(os.urandom(32))
    sealed = keys.seal(b"a secret", "msg.content")
    with pytest.raises(threads.BlockingOnGuiThread, match="decryption on the GUI thread"):
        keys.open(sealed, "msg.content")
    # the same read in a slot the event loop runs: Qt hands the exception to pytest-qt, which
    # fails the test (captured here to look at it)
    with qtbot.capture_exceptions() as raised:
        QTimer.singleShot(0, lambda: shell.controller.conversations.messages("any"))
        qtbot.waitUntil(lambda: bool(raised), timeout=5000)
    assert raised and raised[0][0] is threads.BlockingOnGuiThread
    assert elsewhere(keys.open, sealed, "msg.content") == b"a secret"  # off the GUI thread: fine


def test_a_conversation_opened_later_is_not_replaced_by_an_earlier_one(
        shell: Any, run_until: Any, two_chats: tuple[str, str], gate: threading.Event) -> None:
    first, second = two_chats
    pane, history = shell.window.pane, shell.controller.history
    history.load = held(shell, gate, history.load, lambda cid: cid == first)
    pane.open_conversation(first)  # its read waits for the gate…
    pane.open_conversation(second)  # …while the user already went on
    run_until(lambda: not pane.loading, what="the second conversation")
    assert [b.text for b in pane.view.bubbles()] == ["Which books did I read?", "About books."]
    gate.set()  # the first read lands now: too late, it is dropped
    (late,) = history.load.futures
    run_until(lambda: late.done(), what="the held read")
    shell.window.conversations.refresh()  # a round trip through the pool and the loop
    run_until(lambda: shell.window.conversations.settled, what="a later delivery")
    assert late.result().conversation.id == first
    assert pane.conversation_id == second
    assert [b.text for b in pane.view.bubbles()] == ["Which books did I read?", "About books."]
    assert shell.window.conversations.current_id == second


def test_a_stale_listing_is_dropped(shell: Any, run_until: Any, two_chats: tuple[str, str],
                                    gate: threading.Event) -> None:
    first, second = two_chats
    lst, history = shell.window.conversations, shell.controller.history
    history.listing = held(shell, gate, history.listing, lambda query="": query == "books")
    lst.search.setText("books")
    lst.refresh()  # held
    lst.search.setText("")
    lst.refresh()  # the newer one
    run_until(lambda: lst.settled, what="the newer listing")
    assert lst.ids() == [second, first]
    gate.set()
    (late,) = history.listing.futures
    run_until(lambda: late.done(), what="the held search")
    assert [row.id for row in late.result()] == [second]  # it found one…
    pane = shell.window.pane
    pane.open_conversation(first)  # (a round trip through the pool and the loop)
    run_until(lambda: not pane.loading, what="a later delivery")
    assert lst.ids() == [second, first]  # …and was not shown


def test_a_question_sent_while_a_conversation_loads_waits_for_it(
        shell: Any, run_until: Any, fake_engine: FakeEngine, two_chats: tuple[str, str],
        gate: threading.Event) -> None:
    first, _second = two_chats
    pane, history = shell.window.pane, shell.controller.history
    history.load = held(shell, gate, history.load, lambda cid: cid == first)
    fake_engine.enqueue("Still cold.")
    pane.open_conversation(first)
    pane.send("Was the water cold?")
    assert pane.turn is None and pane.loading  # not asked yet: the conversation is not shown
    gate.set()
    run_until(lambda: not pane.loading and pane.turn is None and len(pane.view.bubbles()) == 4,
              what="the conversation, then the answer")
    assert [b.text for b in pane.view.bubbles()] == [
        "Tell me about the sea", "About the sea.", "Was the water cold?", "Still cold."]
    assert [m.content for m in stored(shell).messages(first)][-2:] == ["Was the water cold?", "Still cold."]


def test_renames_are_written_in_order_off_the_gui_thread(shell: Any, run_until: Any,
                                                         two_chats: tuple[str, str]) -> None:
    first, _second = two_chats
    jobs = [shell.controller.rename(first, f"Title {i}") for i in range(5)]
    run_until(lambda: all(j.done() for j in jobs), what="the renames")
    assert stored(shell).get(first).title == "Title 4"
    lst = shell.window.conversations
    run_until(lambda: lst.settled and lst.list.item(lst.ids().index(first)).text() == "Title 4", what="the list")


def test_an_encrypted_conversation_is_decrypted_off_the_gui_thread(
        qapp: Any, qloop: Any, run_until: Any, paths: Any, ui_settings: Any, memory_factory: Any,
        fake_engine: FakeEngine, thread_guard: None) -> None:
    """Sealed titles and messages (encryption on): the list and the reopened conversation are
    decrypted on the pool; a question is answered and stored sealed; strict all along."""
    from tests.ui.gui_thread import create_conversation
    from twin.app import encryption_switch
    from twin.core.crypto import KdfParams
    from twin.ui.app_shell import TwinApp
    from twin.ui.ui_state import UiState

    vault = elsewhere(encryption_switch.enable, paths, "a long enough passphrase", kdf=KdfParams.cheap())
    cid = elsewhere(create_conversation, paths, vault.codec(), "Secret holiday")
    state = UiState(paths.config_dir)
    state.last_conversation = cid
    state.sync()
    ui_settings.memory.runner = "thread"
    app = TwinApp(qapp, paths, ui_settings, engine_factory=lambda llm, on_progress=None: fake_engine,
                  memory_factory=memory_factory, watch=False, hotkey=False, first_run=False, vault=vault)
    app.start()
    w, pane = app.window, app.window.pane
    try:
        run_until(lambda: w.conversations.settled and not pane.loading, 30, "the list and the conversation")
        assert w.conversations.list.item(0).text() == "Secret holiday" and pane.conversation_id == cid
        run_until(lambda: app.controller.model.is_ready, 60, "the model")
        fake_engine.enqueue("A sealed answer.")
        pane.send("Where did we go?")
        run_until(lambda: pane.turn is None and len(pane.view.bubbles()) == 2, 60, "the answer")
        assert [m.content for m in elsewhere(lambda: app.controller.conversations.messages(cid))] == [
            "Where did we go?", "A sealed answer."]
        db = paths.conversations_db
        on_disk = b"".join(f.read_bytes() for f in db.parent.glob(db.name + "*"))  # with the WAL
        assert b"A sealed answer." not in on_disk and b"Secret holiday" not in on_disk
    finally:
        qloop.run_until_complete(app.aclose())
