"""Chat commands: ``ask`` (one question, streamed) and ``chat`` (an interactive conversation).

Also registers the ``conversations`` and ``doctor`` groups (their own modules). Both chat
commands start loading the model first and load the embedding model while it loads. Ctrl-C
while an answer streams stops that answer, which is kept and marked incomplete; a second
Ctrl-C within two seconds interrupts the command.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from twin.app.twin import Twin
from twin.core.conversation.events import Thinking, Token, TurnDone, TurnStarted
from twin.core.prompt.citations import Citation
from twin.cli.encryption_commands import cli_vault
from twin.paths import Paths

DOUBLE_INTERRUPT_S = 2.0


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    from twin.cli import conversation_commands, doctor_commands

    p = sub.add_parser("ask", help="ask your twin one question (answers from your memories, with sources)")
    p.add_argument("question")
    p.add_argument("--conversation", "-c", metavar="ID", default=None,
                   help="continue this conversation (an id or a unique prefix; see `twin conversations list`)")
    p.add_argument("--json", action="store_true", help="print one JSON object when the answer is done")
    p.add_argument("--no-memories", action="store_true", help="answer without searching your memories")
    p.add_argument("--think", action=argparse.BooleanOptionalAction, default=None,
                   help="let a reasoning model (Qwen3) think first (default: the conversation's setting)")
    _memory_options(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", help="talk with your twin (interactive; /help lists the commands)")
    p.add_argument("--conversation", "-c", metavar="ID", default=None, help="continue this conversation")
    p.add_argument("--no-memories", action="store_true", help="answer without searching your memories")
    p.add_argument("--think", action=argparse.BooleanOptionalAction, default=None,
                   help="let a reasoning model think first")
    _memory_options(p)
    p.set_defaults(func=cmd_chat)

    conversation_commands.register(sub)
    doctor_commands.register(sub)


def _memory_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scope", metavar="SCOPE", default=None,
                   help="which memories this conversation may use: all (default), none, folder:PATH, doc:PATH, "
                        "dates:2019-01..2019-06 (kept with the conversation)")
    p.add_argument("--as-memory", action=argparse.BooleanOptionalAction, default=None,
                   help="keep this conversation as memory: later chats can find and cite it (default: off)")
    p.add_argument("--rewrite-followups", action="store_true",
                   help="let an instruct model rewrite a follow-up (\"and then?\") into a standalone question "
                        "for the memory search (a short extra generation per follow-up)")


# -- shared by ask and chat ---------------------------------------------------------------------


def parse_scope(text: str) -> str:
    """A ``--scope``/``/scope`` value → its stored form ("" for all memory); a folder or
    document path is made absolute (the index keeps absolute paths).

    Raises:
        KnownError: not a scope (the message lists the forms).
    """
    from pathlib import Path

    from twin.core.types import Scope
    from twin.errors import KnownError

    try:
        scope = Scope.parse(text)
    except ValueError as e:
        raise KnownError(str(e)) from e
    if scope.kind in ("folder", "document"):
        path = Path(scope.path).expanduser().resolve()
        if not path.exists():
            raise KnownError(f"no such {'folder' if scope.kind == 'folder' else 'file'}: {path}")
        scope = Scope(scope.kind, path=str(path))
    return "" if scope.kind == "all" else str(scope)


def apply_memory_options(chat: Twin, cid: str | None, scope: str | None, as_memory: bool | None) -> None:
    """``--scope``/``--as-memory``: stored on the conversation, or the defaults of a new one."""
    stored = parse_scope(scope) if scope is not None else None
    svc = chat.service
    if cid is None:
        if stored is not None:
            svc.default_scope = stored
        if as_memory is not None:
            svc.default_as_memory = as_memory
    elif stored is not None or as_memory is not None:
        chat.conversations.set_options(cid, scope=stored, as_memory=as_memory)


def apply_rewrite_option(chat: Twin, on: bool) -> None:
    """``--rewrite-followups``: ``search.rewrite_followups`` on for this run (not saved)."""
    if on:
        chat.settings.search.rewrite_followups = True


class StopFlag:
    """Turns Ctrl-C into "stop this answer" while armed; a second one within
    ``DOUBLE_INTERRUPT_S`` raises KeyboardInterrupt as usual. Main thread only."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._at = 0.0

    def is_set(self) -> bool:
        return self.event.is_set()

    def _on_sigint(self, _signum: int, _frame: Any) -> None:
        now = time.monotonic()
        if self.event.is_set() and now - self._at < DOUBLE_INTERRUPT_S:
            raise KeyboardInterrupt
        self._at = now
        self.event.set()

    @contextlib.contextmanager
    def armed(self) -> Iterator["StopFlag"]:
        self.event.clear()
        previous = signal.signal(signal.SIGINT, self._on_sigint)
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, previous)


