"""When the notes do not answer: say so, offer what is closest, never invent (pure).

The retrieval side decides *whether* there is enough evidence (``enough``: a calibrated
threshold on the fused score, :func:`twin.core.memory.abstain.enough_evidence`); this module
decides what the answer does with that decision:

* ``"answer"`` — enough evidence, no retrieval ran (memory off, scope "none"), or the
  message is not a question ("thanks!"): the normal prompt.
* ``"hedge"`` — not enough evidence, and the question is not about the user's own life
  ("what is the capital of France?"): the answer *starts* with a fixed sentence ("My notes
  don't say.", streamed before the model's words, so even a weak model cannot skip it), the
  memory block is labelled "closest, may not answer", and the model is told to go on from
  that sentence without stating personal facts.
* ``"abstain"`` — not enough evidence for a question about the user ("how old am I?",
  "где я жил в 2019?") and no memory shares a topic word with it: the model is not asked. The answer is deterministic: the
  fixed sentence and the closest notes, each cited and labelled as possibly not answering.
  A 270M model told "don't invent" still invents an age; a sentence written by code cannot.
  (When some memory shares a topic word, the evidence may have missed a paraphrase: the
  personal question is hedged instead, so the model can still use what is there.)

Language: Russian when the question is mostly Cyrillic, else English.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from twin.core.memory.textnorm import query_terms
from twin.core.types import Hit

MODES = ("answer", "hedge", "abstain")

NOT_IN_NOTES = {"en": "My notes don't say.", "ru": "В моих записях об этом ничего нет."}
CLOSEST_INTRO = {
    "en": "The closest I found (it may not answer the question):",
    "ru": "Ближе всего вот это (но, возможно, это не ответ):",
}
NOTHING_CLOSE = {"en": "I found nothing close to it either.", "ru": "Ничего похожего я тоже не нашёл."}
#: The line under the memory block's header when the memories do not answer the question.
CLOSEST_NOTICE = "(Only the closest notes: they may not answer the question.)"
#: The instruction after the memory block in "hedge" mode (the preface is already in the answer).
HEDGE_INSTRUCTION = (
    'My notes do not answer this. The reply already begins with "{preface}" — continue after it: '
    "mention what the closest notes do say, if anything, citing them, or answer from general "
    "knowledge and say so. Never state a fact about my life, age, family or places that the notes do "
    "not say."
)

_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)

_QUESTION_WORD = re.compile(
    r"^\s*(?:what|who|whom|whose|where|when|why|how|which|is|are|am|was|were|do|does|did|can|could|"
    r"have|has|had|что|кто|кого|кому|чей|чья|чьё|где|куда|откуда|когда|почему|зачем|"
    r"как|какой|какая|какое|какие|каким|сколько|был|была|были|было|есть ли)\b",
    re.IGNORECASE,
)
#: Requests that ask for something from the notes ("tell me about …"): questions when about the user.
_ASK_REQUEST = re.compile(r"^\s*(?:tell me|remind me|скажи|расскажи|напомни)\b", re.IGNORECASE)
#: The user asking about themselves (first person) …
_FIRST_PERSON = re.compile(
    r"\b(?:i|me|my|mine|myself|i'm|i've|i'd|i'll|я|меня|мне|мной|мой|моя|моё|мое|мои|моего|моей|моему|"
    r"моим|моих|мою|моими)\b",
    re.IGNORECASE,
)
#: … or asking the twin (who *is* the user in the "me" persona) about "itself".
_SECOND_PERSON = re.compile(
    r"\b(?:your|yours|yourself|how old are you|are you married|where (?:do|did|were) you|"
    r"when (?:did|were) you|did you|were you|have you ever|твой|твоя|твоё|твое|твои|твоего|твоей|твоему|"
    r"твоим|твоих|твою|тебя|тебе|ты|у тебя|ваш|ваша|ваше|ваши|вас|вам)\b",
    re.IGNORECASE,
)
#: "tell me …", "расскажи мне …": the pronoun belongs to the request, not to its topic.
_REQUEST = re.compile(r"\b(?:tell|remind|show|give|ask|help|let) me\b|\b(?:расскажи|скажи|напомни|покажи|дай|помоги)"
                      r"(?:те)? мне\b", re.IGNORECASE)
#: Requests addressed to the twin that are not about the user's life.
_NOT_PERSONAL = re.compile(
    r"\b(?:can you|could you|would you|will you|do you think|do you know|help me|ты можешь|можешь ли ты|"
    r"ты знаешь|знаешь ли ты|помоги мне|объясни|explain|translate|переведи)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class AnswerPlan:
    """What this turn's answer does about the evidence it has."""

    mode: str  # one of MODES
    language: str  # "en" | "ru"
    preface: str = ""  # streamed before the model's words ("" in "answer" mode)

    @property
    def model_needed(self) -> bool:
        return self.mode != "abstain"


