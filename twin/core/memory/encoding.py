"""Bytes → text: encoding detection for diaries in UTF-8, UTF-16 and legacy Russian code pages.

charset-normalizer alone misreads short Russian texts (koi8-r as shift_jis, say), so the
Russian code pages are scored first by how Russian the result looks (common letter pairs,
case, stray symbols); a clean cp1252 decode comes next, charset-normalizer last. A mostly
UTF-8 file with a few bad bytes stays UTF-8, with the bad bytes replaced and reported.
"""

from __future__ import annotations

import codecs
import re

from twin.errors import DocumentError
from twin.messages import msg

BINARY = msg("doc.binary")
#: Candidates in order of how common they are: the first wins a tie (an all-caps text
#: reads the same in cp866 and mac-cyrillic).
_CYRILLIC = ("cp1251", "koi8_r", "cp866", "mac_cyrillic", "iso8859_5")
_RU_LETTERS = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
#: The 150 most frequent Russian letter pairs (79% of all pairs in news prose): real text
#: scores high, a wrong code page low.
_RU_BIGRAMS = frozenset(
    "ст ен ни но ра то на ко ан ро по ов ре го пр ер ли ос та од те ор ол ль ны ле от ал ет не ва "
    "во ел ес ри ом он ти ит ме ск ка ве ог ла да ин ат ис тв ло ем де ми об ия ак нн ки ие со ед "
    "че ой ил тр ар ав ас за ви ам до им ии ть ди ма ля из ци бо аз сл мо ся ьн пе се же ых ей тс "
    "ые ик бы па ек ру ич их ок ир ив нт ча нс си вл оп сп чи ое ий вы ев ду ая ег ры дн ую ги кт "
    "ым гр са чт вр ож ад ыл ют тн ты оз бр му вн га ту ач эт ше ще ае су кр ый ку".split()
)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_WEIRD = re.compile(r"[^\w\s.,!?;:\-—–«»\"'“”„‘’()…№%/\[\]*+=<>@#&$]")


def _codec_name(name: str) -> str:
    return codecs.lookup(name).name