def open_chat(args: argparse.Namespace, paths: Paths) -> tuple[Twin, str | None]:
    """Settings → a started :class:`~twin.app.twin.Twin` (model loading in the background, memories warmed up
    meanwhile, then the model waited for); also the conversation id from ``--conversation``."""
    from twin.app.container import Memory
    from twin.cli.conversation_commands import resolve_conversation
    from twin.cli.config_commands import load

    settings = load(paths)
    memory = Memory(settings, paths, cli_vault(paths))
    chat = Twin.over(memory, use_memories=not args.no_memories, on_progress=_LoadProgress())
    try:
        chat.require_model()
        cid = resolve_conversation(chat.conversations, args.conversation) if args.conversation else None
        chat.start()
        chat.warm_up_memories()
        chat.wait_ready()
    except BaseException:
        close_chat(chat)
        raise
    finally:
        _LoadProgress.clear()
    return chat, cid


def close_chat(chat: Twin) -> None:
    chat.close()
    chat.memory.close()


class _LoadProgress:
    """``loading model… 42%`` on a terminal's stderr."""

    def __call__(self, fraction: float) -> None:
        if sys.stderr.isatty():
            sys.stderr.write(f"\rloading the model… {fraction * 100:3.0f}%")
            sys.stderr.flush()

    @staticmethod
    def clear() -> None:
        if sys.stderr.isatty():
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def run_turn(chat: Twin, cid: str | None, text: str, *, stop: StopFlag, thinking: bool | None,
             on_token: Callable[[str], None], on_thinking: Callable[[str], None]) -> TurnDone:
    """One turn, streamed through the callbacks; Ctrl-C (via ``stop``) ends it early.

    Returns the turn's :class:`TurnDone` (``complete`` False when stopped).
    Raises:
        KnownError: e.g. the question does not fit in the context; the app stays usable.
    """
    events = chat.service.ask(cid, text, should_stop=stop.is_set, thinking=thinking)
    done: TurnDone | None = None
    try:
        with stop.armed():
            for ev in events:
                if isinstance(ev, Token):
                    on_token(ev.text)
                elif isinstance(ev, Thinking):
                    on_thinking(ev.text)
                elif isinstance(ev, TurnStarted):
                    for w in ev.warnings:
                        print(f"twin: warning: {w}", file=sys.stderr)
                elif isinstance(ev, TurnDone):
                    done = ev
    finally:
        events.close()  # a second Ctrl-C: the partial answer is stored as cancelled
    if done is None:  # pragma: no cover - the service always ends with TurnDone or raises
        raise RuntimeError("the chat service ended without TurnDone")
    return done


def citation_json(c: Citation) -> dict[str, Any]:
    return {"n": c.n, "path": c.path, "heading": c.heading, "date": c.date}


