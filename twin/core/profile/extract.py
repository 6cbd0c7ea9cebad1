"""The map step's wording and reading: prompts, the output grammar, and a lenient parser (pure).

The model answers with one JSON object per line, ends with ``### End``, and cites entries by
the batch's local ids (``e1``, ``e2`` …). An instruct model gets a chat prompt (instructions,
one worked example as an earlier turn); a base model gets a completion document with the same
worked example before the real entries. On llama.cpp a GBNF grammar constrains the answer to
exactly that shape, kinds included, and the ``sources`` to the batch's own ids — so even a
270M model writes valid, citeable lines. Every line is still validated here: other backends
ignore the grammar, and a valid line can still be nonsense (an empty subject, a copied
example, a name that is in none of the cited entries).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from twin.core.llm.engine import ChatMessage, Segment
from twin.core.profile.entries import Unit
from twin.core.profile.model import KINDS, Candidate, SourceRef, normalize
from twin.core.prompt.persona import quote
from twin.core.prompt.template import ChatTemplate, TemplateError

END = "### End"
MAX_SUBJECT = 80
MAX_STATEMENT = 300
MAX_SHORT = 60
MAX_SOURCES = 4
#: Kinds whose subject names something that must appear in a cited entry.
GROUNDED_KINDS = frozenset({"person", "place", "project"})

_KIND_SYNONYMS = {
    "people": "person", "persons": "person", "friend": "person", "family": "person", "relative": "person",
    "location": "place", "city": "place", "places": "place", "topic": "theme", "themes": "theme",
    "interest": "theme", "projects": "project", "work": "project", "belief": "value", "beliefs": "value",
    "values": "value", "opinion": "value", "routine": "habit", "habits": "habit", "writing": "style",
    "tone": "style", "language": "style",
}

INSTRUCTIONS = (
    "Read diary entries and list facts about the diary's author, one JSON object per line, then "
    f"the line {END}.\n"
    "Kinds: person (someone in the author's life; relation = who they are to the author), place, "
    "theme (a recurring topic), project, value (a value or belief), habit, style (how the author "
    "writes: tone, typical phrases, languages).\n"
    "Write each statement in the first person, as the author (\"I …\", \"my wife …\"), in the "
    "language of the entries. Cite the ids of the entries each fact comes from in \"sources\". "
    "Only state what the entries say."
)

EXAMPLE_ENTRIES = (
    ("e1", "2019-03-02", ("Lunch with my sister Anna at Café Lumen in Lyon. She still teases me about "
                          "my handwriting. Back home I worked on the boat until dark.")),
    ("e2", "2019-03-09", ("Up at six as always, a cold swim in the lake before work. Anna called: she is "
                          "moving to Berlin in May.")),
)
EXAMPLE_FACTS = (
    {"kind": "person", "subject": "Anna", "relation": "sister",
     "statement": "Anna is my sister; she is moving to Berlin in May 2019.", "when": "2019-03", "sources": ["e1", "e2"]},
    {"kind": "place", "subject": "Lyon", "relation": "", "statement": "I live in Lyon.", "when": "2019",
     "sources": ["e1"]},
    {"kind": "project", "subject": "the boat", "relation": "", "statement": "I am building a boat in my spare time.",
     "when": "2019-03", "sources": ["e1"]},
    {"kind": "habit", "subject": "morning swim", "relation": "",
     "statement": "I get up at six and swim in the lake before work.", "when": "", "sources": ["e2"]},
    {"kind": "style", "subject": "tone", "relation": "", "statement": "I write short, plain sentences about my day.",
     "when": "", "sources": ["e1", "e2"]},
)
_EXAMPLE_SUBJECTS = frozenset(normalize(str(f["subject"])) for f in EXAMPLE_FACTS)
_EXAMPLE_STATEMENTS = frozenset(normalize(str(f["statement"])) for f in EXAMPLE_FACTS)
_FIELD_ORDER = ("kind", "subject", "relation", "statement", "when", "sources")


def fact_line(fact: dict[str, object]) -> str:
    """One fact as the model is shown (and constrained) to write it."""
    return json.dumps({k: fact.get(k, "") for k in _FIELD_ORDER}, ensure_ascii=False)


def local_ids(batch: Sequence[Unit]) -> dict[str, Unit]:
    return {f"e{i}": u for i, u in enumerate(batch, 1)}


def entries_text(items: Sequence[tuple[str, str, str]]) -> str:
    """``[e1] 2019-03-02`` then the quoted text, for each (id, date, text)."""
    return "\n\n".join(f"[{i}] {d or 'undated'}\n{quote(t)}" for i, d, t in items)


def _example_answer() -> str:
    return "\n".join(fact_line(f) for f in EXAMPLE_FACTS) + "\n" + END


def _batch_items(batch: Sequence[Unit]) -> list[tuple[str, str, str]]:
    return [(i, u.date, u.text) for i, u in local_ids(batch).items()]


def completion_prompt(batch: Sequence[Unit], *, strict: bool = False) -> str:
    """A base-model document: instructions, the worked example, then this batch's entries."""
    hint = "\nEvery line is one complete JSON object exactly like the example lines." if strict else ""
    return (f"{INSTRUCTIONS}{hint}\n\n### Entries\n{entries_text(EXAMPLE_ENTRIES)}\n\n### Facts\n{_example_answer()}"
            f"\n\n### Entries\n{entries_text(_batch_items(batch))}\n\n### Facts\n")


