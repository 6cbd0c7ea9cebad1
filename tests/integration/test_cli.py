"""The `twin` command as a user runs it: real processes, TWIN_HOME in a tmp dir."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture
def env(twin_home: Path, minilm_path: str) -> dict[str, str]:
    return {**os.environ, "TWIN_HOME": str(twin_home), "TWIN_EMBEDDING_MODEL": minilm_path,
            "TWIN_EMBEDDING_DEVICE": "cpu"}


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "twin", *args], env=env, capture_output=True, text=True,
                          timeout=300)


def test_index_search_status_sources(tmp_path: Path, env: dict[str, str], twin_home: Path) -> None:
    vault = tmp_path / "diary"
    vault.mkdir()
    (vault / "1666-09-02.md").write_text(
        "---\ndate: 1666-09-02\n---\n# Fire\n\nThe great fire of London began in Pudding Lane.\n", encoding="utf-8")
    (vault / "1665-05-01.md").write_text("# Plague\n\nThe plague grows in the city.\n", encoding="utf-8")
    (vault / "заметки.md").write_text("## 15 марта 2023\n\nКупил велосипед и катался по набережной.\n",
                                      encoding="utf-8")
    (vault / "junk.md").write_bytes(b"\x00\x01\x02" * 500)

    r = run(env, "index", str(vault), "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["files_seen"] == 4 and report["files_indexed"] == 4
    assert [p["state"] for p in report["problems"]] == ["skipped"]
    assert (twin_home / "config" / "settings.toml").is_file()
    assert (twin_home / "data" / "index").is_dir()

    r = run(env, "search", "fire in London", "--json", "-k", "2")
    assert r.returncode == 0, r.stderr
    hits = json.loads(r.stdout)
    assert hits and set(hits[0]) == {"path", "heading", "date", "start_line", "end_line", "score", "text", "evidence"}
    assert 0.0 <= hits[0]["evidence"] <= 1.0
    assert hits[0]["path"].endswith("1666-09-02.md") and hits[0]["date"] == "1666-09-02"
    assert hits[0]["start_line"] >= 4
    assert hits == sorted(hits, key=lambda h: -h["score"])

    r = run(env, "search", "plague", "--since", "1666", "--json")
    assert all(h["date"] >= "1666-01-01" for h in json.loads(r.stdout))
    r = run(env, "search", "велосипед в марте 2023", "--json")
    assert json.loads(r.stdout)[0]["path"].endswith("заметки.md")

    r = run(env, "search", "fire")
    assert r.returncode == 0 and "1666-09-02.md" in r.stdout

    r = run(env, "status", "--json")
    st = json.loads(r.stdout)
    assert st["files"]["indexed"] == 3 and st["files"]["skipped"] == 1
    assert st["index"]["rows"] >= 3 and st["index"]["model"], st["index"]  # read through the store
    assert st["problems"][0]["path"].endswith("junk.md") and "binary" in st["problems"][0]["reason"]
    r = run(env, "status")
    assert "junk.md" in r.stdout and r.returncode == 0

    r = run(env, "sources", "list", "--json")
    assert json.loads(r.stdout) == [{"path": str(vault.resolve()), "exists": True}]
    r = run(env, "sources", "remove", str(vault))
    assert r.returncode == 0
    r = run(env, "index")
    assert r.returncode == 2 and "no source folders" in r.stderr


def test_user_errors_are_clear_with_nonzero_exit(tmp_path: Path, env: dict[str, str], twin_home: Path) -> None:
    r = run(env, "index", str(tmp_path / "missing"))
    assert r.returncode == 2 and "folder not found" in r.stderr and "Traceback" not in r.stderr
    r = run(env, "sources", "remove", str(tmp_path))
    assert r.returncode == 2 and "not a source folder" in r.stderr
    r = run(env, "search", "x", "--since", "2020-13")
    assert r.returncode == 2 and "bad date" in r.stderr
    (twin_home / "config").mkdir(parents=True, exist_ok=True)
    (twin_home / "config" / "settings.toml").write_text('[search]\nk = "many"\n')
    r = run(env, "status")
    assert r.returncode == 2 and "search.k" in r.stderr and "Traceback" not in r.stderr


def test_missing_embedding_model_says_how_to_get_it(tmp_path: Path, env: dict[str, str]) -> None:
    vault = tmp_path / "v"
    vault.mkdir()
    (vault / "a.md").write_text("hello")
    env = {**env, "TWIN_EMBEDDING_MODEL": "intfloat/multilingual-e5-base"}
    r = run(env, "index", str(vault))
    assert r.returncode == 2, r.stderr
    assert "twin models pull-embedding" in r.stderr and "Traceback" not in r.stderr
