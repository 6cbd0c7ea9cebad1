"""Where `twin eval` keeps sets and runs: sealed with encryption on, clear errors for bad
names, damaged sets and unknown runs, and runs found by id, prefix or position."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from twin.app import encryption_switch
from twin.app.eval_runs import EvalError, EvalFiles
from twin.core.crypto import KdfParams
from twin.core.eval.questions import Question, QuestionSet, Source
from twin.paths import resolve_paths

SECRET = "When did I write about Zanzibarax and Quetzalwort?"


def a_set() -> QuestionSet:
    q = Question("keyword-001", "keyword", SECRET, True, Source("/v/a.md", dt.date(1666, 9, 2), "c1", 3, 9),
                 ("Zanzibarax", "Quetzalwort"))
    return QuestionSet([q], [("/v/b.md", dt.date(1666, 9, 3))], {"seed": 1, "name": "s"})


def test_sets_and_runs_are_sealed_when_encryption_is_on(tmp_path: Path) -> None:
    paths = resolve_paths({"TWIN_HOME": str(tmp_path / "home")}).ensure()
    vault = encryption_switch.enable(paths, "pass phrase", kdf=KdfParams.cheap())
    files = EvalFiles(paths.data_dir, vault)
    path = files.save_set("s", a_set())
    assert b"Zanzibarax" not in path.read_bytes() and b"/v/a.md" not in path.read_bytes()
    loaded = files.load_set("s")
    assert loaded.questions == a_set().questions and loaded.held_apart == a_set().held_apart
    files.add_run({"id": "r1", "summary": {}}, [{"id": "keyword-001", "text": SECRET}])
    raw = files.runs_file.read_bytes() + (files.root / "runs" / "r1.jsonl").read_bytes()
    assert b"Zanzibarax" not in raw
    assert files.runs()[0]["id"] == "r1" and files.details("r1")[0]["text"] == SECRET


def test_plain_files_errors_and_run_lookup(tmp_path: Path) -> None:
    files = EvalFiles(tmp_path)
    with pytest.raises(EvalError, match="twin eval build"):
        files.load_set("default")
    with pytest.raises(EvalError, match="bad set name"):
        files.set_path("../etc")
    files.save_set("s", a_set())
    assert SECRET in files.set_path("s").read_text(encoding="utf-8")
    files.set_path("s").write_text("{broken\n", encoding="utf-8")
    with pytest.raises(EvalError, match="damaged"):
        files.load_set("s")
    with pytest.raises(EvalError, match="no eval runs"):
        files.find_run("-1")
    for rid in ("20261205-080000", "20261205-090000", "20261206-100000"):
        files.add_run({"id": rid, "summary": {}}, [])
    with files.runs_file.open("a", encoding="utf-8") as f:
        f.write("not json\n")  # a damaged line is skipped
    assert [r["id"] for r in files.runs()] == ["20261205-080000", "20261205-090000", "20261206-100000"]
    assert files.find_run("-1")["id"] == "20261206-100000"
    assert files.find_run("-3")["id"] == files.find_run("1")["id"] == "20261205-080000"
    assert files.find_run("20261205-09")["id"] == "20261205-090000"
    with pytest.raises(EvalError, match="more than one"):
        files.find_run("20261205")
    with pytest.raises(EvalError, match="no run matches"):
        files.find_run("nope")
    with pytest.raises(EvalError, match="only 3 runs"):
        files.find_run("-7")
