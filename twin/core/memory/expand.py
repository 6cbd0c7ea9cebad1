"""Query expansion: other wordings of the query (a translation) searched with it.

A Russian question about notes written in English shares no word with them, and an
English-only embedder cannot bridge the languages either. An *expander* (``query ->
[variants]``) gives the retriever other forms of the question; their terms join the BM25
query (each word stemmed by its own script's stemmer, :mod:`twin.core.memory.textnorm`, so
both languages' stems are searched) and each variant is also embedded and searched, keeping
every chunk's best similarity.

:func:`llm_translator` makes an expander from the loaded chat model (translate Russian into
English and English into Russian); :class:`CachedExpander` keeps answers (an LLM call costs
hundreds of milliseconds) and turns any failure into "no variants" with a log line. With no
model loaded there is no expander, and search works as before.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Callable

log = logging.getLogger("twin.expand")

Expander = Callable[[str], list[str]]

_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)


def language(text: str) -> str:
    """"ru" when ``text`` has more Cyrillic than Latin letters, else "en"."""
    return "ru" if len(_CYRILLIC.findall(text)) > len(_LATIN.findall(text)) else "en"


TRANSLATE_PROMPT = {
    "ru": "Translate this question from Russian into English. Reply with the translation only.\n\n"
          "Russian: {query}\nEnglish:",
    "en": "Translate this question from English into Russian. Reply with the translation only.\n\n"
          "English: {query}\nRussian:",
}


_CITATION = re.compile(r"\[\d+\]|\S/\S+/")


def usable(translation: str, source: str) -> bool:
    """Whether a model's reply can be a translation of a ``source``-language question: in the
    other language, and not an echo of the prompt's memories (a citation, a file path)."""
    return language(translation) != source and not _CITATION.search(translation)


def llm_translator(complete: Callable[[str], str], max_chars: int = 300) -> Expander:
    """An expander that asks the chat model (``complete``: prompt → reply) for a
    translation of the query into the other language (Russian ↔ English)."""

    def expand(query: str) -> list[str]:
        lang = language(query)
        reply = complete(TRANSLATE_PROMPT[lang].format(query=" ".join(query.split())[:max_chars]))
        line = next((ln.strip() for ln in (reply or "").splitlines() if ln.strip()), "")
        line = line.strip(' "«»')[:max_chars]
        if not line or line.lower() == query.strip().lower() or not usable(line, lang):
            return []
        return [line]

    return expand


class CachedExpander:
    """``expander`` with an LRU cache of ``size`` queries; a failure gives no variants (one
    log line) and is not cached."""

    def __init__(self, expander: Expander, size: int = 256):
        self.expander = expander
        self.size = size
        self._cache: OrderedDict[str, list[str]] = OrderedDict()
        self.calls = 0

    def __call__(self, query: str) -> list[str]:
        key = " ".join(query.split())
        if key in self._cache:
            self._cache.move_to_end(key)
            return list(self._cache[key])
        self.calls += 1
        try:
            variants = [v for v in (self.expander(key) or []) if isinstance(v, str) and v.strip()]
        except Exception as e:  # noqa: BLE001 - no expansion is a fine answer
            log.warning("query expansion failed, searching the query alone: %s", e)
            return []  # not cached: the next search may try again
        self._cache[key] = variants
        if len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return list(variants)

    def forget(self, query: str) -> None:
        """Drop ``query``'s cached variants (e.g. a translation that was cut off)."""
        self._cache.pop(" ".join(query.split()), None)