def print_sources(done: TurnDone, out: TextIO) -> None:
    """The numbered memories the answer was given, cited ones marked with ``*``."""
    if not done.citations:
        return
    cited = set(done.cited)
    print("Sources" + (" (* = cited):" if cited else ":"), file=out)
    for c in done.citations:
        lines = f":{c.start_line}-{c.end_line}" if c.start_line else ""
        what = f" › {c.heading}" if c.heading else ""
        mark = "*" if c.n in cited else " "
        print(f" {mark}[{c.n}] {c.date or '----------'}  {c.path}{lines}{what}", file=out)


# -- ask ---------------------------------------------------------------------------------------


def cmd_ask(args: argparse.Namespace, paths: Paths) -> int:
    if not args.question.strip():
        from twin.errors import KnownError

        raise KnownError("the question is empty")
    _safe_stdout()
    chat, cid = open_chat(args, paths)
    stop = StopFlag()
    try:
        apply_memory_options(chat, cid, args.scope, args.as_memory)
        apply_rewrite_option(chat, args.rewrite_followups)
        if args.json:
            done = run_turn(chat, cid, args.question, stop=stop, thinking=args.think,
                            on_token=lambda _t: None, on_thinking=lambda _t: None)
            print(json.dumps(turn_json(done), ensure_ascii=False, indent=2))
        else:
            thinking_out = _ThinkingOut(sys.stderr)
            done = run_turn(chat, cid, args.question, stop=stop, thinking=args.think,
                            on_token=_write_now(sys.stdout, before=thinking_out.end), on_thinking=thinking_out)
            print("" if done.complete else "  [stopped]")
            print()
            print_sources(done, sys.stdout)
            for statement in done.offers:
                print(f"twin: to remember it: twin chat -c {done.conversation_id[:8]}, then /remember {statement}",
                      file=sys.stderr)
    finally:
        close_chat(chat)
    return 0 if done.complete or done.finish_reason != "cancelled" else 130


def turn_json(done: TurnDone) -> dict[str, Any]:
    """The ``twin ask --json`` document."""
    t = done.timings
    return {
        "conversation": done.conversation_id,
        "answer": done.answer,
        "thinking": done.thinking,
        "citations": [citation_json(c) for c in done.citations],
        "finish_reason": done.finish_reason,
        "usage": {"prompt_tokens": done.usage.prompt_tokens,
                  "prompt_tokens_evaluated": done.usage.prompt_tokens_evaluated,
                  "completion_tokens": done.usage.completion_tokens},
        "timings": {"ttft_s": round(t.ttft_s, 4) if t.ttft_s is not None else None,
                    "tokens_per_s": round(t.tokens_per_s, 2) if t.tokens_per_s is not None else None},
    }


def _safe_stdout() -> None:
    """A pipe with a narrow encoding must not end an answer with UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")


def _write_now(out: TextIO, before: Callable[[], None] = lambda: None) -> Callable[[str], None]:
    def write(text: str) -> None:
        before()
        out.write(text)
        out.flush()

    return write


class _ThinkingOut:
    """Thinking goes to stderr (dimmed on a terminal), apart from the answer on stdout."""

    def __init__(self, out: TextIO):
        self.out = out
        self.tty = out.isatty()
        self.open = False

    def __call__(self, text: str) -> None:
        if not self.open:
            self.out.write("\033[2m" if self.tty else "[thinking] ")
            self.open = True
        self.out.write(text)
        self.out.flush()

    def end(self) -> None:
        if self.open:
            self.out.write("\033[0m\n" if self.tty else "\n[/thinking]\n")
            self.out.flush()
            self.open = False


# -- chat --------------------------------------------------------------------------------------


def cmd_chat(args: argparse.Namespace, paths: Paths) -> int:
    from twin.cli.chat_repl import Repl

    _safe_stdout()
    chat, cid = open_chat(args, paths)
    try:
        apply_memory_options(chat, cid, args.scope, args.as_memory)
        apply_rewrite_option(chat, args.rewrite_followups)
        return Repl(chat, cid, thinking=args.think).run()
    finally:
        close_chat(chat)
