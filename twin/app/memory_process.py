"""ProcessMemory: the memory engine in a child process, so the window's thread never waits.

Why a process: in one process, every thread shares the GIL. Importing torch,
sentence-transformers and LanceDB runs long stretches of C initialisation that hold it
(``bench/gui_stall.py`` measured 125–340 ms GUI stalls from the imports alone), and indexing
does Python work (parsing, chunking, tokenising, Arrow conversion) between the parts that
release it. In a child process none of that can touch the GUI's event loop, and the child
runs at a lower CPU priority (nice +10) than the window.

Protocol (a duplex :func:`multiprocessing.Pipe`, pickled tuples):

* parent → child: ``("call", id, name, args)`` (``name``: a
  :class:`~twin.app.memory_client.MemoryClient` request), ``("close", id)``;
* child → parent: ``("res", id, ok, value_or_error)``, ``("evt", event)`` (a typed
  :mod:`~twin.app.memory_events` event, pickled as it is), ``("log", LogRecord)`` (the
  child's log lines, written by the parent's handlers, so there is one log file with one writer).

The child runs :class:`~twin.app.memory_worker.MemoryWorker`: slow requests in order on one
thread, the flag-like ones (pause, resume, rescan) at once. It exits when told to, or when
the pipe breaks (the window died): it never outlives its parent. If the child dies, every
pending request fails with a clear :class:`~twin.errors.StoreError`, and
:class:`~twin.app.memory_events.MemoryFailed` is reported, so the window says so and keeps working without memory.
"""

from __future__ import annotations

import itertools
import logging
import logging.handlers
import multiprocessing
import os
import pickle
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any

from twin.app.memory_client import NamedRequests
from twin.app.memory_events import MemoryEvent, MemoryFailed, MemoryState, OnEvent
from twin.app.memory_worker import IMMEDIATE, MemoryWorker
from twin.errors import KnownError, StoreError
from twin.helpers import prepare_multiprocessing
from twin.paths import Paths
from twin.settings import Settings

log = logging.getLogger("twin.memory")

#: The child's CPU priority relative to the window (Linux/macOS nice value).
CHILD_NICE = 10


def join_exited(process: Any, lock: threading.Lock, timeout: float) -> bool:
    """Wait up to ``timeout`` s for ``process`` (a multiprocessing child) to exit; True once
    it has. One thread at a time (``lock``): the reader thread (the pipe closed) and the closing
    thread both wait for the same child, and of two concurrent ``waitpid`` calls the loser gets
    ECHILD, which multiprocessing reports as a child still alive (a clean quit was then logged
    as "did not exit" and the child was "terminated")."""
    with lock:
        process.join(timeout)
        return not process.is_alive()


