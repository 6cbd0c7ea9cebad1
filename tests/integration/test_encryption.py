"""Encryption at rest, end to end: real LanceDB, real SQLite, real MiniLM, real log file.

The leak test greps every byte under TWIN_HOME (data, config, logs) for canary words, in
English and Russian, and for their stemmed forms (what the FTS column would hold). The same
flow without encryption must find them, so the grep is known to work.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from twin.app import encryption_switch, vault_service
from twin.app.container import Memory
from twin.core.conversation.store import ConversationStore
from twin.core.crypto import KdfParams, WrongPassphrase
from twin.core.memory.textnorm import fts_terms
from twin.core.prompt.citations import Citation
from twin.log import setup_logging
from twin.paths import Paths, resolve_paths
from twin.settings import Settings, save_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
from pepys_vault import make_vault

PASS = "a long enough passphrase"
CANARY_EN = "Quokkalicious zanzibarian marmalades"
CANARY_RU = "Чебурашкинские апельсинчики"
NEEDLES = [w for c in (CANARY_EN, CANARY_RU) for w in c.split()]
STEMS = [t for c in (CANARY_EN, CANARY_RU) for t in fts_terms(c).split()]


def _vault(root: Path) -> Path:
    vault = root / "diary"
    vault.mkdir()
    (vault / "2024-05-01.md").write_text(
        f"# Breakfast with {CANARY_EN}\n\nToday I tasted {CANARY_EN.lower()} at the market.\n",
        encoding="utf-8")
    (vault / "2024-05-02.md").write_text(
        f"# Прогулка\n\nКупили {CANARY_RU} на набережной, было солнечно.\n", encoding="utf-8")
    (vault / "2024-05-03.md").write_text("# Work\n\nA long meeting about budgets.\n", encoding="utf-8")
    return vault


def _leaks(root: Path) -> list[str]:
    found = []
    needles = {n: n for n in NEEDLES + STEMS}
    needles.update({n.lower(): n for n in NEEDLES})
    for f in root.rglob("*"):
        if not f.is_file():
            continue
        data = f.read_bytes().lower()
        for needle in needles:
            if needle.lower().encode("utf-8") in data:
                found.append(f"{f.relative_to(root)}: {needle}")
    return found


def _session(home: Path, embedder: Any, encrypted: bool) -> tuple[list[Any], list[str]]:
    """Index, search, store a conversation, log at DEBUG; return the hits and the leaks."""
    paths = resolve_paths({"TWIN_HOME": str(home)}).ensure()
    setup_logging(paths.log_file, verbose=2)
    vault = encryption_switch.enable(paths, PASS, kdf=KdfParams.cheap()) if encrypted else None
    settings = Settings()
    settings.memory.sources = [str(_vault(home.parent))]
    memory = Memory(settings, paths, vault)
    memory.__dict__["embedder"] = embedder
    report = memory.indexer.reconcile(memory.sources)
    assert report.files_indexed == 3 and not report.errors
    memory.store.maintain(cleanup_older_than=__import__("datetime").timedelta(0))
    hits = memory.retriever.search(f"what did I taste? {CANARY_EN}", k=3)
    hits_ru = memory.retriever.search(CANARY_RU, k=1)
    assert any("zanzibarian" in h.text for h in hits), hits  # decrypted on the way out
    assert "Чебурашкинские" in hits_ru[0].text
    codec = memory.vault.codec()
    convs = ConversationStore(paths.conversations_db, codec=codec)
    conv = convs.create(f"About {CANARY_EN}")
    convs.add_user_message(conv.id, f"Tell me about {CANARY_RU}", memories=hits[0].text)
    mid = convs.begin_assistant_message(conv.id, model="m")
    convs.finish_assistant_message(
        mid, content=f"You loved {CANARY_EN}.", thinking=f"thinking of {CANARY_RU}",
        citations=[Citation(1, hits[0].path, hits[0].heading, None, 1, 2, 0.5)], complete=True,
        finish_reason="stop")
    assert convs.messages(conv.id)[1].content == f"You loved {CANARY_EN}."
    assert convs.messages(conv.id)[1].citations[0].heading == hits[0].heading
    assert convs.get(conv.id).title == f"About {CANARY_EN}"
    found = convs.search("zanzibar")
    assert [h.message_id for h in found] == [mid] and "zanzibarian" in found[0].snippet
    assert convs.search(CANARY_RU.split()[1][:6])[0].role == "user"
    convs.close()
    memory.close()
    for h in logging.getLogger().handlers:
        h.flush()
    return hits, _leaks(home)


def test_encrypted_session_leaves_no_user_text(tmp_path: Path, embedder: Any) -> None:
    _hits, leaks = _session(tmp_path / "enc" / "home", embedder, encrypted=True)
    assert leaks == []
    assert (tmp_path / "enc" / "home" / "logs" / "twin.log").stat().st_size > 0


def test_the_same_session_without_encryption_leaks(tmp_path: Path, embedder: Any) -> None:
    """Proves the grep above can fail: the same flow in plain mode shows the canaries."""
    _, leaks = _session(tmp_path / "plain" / "home", embedder, encrypted=False)
    joined = "\n".join(leaks)
    assert "conversations.sqlite3" in joined and "index" in joined
    assert all(s in joined for s in STEMS)


def _paths(root: Path) -> Paths:
    return resolve_paths({"TWIN_HOME": str(root)}).ensure()


class _Cached:
    """The session's embedder with a cache, so the second index embeds nothing."""

    def __init__(self, inner: Any):
        self.inner, self.cache = inner, {}
        self.name, self.dim = inner.name, inner.dim

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def embed_passages(self, texts: list[str]) -> Any:
        import numpy as np

        todo = [t for t in texts if t not in self.cache]
        for t, v in zip(todo, self.inner.embed_passages(todo) if todo else []):
            self.cache[t] = v
        return np.stack([self.cache[t] for t in texts])