def chat_messages(batch: Sequence[Unit], *, strict: bool = False) -> list[ChatMessage]:
    hint = "\nAnswer with JSON lines only, exactly like the example, and nothing else." if strict else ""
    return [
        ChatMessage("system", INSTRUCTIONS + hint),
        ChatMessage("user", entries_text(EXAMPLE_ENTRIES)),
        ChatMessage("assistant", _example_answer()),
        ChatMessage("user", entries_text(_batch_items(batch))),
    ]


def chat_segments(template: ChatTemplate, messages: list[ChatMessage]) -> list[Segment]:
    """Render with the model's template; one without a system role gets it in the first user turn."""
    try:
        return template.render(messages, enable_thinking=False)
    except TemplateError:
        folded = [ChatMessage("user", messages[0].content + "\n\n" + messages[1].content), *messages[2:]]
        return template.render(folded, enable_thinking=False)


_SENTENCE_START = re.compile(r"(^|[.!?:;…]\s+|\n\s*[>\-*#]*\s*)$")


def names(texts: Sequence[str], limit: int = 48) -> list[str]:
    """Capitalized words and phrases used mid-sentence (names of people, places, things),
    most frequent first: the only subjects a grammar allows for people, places and projects."""
    counts: dict[str, int] = {}
    for text in texts:
        for m in _UPPER_RUN.finditer(text):
            name = _trim_name(m.group(1))
            if len(name) < 2 or _SENTENCE_START.search(text[max(0, m.start() - 4):m.start()]) and " " not in name:
                continue
            if len(name) <= MAX_SHORT and '"' not in name and "\\" not in name:
                counts[name] = counts.get(name, 0) + 1
    return [n for n, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]


_NOT_NAMES = frozenset(normalize(w) for w in ["The", "A", "An", "And", "But", "So", "Then", "This", "That", "These", "Those", "Which", "What", "Who", "When", "Where", "Why", "How", "It", "He", "She", "We", "They", "You", "Your", "My", "Our", "His", "Her", "Their", "There", "Here", "Yet", "Nor", "Or", "If", "Of", "In", "On", "At", "To", "By", "For", "From", "With", "After", "Before", "Mr", "Mrs", "Ms", "Miss", "Sir", "Lord", "Lady", "Dr", "Captain", "General", "Duke", "King", "Queen", "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December", "Lord's", "God", "Christ", "Я", "Мы", "Он", "Она", "Они", "Но", "И", "А", "В", "На", "Это", "Как", "Что", "Когда", "Потом", "Сегодня", "Вчера"])


