"""Files → text: encodings, formats (md, txt, pdf, docx, html), limits and OS errors."""

from __future__ import annotations

import codecs
import errno
import io
import os
from pathlib import Path

import pytest

from twin.core.memory.documents import Document, decode_bytes, read_document
from twin.core.memory.markdown import parse_markdown
from twin.errors import DocumentError, KnownError

MB = 1 << 20

RUSSIAN = [
    "Привет, как дела? Сегодня хорошая погода.",
    "Сегодня ходили с Машей в парк.\nВечером пили чай с вареньем и разговаривали о жизни.",
    "Я помню чудное мгновенье:\nПередо мной явилась ты,\nКак мимолетное виденье,",
    "Мы поехали в Санкт-Петербург 15 марта 2024 г. и вернулись через неделю.",
    "Встреча с Иваном Петровичем в 10:00. Обсудили проект «Альфа» — всё идёт по плану!",
    "Купить: молоко, хлеб, яйца (10 шт.), сыр.",
    "Утро. Дождь. Настроение так себе…",
    "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "ЭТО ОЧЕНЬ ВАЖНО!!!",
    "Ночь, улица, фонарь, аптека,\nБессмысленный и тусклый свет.\nЖиви ещё хоть четверть века —",
    "Today I met Иван at the cafe.",
    "Он сказал: «Нет».",
]


# -- decode_bytes ----------------------------------------------------------------------------

def _encodable(codecs_: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for codec in codecs_:
        for text in RUSSIAN:
            try:
                text.encode(codec)
            except UnicodeEncodeError:  # koi8-r and cp866 have no «» or —
                continue
            pairs.append((codec, text))
    return pairs


@pytest.mark.parametrize("codec, text", _encodable(["cp1251", "koi8_r", "mac_cyrillic", "cp866"]))
def test_legacy_russian_code_pages(codec: str, text: str) -> None:
    data = text.encode(codec)
    decoded, encoding = decode_bytes(data)
    assert decoded == text
    # all capitals read the same in cp866 and mac-cyrillic: either name is right then
    assert encoding == codecs.lookup(codec).name or data.decode(encoding) == text


@pytest.mark.parametrize("text", RUSSIAN[:4])
@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig", "utf-8"])
def test_unicode_with_and_without_bom(text: str, codec: str) -> None:
    decoded, encoding = decode_bytes(text.encode(codec))
    assert decoded == text
    assert encoding.startswith("utf")


def test_utf16_bomless_ascii() -> None:
    decoded, encoding = decode_bytes("Hello world\nsecond line\n".encode("utf-16-le"))
    assert (decoded, encoding) == ("Hello world\nsecond line\n", "utf-16-le")


def test_utf8_bom_is_stripped() -> None:
    assert decode_bytes(b"\xef\xbb\xbf# Title\n") == ("# Title\n", "utf-8")


def test_newlines_are_normalised() -> None:
    assert decode_bytes(b"a\r\nb\rc\n")[0] == "a\nb\nc\n"
    assert decode_bytes("один\r\nдва".encode("cp1251"))[0] == "один\nдва"


def test_western_legacy_text() -> None:
    text = "Café crème brûlée, déjà vu — très élevé. He said “hello”."
    assert decode_bytes(text.encode("cp1252")) == (text, "cp1252")


def test_ascii_is_utf8() -> None:
    assert decode_bytes(b"plain ascii") == ("plain ascii", "utf-8")


def test_mostly_utf8_with_a_bad_byte_decodes_with_replacement() -> None:
    data = "Привет мир, всё хорошо. ".encode() * 5 + b"\xff and more"
    text, encoding = decode_bytes(data)
    assert encoding == "utf-8"
    assert text.startswith("Привет мир") and "\ufffd" in text and text.endswith("and more")


def test_ascii_heavy_utf8_with_bad_bytes_is_still_utf8(tmp_path: Path) -> None:
    path = tmp_path / "bad-utf8.md"
    path.write_bytes(b"Valid start. \xff\xfe\xfa broken \xc3 bytes. " + "Конец.".encode())
    doc = read_document(path, MB)
    assert doc.text == "Valid start. \ufffd\ufffd\ufffd broken \ufffd bytes. Конец."
    assert (doc.encoding, doc.warnings) == ("utf-8", ("invalid UTF-8: 4 byte(s) replaced with \ufffd",))


def test_mixed_cp1251_and_utf8_lines(tmp_path: Path) -> None:
    path = tmp_path / "diary.txt"
    old = "15.03.2009\r\nСтарая запись, ещё в Windows-1251.\r\n".encode("cp1251")
    new = "\r\n15.03.2024\r\nНовая запись уже в UTF-8.\r\n".encode()
    path.write_bytes(old + new)
    doc = read_document(path, MB)
    assert doc.text == ("15.03.2009\nСтарая запись, ещё в Windows-1251.\n\n"
                        "15.03.2024\nНовая запись уже в UTF-8.\n")
    assert doc.encoding == "utf-8"
    assert doc.warnings == ("mixed encodings: 1 of 4 lines read as cp1251",)


def test_cp1251_with_a_chance_utf8_pair_is_cp1251() -> None:
    data = "ВСЁ ХОРОШО, мы дома. Завтра снова в путь, надо собрать вещи.\n".encode("cp1251")
    assert b"\xd1\xa8" in data  # "СЁ" happens to be a valid UTF-8 sequence
    assert decode_bytes(data) == (data.decode("cp1251"), "cp1251")


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200),
        bytes(range(256)) * 8,
        b"%PDF-1.4\n\x00\x01\x02\x03",
        b"\x7fELF\x02\x01\x01" + bytes(range(1, 32)) * 20,
    ],
)
def test_binary_is_refused(data: bytes) -> None:
    with pytest.raises(DocumentError, match="binary file, not text"):
        decode_bytes(data)


