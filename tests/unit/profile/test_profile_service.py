"""ProfileService over real files and a scripted engine: build, review, persistence, the persona feed."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from profile_support import ProfileEngine, write_vault

from twin.app.chat_service import ChatService
from twin.app.profile_service import FactNotFoundError, NoSourcesError, ProfileService
from twin.core.conversation.events import TurnDone
from twin.core.conversation.store import ConversationStore
from twin.core.profile.job import JobConfig
from twin.core.profile.model import Fact
from twin.llm_settings import ChatSettings
from twin.paths import resolve_paths
from twin.settings import Settings

CONFIG = JobConfig(max_entries=3, use_grammar=False)


def themes(svc: ProfileService) -> list[Fact]:
    """The scripted engine's facts (one theme per entry), without the measured style facts."""
    return [f for f in svc.facts() if f.kind == "theme"]


def service_for(vault: Path, **profile: object) -> ProfileService:
    settings = Settings()
    settings.memory.sources = [str(vault)]
    for k, v in profile.items():
        setattr(settings.profile, k, v)
    return ProfileService(settings, resolve_paths().ensure())


def test_build_writes_readable_cited_files(tmp_path: Path) -> None:
    vault = write_vault(tmp_path / "vault", 5)
    svc = service_for(vault)
    eng = ProfileEngine()
    report = svc.build(eng, config=CONFIG)
    assert report.entries == 5 and report.facts == 5 + 3 and report.proposed == 8  # + 3 measured style facts
    style = {f.subject: f for f in svc.facts() if f.kind == "style"}
    assert "elizabeth to whitehall" in style["typical phrases"].statement and "(5 entries)" in \
        style["typical phrases"].statement
    assert style["languages"].statement.startswith("I write mostly in English")
    data = json.loads((svc.folder / "profile.json").read_text(encoding="utf-8"))
    for f in data["facts"]:
        for path, date in f["sources"]:
            assert Path(path).exists() and Path(path).stem == date
    md = (svc.folder / "profile.md").read_text(encoding="utf-8")
    assert "## Recurring themes" in md and "2021-03-01 2021-03-01.md" in md
    eng.close()


def test_review_is_persisted_and_rejected_facts_never_come_back(tmp_path: Path) -> None:
    vault = write_vault(tmp_path / "vault", 4)
    svc = service_for(vault)
    eng = ProfileEngine()
    svc.build(eng, config=CONFIG)
    a, b, c, d = themes(svc)
    svc.accept([a.id[:5]])  # a unique prefix is enough
    svc.reject([b.id])
    svc.edit(c.id, "  I walked   with Elizabeth that day. ")
    again = service_for(vault)  # a new process reads the files
    status = {f.id: f.status for f in themes(again)}
    assert status == {a.id: "accepted", c.id: "edited", d.id: "proposed"}
    assert [f.statement for f in again.facts("edited")] == ["I walked with Elizabeth that day."]
    # change every entry: b's entry is re-read and proposes the same statement again → still rejected
    for p in vault.glob("*.md"):
        p.write_text(p.read_text(encoding="utf-8") + "\nMore.\n", encoding="utf-8")
    again.build(eng, config=CONFIG)
    ids = {f.id: f for f in themes(again)}
    assert b.id not in ids and ids[a.id].status == "accepted" and ids[c.id].status == "edited"
    assert ids[d.id] in again.accept(None)  # --all: every proposed fact
    assert not again.facts("proposed")
    with pytest.raises(FactNotFoundError):
        again.accept(["zzzz"])
    eng.close()


def test_removed_entries_retract_proposed_facts_but_keep_accepted(tmp_path: Path) -> None:
    vault = write_vault(tmp_path / "vault", 3)
    svc = service_for(vault)
    eng = ProfileEngine()
    svc.build(eng, config=CONFIG)
    first, second, _ = themes(svc)
    svc.accept([first.id])
    (vault / "2021-03-01.md").unlink()
    (vault / "2021-03-02.md").unlink()
    svc.build(eng, config=CONFIG)
    ids = {f.id for f in themes(svc)}
    assert first.id in ids and second.id not in ids and len(ids) == 2
    assert len(eng.batches) == 1  # nothing was re-read
    eng.close()