def _trim_name(raw: str) -> str:
    """Drop leading function words and titles' abbreviations: "The Duke of York" → "Duke of York"."""
    words = raw.strip(" '’-").split()
    while words and normalize(words[0]) in _NOT_NAMES and len(words) > 1 and normalize(words[1]) not in ("of",):
        if normalize(words[0]) in ("mr", "mrs", "sir", "lord", "lady", "dr", "captain", "duke", "king", "queen"):
            break  # a title belongs to the name
        words = words[1:]
    name = " ".join(words)
    if normalize(name) in _NOT_NAMES or len(words[-1] if words else "") < 2:
        return ""
    return name


_UPPER_RUN = re.compile(r"(?<![\w])([A-ZА-ЯЁÀ-Þ][\w'’-]*(?:\s+(?:of\s+|de\s+)?[A-ZА-ЯЁÀ-Þ][\w'’-]*)*)")


def grammar(ids: Sequence[str], max_facts: int, *, subjects: Sequence[str] = (), dates: Sequence[str] = ()) -> str:
    """GBNF for ``max_facts`` fact lines at most, then ``### End``.

    ``sources`` may only name ``ids``; ``when`` is empty or one of ``dates``. People, places
    and projects must be one of ``subjects`` (names found in the batch) when any are given,
    which keeps a small model from inventing or copying names; other kinds are free text.
    """
    def lit(s: str) -> str:
        return json.dumps(s, ensure_ascii=False)  # a GBNF string literal is JSON-escaped

    def alts(items: Sequence[str]) -> str:
        return " | ".join(lit(f'"{i}"') for i in items)

    named = [k for k in KINDS if k in GROUNDED_KINDS]
    free = [k for k in KINDS if k not in GROUNDED_KINDS] if subjects else list(KINDS)
    rest = [lit('", "relation": "'), "short", lit('", "statement": "'), "statement", lit('", "when": '), "when",
            lit(', "sources": ['), "src", f'({lit(", ")} src){{0,{MAX_SOURCES - 1}}}', lit("]}\n")]
    rules = [
        f"root ::= fact{{0,{max_facts}}} {lit(END)}",
        "fact ::= " + " ".join([lit('{"kind": '), "freekind", lit(', "subject": "'), "subject", *rest]),
        f"freekind ::= {alts(free)}",
        f"src ::= {alts(ids)}",
        "when ::= " + " | ".join([lit('""'), *(lit(f'"{d}"') for d in dict.fromkeys(dates) if d)]),
        "subject ::= ch{1,50}",
        "short ::= word{0,30}",
        "statement ::= ch{6,140}",
        # no braces, brackets, angle brackets or curly quotes: small models otherwise start
        # writing JSON or HTML inside a string
        r'ch ::= [^"\\\n\r\t{}<>\[\]“”]',
        r'word ::= [^"\\\n\r\t{}<>\[\]“”,:;()]',
    ]
    if subjects:
        rules[1] = "fact ::= namedfact | " + rules[1][len("fact ::= "):]
        rules.insert(2, "namedfact ::= " + " ".join([lit('{"kind": '), "namedkind", lit(', "subject": "'), "name",
                                                     *rest]))
        rules.insert(3, f"namedkind ::= {alts(named)}")
        rules.insert(4, "name ::= " + " | ".join(lit(n) for n in subjects))
    return "\n".join(rules)


# -- reading the answer ------------------------------------------------------------------


@dataclass
class ParseOutcome:
    """The valid candidates of one answer and what was wrong with the rest."""

    candidates: list[Candidate] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    objects: int = 0  # JSON objects found (valid or not)
    format_errors: int = 0  # problems of shape (no JSON, unknown kind, no citation), not of content

    @property
    def malformed(self) -> bool:
        """Nothing usable because the answer was not in the asked shape (worth a stricter retry;
        well-formed facts that fail validation, e.g. a copied example, are not retried)."""
        return not self.candidates and self.format_errors > 0


_FORMAT_PROBLEMS = ("unknown kind", "empty subject", "cites no entry")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_ID = re.compile(r"^\[?\s*([eE]?)(\d{1,4})\s*\]?$")


def _clean(v: object) -> str:
    if v is None:
        return ""
    if not isinstance(v, (str, int, float)):
        return ""
    return " ".join(_CONTROL.sub(" ", str(v)).split())


