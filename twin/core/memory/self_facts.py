"""Facts the user states about themselves in chat ("my sister's name is Anna") — rule-based (pure).

:func:`detect_self_facts` splits a message into sentences and keeps those that are plain
first-person statements of a lasting fact, in English or Russian: names (``my name is``,
``меня зовут``, ``моя сестра Анна``), where one lives, works, was born or comes from, age,
allergies and diets, family and pets (``I have a dog``, ``у меня есть собака``), and
``my favourite X is Y``.

Invariants (precision over recall: a wrong offer costs the user a click, a missed one
nothing — they can still say ``/remember``):

* a question never fires: a sentence ending in ``?``, opening with a question word or an
  auxiliary (``is my …``, ``do I …``), or holding the particle ``ли``;
* hypotheticals, wishes and uncertainty never fire (``if``, ``would``, ``maybe``,
  ``если``, ``бы``, ``может быть``…), nor negations (``I don't live in…``, ``не``);
* a statement must *start* the sentence (after a lead-in such as ``by the way,`` or
  ``remember that``), so reported speech ("he said my name is …") does not fire;
* the returned statement is the user's own sentence, lead-in removed, first letter upper
  case, one final period: what gets written into the memory note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_SENTENCE_CHARS = 200


@dataclass(frozen=True)
class SelfFact:
    """One candidate fact: the normalised sentence and what kind of fact it is."""

    statement: str
    kind: str  # "name" | "place" | "work" | "birth" | "age" | "health" | "family" | "pet" | "fact"

    @property
    def key(self) -> str:
        """For duplicate checks: lower case, letters and digits only."""
        return statement_key(self.statement)


def statement_key(text: str) -> str:
    """A statement reduced to lower-case words (``"My sister's name is Anna."`` → ``"my sister s name is anna"``)."""
    return " ".join(re.findall(r"[^\W_]+", text.lower().replace("ё", "е")))


_SENTENCE_END = re.compile(r"(?<=[.!?…;])\s+|\n+")

_LEAD_INS = re.compile(
    r"^(?:(?:ok(?:ay)?|so|well|oh|also|and|actually|btw|by the way|fyi|just so you know|for the record|"
    r"note that|remember(?: that)?|please remember(?: that)?|for your information|кстати|ну|так вот|"
    r"и|а|ещё|еще|между прочим|к слову|запомни(?:,? что)?|заметь(?:,? что)?|на всякий случай|"
    r"для справки|чтобы ты знал(?:а)?)\b[\s,:;—–-]*)+",
    re.IGNORECASE,
)

_QUESTION_START = re.compile(
    r"^(?:what|who|whom|whose|where|when|why|how|which|is|are|am|was|were|do|does|did|can|could|"
    r"would|should|will|shall|may|might|have|has|had|tell me|remind me|guess|"
    r"что|кто|кого|кому|чей|чья|где|куда|откуда|когда|почему|зачем|как|какой|какая|какое|какие|"
    r"каков|сколько|разве|неужели|скажи|расскажи|напомни|угадай)\b",
    re.IGNORECASE,
)

_NOT_A_STATEMENT = re.compile(
    r"\b(?:if|would|could|might|maybe|perhaps|probably|suppose|supposing|imagine|pretend|wish|hope|"
    r"unless|whether|let's say|not|never|no longer|don't|doesn't|didn't|isn't|aren't|wasn't|"
    r"weren't|won't|can't|cannot|n't|"
    r"если|бы|б|может|возможно|наверное|допустим|представь|представим|вдруг|хочу|хотел|хотела|"
    r"мечтаю|не|нет|ни|никогда|ли)\b",
    re.IGNORECASE,
)

_FAMILY_EN = (r"sister|brother|mother|mom|mum|father|dad|wife|husband|son|daughter|partner|girlfriend|"
              r"boyfriend|fianc[ée]e?|grandmother|grandma|grandfather|grandpa|aunt|uncle|cousin|niece|"
              r"nephew|friend|best friend|boss|manager|dog|cat|puppy|kitten|parrot|horse|rabbit|hamster|"
              r"kid|child|baby|twin|stepmother|stepfather|stepson|stepdaughter")
_FAMILY_RU = (r"сестр[аыу]|сестрёнк[аиу]|сестренк[аиу]|брат|брата|мам[аыу]|мать|матери|пап[аыу]|отец|отца|"
              r"жен[аыу]|муж|мужа|сын|сына|доч[ьки]|дочк[аиу]|бабушк[аиу]|дедушк[аиу]|дед|тёт[яи]|тет[яи]|"
              r"дяд[яи]|кузен|кузина|племянни(?:к|ца|цу|ка)|девушк[аиу]|парень|парня|друг|друга|подруг[аиу]|"
              r"начальни(?:к|ца|ка|цу)|собак[аиу]|кошк[аиу]|кот|кота|пёс|пес|пса|попуга(?:й|я)|"
              r"ребён(?:ок)|ребенок|ребёнка|ребенка|внук|внучк[аиу]")
_HAVE_EN = (r"(?:a|an|one|two|three|four|five|\d{1,2})\s+(?:(?:little|big|older|younger|elder|twin|"
            r"grown[- ]up|small|black|white|red|old|new)\s+)*(?:" + _FAMILY_EN + r"|sons|daughters|"
            r"kids|children|sisters|brothers|dogs|cats|car|house|flat|apartment|garden|bike|motorbike)s?\b")
_HAVE_RU = (r"(?:есть\s+)?(?:(?:старш|младш|маленьк|больш|взросл)\w*\s+|\w+(?:ая|ый|ий|ой|ое)\s+)?(?:"
            + _FAMILY_RU + r"|дети|детей|двое детей|трое детей|машина|дом|квартира|дача|велосипед)\b")

_CAP = r"(?-i:[A-ZА-ЯЁ])[\w'’-]*"

#: (pattern over the sentence with its lead-in removed, kind); the first match wins.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p, re.IGNORECASE), k) for p, k in (
    # English
    (r"^my name is\s+\S", "name"),
    (r"^(?:i'm|i am) called\s+\S", "name"),
    (r"^(?:people|everyone|friends) call me\s+\S", "name"),
    (r"^my (?:" + _FAMILY_EN + r")(?:'s|’s)? (?:name is|is called|is named)\s+\S", "name"),
    (r"^my (?:" + _FAMILY_EN + r") (?:" + _CAP + r")\b.*\b(?:lives|works|is)\b", "family"),
    (r"^(?:i|we) (?:live|(?:'m|am|are) living|reside) (?:in|at|on|near)\s+\S", "place"),
    (r"^(?:i|we) (?:moved|relocated) to\s+\S", "place"),
    (r"^(?:i'm|i am|i come|i was raised|i grew up) (?:from|in)\s+\S", "place"),
    (r"^my (?:home ?town|home|address) is\s+\S", "place"),
    (r"^i (?:work|am working|'m working) (?:as|at|for|in)\s+\S", "work"),
    ((r"^(?:my job is|my profession is|i'm employed|i am employed|i teach|i study|i'm studying|i am studying|"
      r"i studied|i graduated from)\b\s*\S"), "work"),
    ((r"^(?:i'm|i am) a (?:professional |freelance |senior |junior )?(?:\w+ )?(?:developer|engineer|teacher|"
      r"doctor|nurse|student|designer|writer|lawyer|programmer|scientist|researcher|manager|architect|"
      r"artist|musician|accountant|consultant|translator|journalist|photographer|chef|pilot)\b"), "work"),
    (r"^i was born (?:in|on|at)\s+\S", "birth"),
    (r"^my (?:birthday|date of birth) is\s+\S", "birth"),
    (r"^(?:i'm|i am) \d{1,3}(?: years old| y/?o)?\s*$", "age"),
    (r"^(?:i'm|i am|i've been|i have been) allergic to\s+\S", "health"),
    (r"^i have (?:an? )?(?:allergy|allergies|diabetes|asthma|celiac)\b", "health"),
    ((r"^(?:i'm|i am) (?:a )?(?:vegetarian|vegan|pescatarian|lactose intolerant|diabetic|left-handed|"
      r"right-handed)\b"), "health"),
    (r"^(?:i'm|i am) married(?: to\s+\S|\s*$)", "family"),
    (r"^i(?: have|'ve got| have got) " + _HAVE_EN, "family"),
    (r"^i speak\s+\S", "fact"),
    (r"^my (?:favou?rite|fav) [\w ]{1,30} (?:is|are)\s+\S", "fact"),
    (r"^my (?:blood type|shoe size|height|native language|mother tongue|first language) is\s+\S", "fact"),
    # Russian
    (r"^меня зовут\s+\S", "name"),
    (r"^моё имя\s+\S|^мое имя\s+\S", "name"),
    (r"^(?:мою|моего|мой|моя|моё|мое) (?:" + _FAMILY_RU + r") зовут\s+\S", "name"),
    (r"^(?:мою|моего|моей|моему) (?:" + _FAMILY_RU + r") (?:зовут|звали)\s+\S", "name"),
    (r"^(?:мой|моя|моё|мое|мои) (?:" + _FAMILY_RU + r")\s*(?:[—–-]\s*)?(?-i:[А-ЯЁ][а-яё]+)", "name"),
    (r"^имя (?:моей|моего) (?:\w+)\s*(?:[—–-]\s*)?\S", "name"),
    (r"^(?:я|мы) (?:живу|живём|живем|проживаю) (?:в|во|на|у|под)\s+\S", "place"),
    (r"^(?:я|мы) (?:переехал|переехала|переехали) (?:в|во|на)\s+\S", "place"),
    (r"^я (?:родом )?из\s+(?-i:[А-ЯЁA-Z])", "place"),
    (r"^я (?:вырос|выросла) (?:в|во|на)\s+\S", "place"),
    (r"^я (?:работаю|тружусь)\s+\S", "work"),
    (r"^я (?:учусь|учился|училась|окончил|окончила|закончил|закончила)\s+\S", "work"),
    (r"^(?:моя работа|моя профессия|по профессии я)\s*(?:[—–-]\s*)?\S", "work"),
    ((r"^я (?:по профессии )?(?:программист|инженер|учитель|учительница|врач|медсестра|студент|студентка|"
      r"дизайнер|писатель|юрист|разработчик|учёный|ученый|менеджер|архитектор|художник|художница|музыкант|"
      r"бухгалтер|переводчик|переводчица|журналист|журналистка|фотограф|повар|пилот)\b"), "work"),
    (r"^я (?:родился|родилась)\s+\S", "birth"),
    (r"^(?:мой день рождения|день рождения у меня)\s+\S", "birth"),
    (r"^мне \d{1,3}\s*(?:лет|год|года)\s*$", "age"),
    (r"^у меня аллергия на\s+\S", "health"),
    (r"^(?:у меня (?:диабет|астма|целиакия))\b", "health"),
    (r"^я (?:вегетарианец|вегетарианка|веган|веганка|левша|правша)\b", "health"),
    (r"^я (?:женат|замужем)\b", "family"),
    (r"^у (?:меня|нас) " + _HAVE_RU, "family"),
    (r"^я говорю (?:на\s+|по-)\S", "fact"),
    (r"^(?:мой|моя|моё|мое|мои) любим\w+ [\w ]{1,30}?\s*(?:[—–-]|это|:)\s*\S", "fact"),
))


def _clean(sentence: str) -> str:
    s = " ".join(sentence.split())
    s = s.strip(" \t\"'«»“”„")
    prev = None
    while prev != s:
        prev = s
        s = _LEAD_INS.sub("", s).strip(" ,:;—–-")
    return s


def _normalise(body: str) -> str:
    body = body.rstrip(" .!…;,")
    body = body.replace("’", "'")
    return body[:1].upper() + body[1:] + "."


def _is_candidate(raw: str, body: str) -> bool:
    if not body or len(body) > MAX_SENTENCE_CHARS:
        return False
    if raw.rstrip(" \"'»”)").endswith("?") or "?" in body:
        return False
    if _QUESTION_START.match(body):
        return False
    return not _NOT_A_STATEMENT.search(body.replace("’", "'"))


def split_sentences(text: str) -> list[str]:
    """Sentences of a chat message (on ``. ! ? … ;`` followed by space, and on line breaks)."""
    return [s for s in (p.strip() for p in _SENTENCE_END.split(text)) if s]


def detect_self_facts(text: str) -> list[SelfFact]:
    """The self-facts stated in ``text``, in order, without duplicates.

    Args:
        text: one chat message from the user.

    Returns:
        A :class:`SelfFact` per sentence that states a lasting first-person fact; ``[]`` for
        questions, hypotheticals, negations and everything else.
    """
    found: list[SelfFact] = []
    keys: set[str] = set()
    for raw in split_sentences(text):
        body = _clean(raw)
        if not _is_candidate(raw, body):
            continue
        probe = body.replace("’", "'")
        for pattern, kind in _RULES:
            if pattern.search(probe):
                fact = SelfFact(_normalise(body), kind)
                if fact.key not in keys:
                    keys.add(fact.key)
                    found.append(fact)
                break
    return found


_RELATION = re.compile(r"\b(" + _FAMILY_EN + "|" + _FAMILY_RU + r")\b", re.IGNORECASE)
_HOME = re.compile(r"\b(?:live|living|reside|moved|relocated|address|живу|живём|живем|проживаю|переехал\w*)\b",
                   re.IGNORECASE)
_ORIGIN = re.compile(r"\b(?:from|grew up|raised|hometown|home town|родом|вырос|выросла|из)\b", re.IGNORECASE)
_MARRIED = re.compile(r"\b(?:married|женат|замужем)\b", re.IGNORECASE)


def fact_subject(statement: str, kind: str | None = None) -> str:
    """What a self-fact is *about*, so that a newer fact about the same thing replaces the
    older one ("I live in Lyon." then "I moved to Berlin." → both ``place:home``); "" for
    facts that accumulate rather than replace ("I have a dog", "I speak French").

    Args:
        statement: the fact's sentence.
        kind: its kind from :func:`detect_self_facts` (detected when None).
    """
    if kind is None:
        found = detect_self_facts(statement)
        if not found:
            return ""
        kind = found[0].kind
    text = statement.replace("’", "'")
    if kind == "name":
        rel = _RELATION.search(text)
        return f"name:{rel.group(1).lower()[:5]}" if rel else "name:self"  # сестра/сестру → сестр
    if kind == "place":
        if _HOME.search(text):
            return "place:home"
        return "place:origin" if _ORIGIN.search(text) else ""
    if kind in ("work", "age", "birth"):
        return kind
    if kind == "family" and _MARRIED.search(text):
        return "family:married"
    return ""