def test_due_follows_the_schedule(tmp_path: Path) -> None:
    vault = write_vault(tmp_path / "vault", 1)
    now = dt.datetime.now(dt.UTC)
    assert not service_for(vault).due(now)  # manual
    weekly = service_for(vault, schedule="weekly")
    assert weekly.due(now)  # never built
    eng = ProfileEngine()
    weekly.build(eng, config=CONFIG)
    assert not weekly.due(now + dt.timedelta(days=6)) and weekly.due(now + dt.timedelta(days=7, minutes=1))
    eng.close()


def test_no_sources_is_a_clear_error() -> None:
    with pytest.raises(NoSourcesError):
        ProfileService(Settings(), resolve_paths().ensure()).entries()


def test_chat_prompts_carry_accepted_facts_only_within_budget(tmp_path: Path) -> None:
    vault = write_vault(tmp_path / "vault", 3)
    svc = service_for(vault)
    eng = ProfileEngine(kind="base", n_ctx=4096)
    svc.build(eng, config=CONFIG)
    a, b, c = themes(svc)
    svc.accept([a.id])
    svc.reject([b.id])
    store = ConversationStore(tmp_path / "c.sqlite3")
    chat = ChatService(eng, None, store, ChatSettings(memories_k=0))
    chat.profile_text = svc.persona_text
    eng.enqueue("Hello.")
    assert isinstance(list(chat.ask(None, "Who am I?"))[-1], TurnDone)
    prompt = eng.requests[-1].text
    assert a.statement in prompt and b.statement not in prompt and c.statement not in prompt
    # the budget: a share too small for one fact leaves them all out
    tiny = service_for(vault, prompt_share=0.001)
    assert tiny.persona_text(4096, eng.count_tokens) == ""
    text = svc.persona_text(4096, eng.count_tokens)
    assert 0 < eng.count_tokens(text) <= int(4096 * svc.settings.profile.prompt_share)
    chat.close()
    store.close()
    eng.close()


def test_every_profile_file_goes_through_the_codec_hooks(tmp_path: Path) -> None:
    import base64

    def encode(b: bytes) -> bytes:
        return b"SEALED:" + base64.b64encode(bytes(x ^ 0x5A for x in b))

    def decode(b: bytes) -> bytes:
        assert b.startswith(b"SEALED:"), b[:20]
        return bytes(x ^ 0x5A for x in base64.b64decode(b[7:]))

    vault = write_vault(tmp_path / "vault", 3)
    settings = Settings()
    settings.memory.sources = [str(vault)]
    svc = ProfileService(settings, resolve_paths().ensure(), encode=encode, decode=decode)
    eng = ProfileEngine()
    svc.build(eng, config=CONFIG)
    first = svc.facts()[0]
    svc.accept([first.id])
    for name in ("profile.json", "profile.md", "review.json", "map.jsonl"):
        raw = (svc.folder / name).read_bytes()
        assert b"Walked" not in raw and b"2021-03-01" not in raw, name
    reopened = ProfileService(settings, resolve_paths(), encode=encode, decode=decode)
    assert {f.id: f.status for f in reopened.facts()}[first.id] == "accepted"
    assert reopened.build(eng, config=CONFIG).map.units_reused == 3  # the checkpoint reads back
    eng.close()


def test_a_second_writer_gets_a_clear_error(tmp_path: Path) -> None:
    import subprocess
    import sys
    import textwrap

    vault = write_vault(tmp_path / "vault", 1)
    svc = service_for(vault)
    hold = textwrap.dedent(f"""
        import sys, time
        from filelock import FileLock
        lock = FileLock({str(svc.folder / '.lock')!r}); lock.acquire()
        print('held', flush=True); sys.stdin.readline()
    """)
    svc.folder.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([sys.executable, "-c", hold], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        from twin.core.profile.storage import ProfileBusyError

        with pytest.raises(ProfileBusyError), svc.files.writer(timeout_s=0.2):
            pass
    finally:
        proc.communicate("\n", timeout=10)
    with svc.files.writer(timeout_s=0.2):  # released with the other process
        pass
