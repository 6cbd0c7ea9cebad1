"""One writer, no lost data: `twin watch`, `twin index` and conversations, as real processes.

* a second writer is refused with a message naming the owner and exit status 75, or waits
  (``--wait``) and takes over when the owner exits; searching works meanwhile;
* SIGKILL of the owner in the middle of indexing: the next process takes the lock at once and
  the index is consistent (no duplicate chunks, every file's chunks match its record);
* two processes writing the conversations database at once lose nothing.
"""

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

WORDS = ["river", "lantern", "harbour", "orchard", "violin", "meadow", "copper", "window", "letter", "garden", "winter", "candle", "bridge", "market", "sailor", "bakery", "мост", "сад", "письмо", "зима", "свеча", "рынок", "парус"]


def write_notes(root: Path, start: int, count: int, seed: int = 3) -> None:
    rnd = random.Random(seed + start)
    root.mkdir(parents=True, exist_ok=True)
    for i in range(start, start + count):
        paras = [" ".join(rnd.choice(WORDS) for _ in range(rnd.randint(30, 60))) for _ in range(rnd.randint(2, 5))]
        (root / f"2022-{1 + i % 12:02d}-{1 + i % 28:02d}-{i}.md").write_text(
            f"# Entry {i}\n\n" + "\n\n".join(paras) + "\n", encoding="utf-8")


def twin(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "twin", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def records(home: Path) -> dict[str, tuple[str, int]]:
    db = home / "data" / "files.sqlite3"
    if not db.exists():
        return {}
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {p: (s, n) for p, s, n in con.execute("SELECT path, state, chunks FROM files")}
    except sqlite3.OperationalError:
        return {}
    finally:
        con.close()


def store_rows(home: Path) -> list[dict]:
    import lancedb

    db = lancedb.connect(str(home / "data" / "index"))
    return db.open_table("chunks").to_arrow().select(["id", "path", "ordinal"]).to_pylist()


def owner(home: Path) -> dict | None:
    try:
        return json.loads((home / "data" / "index.lock.json").read_text())
    except (OSError, ValueError):
        return None


def wait_for(cond, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def assert_consistent(home: Path, vault: Path) -> None:
    rows, recs = store_rows(home), records(home)
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), "duplicate chunks"
    on_disk = {str(p) for p in vault.glob("*.md")}
    assert set(recs) == on_disk and all(s == "indexed" for s, _ in recs.values())
    per_path: dict[str, list[int]] = {}
    for r in rows:
        per_path.setdefault(r["path"], []).append(r["ordinal"])
    assert set(per_path) == on_disk
    for path, ordinals in per_path.items():
        assert sorted(ordinals) == list(range(recs[path][1])), path


@pytest.fixture
def setup(tmp_path: Path, minilm_path: str) -> tuple[dict[str, str], Path, Path]:
    home, vault = tmp_path / "home", tmp_path / "vault"
    write_notes(vault, 0, 8)
    env = {**os.environ, "TWIN_HOME": str(home), "TWIN_EMBEDDING_MODEL": minilm_path,
           "TWIN_EMBEDDING_DEVICE": "cpu"}
    assert twin(env, "sources", "add", str(vault)).wait(60) == 0
    return env, home, vault


def test_watch_owns_the_index_others_are_told_or_wait(setup) -> None:  # type: ignore[no-untyped-def]
    env, home, vault = setup
    watch = twin(env, "watch")
    try:
        wait_for(lambda: (owner(home) or {}).get("pid") == watch.pid, 120, "twin watch to take the lock")
        wait_for(lambda: len(records(home)) == 8, 180, "the first rescan")

        refused = twin(env, "index")
        out, err = refused.communicate(timeout=120)
        assert refused.returncode == 75, (out, err)
        assert f"kept current by twin watch (pid {watch.pid})" in err and "--wait" in err

        write_notes(vault, 100, 2)  # written while both run: the owner picks them up
        wait_for(lambda: len(records(home)) == 10, 120, "twin watch to index the new notes")

        search = twin(env, "search", "river lantern", "--json")  # readers need no lock
        out, err = search.communicate(timeout=180)
        assert search.returncode == 0, err
        assert json.loads(out)

        waiting = twin(env, "index", "--json", "--wait")
        time.sleep(3)
        assert waiting.poll() is None, "`twin index --wait` should wait for the owner"
        watch.send_signal(signal.SIGTERM)
        assert watch.wait(60) == 0
        out, err = waiting.communicate(timeout=240)
        assert waiting.returncode == 0, err
        assert "waiting for twin watch" in err
        assert json.loads(out)["files_seen"] == 10
    finally:
        if watch.poll() is None:
            watch.kill()
            watch.wait()
    assert owner(home) is None  # released and cleaned up
    assert_consistent(home, vault)


def test_sigkill_of_the_owner_mid_index_then_another_takes_over(setup) -> None:  # type: ignore[no-untyped-def]
    env, home, vault = setup
    write_notes(vault, 8, 150)
    watch = twin(env, "watch")
    try:
        wait_for(lambda: (owner(home) or {}).get("pid") == watch.pid, 120, "twin watch to take the lock")
        wait_for(lambda: len(records(home)) >= 20, 240, "indexing to be under way")
        assert len(records(home)) < 158, "indexing finished before the kill: make the vault bigger"
        watch.send_signal(signal.SIGKILL)
        watch.wait(30)
    finally:
        if watch.poll() is None:
            watch.kill()
            watch.wait()
    assert (owner(home) or {}).get("pid") == watch.pid  # the stale sidecar is still there…
    after = twin(env, "index", "--json")  # …and does not block
    out, err = after.communicate(timeout=600)
    assert after.returncode == 0, err
    assert json.loads(out)["files_unchanged"] >= 20
    assert_consistent(home, vault)


HAMMER = """
import sys
from twin.core.conversation.store import ConversationStore
store = ConversationStore(sys.argv[1])
tag = sys.argv[2]
for i in range(int(sys.argv[3])):
    c = store.create(f"{tag} {i}")
    store.add_user_message(c.id, f"{tag} question {i}")
    m = store.begin_assistant_message(c.id, model="m")
    store.update_partial(m, f"{tag} partial {i}", "")
    store.finish_assistant_message(m, content=f"{tag} answer {i}", thinking="", citations=(),
                                   complete=True, finish_reason="stop")
    if i % 25 == 24:
        store.delete(c.id)  # with VACUUM, while the other process writes
store.close()
print("ok")
"""


def test_two_processes_write_conversations_at_once(tmp_path: Path) -> None:
    db = tmp_path / "conversations.sqlite3"
    from twin.core.conversation.store import ConversationStore

    ConversationStore(db).close()  # migrated once, before the race
    n = 100
    procs = [subprocess.Popen([sys.executable, "-c", HAMMER, str(db), tag, str(n)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for tag in ("alpha", "beta")]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0 and out.strip() == "ok", err
    store = ConversationStore(db)
    convs = store.list_conversations(limit=10_000)
    deleted = n // 25
    for tag in ("alpha", "beta"):
        mine = [c for c in convs if c.title.startswith(tag + " ")]
        assert len(mine) == n - deleted
        for c in mine:
            assert [m.content for m in store.messages(c.id)] == [
                f"{tag} question {c.title.split()[1]}", f"{tag} answer {c.title.split()[1]}"]
    store.close()
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