def test_random_bytes_are_refused() -> None:
    data = bytes((i * 7919 + 13) % 256 for i in range(4000))
    with pytest.raises(DocumentError, match="binary"):
        decode_bytes(data)


def test_empty_bytes() -> None:
    assert decode_bytes(b"")[0] == ""


# -- text files ------------------------------------------------------------------------------

def test_markdown_file(tmp_path: Path) -> None:
    path = tmp_path / "2024-03-15.md"
    path.write_bytes(b"# Day\r\n\r\nText\r\n")
    doc = read_document(path, MB)
    assert doc == Document("# Day\n\nText\n", "markdown", "utf-8", ())


@pytest.mark.parametrize("suffix, kind", [(".markdown", "markdown"), (".MD", "markdown"), (".txt", "text"),
                                          (".htm", "html")])
def test_kind_by_suffix(tmp_path: Path, suffix: str, kind: str) -> None:
    path = tmp_path / f"note{suffix}"
    path.write_text("hello", encoding="utf-8")
    assert read_document(path, MB).kind == kind


def test_cp1251_text_file(tmp_path: Path) -> None:
    path = tmp_path / "дневник.txt"
    path.write_bytes("15.03.2024\r\nСегодня был хороший день.\r\n".encode("cp1251"))
    doc = read_document(path, MB)
    assert doc.text == "15.03.2024\nСегодня был хороший день.\n"
    assert doc.encoding == "cp1251"
    assert doc.warnings == ()


def test_koi8_text_file(tmp_path: Path) -> None:
    path = tmp_path / "old.txt"
    path.write_bytes("Старый файл в кодировке КОИ-8.\nВторая строка.".encode("koi8_r"))
    doc = read_document(path, MB)
    assert doc.text == "Старый файл в кодировке КОИ-8.\nВторая строка."
    assert doc.encoding == "koi8-r"


def test_invalid_utf8_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "mixed.md"
    path.write_bytes("Заметка про отпуск. ".encode() * 10 + b"\xe9t\xe9\n")
    doc = read_document(path, MB)
    assert doc.encoding == "utf-8"
    assert any("invalid UTF-8" in w for w in doc.warnings)


def test_empty_file_is_not_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.md"
    path.write_bytes(b"")
    assert read_document(path, MB) == Document("", "markdown", "utf-8", ())