def language(text: str) -> str:
    """"ru" when ``text`` has more Cyrillic than Latin letters, else "en"."""
    return "ru" if len(_CYRILLIC.findall(text)) > len(_LATIN.findall(text)) else "en"


def is_question(text: str) -> bool:
    """A question proper: ends with "?" or opens with a question word."""
    t = text.strip()
    return t.endswith("?") or bool(_QUESTION_WORD.match(t))


def is_personal_question(text: str) -> bool:
    """Whether ``text`` asks for a fact about the user's own life ("how old am I?",
    "where did you live in 2019?" to the twin, "как зовут мою сестру?")."""
    t = " ".join(text.replace("’", "'").split())
    if not t or not (is_question(t) or _ASK_REQUEST.match(t)):
        return False
    t = _REQUEST.sub(" ", t)  # "tell me a story": the "me" of a request is not about the user
    if _FIRST_PERSON.search(t):
        return True
    return bool(_SECOND_PERSON.search(t)) and not _NOT_PERSONAL.search(t)


def plan_answer(question: str, *, enough: bool | None, close: bool = False) -> AnswerPlan:
    """The plan for ``question`` given the retrieval's decision.

    Args:
        enough: whether the memories found answer it (None: no retrieval ran this turn, e.g.
            memory off or scope "none": nothing to abstain about).
        close: whether some memory shares a topic word with the question (the evidence may
            have missed a paraphrase): a personal question is then hedged, with the model
            told not to invent, rather than answered by the fixed text alone.
    """
    lang = language(question)
    if enough is None or enough:
        return AnswerPlan("answer", lang)
    if is_personal_question(question):
        return AnswerPlan("hedge" if close else "abstain", lang, NOT_IN_NOTES[lang])
    if is_question(question):
        return AnswerPlan("hedge", lang, NOT_IN_NOTES[lang])
    return AnswerPlan("answer", lang)  # "Hello!", "thanks", "tell me a story": nothing to abstain from


#: Question and helper words that carry no topic ("where did I go…", "как звали…").
_ASKING = frozenset(query_terms(
    "what who whom whose where when why how which did does do doing done go went gone get got know remember "
    "tell say said ever name named call called happen happened thing things something anything year years "
    "что кто кого кому где куда откуда когда почему зачем как какой какая какое какие сколько был была было "
    "были делал делала сделал сделала помню помнишь знаешь скажи расскажи зовут звали год году года лет"))


def content_terms(text: str) -> list[str]:
    """The topic terms of a question (stemmed; stop words and question words out)."""
    return [t for t in query_terms(text) if t not in _ASKING]


def lexical_support(question: str, hits: Sequence[Hit]) -> float:
    """A fallback evidence score in [0, 1]: the largest share of the question's topic terms
    (:func:`content_terms`) that one hit contains. Used for hits without a calibrated
    ``Hit.evidence`` (past conversations, or a retriever that does not measure it)."""
    terms = set(content_terms(question))
    if not terms:
        return 1.0 if hits else 0.0
    best = 0.0
    for h in hits:
        have = set(query_terms(f"{h.heading} {h.text}"))
        best = max(best, len(terms & have) / len(terms))
    return best


def closest_answer(plan: AnswerPlan, hits: Sequence[Hit], *, max_items: int = 3, snippet_chars: int = 160) -> str:
    """The deterministic answer of "abstain" mode: the fixed sentence, then the closest notes,
    each cited as ``[n]`` (the numbers of the prompt's memory block), with date and a snippet."""
    lines = [plan.preface or NOT_IN_NOTES[plan.language]]
    if not hits:
        lines.append(NOTHING_CLOSE[plan.language])
        return " ".join(lines)
    items = []
    for n, h in enumerate(hits[:max_items], 1):
        text = " ".join(h.text.split())
        if len(text) > snippet_chars:
            text = text[:snippet_chars].rsplit(" ", 1)[0] + " …"
        when = f"{h.date.isoformat()}, " if h.date else ""
        where = h.heading or h.path.rsplit("/", 1)[-1]
        items.append(f"- [{n}] {when}{where}: “{text}”")
    return lines[0] + "\n\n" + CLOSEST_INTRO[plan.language] + "\n" + "\n".join(items)
