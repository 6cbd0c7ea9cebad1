"""Question sets made from the user's own notes (pure: no model, no files).

Three kinds of question, each tied to the entry it came from (path, date, chunk):

* **dated**: "What did I do on 2 September 1666?" from an entry's date. Any entry of that
  date answers it (several files may share a day).
* **keyword**: "When did I write about Mercer, parmesan and Penn?" from the entry's rarest
  distinctive words (lowest document frequency over all entries, by the same stems BM25 uses).
  No model is needed.
* **paraphrase**: a question the loaded language model writes about one chunk, in its own
  words (see :func:`paraphrase_prompt`); only when a model is given.

**Unanswerable** questions come from *held-apart* entries: a few entries are chosen before
anything else, never serve as a source of an answerable question, and are treated as absent
from the index when the set is run (their hits are removed). Their keyword questions use only
words that no other entry contains, and their dated questions only dates no other entry has,
so the answer is really nowhere else in the notes.

Everything is deterministic for a given list of passages and seed.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from twin.core.memory.textnorm import STOP_WORDS, stem

KINDS = ("dated", "keyword", "paraphrase")
FORMAT_VERSION = 1

#: Words shorter than this are not used as keywords.
MIN_KEYWORD_LEN = 4
#: Keywords per keyword question.
KEYWORDS = 3
#: An entry needs this many words to be a source (headings-only entries say nothing).
MIN_ENTRY_WORDS = 25
#: Passage text given to the model for a paraphrase question, at most (characters).
PASSAGE_CHARS = 1500

_WORD = re.compile(r"[^\W\d_]+")
_MONTHS = ("january february march april may june july august september october november december "
           "jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday "
           "saturday sunday today yesterday tomorrow week month year morning evening night "
           "январь февраль март апрель май июнь июль август сентябрь октябрь ноябрь декабрь "
           "понедельник вторник среда четверг пятница суббота воскресенье сегодня вчера завтра")
#: Words that would turn a keyword question into a date query, or say nothing.
NOT_KEYWORDS = frozenset(stem(w) for w in _MONTHS.split()) | frozenset(
    stem(w) for w in "when write wrote written about note notes".split())

DATE_STYLES = ("{d} {month} {y}", "{month} {d}, {y}", "{iso}")
DATED_TEMPLATES = ("What did I do on {date}?", "What happened on {date}?", "What did I write on {date}?")
KEYWORD_TEMPLATE = "When did I write about {terms}?"


@dataclass(frozen=True)
class Passage:
    """One indexed chunk, as the question builder needs it."""

    path: str
    date: dt.date | None
    chunk_id: str
    ordinal: int
    start_line: int
    end_line: int
    heading: str
    text: str


@dataclass(frozen=True)
class Source:
    """Where a question's answer is: an entry (path + date) and the chunk it was made from."""

    path: str
    date: dt.date | None
    chunk_id: str = ""
    start_line: int = 0
    end_line: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "date": self.date.isoformat() if self.date else None,
                "chunk_id": self.chunk_id, "start_line": self.start_line, "end_line": self.end_line}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Source:
        date = d.get("date")
        return cls(str(d["path"]), dt.date.fromisoformat(date) if date else None, str(d.get("chunk_id", "")),
                   int(d.get("start_line", 0)), int(d.get("end_line", 0)))

    @property
    def entry(self) -> tuple[str, dt.date | None]:
        return (self.path, self.date)


@dataclass(frozen=True)
class Question:
    id: str
    kind: str  # one of KINDS
    text: str
    answerable: bool
    source: Source
    terms: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "kind": self.kind, "text": self.text,
                               "answerable": self.answerable, "source": self.source.to_json()}
        if self.terms:
            out["terms"] = list(self.terms)
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Question:
        kind = str(d["kind"])
        if kind not in KINDS:
            raise ValueError(f"unknown question kind {kind!r}")
        return cls(str(d["id"]), kind, str(d["text"]), bool(d["answerable"]), Source.from_json(d["source"]),
                   tuple(str(t) for t in d.get("terms", ())))


