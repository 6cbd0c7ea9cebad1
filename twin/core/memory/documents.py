"""Files → text: the only module that reads document formats (md, txt, pdf, docx, html).

Invariants of every :class:`Document` it returns:

* ``text`` uses ``\\n`` newlines only and holds no BOM;
* PDF, DOCX and HTML come back as markdown-ish text (``#`` headings, ``-`` lists, blank
  lines between paragraphs) so that :mod:`twin.core.memory.markdown` keeps their structure;
* a problem that loses nothing important (a truncated file, a few bad bytes, an unreadable
  PDF page) is a warning; one that leaves nothing to index is a
  :class:`~twin.errors.DocumentError` with a reason fit to show the user as is.

pypdf, python-docx and bs4 are imported lazily: most vaults are plain markdown.
"""

from __future__ import annotations

import codecs
import errno
import io
import logging
import re
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from twin.errors import DocumentError

if TYPE_CHECKING:
    from bs4 import Tag
    from docx.text.paragraph import Paragraph

_KINDS = {".md": "markdown", ".markdown": "markdown", ".txt": "text", ".text": "text", ".pdf": "pdf",
          ".docx": "docx", ".html": "html", ".htm": "html"}
_TEXT_KINDS = frozenset({"markdown", "text", "html"})
#: PDF and DOCX are containers: their text is cut at ``max_bytes``, but the file itself
#: may be this many times larger (images, fonts) before we refuse it.
_CONTAINER_FACTOR = 16
_BINARY = "binary file, not text"
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


@dataclass(frozen=True)
class Document:
    """The text of one file.

    Attributes:
        text: the decoded text (``\\n`` newlines, no BOM); "" for an empty file.
        kind: "markdown" | "text" | "pdf" | "docx" | "html".
        encoding: the codec the bytes were decoded with ("" for PDF and DOCX).
        warnings: what was lost or guessed, in words, e.g. "truncated at 5 MB".
    """

    text: str
    kind: str
    encoding: str
    warnings: tuple[str, ...] = ()


# -- bytes → str -----------------------------------------------------------------------------

def _codec_name(name: str) -> str:
    return codecs.lookup(name).name


def _utf16_without_bom(data: bytes) -> str | None:
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
        raise DocumentError(_BINARY)
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


