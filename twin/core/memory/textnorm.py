"""Text → full-text-search terms, the same way for stored chunks and for queries.

LanceDB's own FTS tokenizer stems for one language per index, and a diary mixes Russian and
English (often in one sentence). So twin normalises text itself and gives LanceDB a plain,
whitespace-separated list of terms (its FTS index is built with the ``whitespace`` tokenizer
and no stemming, lower-casing, folding or stop words of its own):

1. tokens are runs of Unicode letters and digits (``_`` and punctuation split words);
2. lower-cased, ``ё`` folded to ``е``;
3. a small list of Russian and English function words is dropped;
4. each word is stemmed with Snowball: Russian for words with Cyrillic letters, English for
   words with Latin letters; digits and other scripts are kept as they are.

Invariants: the output holds only ``[^\\W_]`` characters and single spaces, so it can never
carry FTS query syntax (quotes, ``:``, ``*``, parentheses, AND/OR) into a query; and the
function is deterministic, so a term stored at index time matches the same term in a query.
Changing the rules means re-indexing: bump :data:`FTS_VERSION` (the store records it).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from functools import lru_cache

#: Bump when the output of :func:`fts_terms` changes for some input (the store re-indexes).
FTS_VERSION = 1

#: Words longer than this are kept unstemmed and cut (hashes, base64, URLs glued together).
MAX_WORD_LEN = 40

_WORD = re.compile(r"[^\W_]+")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[a-z]")

# Only the most frequent function words: BM25's idf already discounts common words, and a
# longer list starts to eat words that matter in a diary ("никогда", "always", "before").
_STOP_EN_TEXT = """
    a an the and or but if of to in on at by for from with as into about than then so
    is are was were be been being am it its this that these those there here
    i me my we our you your he him his she her they them their
    do does did done have has had will would shall should can could may might must
    not no nor too very just also what which who whom whose
"""
_STOP_RU_TEXT = """
    и в во не что он на я с со как а то все всё она так его но да ты к у же вы за бы по
    ее её мне было от меня о об из ему ли если уже или ни быть был него до вас вам
    там себя ей они тут где есть ней для мы тебя их чем была сам без себе под будет ж
    тогда кто этот того этого этом тем чтобы нее были при эти нас про них эту моя этой
    им мой свою свой это ведь вот ну
"""
STOP_WORDS = frozenset((_STOP_EN_TEXT + _STOP_RU_TEXT).replace("ё", "е").split())

#: Words that, next to a date, ask only for what that period holds ("what happened on 22 July?",
#: "что я писал 3 мая?"): a query of a date and these is a date-only query (see the retriever).
_PERIOD_WORDS_TEXT = """
    happen happened happens happening go went going write wrote written writing note notes noted
    record recorded diary journal entry entries day days event events anything something
    tell remind show say said mention mentioned describe described going on
    произошло происходило случилось случалось происходит делал делала делали сделал сделала
    сделали писал писала писали написал написала записал записала запись записи записях
    дневник дневнике день дня дни событие события было расскажи напомни покажи
"""

_local = threading.local()  # Snowball stemmers keep state: one pair per thread.


def _stemmers():  # type: ignore[no-untyped-def]  # snowballstemmer ships no types
    pair = getattr(_local, "pair", None)
    if pair is None:
        import snowballstemmer

        pair = (snowballstemmer.stemmer("russian"), snowballstemmer.stemmer("english"))
        _local.pair = pair
    return pair


@lru_cache(maxsize=262_144)
def stem(word: str) -> str:
    """One lower-cased, ``ё``-folded word → its stem (cached: Snowball costs ~35 µs a word)."""
    if len(word) > MAX_WORD_LEN:
        return word[:MAX_WORD_LEN]
    if _CYRILLIC.search(word):
        return _stemmers()[0].stemWord(word)
    if _LATIN.search(word):
        return _stemmers()[1].stemWord(word)
    return word


def words(text: str) -> list[str]:
    """Unicode words of ``text``, lower-cased and ``ё``-folded, stop words kept."""
    return _WORD.findall(text.lower().replace("ё", "е"))


def iter_terms(text: str) -> Iterable[str]:
    """The stemmed, stop-word-free terms of ``text``, in order, repeats kept."""
    for w in words(text):
        if w in STOP_WORDS:
            continue
        t = stem(w)
        if t:
            yield t


def fts_terms(text: str) -> str:
    """``text`` as a space-separated string of stemmed terms (for the ``fts`` column)."""
    return " ".join(iter_terms(text))


def query_terms(text: str) -> list[str]:
    """The distinct terms of a query, first occurrence first (BM25 counts each once)."""
    return list(dict.fromkeys(iter_terms(text)))


@lru_cache(maxsize=1)
def _period_stems() -> frozenset[str]:
    return frozenset(iter_terms(_PERIOD_WORDS_TEXT))


def only_period_words(text: str) -> bool:
    """True when ``text`` (a query with its date cut out) asks nothing beyond "what is in that
    period": no terms, or only words like "happened", "write", "записи" (:data:`_PERIOD_WORDS_TEXT`)."""
    return all(t in _period_stems() for t in iter_terms(text))