class ProcessMemory(NamedRequests):
    """Runs a :class:`MemoryWorker` in a child process: a
    :class:`~twin.app.memory_client.MemoryClient`. ``on_event`` is called on the
    ``twin-memory-ipc`` thread."""

    isolated = True

    def __init__(self, settings: Settings, paths: Paths, on_event: OnEvent, *, watch: bool = True,
                 dek: bytes | None = None):
        self._emit = on_event
        self._pending: dict[int, Future[Any]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._exit_lock = threading.Lock()  # one thread at a time waits for the child's exit
        self._closing = False
        ctx = multiprocessing.get_context("spawn")
        prepare_multiprocessing(ctx)  # a frozen build spawns it as `twin-gui --multiprocessing-fork …`
        self._conn, child_conn = ctx.Pipe(duplex=True)
        level = logging.getLogger().getEffectiveLevel()
        self.process = ctx.Process(target=_child_main, args=(child_conn, settings, paths, watch, level, dek),
                                   name="twin-memory", daemon=True)
        self.process.start()
        child_conn.close()
        pid = self.process.pid  # set once started
        try:  # at once, so the child's start-up (interpreter, imports) already yields to the window
            if pid is not None:
                os.setpriority(os.PRIO_PROCESS, pid, max(os.getpriority(os.PRIO_PROCESS, 0), 0) + CHILD_NICE)
        except (AttributeError, OSError):
            pass
        self._reader = threading.Thread(target=self._read, name="twin-memory-ipc", daemon=True)
        self._reader.start()
        log.info("memory engine started in process %s", self.process.pid)

    # -- requests --------------------------------------------------------------------------

    def _call(self, name: str, *args: Any) -> Future[Any]:
        fut: Future[Any] = Future()
        cid = next(self._ids)
        with self._lock:
            if self._closing or not self.process.is_alive():
                fut.set_exception(StoreError(self._gone_message()))
                return fut
            self._pending[cid] = fut
            try:
                self._conn.send(("call", cid, name, args))
            except (OSError, ValueError, pickle.PicklingError) as e:
                del self._pending[cid]
                fut.set_exception(StoreError(f"The memory engine could not be reached: {e}"))
        return fut

    def close(self, timeout: float = 30.0) -> None:
        """Stop the engine and wait for the child to exit (blocking); kill it if it hangs."""
        fut: Future[Any] = Future()
        with self._lock:
            if not self._closing:
                self._closing = True
                self._pending[0] = fut
                try:
                    self._conn.send(("close", 0))
                except (OSError, ValueError):
                    fut.set_result(None)
            else:
                fut.set_result(None)
        try:
            fut.result(timeout)
        except Exception as e:  # noqa: BLE001 - closing anyway
            log.warning("memory engine did not close cleanly: %s", e)
        if not join_exited(self.process, self._exit_lock, 5.0):
            log.error("memory engine process %s did not exit; terminating it", self.process.pid)
            self.process.terminate()
            if not join_exited(self.process, self._exit_lock, 5.0):
                self.process.kill()
                join_exited(self.process, self._exit_lock, 5.0)
        try:
            self._conn.close()
        except OSError:
            pass
        self._reader.join(5.0)

    # -- the reader thread -----------------------------------------------------------------

    def _read(self) -> None:
        while True:
            try:
                msg = self._conn.recv()
            except (EOFError, OSError):
                break
            except Exception:  # noqa: BLE001 - a message that cannot be unpickled
                log.exception("bad message from the memory engine")
                continue
            kind = msg[0]
            try:
                if kind == "res":
                    _, cid, ok, value = msg
                    with self._lock:
                        fut = self._pending.pop(cid, None)
                    if fut is not None and not fut.done():
                        if ok:
                            fut.set_result(value)
                        else:
                            fut.set_exception(_as_exception(value))
                elif kind == "evt":
                    self._emit(msg[1])
                elif kind == "log":
                    record: logging.LogRecord = msg[1]
                    logging.getLogger(record.name).handle(record)
            except Exception:  # noqa: BLE001 - a listener's bug must not stop the reader
                log.exception("handling %s from the memory engine failed", kind)
        self._child_gone()

    def _child_gone(self) -> None:
        with self._lock:
            closing = self._closing
            pending, self._pending = self._pending, {}
            self._closing = True
        join_exited(self.process, self._exit_lock, 1.0)
        message = self._gone_message()
        for cid, fut in pending.items():
            if not fut.done():
                if cid == 0:
                    fut.set_result(None)
                else:
                    fut.set_exception(StoreError(message))
        if not closing:
            log.error("%s", message)
            self._emit(MemoryState(error=message))
            self._emit(MemoryFailed(message))

    def _gone_message(self) -> str:
        code = self.process.exitcode
        detail = f" (exit code {code})" if code is not None else ""
        return ("The memory engine stopped unexpectedly" + detail +
                ". Memory search is unavailable until twin restarts; the log has details.")


def _as_exception(value: Any) -> BaseException:
    if isinstance(value, BaseException):
        return value
    known, message = value
    return StoreError(message) if known else RuntimeError(message)


def _portable_error(e: BaseException) -> Any:
    """The exception itself if it survives pickling, else (is_known, message)."""
    try:
        pickle.loads(pickle.dumps(e))
        return e
    except Exception:  # noqa: BLE001
        return (isinstance(e, KnownError), f"{e.__class__.__name__}: {e}" if not isinstance(e, KnownError) else str(e))


class _PipeLogHandler(logging.handlers.QueueHandler):
    """Sends the child's log records to the parent (formatted, so they pickle)."""

    def __init__(self, send: Any):
        super().__init__(queue=None)  # type: ignore[arg-type]  # emit() is overridden: no queue used
        self._send = send

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            self._send(("log", record))
        except Exception:  # noqa: BLE001 - the parent is gone; nothing to log to
            pass


def _child_main(conn: Connection, settings: Settings, paths: Paths, watch: bool, level: int,
                dek: bytes | None = None) -> None:
    """The child process: serve requests until told to close or the parent goes away."""
    try:  # the parent lowered it already; this keeps the child low however it was started
        if os.getpriority(os.PRIO_PROCESS, 0) < CHILD_NICE:
            os.setpriority(os.PRIO_PROCESS, 0, CHILD_NICE)  # before any thread starts: threads inherit it
    except (AttributeError, OSError):
        pass
    from twin.offline import enforce_offline, install_network_guard

    enforce_offline()
    install_network_guard()
    send_lock = threading.Lock()

    def send(msg: Any) -> None:
        with send_lock:
            conn.send(msg)

    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(_PipeLogHandler(send))
    root.setLevel(level)

    def emit(event: MemoryEvent) -> None:
        try:
            send(("evt", event))
        except (OSError, ValueError):
            pass  # the window is gone
        except Exception:  # noqa: BLE001 - an event that does not pickle is a bug: say so, go on
            log.exception("memory event %s could not be sent", type(event).__name__)

    from twin.app.vault_service import vault_memory_factory

    # dek: the data key when the data is encrypted (the window unlocked it; see vault_service)
    worker = MemoryWorker(settings, paths, emit, watch=watch, memory_factory=vault_memory_factory(paths, dek))
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="twin-memory")

    def run(cid: int, name: str, args: tuple[Any, ...]) -> None:
        try:
            value = getattr(worker, name)(*args)
            msg: tuple[Any, ...] = ("res", cid, True, value)
        except BaseException as e:  # noqa: BLE001 - every failure goes back to the caller
            if not isinstance(e, KnownError):
                log.exception("memory request %s failed", name)
            msg = ("res", cid, False, _portable_error(e))
        try:
            send(msg)
        except (OSError, ValueError):
            pass
        except Exception as e:  # noqa: BLE001 - a result that does not pickle
            send(("res", cid, False, (False, f"{name}: result could not be sent: {e}")))

    close_id: int | None = None
    try:
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                break  # the window is gone
            if msg[0] == "close":
                close_id = msg[1]
                break
            _, cid, name, args = msg
            if name in IMMEDIATE:
                run(cid, name, args)
            else:
                executor.submit(run, cid, name, args)
    finally:
        try:
            executor.submit(worker.stop).result()
        except Exception:  # noqa: BLE001
            log.exception("stopping the memory engine failed")
        executor.shutdown(wait=True, cancel_futures=True)
        if close_id is not None:
            try:
                send(("res", close_id, True, None))
            except (OSError, ValueError):
                pass
        conn.close()
    # Everything is closed (store, databases, watcher). Skip the interpreter's teardown:
    # native libraries' threads (torch, LanceDB's runtime) can hang or crash it, which would
    # turn a clean quit into a kill.
    os._exit(0)