def _decode(data: bytes) -> tuple[str, str, list[str]]:
    warnings: list[str] = []
    boms = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
            (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
    codec = next((name for bom, name in boms if data.startswith(bom)), None) or _utf16_without_bom(data)
    if codec is not None:
        text = data.decode(codec, errors="replace")
        if text.count("\ufffd") > (data.count(b"\xef\xbf\xbd") if codec == "utf-8-sig" else 0):
            warnings.append("some bytes could not be decoded and were replaced")
        name = "utf-8" if codec == "utf-8-sig" else _codec_name(codec)
    elif b"\x00" in data:
        raise DocumentError(_BINARY)
    else:
        try:
            text, name = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, name, warnings = _not_quite_utf8(data)
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if len(_CONTROL.findall(text[:65536])) > max(2, len(text[:65536]) // 100):
        raise DocumentError(_BINARY)
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
    text, name, _ = _decode(data)
    return text, name


# -- formats ---------------------------------------------------------------------------------

def _size(n: int) -> str:
    for unit, scale in (("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} bytes"


def _cut_bytes(data: bytes, limit: int) -> bytes:
    """The first ``limit`` bytes, ending at a line end, else at a whole UTF-8 character."""
    cut = data[:limit]
    unit = 4 if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)) else 2 if (
        data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _utf16_without_bom(data)) else 1
    if unit > 1:
        return cut[: len(cut) - len(cut) % unit]
    newline = cut.rfind(b"\n")
    if newline >= limit // 2:
        return cut[: newline + 1]
    start = len(cut) - 1
    while start > 0 and len(cut) - start < 4 and 0x80 <= cut[start] < 0xC0:
        start -= 1
    if start >= 0 and cut and cut[start] >= 0xC0:
        need = 2 if cut[start] < 0xE0 else 3 if cut[start] < 0xF0 else 4
        if len(cut) - start < need:
            return cut[:start]
    return cut


def _cut_text(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    return _cut_bytes(data, limit).decode("utf-8", errors="ignore") if len(data) > limit else text


def _tidy_lines(text: str) -> str:
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


class _Complaints(logging.Handler):
    """Counts the warnings a library logs while it works."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def _pdf_errors() -> tuple[type[BaseException], ...]:
    from pypdf.errors import PyPdfError

    # pypdf raises more than its own errors on malformed files (reported upstream many
    # times): a broken file must become a DocumentError, never crash the batch.
    return (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, AssertionError,
            RecursionError, OverflowError, zlib.error, struct.error)


def _pdf_text(data: bytes) -> tuple[str, list[str]]:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    errors = _pdf_errors()
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except (DependencyError, NotImplementedError) as e:
                raise DocumentError(f"encrypted PDF that cannot be opened here ({e})") from e
            if not opened:
                raise DocumentError("encrypted PDF (password protected)")
        pages = list(reader.pages)
    except errors as e:
        raise DocumentError(f"broken PDF ({e.__class__.__name__}: {e})") from e
    texts, bad = [], []
    # pypdf logs (and swallows) some damage, e.g. a content stream that does not inflate:
    # a page that yields no text while pypdf complains is counted as unreadable.
    complaints = _Complaints()
    pypdf_log = logging.getLogger("pypdf")
    pypdf_log.addHandler(complaints)
    try:
        for number, page in enumerate(pages, 1):
            before = complaints.count
            try:
                text = _tidy_lines(page.extract_text() or "")
            except errors:
                bad.append(number)
                continue
            if not text and complaints.count > before:
                bad.append(number)
            texts.append(text)
    finally:
        pypdf_log.removeHandler(complaints)
    warnings = []
    if bad:
        if not any(texts):
            raise DocumentError("broken PDF (no page could be read)")
        listed = ", ".join(map(str, bad[:10])) + ("…" if len(bad) > 10 else "")
        warnings.append(f"{len(bad)} of {len(pages)} PDF pages could not be read "
                        f"({'page' if len(bad) == 1 else 'pages'} {listed})")
    text = "\n\n".join(t for t in texts if t)
    if pages and not text:
        warnings.append("the PDF has no text layer (a scan?)")
    return text, warnings


def _list_level(paragraph: Paragraph, style: str) -> int | None:
    """A DOCX paragraph's list depth (0 = top), or None when it is no list item."""
    ppr = paragraph._p.pPr  # numbering lives only in the XML: python-docx has no public API
    num = ppr.numPr if ppr is not None else None
    if num is not None:
        ilvl = getattr(num, "ilvl", None)  # python-docx types numPr loosely
        return int(ilvl.val) if ilvl is not None and ilvl.val is not None else 0
    if style.lower().startswith("list"):
        depth = re.search(r"(\d)$", style)  # "List Bullet 2" is the second level
        return int(depth[1]) - 1 if depth else 0
    return None


def _docx_text(data: bytes) -> str:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
        items = list(document.iter_inner_content())
    # lxml's XMLSyntaxError is a SyntaxError; a missing part is a KeyError.
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, SyntaxError) as e:
        raise DocumentError(f"broken DOCX ({e.__class__.__name__}: {e})") from e
    blocks: list[str] = []
    items_of_list: list[str] = []
    for item in items:
        if isinstance(item, Table):
            rows = []
            for row in item.rows:
                cells: list[object] = []
                for cell in row.cells:  # a merged cell repeats: keep it once
                    if not cells or cell._tc is not cells[-1]._tc:  # type: ignore[attr-defined]
                        cells.append(cell)
                line = " | ".join(" ".join(c.text.split()) for c in cells).rstrip(" |")  # type: ignore[attr-defined]
                if line:
                    rows.append(line)
            blocks.append("\n".join(rows))
            continue
        text = " ".join(item.text.split())
        style = (item.style.name if item.style is not None else "") or ""
        heading = re.fullmatch(r"(?:heading|заголовок)\s*(\d)", style.strip().lower())
        level = _list_level(item, style)
        if text and not heading and level is not None:
            items_of_list.append("  " * level + "- " + text)
            continue
        if items_of_list:
            blocks.append("\n".join(items_of_list))
            items_of_list = []
        if text and (heading or style == "Title"):
            blocks.append("#" * min(int(heading[1]) if heading else 1, 6) + " " + text)
        elif text:
            blocks.append(text)
    if items_of_list:
        blocks.append("\n".join(items_of_list))
    return "\n\n".join(b for b in blocks if b)


def _squash(parts: list[str]) -> str:
    lines = (" ".join(line.split()) for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


def _html_list(node: Tag, indent: str) -> list[str]:
    from bs4.element import NavigableString, PreformattedString, Tag

    lines: list[str] = []
    for number, li in enumerate(node.find_all("li", recursive=False), 1):
        marker = f"{number}." if node.name == "ol" else "-"
        text, nested = [], []
        for child in li.children:
            if isinstance(child, Tag) and child.name in ("ul", "ol"):
                nested.extend(_html_list(child, indent + " " * (len(marker) + 1)))
            elif isinstance(child, Tag):
                text.append(child.get_text(" "))
            elif isinstance(child, NavigableString) and not isinstance(child, PreformattedString):
                text.append(str(child))
        lines.append(f"{indent}{marker} {' '.join(''.join(text).split())}".rstrip())
        lines.extend(nested)
    return lines


def _html_blocks(node: Tag) -> list[str]:
    from bs4.element import NavigableString, PreformattedString, Tag

    blocks: list[str] = []
    inline: list[str] = []

    def flush() -> None:
        text = _squash(inline)
        inline.clear()
        if text:
            blocks.append(text)

    for child in node.children:
        if isinstance(child, PreformattedString):  # comments, doctype, CDATA
            continue
        if isinstance(child, NavigableString):
            inline.append(re.sub(r"\s+", " ", str(child)))
            continue
        if not isinstance(child, Tag):
            continue
        name = child.name
        if name == "br":
            inline.append("\n")
            continue
        if name not in _HTML_BLOCK_TAGS:
            inline.append(re.sub(r"\s+", " ", child.get_text()))
            continue
        flush()
        if re.fullmatch(r"h[1-6]", name):
            title = " ".join(child.get_text(" ").split())
            if title:
                blocks.append("#" * int(name[1]) + " " + title)
        elif name == "pre":
            blocks.append("```\n" + child.get_text().strip("\n") + "\n```")
        elif name in ("ul", "ol"):
            blocks.append("\n".join(_html_list(child, "")))
        elif name == "table":
            rows = (" | ".join(" ".join(c.get_text(" ").split()) for c in tr.find_all(["td", "th"], recursive=False))
                    for tr in child.find_all("tr"))
            blocks.append("\n".join(r.rstrip(" |") for r in rows if r.strip(" |")))
        elif name == "blockquote":
            inner = "\n\n".join(_html_blocks(child))
            blocks.append("\n".join("> " + line if line else ">" for line in inner.split("\n")))
        elif name != "hr":
            blocks.extend(_html_blocks(child))
    flush()
    return [b for b in blocks if b.strip()]


_HTML_BLOCK_TAGS = frozenset(
    "address article aside blockquote body dd details div dl dt fieldset figcaption figure footer form h1 h2 h3 "
    "h4 h5 h6 header hr html li main nav ol p pre section summary table tbody td tfoot th thead tr ul".split()
)


def _html_text(text: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "html.parser")
    title = soup.title.get_text(" ").strip() if soup.title else ""
    for tag in soup(["script", "style", "noscript", "template", "head", "title", "svg"]):
        tag.decompose()
    try:
        blocks = _html_blocks(soup)
    except RecursionError:  # absurdly deep nesting: keep the words, lose the structure
        blocks = [_tidy_lines(soup.get_text("\n"))]
    if title and not soup.find("h1"):
        blocks.insert(0, "# " + " ".join(title.split()))
    return "\n\n".join(blocks)


# -- files -----------------------------------------------------------------------------------

def _os_reason(e: OSError) -> str:
    if isinstance(e, PermissionError):
        return "permission denied"
    if isinstance(e, FileNotFoundError):
        return "file disappeared while reading"
    if isinstance(e, IsADirectoryError):
        return "is a directory, not a file"
    reasons = {errno.ELOOP: "symbolic link loop", errno.ENAMETOOLONG: "file name too long",
               errno.EIO: "input/output error (disk or network problem)", errno.ENOTDIR: "a folder in the path is a file"}
    return reasons.get(e.errno or 0, f"cannot read the file ({e.strerror or e.__class__.__name__})")


def read_document(path: Path, max_bytes: int) -> Document:
    """Read one file and turn it into text.

    Args:
        path: the file; its suffix chooses the format (.md/.markdown, .txt, .pdf, .docx,
            .html/.htm).
        max_bytes: read at most this much text; a longer text file is cut at a line end
            (warning "truncated at N MB"). A PDF/DOCX may be up to 16× larger on disk; its
            extracted text is cut the same way.

    Returns:
        The document; an empty file gives ``text == ""``.

    Raises:
        DocumentError: unsupported type, unreadable (permission denied, vanished, link
            loop…), binary, encrypted or broken beyond use.
    """
    suffix = path.suffix.lower()
    kind = _KINDS.get(suffix)
    if kind is None:
        raise DocumentError(f"unsupported file type '{suffix or path.name}'")
    limit = max_bytes if kind in _TEXT_KINDS else max_bytes * _CONTAINER_FACTOR
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise DocumentError("is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise DocumentError("not a regular file")
        with path.open("rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise DocumentError(_os_reason(e)) from e
    warnings: list[str] = []
    if kind not in _TEXT_KINDS and len(data) > limit:
        raise DocumentError(f"file too large ({_size(info.st_size)}; the limit is {_size(limit)})")
    if not data:
        return Document("", kind, "utf-8" if kind in _TEXT_KINDS else "", ())
    if kind in _TEXT_KINDS:
        if len(data) > max_bytes:
            data = _cut_bytes(data, max_bytes)
            warnings.append(f"truncated at {_size(max_bytes)}")
        text, encoding, decode_warnings = _decode(data)
        warnings[:0] = decode_warnings
        if kind == "html":
            text = _html_text(text)
        return Document(text, kind, encoding, tuple(warnings))
    if kind == "pdf":
        text, warnings = _pdf_text(data)
    else:
        text = _docx_text(data)
    if len(text.encode("utf-8")) > max_bytes:
        text = _cut_text(text, max_bytes).rstrip()
        warnings.append(f"truncated at {_size(max_bytes)}")
    return Document(text, kind, "", tuple(warnings))
