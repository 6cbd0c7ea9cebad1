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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from twin.core.crypto import CryptoError
from twin.core.memory.encoding import decode_bytes, decode_text, utf16_without_bom
from twin.errors import DocumentError
from twin.messages import msg

__all__ = ["SEALED_SUFFIX", "Decoder", "Document", "decode_bytes", "is_sealed", "read_document"]

if TYPE_CHECKING:
    from bs4 import Tag
    from docx.text.paragraph import Paragraph

_KINDS = {".md": "markdown", ".markdown": "markdown", ".txt": "text", ".text": "text", ".pdf": "pdf",
          ".docx": "docx", ".html": "html", ".htm": "html"}
_TEXT_KINDS = frozenset({"markdown", "text", "html"})
#: PDF and DOCX are containers: their text is cut at ``max_bytes``, but the file itself
#: may be this many times larger (images, fonts) before we refuse it.
_CONTAINER_FACTOR = 16
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



def _size(n: int) -> str:
    for unit, scale in (("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} bytes"


def _cut_bytes(data: bytes, limit: int) -> bytes:
    """The first ``limit`` bytes, ending at a line end, else at a whole UTF-8 character."""
    cut = data[:limit]
    unit = 4 if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)) else 2 if (
        data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or utf16_without_bom(data)) else 1
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
                raise DocumentError(msg("doc.pdf_encrypted_here", error=str(e))) from e
            if not opened:
                raise DocumentError(msg("doc.pdf_password"))
        pages = list(reader.pages)
    except errors as e:
        raise DocumentError(msg("doc.pdf_broken", error=f"{e.__class__.__name__}: {e}")) from e
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
            raise DocumentError(msg("doc.pdf_no_page"))
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
        raise DocumentError(msg("doc.docx_broken", error=f"{e.__class__.__name__}: {e}")) from e
    blocks: list[str] = []
    items_of_list: list[str] = []
    for item in items:
        if isinstance(item, Table):
            rows = []
            for row in item.rows:
                cells: list[object] = []
                for cell in row.cells:  # a merged cell repeats: keep it once
                    if not cells or cell._tc is not cells[-1]._tc:  # type: ignore[attr-defined]  # python-docx: merged cells share one _tc
                        cells.append(cell)
                line = " | ".join(" ".join(c.text.split()) for c in cells).rstrip(" |")  # type: ignore[attr-defined]  # python-docx cell.text, untyped
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
        return msg("doc.permission")
    if isinstance(e, FileNotFoundError):
        return msg("doc.vanished")
    if isinstance(e, IsADirectoryError):
        return msg("doc.directory")
    reasons = {errno.ELOOP: "doc.link_loop", errno.ENAMETOOLONG: "doc.name_too_long",
               errno.EIO: "doc.io_error", errno.ENOTDIR: "doc.not_a_dir"}
    key = reasons.get(e.errno or 0)
    return msg(key) if key else msg("doc.unreadable", error=e.strerror or e.__class__.__name__)


#: Suffix of a file twin sealed (encryption at rest): ``<name><real suffix>.twin-sealed``.
SEALED_SUFFIX = ".twin-sealed"
#: Opens a sealed file's bytes (the app layer injects the vault's; raises on a wrong key).
Decoder = Callable[[bytes], bytes]


def is_sealed(path: Path | str) -> bool:
    """Whether ``path`` names a sealed file (see :data:`SEALED_SUFFIX`)."""
    return str(path).lower().endswith(SEALED_SUFFIX)


def read_document(path: Path, max_bytes: int, decode: Decoder | None = None) -> Document:
    """Read one file and turn it into text.

    Args:
        path: the file; its suffix chooses the format (.md/.markdown, .txt, .pdf, .docx,
            .html/.htm).
        max_bytes: read at most this much text; a longer text file is cut at a line end
            (warning "truncated at N MB"). A PDF/DOCX may be up to 16× larger on disk; its
            extracted text is cut the same way.

    Returns:
        The document; an empty file gives ``text == ""``.

        decode: opens a sealed file (name ending in :data:`SEALED_SUFFIX`; the format comes
            from the suffix before it). The plaintext stays in memory. None: sealed files
            are refused.

    Raises:
        DocumentError: unsupported type, unreadable (permission denied, vanished, link
            loop…), binary, encrypted or broken beyond use.
    """
    sealed = is_sealed(path)
    if sealed:
        if decode is None:
            raise DocumentError(msg("doc.sealed"))
        path_for_kind = Path(path.name[: -len(SEALED_SUFFIX)])
    else:
        path_for_kind = path
    suffix = path_for_kind.suffix.lower()
    kind = _KINDS.get(suffix)
    if kind is None:
        raise DocumentError(msg("doc.unsupported", suffix=suffix or path.name))
    limit = max_bytes if kind in _TEXT_KINDS else max_bytes * _CONTAINER_FACTOR
    # A sealed file is read whole (base64 + tag make it ~4/3 larger) and cut once open.
    read_limit = limit * 2 + 4096 if sealed else limit
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise DocumentError(msg("doc.directory"))
        if not stat.S_ISREG(info.st_mode):
            raise DocumentError(msg("doc.not_regular"))
        with path.open("rb") as f:
            data = f.read(read_limit + 1)
    except OSError as e:
        raise DocumentError(_os_reason(e)) from e
    if sealed:
        if len(data) > read_limit:
            raise DocumentError(msg("doc.too_large", size=_size(info.st_size), limit=_size(read_limit)))
        try:
            data = decode(data)  # type: ignore[misc]  # decode checked non-None just above
        except CryptoError as e:
            raise DocumentError(msg("doc.cannot_decrypt", error=str(e))) from e
        if kind in _TEXT_KINDS:
            data = data[: limit + 1]
    warnings: list[str] = []
    if kind not in _TEXT_KINDS and len(data) > limit:
        raise DocumentError(msg("doc.too_large", size=_size(info.st_size), limit=_size(limit)))
    if not data:
        return Document("", kind, "utf-8" if kind in _TEXT_KINDS else "", ())
    if kind in _TEXT_KINDS:
        if len(data) > max_bytes:
            data = _cut_bytes(data, max_bytes)
            warnings.append(f"truncated at {_size(max_bytes)}")
        text, encoding, decode_warnings = decode_text(data)
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