@dataclass
class QuestionSet:
    questions: list[Question]
    held_apart: list[tuple[str, dt.date | None]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for q in self.questions:
            key = q.kind if q.answerable else f"unanswerable_{q.kind}"
            out[key] = out.get(key, 0) + 1
        return out


# -- entries and words ----------------------------------------------------------------------


def group_entries(passages: Iterable[Passage]) -> dict[tuple[str, dt.date | None], list[Passage]]:
    """Passages grouped into entries (file + date; an undated file is one entry), in a stable
    order (by path, then date), each entry's chunks in order."""
    groups: dict[tuple[str, dt.date | None], list[Passage]] = {}
    for p in passages:
        groups.setdefault((p.path, p.date), []).append(p)
    ordered = sorted(groups, key=lambda k: (k[0], k[1] or dt.date.min))
    return {k: sorted(groups[k], key=lambda p: p.ordinal) for k in ordered}


def keyword_stems(text: str) -> dict[str, str]:
    """Usable keyword stems of ``text`` → the first surface form seen (letters only, no stop
    words, no month/day words, at least :data:`MIN_KEYWORD_LEN` letters)."""
    out: dict[str, str] = {}
    for w in _WORD.findall(text):
        low = w.lower().replace("ё", "е")
        if len(low) < MIN_KEYWORD_LEN or low in STOP_WORDS:
            continue
        s = stem(low)
        if s and s not in NOT_KEYWORDS and s not in out:
            out[s] = w
    return out


def document_frequencies(entries: dict[tuple[str, dt.date | None], list[Passage]]) -> dict[str, int]:
    """In how many entries each keyword stem occurs."""
    df: dict[str, int] = {}
    for chunks in entries.values():
        for s in set(keyword_stems(" ".join(p.text for p in chunks))):
            df[s] = df.get(s, 0) + 1
    return df


def distinctive_terms(text: str, df: dict[str, int], *, n: int = KEYWORDS, max_df: int | None = None) -> list[str]:
    """The ``n`` rarest keywords of ``text``, as written: lowest document frequency first, then
    names (capitalised words) before other words, then the more frequent in ``text``, then the
    longer; only those with ``df <= max_df`` when given."""
    stems = keyword_stems(text)
    tf: dict[str, int] = {}
    for w in _WORD.findall(text):
        s = stem(w.lower().replace("ё", "е"))
        if s in stems:
            tf[s] = tf.get(s, 0) + 1
    ranked = sorted(stems, key=lambda s: (df.get(s, 0), not stems[s][:1].isupper(), -tf.get(s, 0),
                                          -len(stems[s]), s))
    if max_df is not None:
        ranked = [s for s in ranked if df.get(s, 0) <= max_df]
    return [stems[s] for s in ranked[:n]]


def format_date(d: dt.date, style: int) -> str:
    months = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December")
    return DATE_STYLES[style % len(DATE_STYLES)].format(d=d.day, month=months[d.month - 1], y=d.year,
                                                        iso=d.isoformat())


def dated_question(d: dt.date, rng: random.Random) -> str:
    return rng.choice(DATED_TEMPLATES).format(date=format_date(d, rng.randrange(len(DATE_STYLES))))


def keyword_question(terms: Sequence[str]) -> str:
    listed = terms[0] if len(terms) == 1 else ", ".join(terms[:-1]) + " and " + terms[-1]
    return KEYWORD_TEMPLATE.format(terms=listed)


# -- paraphrase questions (written by a model) ----------------------------------------------

PARAPHRASE_INSTRUCTIONS = (
    "Below are passages from a personal diary. After each passage comes one short question that the "
    "passage answers, asked by the diary's author about their own life, in different words than the "
    "passage uses.")
PARAPHRASE_EXAMPLES = (
    ("I walked to the market with Anna this morning and we bought apples for the pie; then home to dinner.",
     "Who did I go shopping with for the baking?"),
    ("Up early and by boat to Greenwich, where the new ship was launched; a great crowd, and the Duke there.",
     "Where did I watch the new vessel go into the water?"),
)


def passage_text(text: str, limit: int = PASSAGE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def paraphrase_prompt(text: str) -> str:
    """A completion prompt (works with base models too): the answer is one line, the question."""
    examples = "".join(f"Passage: {p}\nQuestion: {q}\n\n" for p, q in PARAPHRASE_EXAMPLES)
    return f"{PARAPHRASE_INSTRUCTIONS}\n\n{examples}Passage: {passage_text(text)}\nQuestion:"


def usable_paraphrase(question: str, passage: str) -> bool:
    """Whether a model's question can be kept: not a copy of an example question (small
    models copy them), and about the passage (at least one of its keywords in common)."""
    own = set(keyword_stems(question))
    for _, example in PARAPHRASE_EXAMPLES:
        ex = set(keyword_stems(example))
        if own and len(own & ex) >= 0.5 * len(own):
            return False
    return bool(own & set(keyword_stems(passage)))


def parse_question(answer: str) -> str | None:
    """The model's question, or None when its answer is not a usable question (empty, no
    question mark, under 4 or over 40 words)."""
    line = next((ln.strip() for ln in answer.strip().splitlines() if ln.strip()), "")
    line = re.sub(r"^(?:question\s*:\s*)", "", line, flags=re.IGNORECASE).strip().strip('"“”')
    if "?" not in line:
        return None
    line = line[: line.index("?") + 1].strip()
    n = len(line.split())
    if n < 4 or n > 40:
        return None
    return line


# -- building a set -------------------------------------------------------------------------

Paraphraser = Callable[[Passage], "str | None"]


def build_question_set(passages: Sequence[Passage], *, seed: int = 0, dated: int = 30, keyword: int = 30,
                       paraphrase: int = 0, unanswerable: int = 10, paraphraser: Paraphraser | None = None,
                       ) -> QuestionSet:
    """A question set from the indexed ``passages``.

    Args:
        seed: the random choices (same passages + seed = same set, given a deterministic model).
        dated, keyword, paraphrase: answerable questions wanted of each kind (fewer when the
            notes do not allow as many: e.g. no dated entries).
        unanswerable: entries held apart, one unanswerable question each.
        paraphraser: writes a question about a passage (None or a None answer: skipped).
    """
    rng = random.Random(seed)
    entries = {k: v for k, v in group_entries(passages).items()
               if sum(len(p.text.split()) for p in v) >= MIN_ENTRY_WORDS}
    keys = list(entries)
    held = sorted(rng.sample(keys, min(unanswerable, max(0, len(keys) - 1))),
                  key=lambda k: (k[0], k[1] or dt.date.min)) if keys else []
    held_set = set(held)
    df = document_frequencies(entries)
    date_count: dict[dt.date, int] = {}
    for _, d in keys:
        if d is not None:
            date_count[d] = date_count.get(d, 0) + 1
    usable = [k for k in keys if k not in held_set]
    questions: list[Question] = []

    def add(kind: str, text: str, answerable: bool, p: Passage, terms: Sequence[str] = ()) -> None:
        n = sum(1 for q in questions if q.kind == kind and q.answerable == answerable) + 1
        qid = f"{'' if answerable else 'none-'}{kind}-{n:03d}"
        questions.append(Question(qid, kind, text, answerable,
                                  Source(p.path, p.date, p.chunk_id, p.start_line, p.end_line), tuple(terms)))

    dated_keys = [k for k in usable if k[1] is not None]
    for k in rng.sample(dated_keys, min(dated, len(dated_keys))):
        assert k[1] is not None
        add("dated", dated_question(k[1], rng), True, entries[k][0])

    made = 0
    for k in rng.sample(usable, len(usable)):
        if made >= keyword:
            break
        chunk = rng.choice(entries[k])
        terms = distinctive_terms(chunk.text, df)
        if len(terms) >= 2:
            add("keyword", keyword_question(terms), True, chunk, terms)
            made += 1

    attempts = 0
    if paraphraser is not None and paraphrase > 0:
        made = 0
        for tries, k in enumerate(rng.sample(usable, len(usable))):
            if made >= paraphrase or tries >= 2 * paraphrase + 2:
                break
            chunk = rng.choice(entries[k])
            text = paraphraser(chunk)
            attempts += 1
            if text and usable_paraphrase(text, chunk.text):
                add("paraphrase", text, True, chunk)
                made += 1

    cycle = ["keyword", "dated"] + (["paraphrase"] if paraphraser is not None and paraphrase > 0 else [])
    for i, k in enumerate(held):
        chunks = entries[k]
        order = cycle[i % len(cycle):] + cycle[: i % len(cycle)]
        for kind in order:
            if kind == "dated" and k[1] is not None and date_count.get(k[1], 0) == 1:
                add("dated", dated_question(k[1], rng), False, chunks[0])
                break
            if kind == "keyword":
                chunk = max(chunks, key=lambda p: len(distinctive_terms(p.text, df, max_df=1)))
                terms = distinctive_terms(chunk.text, df, max_df=1)
                if len(terms) >= 2:
                    add("keyword", keyword_question(terms), False, chunk, terms)
                    break
            if kind == "paraphrase" and paraphraser is not None:
                chunk = rng.choice(chunks)
                text = paraphraser(chunk)
                attempts += 1
                if text and usable_paraphrase(text, chunk.text):
                    add("paraphrase", text, False, chunk)
                    break
    meta = {"format": FORMAT_VERSION, "seed": seed, "entries": len(keys), "chunks": len(passages), "paraphrase_attempts": attempts,
            "asked": {"dated": dated, "keyword": keyword, "paraphrase": paraphrase, "unanswerable": unanswerable}}
    return QuestionSet(questions, held, meta)


# -- storage (JSONL text; the app writes it, sealed when encryption is on) --------------------


def dumps(qs: QuestionSet) -> str:
    import json

    head = {"type": "meta", **qs.meta,
            "held_apart": [{"path": p, "date": d.isoformat() if d else None} for p, d in qs.held_apart]}
    lines = [json.dumps(head, ensure_ascii=False)]
    lines += [json.dumps({"type": "question", **q.to_json()}, ensure_ascii=False) for q in qs.questions]
    return "\n".join(lines) + "\n"


def loads(text: str) -> QuestionSet:
    """Parse :func:`dumps`'s output.

    Raises:
        ValueError: not a question set (with the line number).
    """
    import json

    meta: dict[str, Any] = {}
    held: list[tuple[str, dt.date | None]] = []
    questions: list[Question] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            if d.get("type") == "meta":
                held = [(str(h["path"]), dt.date.fromisoformat(h["date"]) if h.get("date") else None)
                        for h in d.pop("held_apart", [])]
                d.pop("type")
                meta = d
            else:
                questions.append(Question.from_json(d))
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise ValueError(f"line {n}: {e}") from None
    if not meta:
        raise ValueError("no header line: not a twin question set")
    return QuestionSet(questions, held, meta)
