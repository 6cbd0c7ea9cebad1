"""Operations the stores own (issue 11): the encryption switch calls these instead of reaching
into private parts. Real SQLite and real LanceDB in tmp dirs."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from twin.core.conversation.store import ConversationStore
from twin.core.crypto import PLAIN, Keys, SealedCodec
from twin.core.memory.filestate import FileState, record
from twin.core.memory.store import LanceStore, StoreRow, content_hash

DIM = 8


def _sealed() -> SealedCodec:
    return SealedCodec(Keys(os.urandom(32)))


def _vec(i: int) -> np.ndarray:
    v = np.random.default_rng(i).standard_normal(DIM).astype(np.float32)
    return v / np.linalg.norm(v)


# -- ConversationStore.reencode ----------------------------------------------------------


def test_conversation_reencode_seals_everything_and_is_idempotent(tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite"
    store = ConversationStore(db)
    conv = store.create("Trip to the sea")
    store.add_user_message(conv.id, "Where did we swim with Kim?", memories="diary 2024-05-01")
    mid = store.begin_assistant_message(conv.id)
    store.finish_assistant_message(mid, content="At the pier, the water was cold.", thinking="look up May",
                                   citations=(), complete=True, finish_reason="stop")
    assert store.search("pier"), "plaintext FTS finds the word before"

    codec = _sealed()

    def seal(value: str, purpose: str) -> str:
        return value if codec.is_sealed(value, purpose) else codec.seal_text(value, purpose)

    changed = store.reencode(seal)
    assert changed >= 5  # title, question, memories, answer, thinking (and citations)
    assert store.reencode(seal) == 0, "a rerun (after a crash) changes nothing more"
    store.close()

    raw = sqlite3.connect(db)
    try:
        blob = b"".join(raw.execute("SELECT CAST(title AS BLOB) FROM conversations").fetchone()
                        + tuple(b for r in raw.execute("SELECT CAST(content AS BLOB), CAST(thinking AS BLOB) "
                                                       "FROM messages") for b in r))
        fts = raw.execute("SELECT COUNT(*) FROM messages_fts WHERE messages_fts MATCH 'pier'").fetchone()[0]
    finally:
        raw.close()
    assert b"pier" not in blob and b"Trip" not in blob and b"Kim" not in blob
    assert fts == 0, "the FTS index was rebuilt from the sealed rows"
    assert b"pier" not in db.read_bytes(), "compacted: no old page keeps the plaintext"

    sealed = ConversationStore(db, codec)
    try:
        assert sealed.get(conv.id).title == "Trip to the sea"
        assert [m.content for m in sealed.messages(conv.id)] == ["Where did we swim with Kim?",
                                                                   "At the pier, the water was cold."]
        assert sealed.search("pier"), "the sealed store searches the decrypted messages"
    finally:
        sealed.close()


def test_conversation_reencode_rolls_back_on_error(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite")
    try:
        conv = store.create("one")
        store.add_user_message(conv.id, "two")

        def fail_late(value: str, purpose: str) -> str:
            if purpose == "msg.content":
                raise RuntimeError("crash mid-conversion")
            return value.upper()

        with pytest.raises(RuntimeError):
            store.reencode(fail_late)
        assert store.get(conv.id).title == "one", "one transaction: nothing half-converted"
        assert store.messages(conv.id)[0].content == "two"
    finally:
        store.close()


# -- FileState.vacuum --------------------------------------------------------------------


def test_filestate_vacuum_drops_renamed_paths_from_the_file(tmp_path: Path) -> None:
    db = tmp_path / "state.sqlite"
    state = FileState(db)
    try:
        secret = "/diary/very-private-name-" + "x" * 200 + ".md"
        state.put_many([record(secret, "/diary", 10, 1, "h", "indexed")])
        state.rename(secret, "/diary/sealed-0001.md.twin-sealed")
        state.vacuum()
        assert state.get("/diary/sealed-0001.md.twin-sealed") is not None
        assert state.get(secret) is None
    finally:
        state.close()
    data = db.read_bytes() + (db.with_name(db.name + "-wal").read_bytes()
                              if db.with_name(db.name + "-wal").exists() else b"")
    assert b"very-private-name" not in data


# -- LanceStore.copy_to ------------------------------------------------------------------


def _rows(path: str, n: int) -> list[StoreRow]:
    out = []
    for i in range(n):
        text, heading = f"chunk {i} of {path}", f"Heading {i}"
        out.append(StoreRow(ordinal=i, text=text, hash=content_hash(f"{heading}\n{text}"), vector=_vec(i),
                            heading=heading, start_line=i + 1, end_line=i + 2, mtime=5.0))
    return out


def test_lance_copy_to_reseals_keeps_vectors_and_renames(tmp_path: Path) -> None:
    plain = LanceStore(tmp_path / "plain", "m", DIM)
    plain.replace_files({"/d/a.md": _rows("/d/a.md", 3), "/d/b.md": _rows("/d/b.md", 2)})

    codec = _sealed()
    sealed = LanceStore(tmp_path / "sealed", "m", DIM, codec=codec)
    assert plain.copy_to(sealed, {"/d/b.md": "/d/b.md.twin-sealed"}) == 5
    assert sealed.paths() == {"/d/a.md": 3, "/d/b.md.twin-sealed": 2}
    got = sealed.rows_for_path("/d/a.md")
    assert [c.text for c in got] == [f"chunk {i} of /d/a.md" for i in range(3)]
    assert [c.heading for c in got] == [f"Heading {i}" for i in range(3)]
    # vectors kept (found again by their plain content hash: nothing to embed)
    wanted = [r.hash for r in _rows("/d/a.md", 3)]
    vecs = sealed.vectors_for_hashes(wanted)
    assert set(vecs) == set(wanted)
    for i, h in enumerate(wanted):
        np.testing.assert_allclose(vecs[h], _vec(i), rtol=1e-6)
    raw = b"".join(p.read_bytes() for p in (tmp_path / "sealed").rglob("*") if p.is_file())
    assert b"chunk 0 of" not in raw, "the copy holds ciphertext only"

    # and back: a sealed store copies out to plain with the same content hashes
    back = LanceStore(tmp_path / "back", "m", DIM, codec=PLAIN)
    assert sealed.copy_to(back) == 5
    assert {c.hash for c in back.rows_for_path("/d/a.md")} == set(wanted)
    assert [c.text for c in back.rows_for_path("/d/b.md.twin-sealed")] == ["chunk 0 of /d/b.md", "chunk 1 of /d/b.md"]
