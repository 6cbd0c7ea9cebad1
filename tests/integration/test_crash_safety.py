"""SIGKILL at any moment of `twin index` loses nothing (real processes, real kills)."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

WORDS = ("river lantern harbour orchard violin meadow copper window letter garden winter candle "
         "bridge market sailor bakery chapel thunder glacier compass library falcon velvet "
         "мост сад письмо зима свеча рынок парус библиотека сокол бархат гроза ледник").split()


def make_vault(root: Path, files: int, seed: int = 7) -> None:
    rnd = random.Random(seed)
    root.mkdir(parents=True)
    for i in range(files):
        paras = []
        for _ in range(rnd.randint(3, 6)):
            sentences = [" ".join(rnd.choice(WORDS) for _ in range(rnd.randint(6, 14))).capitalize() + "."
                         for _ in range(rnd.randint(2, 5))]
            paras.append(" ".join(sentences))
        day = 1 + i % 28
        (root / f"2021-{1 + i % 12:02d}-{day:02d}-{i}.md").write_text(
            f"# Entry {i}\n\n" + "\n\n".join(paras) + "\n", encoding="utf-8")


def twin(env: dict[str, str], *args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "twin", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def store_rows(home: Path) -> list[dict]:
    import lancedb

    db = lancedb.connect(str(home / "data" / "index"))
    if "chunks" not in list(getattr(db.list_tables(), "tables", db.list_tables())):
        return []
    return db.open_table("chunks").to_arrow().select(["id", "path", "ordinal", "hash"]).to_pylist()


def records(home: Path) -> dict[str, tuple[str, int]]:
    db = home / "data" / "files.sqlite3"
    if not db.exists():
        return {}
    con = sqlite3.connect(db)
    try:
        return {p: (s, n) for p, s, n in con.execute("SELECT path, state, chunks FROM files")}
    except sqlite3.OperationalError as e:  # the file exists, its schema not yet (a run just started)
        if "no such table" in str(e):
            return {}
        raise
    finally:
        con.close()


def test_sigkill_during_indexing(tmp_path: Path, minilm_path: str) -> None:
    home, vault = tmp_path / "home", tmp_path / "vault"
    make_vault(vault, files=150)
    env = {**os.environ, "TWIN_HOME": str(home), "TWIN_EMBEDDING_MODEL": minilm_path,
           "TWIN_EMBEDDING_DEVICE": "cpu"}
    assert twin(env, "sources", "add", str(vault)).wait(60) == 0
    settings = home / "config" / "settings.toml"
    settings.write_text(settings.read_text().replace("chunk_tokens = 0", "chunk_tokens = 40"))

    rnd = random.Random(1)
    kills = 0
    for attempt in range(4):
        before = len(records(home))
        proc = twin(env, "index", "--json")
        # wait until this run has committed something, then kill at a random moment
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None and len(records(home)) <= before:
            time.sleep(0.05)
        time.sleep(rnd.uniform(0.0, 1.5))
        if proc.poll() is not None:
            break
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        kills += 1
        rows = store_rows(home)
        ids = [r["id"] for r in rows]
        assert len(ids) == len(set(ids)), "duplicate chunk ids after a kill"
        keys = [(r["path"], r["ordinal"]) for r in rows]
        assert len(keys) == len(set(keys)), "duplicate (path, ordinal) after a kill"
    assert kills >= 2, "indexing finished before it could be killed: make the vault bigger"

    hashes_before = {r["hash"] for r in store_rows(home)}
    files_before = {p for p, (s, _) in records(home).items() if s == "indexed"}
    assert files_before, "nothing was committed before the kills"
    proc = twin(env, "index", "--json")
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    report = json.loads(out)

    rows = store_rows(home)
    recs = records(home)
    on_disk = {str(p) for p in vault.iterdir()}
    # every file indexed once, all of its chunks present, no orphans, no duplicates
    assert set(recs) == on_disk and all(s == "indexed" for s, _ in recs.values())
    per_path: dict[str, list[int]] = {}
    for r in rows:
        per_path.setdefault(r["path"], []).append(r["ordinal"])
    assert set(per_path) == on_disk
    for path, ordinals in per_path.items():
        assert sorted(ordinals) == list(range(recs[path][1])), path
    # files finished before the kill were not re-embedded: only new hashes were embedded
    new_hashes = {r["hash"] for r in rows} - hashes_before
    assert report["chunks_embedded"] == len(new_hashes)
    assert report["files_unchanged"] >= len(files_before)