def test_truncated_at_line_boundary(tmp_path: Path) -> None:
    path = tmp_path / "big.md"
    line = "Строка дневника номер такая-то.\n"
    path.write_text(line * 1000, encoding="utf-8")
    doc = read_document(path, 1000)
    assert len(doc.text.encode()) <= 1000
    assert doc.text.endswith("\n") and set(doc.text.splitlines()) == {line.rstrip("\n")}
    assert doc.warnings == ("truncated at 1000 bytes",)


def test_truncated_mid_line_keeps_whole_characters(tmp_path: Path) -> None:
    path = tmp_path / "one-line.md"
    path.write_text("я" * 5000, encoding="utf-8")  # 2 bytes a letter, no newline
    doc = read_document(path, 1001)
    assert doc.text == "я" * 500
    assert "\ufffd" not in doc.text


def test_truncation_warning_in_megabytes(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_bytes(b"x" * 100 + b"\n" + b"y" * (2 * MB))
    doc = read_document(path, 2 * MB)
    assert doc.warnings == ("truncated at 2 MB",)


def test_truncated_utf16_stays_aligned(tmp_path: Path) -> None:
    path = tmp_path / "u16.txt"
    path.write_bytes("Привет\n".encode("utf-16") * 1 + "мир\n".encode("utf-16-le") * 500)
    doc = read_document(path, 1001)
    assert doc.text.startswith("Привет\nмир\n")
    assert "\ufffd" not in doc.text


def test_binary_with_text_suffix(tmp_path: Path) -> None:
    path = tmp_path / "photo.md"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(500))
    with pytest.raises(DocumentError, match="binary"):
        read_document(path, MB)


# -- OS errors ---------------------------------------------------------------------------------

def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="file disappeared while reading") as info:
        read_document(tmp_path / "gone.md", MB)
    assert isinstance(info.value, KnownError)


def test_directory(tmp_path: Path) -> None:
    (tmp_path / "folder.md").mkdir()
    with pytest.raises(DocumentError, match="is a directory"):
        read_document(tmp_path / "folder.md", MB)


def test_symlink_loop(tmp_path: Path) -> None:
    (tmp_path / "a.md").symlink_to(tmp_path / "b.md")
    (tmp_path / "b.md").symlink_to(tmp_path / "a.md")
    with pytest.raises(DocumentError, match="symbolic link loop"):
        read_document(tmp_path / "a.md", MB)


def test_fifo_is_not_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.md")
    with pytest.raises(DocumentError, match="not a regular file"):
        read_document(tmp_path / "pipe.md", MB)


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret.md"
    path.write_text("x")

    def denied(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", denied)
    with pytest.raises(DocumentError, match="^permission denied$"):
        read_document(path, MB)


def test_vanishes_between_stat_and_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "flaky.md"
    path.write_text("x")

    def vanished(self: Path, *args: object, **kwargs: object) -> None:
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(self))

    monkeypatch.setattr(Path, "open", vanished)
    with pytest.raises(DocumentError, match="file disappeared while reading"):
        read_document(path, MB)


def test_io_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "disk.md"
    path.write_text("x")

    def broken(self: Path, *args: object, **kwargs: object) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(Path, "open", broken)
    with pytest.raises(DocumentError, match="input/output error"):
        read_document(path, MB)


def test_unsupported_suffix(tmp_path: Path) -> None:
    path = tmp_path / "image.png"
    path.write_bytes(b"\x89PNG")
    with pytest.raises(DocumentError, match="unsupported file type '.png'"):
        read_document(path, MB)


# -- PDF ---------------------------------------------------------------------------------------

