"""Encryption at rest for twin's own files: memory notes and inbox copies (real MiniLM + LanceDB).

With encryption on, neither the bytes nor the names of anything under TWIN_HOME reveal the
user's words; the files stay indexable and searchable; ``enable``/``disable`` convert
existing files (renamed, vectors kept) and deleting a sealed note takes it out of the index.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from twin.app import encryption_switch
from twin.app.chat_memories import ChatMemories, slug
from twin.app.container import Memory
from twin.app.documents_service import DocumentsService
from twin.app.sealed_files import SealedFiles, note_hooks
from twin.core.crypto import KdfParams
from twin.core.memory.documents import read_document
from twin.log import setup_logging
from twin.paths import Paths, resolve_paths
from twin.settings import Settings

PASS = "correct horse battery staple"
FACT = "My favourite fruit is the quokkaberry from Vantablackshire."
DOC_EN = "Grandmother kept her zorblaxian recipes in a tin box."
DOC_RU = "Бабушка хранила рецепты Чебурашкинского пирога в жестяной коробке."
NEEDLES = ["quokkaberry", "vantablackshire", "zorblaxian", "чебурашкинского", "бабушка", "recipes-of-grandma",
           slug(FACT)]


def _leaks(root: Path) -> list[str]:
    found = []
    for f in root.rglob("*"):
        name = f.relative_to(root).as_posix().lower()
        data = f.read_bytes().lower() if f.is_file() else b""
        for n in NEEDLES:
            if n in name or n.encode("utf-8") in data:
                found.append(f"{f.relative_to(root)}: {n}")
    return found


def _memory(paths: Paths, embedder: Any, vault: Any = None) -> Memory:
    settings = Settings()
    settings.memory.sources = [str(paths.inbox_dir)]
    paths.inbox_dir.mkdir(parents=True, exist_ok=True)
    memory = Memory(settings, paths, vault)
    memory.__dict__["embedder"] = embedder
    return memory


def _write_own_files(tmp: Path, paths: Paths, memory: Memory) -> Path:
    notes = ChatMemories(paths.memories_dir, **note_hooks(memory.vault))  # type: ignore[arg-type]
    note = notes.remember(FACT, conversation_title="Fruit talk").path
    outside = tmp / "outside"
    outside.mkdir()
    doc = outside / "recipes-of-grandma.md"
    doc.write_text(f"# Recipes\n\n{DOC_EN}\n\n{DOC_RU}\n", encoding="utf-8")
    docs = DocumentsService(paths.inbox_dir, memory.file_filter, memory.sealed.copy_into(paths.inbox_dir))
    result = docs.ingest([doc], "copy", memory.sources, lambda kind, p: None)
    assert len(result.queued) == 1 and not result.rejected
    return note


def _search(memory: Memory) -> tuple[bool, bool, bool]:
    import datetime as dt

    memory.store.maintain(cleanup_older_than=dt.timedelta(0))
    fruit = memory.retriever.search("what is my favourite fruit? quokkaberry", k=3)
    recipe = memory.retriever.search("where did grandmother keep zorblaxian recipes?", k=3)
    ru = memory.retriever.search("Чебурашкинского пирога", k=3)
    return (any("quokkaberry" in h.text for h in fruit), any("zorblaxian" in h.text for h in recipe),
            any("Чебурашкинского" in h.text for h in ru))


@pytest.mark.parametrize("encrypted", [True, False])
def test_notes_and_inbox_reveal_nothing_when_encrypted(tmp_path: Path, embedder: Any, encrypted: bool) -> None:
    home = tmp_path / "home"
    paths = resolve_paths({"TWIN_HOME": str(home)}).ensure()
    setup_logging(paths.log_file, verbose=2)  # the log is grepped too
    vault = encryption_switch.enable(paths, PASS, kdf=KdfParams.cheap()) if encrypted else None
    memory = _memory(paths, embedder, vault)
    note = _write_own_files(tmp_path, paths, memory)
    report = memory.indexer.reconcile(memory.sources)
    assert report.files_indexed == 2 and not report.errors
    assert _search(memory) == (True, True, True)
    if encrypted:
        assert note.name.endswith(".md.twin-sealed")
        # the note stays readable through twin (duplicate check, viewer hook)
        assert ChatMemories(paths.memories_dir, **note_hooks(memory.vault)).find(FACT) == note  # type: ignore[arg-type]
        assert FACT in read_document(note, 1 << 20, memory.sealed.decode).text
        assert SealedFiles(memory.vault).real_name(next(paths.inbox_dir.iterdir())) == "recipes-of-grandma.md"
    memory.close()
    for h in logging.getLogger().handlers:
        h.flush()
    assert paths.log_file.exists()
    leaks = _leaks(home)
    if encrypted:
        assert leaks == []
    else:  # the same flow without encryption shows the words: the check can fail
        assert any("quokkaberry" in x for x in leaks) and any(slug(FACT) in x for x in leaks)
        assert any("zorblaxian" in x for x in leaks) and any("recipes-of-grandma" in x for x in leaks)


def test_enable_and_disable_convert_existing_files(tmp_path: Path, embedder: Any) -> None:
    home = tmp_path / "home"
    paths = resolve_paths({"TWIN_HOME": str(home)}).ensure()
    memory = _memory(paths, embedder)
    note = _write_own_files(tmp_path, paths, memory)
    assert memory.indexer.reconcile(memory.sources).files_indexed == 2
    memory.close()
    assert _leaks(home)

    vault = encryption_switch.enable(paths, PASS, kdf=KdfParams.cheap())
    assert not note.exists() and _leaks(home) == []
    sealed = sorted(p.name for p in [*paths.memories_dir.iterdir(), *paths.inbox_dir.iterdir()])
    assert len(sealed) == 2 and all(n.endswith(".md.twin-sealed") for n in sealed)
    memory = _memory(paths, embedder, vault)
    assert _search(memory) == (True, True, True)  # rows moved to the new names, vectors kept
    assert all(p.endswith(".twin-sealed") for p in memory.store.paths())
    report = memory.indexer.reconcile(memory.sources)
    assert not report.errors and report.files_removed == 0 and report.chunks_embedded == 0
    assert _search(memory) == (True, True, True)

    # deleting a sealed note takes it out of the index
    sealed_note = next(paths.memories_dir.glob("*.twin-sealed"))
    sealed_note.unlink()
    memory.indexer.reconcile(memory.sources)
    assert _search(memory)[0] is False
    # remember it again (sealed) for the way back
    ChatMemories(paths.memories_dir, **note_hooks(memory.vault)).remember(FACT)  # type: ignore[arg-type]
    memory.indexer.reconcile(memory.sources)
    memory.close()
    assert _leaks(home) == []

    encryption_switch.disable(paths, PASS)
    from twin.app.backup import list_backups

    made = list_backups(paths, Settings().backup)  # taken before decrypting (still encrypted)
    assert len(made) == 1 and (made[0].path / "keys.json").exists()
    assert not list(paths.memories_dir.glob("*.twin-sealed")) and not list(paths.inbox_dir.glob("*.twin-sealed"))
    assert (paths.inbox_dir / "recipes-of-grandma.md").read_text(encoding="utf-8").startswith("# Recipes")
    assert [p.name for p in paths.memories_dir.glob("*.md")] == [note.name]
    memory = _memory(paths, embedder)
    assert _search(memory) == (True, True, True)
    memory.close()


def test_chat_notes_sealed_indexed_edited_and_deleted_through_twin(tmp_path: Path, embedder: Any) -> None:
    import time

    from twin.app.twin import Twin
    from twin.core.llm.fake import FakeEngine

    home = tmp_path / "home"
    paths = resolve_paths({"TWIN_HOME": str(home)}).ensure()
    vault = encryption_switch.enable(paths, PASS, kdf=KdfParams.cheap())
    memory = _memory(paths, embedder, vault)
    memory.settings.memory.debounce_ms = 50
    chat = Twin.over(memory, engine_factory=lambda llm, **_: FakeEngine())
    try:
        note = chat.remember(FACT).path  # written sealed and indexed at once (the app's hook)
        assert note.name.endswith(".md.twin-sealed")
        assert _search(memory)[0] is True
        notes = chat.chat_memories
        notes.edit(note, "My favourite fruit is the zorblaxian plum.")
        assert note.name.endswith(".twin-sealed") and b"zorblaxian" not in note.read_bytes()
        rows = " ".join(r.text for r in memory.store.rows_for_path(str(note)))
        assert "zorblaxian" in rows and "quokkaberry" not in rows
        service = memory.service()
        service.start(watch=True, rescan=False)
        notes.delete(note)
        t0 = time.monotonic()
        while memory.store.rows_for_path(str(note)) and time.monotonic() - t0 < 20:
            time.sleep(0.05)
        assert memory.store.rows_for_path(str(note)) == [] and not note.exists()
    finally:
        chat.close()
        memory.close()
    assert _leaks(home) == []