def test_same_ranking_with_and_without_encryption(tmp_path: Path, embedder: Any) -> None:
    vault = make_vault(tmp_path, first="1666-08-30", count=6)
    embedder = _Cached(embedder)
    queries = ["the fire in the city", "my wife", "dinner with Sir W. Pen", "office work and the navy",
               "church on Sunday"]
    results = []
    for encrypted in (False, True):
        paths = _paths(tmp_path / f"home{int(encrypted)}")
        vault_obj = encryption_switch.enable(paths, PASS, kdf=KdfParams.cheap()) if encrypted else None
        settings = Settings()
        settings.memory.sources = [str(vault)]
        memory = Memory(settings, paths, vault_obj)
        memory.__dict__["embedder"] = embedder
        memory.indexer.reconcile([vault])
        store = memory.store
        out = []
        for q in queries:
            fts = [(c.path, c.ordinal, round(c.score, 4)) for c in store.search_fts(q, 10)]
            vec = [(c.path, c.ordinal) for c in store.search_vector(embedder.embed_query(q), 10)]
            hyb = [(h.path, h.start_line, round(h.score, 4)) for h in memory.retriever.search(q, k=8)]
            out.append((fts, vec, hyb))
        results.append(out)
        memory.close()
    assert results[0] == results[1]
    assert all(r[0] for r in results[0])  # the FTS side found something for every query


