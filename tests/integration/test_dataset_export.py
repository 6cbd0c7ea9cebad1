"""`twin dataset export` on a real vault: Pepys's diary around the Great Fire, Russian notes, a
private file, an inline-private entry, an exact copy and an edited copy; starred chat answers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from twin.cli.main import main
from twin.core.conversation.store import ConversationStore
from twin.paths import resolve_paths

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
from pepys_vault import make_vault

RU = """## 15 марта 2024

Сегодня я гулял в парке и думал о работе. Было тепло, снег почти растаял, и дети катались на
велосипедах. Потом зашёл в кофейню на углу и долго сидел у окна. Вечером позвонила сестра, мы
говорили о поездке на дачу.

## 16 марта 2024 #private

Личное: об этом никто не должен знать. Это очень личная запись, которую нельзя отправлять
никуда, ни в какой набор данных, ни под каким предлогом. Совсем никуда и никогда, честно.

## 17 марта 2024

Вчера я читал книгу о путешествиях. Сегодня весь день шёл дождь, я разбирал старые фотографии и
нашёл снимки из Крыма. Хочется снова поехать к морю этим летом, может быть в июле, с братом.
Надо спросить у него про отпуск.
"""
SECRET = "Secret text of mine that must stay out of any dataset. " * 8


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Path:
    v = make_vault(tmp_path_factory.mktemp("pepys"), first="1666-09-01", count=12)
    (v / "заметки.md").write_text(RU, encoding="utf-8")
    (v / "secret.md").write_text(f"---\nprivate: true\n---\n# 2024-04-01\n\n{SECRET}\n", encoding="utf-8")
    shutil.copy(v / "1666-09-05.md", v / "copy-of-1666-09-05.md")  # exact duplicate
    edited = (v / "1666-09-06.md").read_text(encoding="utf-8").replace(" the ", " teh ", 2)
    (v / "1666-09-06-edited.md").write_text(edited, encoding="utf-8")  # near duplicate
    return v


def read_jsonl(path: Path) -> list[dict]:  # type: ignore[type-arg]
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_export_through_the_cli(vault: Path, tmp_path: Path, twin_home: Path) -> None:
    out = tmp_path / "data" / "set"
    before = {p for p in tmp_path.rglob("*")}
    cmd = [sys.executable, "-m", "twin", "dataset", "export", str(out), "--format", "chat,completion",
           "--folder", str(vault), "--val-share", "0.3", "--max-tokens", "512", "--chats", "none", "--json"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, "TWIN_HOME": str(twin_home)})
    assert r.returncode == 0, r.stderr
    stats = json.loads(r.stdout)
    assert stats == json.loads((out / "stats.json").read_text(encoding="utf-8"))
    # nothing written outside the output folder
    assert {p for p in tmp_path.rglob("*")} - before == {out.parent, out, *out.rglob("*")}

    files = tree(out)
    assert sorted(files) == ["README.md", "chat/train.jsonl", "chat/val.jsonl", "completion/train.jsonl",
                             "completion/val.jsonl", "stats.json"]
    everything = b"".join(files.values()).decode("utf-8")
    assert "Личное" not in everything and "Secret text" not in everything  # private: left out
    inp = stats["input"]
    assert inp["files"] == 16 and inp["private"] == 2 and inp["unreadable"] == 0
    assert inp["exact_duplicates"] == 1 and inp["near_duplicates"] == 1
    assert inp["kept"] == 12 + 2  # Pepys's 12 days and the two Russian days

    chat = {s: read_jsonl(out / "chat" / f"{s}.jsonl") for s in ("train", "val")}
    comp = {s: read_jsonl(out / "completion" / f"{s}.jsonl") for s in ("train", "val")}
    for s in ("train", "val"):
        assert len(chat[s]) == len(comp[s]) == stats["examples"][s] == stats["formats"]["chat"][s]["examples"]
        for rec in chat[s]:
            assert [m["role"] for m in rec["messages"]] == ["system", "user", "assistant"]
            assert all(m["content"].strip() for m in rec["messages"])
        for rec in comp[s]:
            assert set(rec) == {"prompt", "completion"} and rec["completion"].strip()
        # estimated tokens (no GGUF configured): ceil(chars / 4) of prompt + completion
        expected = sum((len(r["prompt"] + r["completion"]) + 3) // 4 for r in comp[s])
        assert stats["formats"]["completion"][s]["tokens"]["total"] == expected
        assert stats["formats"]["completion"][s]["tokens"]["max"] <= 512 + 40  # parts within the budget
    assert stats["examples"]["train"] > 0 and stats["examples"]["val"] > 0
    assert stats["tokenizer"].startswith("estimate")

    # the split is by entry: a day's examples (day, parts, continuation) are all on one side
    def days(records: list[dict]) -> set[str]:  # type: ignore[type-arg]
        return {r["prompt"].split("\n", 1)[0].replace(" (continued)", "").replace(" (продолжение)", "")
                for r in records}
    assert days(comp["train"]) and days(comp["val"]) and not days(comp["train"]) & days(comp["val"])
    assert stats["examples"]["by_language"]["ru"] >= 2
    assert any(r["messages"][1]["content"].startswith("Напиши о своём дне: пятница, 15 марта 2024")
               for s in chat for r in chat[s])
    assert "| completion | val |" in files["README.md"].decode("utf-8")

    # refused without --force; stable with it (same split, same files but the timestamp)
    r2 = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                        env={**os.environ, "TWIN_HOME": str(twin_home)})
    assert r2.returncode != 0 and "--force" in r2.stderr
    r3 = subprocess.run(cmd + ["--force"], capture_output=True, text=True, timeout=300,
                        env={**os.environ, "TWIN_HOME": str(twin_home)})
    assert r3.returncode == 0, r3.stderr
    again = tree(out)
    assert {k: v for k, v in again.items() if k != "stats.json" and k != "README.md"} == \
        {k: v for k, v in files.items() if k != "stats.json" and k != "README.md"}


def test_filters_and_starred_answers(vault: Path, tmp_path: Path, twin_home: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    store = ConversationStore(resolve_paths().ensure().conversations_db)
    conv = store.create("views")
    store.add_user_message(conv.id, "What do you think about fires in the city?")
    a1 = store.begin_assistant_message(conv.id, model="m")
    store.finish_assistant_message(a1, content="They frighten me; I would bury my wine and my parmesan.",
                                   thinking="", citations=(), complete=True, finish_reason="stop")
    store.add_user_message(conv.id, "And the plague?")
    a2 = store.begin_assistant_message(conv.id, model="m")
    store.finish_assistant_message(a2, content="I keep away from it.", thinking="", citations=(),
                                   complete=True, finish_reason="stop")
    store.close()

    assert main(["dataset", "star", conv.id[:8], "--message", str(a1)]) == 0
    assert main(["dataset", "star", conv.id]) == 0  # the last answer
    assert main(["dataset", "star", conv.id, "--off"]) == 0
    capsys.readouterr()
    assert main(["dataset", "starred", "--json"]) == 0
    starred = json.loads(capsys.readouterr().out)
    assert [s["message_id"] for s in starred] == [a1]

    out = tmp_path / "set"
    assert main(["dataset", "export", str(out), "--folder", str(vault), "--since", "1666-09-03",
                 "--until", "1666-09-08", "--format", "completion", "--val-share", "0", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert not (out / "chat").exists()
    assert stats["input"]["chats"] == 0  # the answer is of today: outside the dates
    assert stats["examples"]["val"] == 0
    prompts = [r["prompt"] for r in read_jsonl(out / "completion" / "train.jsonl")]
    dated = {p.split("\n")[0] for p in prompts}
    # 3..8 September 1666 (the exact copy of the 5th is a duplicate; the 6th's edited copy too)
    assert len(dated) == 6 and all("September 1666" in d for d in dated), dated
    assert stats["input"]["out_of_range"] > 0

    assert main(["dataset", "export", str(tmp_path / "all"), "--folder", str(vault), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["input"]["chats"] == 1 and stats["examples"]["by_kind"]["chat"] == 1
    records = [r for s in ("train", "val") for r in read_jsonl(tmp_path / "all" / "completion" / f"{s}.jsonl")]
    assert {"prompt": "User: What do you think about fires in the city?\nTwin:",
            "completion": " They frighten me; I would bury my wine and my parmesan."} in records
    assert main(["dataset", "export", str(tmp_path / "none"), "--folder", str(vault), "--chats", "none",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["input"]["chats"] == 0


@pytest.mark.parametrize("args, message", [
    (["--format", "xml"], "unknown format"),
    (["--val-share", "1.5"], "--val-share"),
    (["--since", "2024-05-01", "--until", "2024-01-01"], "after --until"),
])
def test_bad_options_are_clear_errors(vault: Path, tmp_path: Path, args: list[str], message: str,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dataset", "export", str(tmp_path / "o"), "--folder", str(vault), *args]) != 0
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_output_inside_a_source_folder_is_refused(vault: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dataset", "export", str(vault / "dataset"), "--folder", str(vault)]) != 0
    assert "inside a source folder" in capsys.readouterr().err
    assert not (vault / "dataset").exists()


@pytest.mark.slow
def test_token_counts_use_the_gguf_tokenizer(vault: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("llama_cpp")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "qwen3"))
    from tiny_qwen3 import write_tiny_qwen3

    gguf = write_tiny_qwen3(tmp_path / "tiny.gguf")
    out = tmp_path / "set"
    assert main(["dataset", "export", str(out), "--folder", str(vault), "--format", "completion",
                 "--tokenizer", str(gguf), "--json", "--max-tokens", "256"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["tokenizer"] == "tiny.gguf tokenizer" and stats["tokens_exact"]
    import llama_cpp

    llm = llama_cpp.Llama(model_path=str(gguf), vocab_only=True, verbose=False)
    recs = read_jsonl(out / "completion" / "train.jsonl")
    total = sum(len(llm.tokenize((r["prompt"] + r["completion"]).encode(), add_bos=False, special=False))
                for r in recs)
    assert stats["formats"]["completion"]["train"]["tokens"]["total"] == total
    targets = [len(llm.tokenize(r["completion"].encode(), add_bos=False, special=False)) for r in recs]
    assert max(targets) <= 256  # long entries were cut to the budget in real tokens
    llm.close()
