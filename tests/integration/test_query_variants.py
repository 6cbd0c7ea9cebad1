"""The chat model's translation of a question crosses to the retriever, wherever it runs.

Real LanceDB, real MiniLM (English-only: a Russian question shares no word and no useful
vector with English notes), the real child process of the window's memory client. The
"model" here is the scripted FakeEngine, so the translation is a good one and the test can
say what it must find; tests/model/test_query_understanding_model.py does the same with Gemma.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from twin.app.chat_service import ChatService
from twin.app.index_service import Indexed
from twin.app.memory_client import open_memory_client
from twin.app.memory_events import MemoryEvent, SearchDetails
from twin.app.query_understanding import QueryUnderstanding
from twin.core.conversation.events import TurnDone, TurnStarted
from twin.core.conversation.store import ConversationStore
from twin.core.llm.fake import FakeEngine
from twin.core.memory.expand import CachedExpander
from twin.core.memory.retriever import Retriever
from twin.core.memory.store import LanceStore, StoreRow, content_hash
from twin.llm_settings import ChatSettings
from twin.paths import resolve_paths
from twin.settings import SearchSettings, Settings

NOTES = {
    "sister.md": "My sister Anna lives in Lisbon now, in a small flat near the river.",
    "bread.md": "Sourdough needs a long cold proof overnight in the fridge.",
    "report.md": "The quarterly report is due on Friday; the budget is tight again.",
    "bike.md": "Repaired the bicycle chain and rode along the coast to the lighthouse.",
    "garden.md": "Planted tomatoes and basil beside the old apple tree in the garden.",
}
RU = "Где сейчас живёт моя сестра Анна?"
EN = "Where does my sister Anna live now?"


class Waiter:
    def __init__(self) -> None:
        self.items: list[MemoryEvent] = []
        self._cond = threading.Condition()

    def __call__(self, event: MemoryEvent) -> None:
        with self._cond:
            self.items.append(event)
            self._cond.notify_all()

    def wait(self, pred: Callable[[], object], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not pred():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting for {what}: {self.items[-5:]}")
                self._cond.wait(min(left, 0.2))


@pytest.fixture()
def vault(tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    folder.mkdir()
    for name, text in NOTES.items():
        (folder / name).write_text(text + "\n", encoding="utf-8")
    return folder


def test_given_variants_join_the_search_in_process(tmp_path: Path, embedder: Any) -> None:
    store = LanceStore(tmp_path / "db", embedder.name, embedder.dim)
    vecs = embedder.embed_passages(list(NOTES.values()))
    store.replace_files({f"/n/{p}": [StoreRow(ordinal=0, text=t, hash=content_hash(t), vector=v)]
                         for (p, t), v in zip(NOTES.items(), vecs)})
    retr = Retriever(store, embedder, k=3, per_file=1)
    alone = retr.search(RU)
    assert retr.last_variants == []
    assert all(h.evidence is not None and h.evidence < 0.5 for h in alone)  # nothing answers it in Russian
    found = retr.search(RU, variants=[EN, "  ", RU])  # blanks and the question itself are dropped
    assert retr.last_variants == [EN]
    assert found[0].path == "/n/sister.md" and (found[0].evidence or 0) >= 0.5
    # given variants come first, the retriever's own expander's after them, without repeats
    own = Retriever(store, embedder, k=3, per_file=1, expander=CachedExpander(lambda q: [EN, "Anna Lisbon"]))
    own.search(RU, variants=[EN])
    assert own.last_variants == [EN, "Anna Lisbon"]
    own.search(RU, variants=[EN], expand=False)
    assert own.last_variants == [EN]


def test_the_turns_translation_reaches_the_child_process_retriever(vault: Path, minilm_path: str, tmp_path: Path,
                                                                   thread_guard: None) -> None:
    settings = Settings()
    settings.memory.sources = [str(vault)]
    settings.embedding.model = minilm_path
    settings.embedding.device = "cpu"
    settings.search.rerank_model = ""
    paths = resolve_paths().ensure()
    events = Waiter()
    client = open_memory_client(settings, paths, events, runner="process", watch=False)
    engine = FakeEngine(n_ctx=8192, name="fake")
    store = ConversationStore(tmp_path / "c.sqlite3")

    class Host:  # what twin.ui.memory_host.MemoryHost.search does: a blocking call of the client
        def search(self, query: str, k: int, scope: Any = None, variants: tuple[str, ...] = ()) -> list[Any]:
            return client.search(query, k, scope, variants).result(120)

    svc = ChatService(engine, Host(), store, ChatSettings(memories_k=3, query_context_turns=0))
    svc.understanding = QueryUnderstanding(engine, SearchSettings(llm_expand="on"))
    try:
        client.start().result(180)
        events.wait(lambda: any(isinstance(e, Indexed) and e.rescan for e in events.items), 180, "the first scan")
        # no variants: the Russian question finds nothing that answers it
        client.search(RU, 3).result(60)
        assert client.last_search().result(30).variants == ()

        engine.enqueue(EN + "\n", "In Lisbon [1].")
        turn = list(svc.ask(None, RU))
        start, done = turn[0], turn[-1]
        assert isinstance(start, TurnStarted) and isinstance(done, TurnDone)
        assert "from Russian into English" in engine.requests[0].text  # the model was asked first
        details = client.last_search().result(30)
        assert isinstance(details, SearchDetails) and details.variants == (EN,)
        assert details.timings["fts_ms"] > 0 and details.timings["embed_ms"] > 0
        assert start.citations and Path(start.citations[0].path).name == "sister.md"
        assert done.answer == "In Lisbon [1]."  # enough evidence: the model answered, no abstention
    finally:
        svc.close()
        client.close()
        store.close()
        engine.close()


def test_a_period_the_model_reads_from_the_facts_narrows_the_real_search(tmp_path: Path, embedder: Any) -> None:
    """"The summer after I moved": the dated fact says when the move was, the (scripted) model
    names the period, and the real retriever finds that summer's note first."""
    import datetime as dt

    trips = {"/d/2019-07-14.md": (dt.date(2019, 7, 14), "We went to the coast at Cascais; the water was cold."),
             "/d/2021-07-10.md": (dt.date(2021, 7, 10), "We went to the mountains near Gerês for a week."),
             "/d/2023-08-02.md": (dt.date(2023, 8, 2), "We went to the coast of Algarve with Kim.")}
    store = LanceStore(tmp_path / "db", embedder.name, embedder.dim)
    vecs = embedder.embed_passages([t for _, t in trips.values()])
    store.replace_files({p: [StoreRow(ordinal=0, text=t, hash=content_hash(t), vector=v, entry_date=d)]
                         for (p, (d, t)), v in zip(trips.items(), vecs)})
    engine = FakeEngine(n_ctx=8192, name="fake")
    conversations = ConversationStore(tmp_path / "c.sqlite3")
    svc = ChatService(engine, Retriever(store, embedder, k=3, per_file=1), conversations,
                      ChatSettings(memories_k=3, query_context_turns=0))
    svc.understanding = QueryUnderstanding(engine, SearchSettings(llm_expand="off", llm_dates=True))
    svc.today = lambda: dt.date(2026, 12, 5)
    svc.period_facts = lambda period, count: ("- home: Lisbon (since 2019-03)" if period.since is None
                                              else f"- home: Lisbon ({period.since}..{period.until})")
    try:
        question = "Where did we go the summer after I moved to Lisbon?"
        plain = svc.retriever.search(question, 3)  # type: ignore[union-attr]
        assert plain[0].path != "/d/2019-07-14.md"  # by words and meaning alone, another trip wins
        engine.enqueue("summer 2019\n", "To Cascais [1].")
        events = list(svc.ask(None, question))
        start = events[0]
        assert isinstance(start, TurnStarted)
        assert "Dated facts about me:\n- home: Lisbon (since 2019-03)" in engine.requests[0].text
        assert start.citations[0].path == "/d/2019-07-14.md"  # that summer's note first
        assert "- home: Lisbon (2019-06-01..2019-08-31)" in engine.requests[-1].text  # its facts in the prompt
    finally:
        svc.close()
        conversations.close()
        engine.close()