def utf16_without_bom(data: bytes) -> str | None:
    """"utf-16-le"/"utf-16-be" when one byte lane is nearly all 0x00/0x04 (Latin/Cyrillic)."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    share = [(lane.count(0) + lane.count(4)) / len(lane) for lane in (even, odd)]
    if share[1] > 0.7 and share[0] < 0.3:
        return "utf-16-le"
    if share[0] > 0.7 and share[1] < 0.3:
        return "utf-16-be"
    return None


def _russian_score(text: str) -> tuple[float, float]:
    """(score, share of Russian letters among non-ASCII letters) of a decoding.

    The wrong Cyrillic code page turns lower case into upper case (koi8-r ↔ cp1251), letters
    into symbols (mac-cyrillic, cp866) or into non-Russian Cyrillic (iso8859-5), and always
    breaks the frequent letter pairs. ASCII letters read the same in every candidate.
    """
    foreign = sum(1 for ch in text if ch.isalpha() and not ch.isascii())
    if not foreign:
        return 0.0, 0.0
    low = text.lower()
    russian = sum(low.count(ch) for ch in _RU_LETTERS)
    lower = sum(text.count(ch) for ch in _RU_LETTERS)
    other_cyrillic = len(re.findall(r"[\u0400-\u04ff]", low)) - russian
    pairs = re.findall(r"(?=([а-яё]{2}))", low)
    bigram = sum(1 for p in pairs if p in _RU_BIGRAMS) / len(pairs) if pairs else 0.0
    # Case flipped inside a word ("вАЖНО", "ВСр") or a quote glued to a letter ("»ван")
    # never happens in real text.
    flips = len(re.findall(r"[а-яё][А-ЯЁ]|[А-ЯЁ]{2}[а-яё]|[»”][^\W\d_]|[^\W\d_][«„“]", text))
    weird = len(_WEIRD.findall(text)) + other_cyrillic + flips
    lower_share = lower / russian if russian else 0.0
    return 2 * bigram + 0.3 * lower_share - 3 * weird / foreign, russian / foreign


def _cyrillic_codec(data: bytes) -> str | None:
    """The Russian code page ``data`` reads best in, or None when it is no Russian text."""
    sample = data[:65536]
    best: tuple[float, str] | None = None
    for codec in _CYRILLIC:
        try:
            score, share = _russian_score(sample.decode(codec))
        except UnicodeDecodeError:
            continue
        if share >= 0.5 and score >= 0.6 and (best is None or score > best[0]):
            best = (score, codec)
    return best[1] if best else None


def _legacy(data: bytes) -> tuple[str, str]:
    """Decode non-UTF-8 bytes: Russian code pages by score, then cp1252, then charset-normalizer.

    charset-normalizer alone misreads short Russian texts (koi8-r as shift_jis, cp1251 as
    mac-cyrillic) and short Western ones (cp1252 as cp1250), hence the checks before it.
    """
    codec = _cyrillic_codec(data)
    if codec is not None:
        return data.decode(codec, errors="replace"), _codec_name(codec)
    try:
        western = data.decode("cp1252")
    except UnicodeDecodeError:
        western = None
    if western is not None and not _WEIRD.search(western[:65536]):
        return western, "cp1252"
    from charset_normalizer import from_bytes

    guess = from_bytes(data).best()
    if guess is None:
        raise DocumentError(BINARY)
    return str(guess), _codec_name(guess.encoding)


def _not_quite_utf8(data: bytes) -> tuple[str, str, list[str]]:
    """Bytes that are not valid UTF-8: legacy, mixed (old lines cp1251, new ones UTF-8), or damaged.

    A file with no valid UTF-8 sequence at all is legacy. Otherwise the lines that fail
    UTF-8 are tried as Russian code pages (a diary kept in cp1251 and continued in UTF-8);
    failing that, the bad bytes become U+FFFD.
    """
    loose = data.decode("utf-8", errors="replace")
    bad = loose.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    multibyte = len(loose) - len(loose.encode("ascii", "ignore")) - loose.count("\ufffd")
    if not multibyte:
        return (*_legacy(data), [])
    lines = data.split(b"\n")
    broken = []
    for i, line in enumerate(lines):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            broken.append(i)
    codec = _cyrillic_codec(b"\n".join(lines[i] for i in broken))
    if codec is not None and multibyte * 4 < bad:  # legacy text with a few chance UTF-8 pairs
        return data.decode(codec, errors="replace"), _codec_name(codec), []
    if codec is not None:
        for i in broken:
            lines[i] = lines[i].decode(codec, errors="replace").encode("utf-8")
        total = sum(1 for line in lines if line.strip())
        note = f"mixed encodings: {len(broken)} of {total} lines read as {_codec_name(codec)}"
        return b"\n".join(lines).decode("utf-8"), "utf-8", [note]
    return loose, "utf-8", [f"invalid UTF-8: {bad} byte(s) replaced with \ufffd"]


def decode_text(data: bytes) -> tuple[str, str, list[str]]:
    warnings: list[str] = []
    boms = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
            (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
    codec = next((name for bom, name in boms if data.startswith(bom)), None) or utf16_without_bom(data)
    if codec is not None:
        text = data.decode(codec, errors="replace")
        if text.count("\ufffd") > (data.count(b"\xef\xbf\xbd") if codec == "utf-8-sig" else 0):
            warnings.append("some bytes could not be decoded and were replaced")
        name = "utf-8" if codec == "utf-8-sig" else _codec_name(codec)
    elif b"\x00" in data:
        raise DocumentError(BINARY)
    else:
        try:
            text, name = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, name, warnings = _not_quite_utf8(data)
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if len(_CONTROL.findall(text[:65536])) > max(2, len(text[:65536]) // 100):
        raise DocumentError(BINARY)
    return text, name, warnings


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode a text file's bytes, guessing the encoding.

    UTF-8 (with or without BOM), UTF-16/32 with BOM, BOM-less UTF-16, and legacy code pages
    (Russian cp1251/koi8-r/mac-cyrillic/cp866 are told apart by letter-pair statistics,
    others by charset-normalizer). Mostly-UTF-8 bytes with a few invalid ones decode as
    UTF-8 with U+FFFD; lines in a Russian code page inside a UTF-8 file are decoded with
    it (``read_document`` reports both as warnings).

    Returns:
        (text with ``\\n`` newlines, Python codec name such as "utf-8" or "cp1251").

    Raises:
        DocumentError: the bytes are binary (NUL bytes, control characters), not text.
    """
    text, name, _ = decode_text(data)
    return text, name


# -- formats ---------------------------------------------------------------------------------