def _pdf_string(text: str) -> bytes:
    return text.encode("latin-1").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def make_pdf(pages: list[list[str]], broken_page: int | None = None) -> bytes:
    """A minimal valid PDF: one Helvetica text stream a page, a correct xref table.

    ``broken_page`` gets a content stream that claims FlateDecode but holds garbage.
    """
    page_ids = [4 + 2 * i for i in range(len(pages))]
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % p for p in page_ids) + b"] /Count %d >>" % len(pages),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, lines in enumerate(pages):
        content = b"BT /F1 12 Tf 72 720 Td 14 TL " + b" ".join(b"(" + _pdf_string(s) + b") Tj T*" for s in lines) + b" ET"
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                       b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (page_ids[i] + 1))
        if i == broken_page:
            objects.append(b"<< /Length 20 /Filter /FlateDecode >>\nstream\nnot zlib at all !!!!\nendstream")
        else:
            objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_pdf_pages_keep_structure(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(make_pdf([["Hello world.", "Second line (with parens)."], ["Page two text."]]))
    doc = read_document(path, MB)
    assert doc.kind == "pdf" and doc.warnings == ()
    assert doc.text == "Hello world.\nSecond line (with parens).\n\nPage two text."
    # pages become separate paragraphs for the markdown parser
    assert [b.text for b in parse_markdown(doc.text).blocks] == [
        "Hello world.\nSecond line (with parens).", "Page two text."]


def test_pdf_with_one_broken_page(tmp_path: Path) -> None:
    path = tmp_path / "partial.pdf"
    path.write_bytes(make_pdf([["Good page."], ["lost"], ["Third page."]], broken_page=1))
    doc = read_document(path, MB)
    assert doc.text == "Good page.\n\nThird page."
    assert doc.warnings == ("1 of 3 PDF pages could not be read (page 2)",)


def test_pdf_all_pages_broken(tmp_path: Path) -> None:
    path = tmp_path / "dead.pdf"
    path.write_bytes(make_pdf([["lost"]], broken_page=0))
    with pytest.raises(DocumentError, match="broken PDF"):
        read_document(path, MB)


def test_pdf_without_text_layer(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(make_pdf([[]]))
    doc = read_document(path, MB)
    assert doc.text == ""
    assert doc.warnings == ("the PDF has no text layer (a scan?)",)


@pytest.mark.parametrize("cut", [40, 300, -30])
def test_truncated_pdf(tmp_path: Path, cut: int) -> None:
    path = tmp_path / "cut.pdf"
    path.write_bytes(make_pdf([["Hello world."], ["More."]])[:cut])
    with pytest.raises(DocumentError, match="broken PDF"):
        read_document(path, MB)


def test_garbage_pdf(tmp_path: Path) -> None:
    path = tmp_path / "fake.pdf"
    path.write_bytes(b"this is not a pdf at all\n" * 50)
    with pytest.raises(DocumentError, match="broken PDF"):
        read_document(path, MB)


def _encrypt(data: bytes, user_password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_password_protected_pdf(tmp_path: Path) -> None:
    path = tmp_path / "locked.pdf"
    path.write_bytes(_encrypt(make_pdf([["Secret."]]), "secret"))
    with pytest.raises(DocumentError, match="encrypted PDF"):
        read_document(path, MB)


def test_pdf_encrypted_with_empty_user_password_opens(tmp_path: Path) -> None:
    path = tmp_path / "owner-only.pdf"
    path.write_bytes(_encrypt(make_pdf([["Readable."]]), ""))
    assert read_document(path, MB).text == "Readable."


def test_pdf_text_is_truncated(tmp_path: Path) -> None:
    path = tmp_path / "long.pdf"
    path.write_bytes(make_pdf([[f"Line number {i} of the long report." for i in range(40)]]))
    doc = read_document(path, 200)
    assert len(doc.text.encode()) <= 200
    assert doc.text.startswith("Line number 0 of the long report.")
    assert doc.warnings == ("truncated at 200 bytes",)


def test_pdf_far_over_the_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.pdf"
    path.write_bytes(make_pdf([["x"]]) + b"%" + b"0" * 5000)
    with pytest.raises(DocumentError, match="file too large"):
        read_document(path, 100)


# -- DOCX --------------------------------------------------------------------------------------

def test_docx_structure(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Дневник", level=0)
    document.add_heading("15 марта 2024", level=1)
    document.add_paragraph("Утром гулял в парке.")
    document.add_paragraph("Купить молоко", style="List Bullet")
    document.add_paragraph("Купить хлеб", style="List Bullet")
    document.add_paragraph("Чёрный", style="List Bullet 2")
    document.add_heading("Покупки", level=2)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Что", "Сколько"
    table.cell(1, 0).text, table.cell(1, 1).text = "Яблоки", "3"
    document.add_paragraph("")
    document.add_paragraph("Конец.")
    path = tmp_path / "diary.docx"
    document.save(path)

    doc = read_document(path, MB)
    assert doc.kind == "docx" and doc.warnings == ()
    assert doc.text == (
        "# Дневник\n\n# 15 марта 2024\n\nУтром гулял в парке.\n\n"
        "- Купить молоко\n- Купить хлеб\n  - Чёрный\n\n## Покупки\n\nЧто | Сколько\nЯблоки | 3\n\nКонец."
    )
    blocks = parse_markdown(doc.text).blocks
    assert [(b.kind, b.heading_path[-1]) for b in blocks] == [
        ("heading", "Дневник"), ("paragraph", "15 марта 2024"), ("list", "15 марта 2024"),
        ("paragraph", "Покупки"), ("paragraph", "Покупки")]
    assert blocks[1].entry_date is not None and blocks[1].entry_date.isoformat() == "2024-03-15"


def test_docx_merged_cells_once(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    table = document.add_table(rows=1, cols=3)
    table.cell(0, 0).text = "wide"
    table.cell(0, 0).merge(table.cell(0, 1))
    table.cell(0, 2).text = "end"
    path = tmp_path / "t.docx"
    document.save(path)
    assert read_document(path, MB).text == "wide | end"


@pytest.mark.parametrize("data", [b"PK\x03\x04garbage", b"not a zip", b"PK\x05\x06" + bytes(18)])
def test_broken_docx(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "broken.docx"
    path.write_bytes(data)
    with pytest.raises(DocumentError, match="broken DOCX"):
        read_document(path, MB)


# -- HTML --------------------------------------------------------------------------------------

HTML = """<!DOCTYPE html>
<html><head><title>Saved page</title><style>p { color: red }</style>
<script>var secret = "do not index";</script></head>
<body><!-- comment -->
<h1>Title <a href="#">link</a></h1>
<p>Para one
   continues here.<br>New line.</p>
<div>Loose <b>bold</b> text<p>inner p</p>tail</div>
<ul><li>One</li><li>Two<ul><li>Nested</li></ul></li></ul>
<ol><li>First</li><li>Second</li></ol>
<pre>def f():
    return 1</pre>
<blockquote><p>Quoted</p><p>Twice</p></blockquote>
<table><tr><th>A</th><th>B</th></tr><tr><td>1</td><td>2</td></tr></table>
<h2>Sub</h2><p>End &amp; more</p>
<noscript>enable js</noscript>
</body></html>"""


def test_html_to_markdown(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(HTML, encoding="utf-8")
    doc = read_document(path, MB)
    assert doc.kind == "html"
    assert doc.text == (
        "# Title link\n\nPara one continues here.\nNew line.\n\nLoose bold text\n\ninner p\n\ntail\n\n"
        "- One\n- Two\n  - Nested\n\n1. First\n2. Second\n\n```\ndef f():\n    return 1\n```\n\n"
        "> Quoted\n>\n> Twice\n\nA | B\n1 | 2\n\n## Sub\n\nEnd & more"
    )
    assert "secret" not in doc.text and "color" not in doc.text and "comment" not in doc.text
    kinds = [(b.kind, b.heading_path) for b in parse_markdown(doc.text).blocks]
    assert ("list", ("Title link",)) in kinds and ("code", ("Title link",)) in kinds
    assert kinds[-1] == ("paragraph", ("Title link", "Sub"))


def test_html_title_becomes_heading_when_no_h1(tmp_path: Path) -> None:
    path = tmp_path / "page.htm"
    path.write_bytes("<html><head><title>Заметки</title></head><body><p>Текст.</p></body></html>".encode("cp1251"))
    doc = read_document(path, MB)
    assert doc.text == "# Заметки\n\nТекст."
    assert doc.encoding == "cp1251"


def test_html_fragment_without_body(tmp_path: Path) -> None:
    path = tmp_path / "frag.html"
    path.write_text("Just text <i>inline</i> and more", encoding="utf-8")
    assert read_document(path, MB).text == "Just text inline and more"


def test_html_nested_too_deep_keeps_the_words(tmp_path: Path) -> None:
    path = tmp_path / "deep.html"
    path.write_text("<div>" * 5000 + "deep words" + "</div>" * 5000, encoding="utf-8")
    assert read_document(path, MB).text == "deep words"