def _digest(root: Path) -> dict[str, str]:
    return {str(f.relative_to(root)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(root.rglob("*")) if f.is_file()}


def test_enable_on_existing_data_then_disable(tmp_path: Path, embedder: Any) -> None:
    home = tmp_path / "home"
    paths = _paths(home)
    settings = Settings()
    settings.memory.sources = [str(_vault(tmp_path))]
    memory = Memory(settings, paths)
    memory.__dict__["embedder"] = embedder
    memory.indexer.reconcile(memory.sources)
    before = [(h.path, h.start_line) for h in memory.retriever.search(CANARY_EN, k=3)]
    memory.close()
    convs = ConversationStore(paths.conversations_db)
    conv = convs.create("plain title " + CANARY_EN)
    convs.add_user_message(conv.id, CANARY_RU)
    convs.close()
    assert _leaks(paths.data_dir)

    vault = encryption_switch.enable(paths, PASS, kdf=KdfParams.cheap())
    assert _leaks(paths.data_dir) == []
    assert not (paths.data_dir / "index.old").exists()

    memory = Memory(settings, paths, vault)
    memory.__dict__["embedder"] = embedder
    assert [(h.path, h.start_line) for h in memory.retriever.search(CANARY_EN, k=3)] == before
    assert memory.indexer.reconcile(memory.sources).chunks_embedded == 0  # vectors were kept
    memory.close()
    convs = ConversationStore(paths.conversations_db, codec=vault.codec())
    assert convs.messages(conv.id)[0].content == CANARY_RU
    convs.close()

    # a wrong passphrase changes nothing, for every command
    snapshot = _digest(paths.data_dir)
    for action in (lambda: encryption_switch.disable(paths, "wrong passphrase"),
                   lambda: encryption_switch.change_passphrase(paths, "wrong passphrase", "new passphrase!"),
                   lambda: vault_service.Vault(paths).unlock("wrong passphrase")):
        with pytest.raises(WrongPassphrase):
            action()
        assert _digest(paths.data_dir) == snapshot

    encryption_switch.change_passphrase(paths, PASS, "new passphrase!", kdf=KdfParams.cheap())
    encryption_switch.disable(paths, "new passphrase!")
    assert not (paths.data_dir / "keys.json").exists()
    convs = ConversationStore(paths.conversations_db)
    assert convs.messages(conv.id)[0].content == CANARY_RU and convs.search("Чебурашкинские")
    convs.close()
    memory = Memory(settings, paths)
    memory.__dict__["embedder"] = embedder
    assert [(h.path, h.start_line) for h in memory.retriever.search(CANARY_EN, k=3)] == before
    memory.close()


def test_vault_files(tmp_path: Path) -> None:
    """The profile folder: plain before, sealed (jsonl line by line) after enable, plain after
    disable; ProfileFiles reads it through the vault's hooks all along."""
    from twin.core.profile.storage import ProfileFiles

    paths = _paths(tmp_path / "home")
    vault = vault_service.Vault(paths)
    folder = paths.data_dir / "profile"
    files = ProfileFiles(folder, encode=vault.encode_bytes, decode=vault.decode_bytes)
    files.write_text("profile.md", "plain " + CANARY_EN)
    (folder / "map.jsonl").write_text(f'{{"a": "{CANARY_RU}"}}\n{{"b": 2}}\n', encoding="utf-8")
    vault = encryption_switch.enable(paths, PASS, kdf=KdfParams.cheap())
    assert _leaks(paths.data_dir) == []
    assert len((folder / "map.jsonl").read_bytes().splitlines()) == 2
    files = ProfileFiles(folder, encode=vault.encode_bytes, decode=vault.decode_bytes)
    assert files.read_text("profile.md") == "plain " + CANARY_EN
    files.write_text("review.json", CANARY_RU)
    assert _leaks(paths.data_dir) == [] and files.read_text("review.json") == CANARY_RU
    vault.write_text(folder / "x.md", CANARY_EN)
    assert vault.read_text(folder / "x.md") == CANARY_EN and _leaks(paths.data_dir) == []
    locked = vault_service.Vault(paths, ask=lambda: None)
    with pytest.raises(vault_service.VaultLocked):
        locked.read_text(folder / "x.md")
    encryption_switch.disable(paths, PASS)
    assert (folder / "review.json").read_text(encoding="utf-8") == CANARY_RU
    assert CANARY_RU in (folder / "map.jsonl").read_text(encoding="utf-8")


def test_cli_asks_for_the_passphrase(tmp_path: Path, minilm_path: str, embedder: Any) -> None:
    home = tmp_path / "home"
    vault = _vault(tmp_path)
    env = {**os.environ, "TWIN_HOME": str(home), "TWIN_EMBEDDING_MODEL": minilm_path,
           "TWIN_EMBEDDING_DEVICE": "cpu"}
    env.pop("TWIN_PASSPHRASE", None)

    def twin(*args: str, passphrase: str | None = None) -> subprocess.CompletedProcess[str]:
        e = {**env, "TWIN_PASSPHRASE": passphrase} if passphrase else env
        return subprocess.run([sys.executable, "-m", "twin", *args], check=False, env=e, capture_output=True,
                              text=True, timeout=300, stdin=subprocess.DEVNULL)

    r = twin("encrypt", "enable", passphrase=PASS)
    assert r.returncode == 0, r.stderr
    assert "Not encrypted: embedding vectors" in r.stdout
    settings = Settings()  # indexed in-process, with the session's model (saves a model load)
    paths = _paths(home)
    memory = Memory(settings, paths, vault_service.Vault(paths, ask=lambda: PASS))
    memory.__dict__["embedder"] = embedder
    assert memory.indexer.reconcile([vault]).files_indexed == 3
    memory.close()
    settings.memory.sources = [str(vault)]
    save_settings(settings, paths.settings_file)
    r = twin("search", "marmalades")
    assert r.returncode == 2 and "encrypted and locked" in r.stderr and "Traceback" not in r.stderr
    snapshot = _digest(home / "data")
    r = twin("search", "marmalades", passphrase="not the passphrase")
    assert r.returncode == 2 and "Wrong passphrase" in r.stderr
    assert _digest(home / "data") == snapshot
    r = twin("search", "marmalades", passphrase=PASS)
    assert r.returncode == 0 and "2024-05-01.md" in r.stdout, r.stderr
    assert twin("encrypt", "status").stdout.startswith("Encryption: on")
    assert _leaks(home) == []
