"""``twin chat``: an interactive conversation in the terminal.

Reads lines with readline editing and history when stdin is a terminal (the history stays
in memory: conversations are deleted for good with ``twin conversations delete``, so no
history file keeps their words), or plain lines from a pipe (no prompts then, so scripts
get only the answers). Ctrl-C while an answer streams stops it (kept, marked incomplete);
Ctrl-C at the prompt clears the line; Ctrl-D or ``/quit`` ends. An error in one turn (e.g.
a message too long for the context) is shown and the conversation goes on.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import TextIO

from twin.app.twin import Twin
from twin.cli.chat_commands import StopFlag, parse_scope, print_sources, run_turn
from twin.cli.conversation_commands import resolve_conversation
from twin.errors import KnownError

HELP = """commands:
  /new            start a new conversation
  /list           recent conversations
  /open ID        continue a conversation (an id or a unique prefix)
  /think on|off   let a reasoning model think first (this conversation and new ones)
  /memory on|off  keep this conversation as memory (later chats can find and cite it)
  /scope [SCOPE]  show or set which memories it uses: all, none, folder:PATH, doc:PATH,
                  dates:2019-01..2019-06
  /remember TEXT  remember a fact about yourself (a note in twin's memories folder)
  /quit           leave (or Ctrl-D)
Ctrl-C stops an answer while it streams."""


class Repl:
    """The read–answer loop over a started :class:`~twin.app.twin.Twin`."""

    def __init__(self, chat: Twin, conversation_id: str | None = None, *, thinking: bool | None = None,
                 stdin: TextIO | None = None, out: TextIO | None = None, err: TextIO | None = None):
        self.chat = chat
        self.cid = conversation_id
        self.thinking = thinking
        self.stdin = stdin or sys.stdin
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.interactive = self.stdin.isatty()
        self.stop = StopFlag()

    def run(self) -> int:
        if self.interactive:
            try:
                import readline  # noqa: F401 - line editing and in-memory history for input()
            except ImportError:  # pragma: no cover - Windows without pyreadline
                pass
            info = self.chat.engine.info
            self._say(f"twin · {info.name} ({info.kind}) · /help for commands, Ctrl-D to leave")
            if self.cid:
                self._say(f"continuing: {self.chat.conversations.get(self.cid).title}")
        while True:
            try:
                line = self._read()
            except EOFError:
                if self.interactive:
                    self._say("")
                return 0
            except KeyboardInterrupt:
                self._say("")
                continue
            text = line.strip()
            if not text:
                continue
            if text.startswith("/"):
                try:
                    if not self.command(text):
                        return 0
                except KnownError as e:
                    print(f"twin: {e}", file=self.err, flush=True)
                continue
            self.turn(text)

    def _read(self) -> str:
        if self.interactive:
            return input("you> ")
        line = self.stdin.readline()
        if not line:
            raise EOFError
        return line

    def _say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    # -- a turn -----------------------------------------------------------------------------

    def turn(self, text: str) -> None:
        if self.interactive:
            self.out.write("twin> ")
            self.out.flush()

        def write(piece: str) -> None:
            self.out.write(piece)
            self.out.flush()

        def think(piece: str) -> None:
            self.err.write(piece)
            self.err.flush()

        try:
            done = run_turn(self.chat, self.cid, text, stop=self.stop, thinking=self.thinking,
                            on_token=write, on_thinking=think)
        except KnownError as e:
            self._say("")
            print(f"twin: error: {e}", file=self.err, flush=True)
            return
        except KeyboardInterrupt:  # a second Ctrl-C: the answer was stored as cancelled
            self._say("  [stopped]")
            return
        self.cid = done.conversation_id
        self._say("" if done.complete else "  [stopped]" if done.finish_reason == "cancelled"
                  else f"  [incomplete: {done.finish_reason}]")
        print_sources(done, self.out)
        self._say("")
        self.offer(done.offers)

    def offer(self, statements: tuple[str, ...]) -> None:
        """Ask about each fact the user stated ("Remember: '…'? [y/N]"); a pipe is never asked
        (its next line is the next message), it gets a hint instead."""
        for statement in statements:
            if not self.interactive:
                print(f"twin: to remember it: /remember {statement}", file=self.err, flush=True)
                continue
            try:
                answer = input(f"Remember: \"{statement}\"? [y/N] ").strip().lower()
            except (EOFError, KeyboardInterrupt):
                self._say("")
                answer = ""
            if answer in ("y", "yes", "д", "да"):
                try:
                    self._remember(statement)
                except KnownError as e:
                    print(f"twin: error: {e}", file=self.err, flush=True)
            elif self.cid:
                self.chat.chat_memories.dismiss(self.cid, statement)

    def _remember(self, statement: str) -> None:
        note = self.chat.remember(statement, self.cid)
        where = note.path
        self._say(f"(remembered: {where})" if note.created else f"(already remembered: {where})")

    # -- slash commands ---------------------------------------------------------------------

    def command(self, text: str) -> bool:
        """Run a ``/command``; False means leave."""
        name, _, rest = text.partition(" ")
        rest = rest.strip()
        store = self.chat.conversations
        if name in ("/quit", "/exit", "/q"):
            return False
        if name == "/help":
            self._say(HELP)
        elif name == "/new":
            self.cid = None
            self._say("(new conversation)")
        elif name == "/list":
            convs = store.list_conversations(limit=20)
            if not convs:
                self._say("(no conversations yet)")
            for c in convs:
                mark = "*" if c.id == self.cid else " "
                when = dt.datetime.fromtimestamp(c.updated_at).strftime("%Y-%m-%d %H:%M")
                self._say(f"{mark} {c.id[:8]}  {when}  {c.title}")
        elif name == "/open":
            if not rest:
                raise KnownError("usage: /open ID")
            cid = resolve_conversation(store, rest)
            conv = store.get(cid)
            self.cid = cid
            self._say(f"(opened {cid[:8]}: {conv.title}, {len(store.messages(cid))} messages)")
        elif name == "/remember":
            if not rest:
                raise KnownError("usage: /remember TEXT (e.g. /remember My sister's name is Anna)")
            self._remember(rest)
        elif name == "/think":
            if rest not in ("on", "off"):
                raise KnownError("usage: /think on|off")
            self.thinking = rest == "on"
            if self.cid:
                store.set_options(self.cid, thinking=self.thinking)
            self._say(f"(thinking {rest})")
        elif name == "/memory":
            if rest not in ("on", "off"):
                raise KnownError("usage: /memory on|off")
            on = rest == "on"
            if self.cid:
                store.set_options(self.cid, as_memory=on)
            else:
                self.chat.service.default_as_memory = on
            self._say("(this conversation is kept as memory: later chats can find it)" if on
                      else "(this conversation is not used as memory)")
        elif name == "/scope":
            if rest:
                stored = parse_scope(rest)
                if self.cid:
                    store.set_options(self.cid, scope=stored)
                else:
                    self.chat.service.default_scope = stored
            current = store.get(self.cid).scope if self.cid else self.chat.service.default_scope
            self._say(f"(memory scope: {current or 'all'})")
        else:
            raise KnownError(f"unknown command {name} (/help lists them)")
        return True