def _ids(v: object) -> list[str]:
    items = v if isinstance(v, list) else [v] if isinstance(v, (str, int)) else []
    out = []
    for item in items:
        for part in str(item).replace(";", ",").split(","):
            m = _ID.match(part.strip())
            if m:
                out.append(f"e{int(m.group(2))}")
    return out


def _grounded(subject: str, texts: Sequence[str]) -> bool:
    words = [w for w in normalize(subject).split() if len(w) >= 3] or normalize(subject).split()
    hay = normalize(" ".join(texts))
    # a word's stem starts a word of the entries: "Анна" is grounded by "Анной"
    return any(re.search(rf"(?<!\w){re.escape(w[:max(3, len(w) - 2)])}", hay) for w in words)


def _objects(text: str) -> list[object]:
    """Every JSON value that starts at a ``{`` or ``[`` and decodes, left to right."""
    dec = json.JSONDecoder()
    out: list[object] = []
    i = 0
    while True:
        starts = [p for p in (text.find("{", i), text.find("[", i)) if p >= 0]
        if not starts:
            return out
        i = min(starts)
        try:
            value, end = dec.raw_decode(text, i)
        except json.JSONDecodeError:
            i += 1
            continue
        if isinstance(value, list):
            out.extend(value)
        else:
            out.append(value)
        i = end


def parse_facts(text: str, batch: Sequence[Unit]) -> ParseOutcome:
    """Validated candidates from a model's answer for ``batch``; never raises."""
    ids = local_ids(batch)
    outcome = ParseOutcome()
    seen: set[str] = set()
    body = text.split(END, 1)[0]
    if "{" in body and not _objects(body):
        outcome.problems.append("no complete JSON object in the answer")
        outcome.format_errors += 1
    for obj in _objects(body):
        if not isinstance(obj, dict):
            continue
        outcome.objects += 1
        problem = _validate(obj, ids, outcome, seen)
        if problem:
            outcome.problems.append(problem)
            if problem.startswith(_FORMAT_PROBLEMS):
                outcome.format_errors += 1
    return outcome


def _validate(obj: dict[str, object], ids: dict[str, Unit], outcome: ParseOutcome, seen: set[str]) -> str | None:
    kind = normalize(_clean(obj.get("kind")))
    kind = _KIND_SYNONYMS.get(kind, kind)
    if kind not in KINDS:
        return f"unknown kind {str(obj.get('kind'))[:30]!r}"
    subject, statement = _clean(obj.get("subject")), _clean(obj.get("statement") or obj.get("fact"))
    if not normalize(subject) or not normalize(statement):
        return "empty subject or statement"
    if len(subject) > MAX_SUBJECT or len(statement) > MAX_STATEMENT:
        return "subject or statement too long"
    if len(normalize(statement).split()) < 3:
        return f"statement {statement[:40]!r} says nothing"
    relation, when = _clean(obj.get("relation"))[:MAX_SHORT], _clean(obj.get("when"))[:MAX_SHORT]
    cited = [ids[i] for i in dict.fromkeys(_ids(obj.get("sources", obj.get("source")))) if i in ids]
    if not cited:
        return f"cites no entry of the batch ({str(obj.get('sources'))[:40]})"
    if normalize(statement) in _EXAMPLE_STATEMENTS:
        return "copied from the example"
    if kind in GROUNDED_KINDS and not _grounded(subject, [u.text for u in cited]):
        # small models often cite the wrong entry of the batch: cite those that name the subject
        cited = [u for u in ids.values() if _grounded(subject, [u.text])]
        if not cited:
            if normalize(subject) in _EXAMPLE_SUBJECTS:
                return "copied from the example"
            return f"{subject[:40]!r} is in none of the entries"
    sources = tuple(sorted({SourceRef(u.date, u.path) for u in cited}))
    cand = Candidate(kind, subject, statement, sources, relation if kind == "person" else "", when)
    same = f"{normalize(subject)}\0{normalize(statement)}"
    if same in seen:
        return None  # a repeated line, or the same line under another kind: kept once
    seen.add(same)
    outcome.candidates.append(cand)
    return None
