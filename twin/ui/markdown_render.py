"""Markdown → the HTML subset that Qt's rich text (QTextDocument) renders well. Pure: no Qt.

- markdown-it-py, CommonMark plus tables and strikethrough, with raw HTML **off**: a model's
  (or a note's) ``<img src=…>`` or ``<script>`` stays visible text, never markup.
- Code blocks are highlighted by Pygments with inline colours (QTextDocument ignores CSS
  classes) and wrapped (``pre-wrap``) so a long line never widens the message.
- Citation markers ``[1]`` and ``[2, 3]`` in prose become ``cite:N`` links; inside code they
  stay text. Only numbers the turn really has are linked (``known``).
- A half-streamed answer renders too: an unclosed code fence runs to the end.
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection, Sequence
from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token

_CITE = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_NUM = re.compile(r"\d+")

LIGHT = {"code_bg": "#f3f4f6", "code_style": "friendly", "link": "#2563eb", "cite": "#2563eb",
         "quote": "#6b7280", "rule": "#d1d5db"}
DARK = {"code_bg": "#1f2430", "code_style": "one-dark", "link": "#7aa2f7", "cite": "#7aa2f7",
        "quote": "#9ca3af", "rule": "#4b5563"}


def colors(dark: bool) -> dict[str, str]:
    return DARK if dark else LIGHT


def document_css(dark: bool) -> str:
    """Default stylesheet for a QTextDocument showing rendered Markdown."""
    c = colors(dark)
    return (
        f"a {{ color: {c['link']}; text-decoration: none; }}"
        "h1 { font-size: x-large; } h2 { font-size: large; } h3, h4, h5, h6 { font-size: medium; }"
        "p, li { margin-top: 2px; margin-bottom: 6px; }"
        f"blockquote {{ color: {c['quote']}; margin-left: 12px; }}"
        "code { font-family: monospace; }"
        "th { font-weight: bold; } td, th { padding: 3px 6px; }"
    )


def _link_citations(text: str, known: Collection[int] | None, color: str) -> str:
    """Escaped ``text`` with ``[n]`` markers turned into ``cite:n`` links."""
    out: list[str] = []
    pos = 0
    for m in _CITE.finditer(text):
        nums = [int(n) for n in _NUM.findall(m.group(1))]
        if known is not None and not any(n in known for n in nums):
            continue
        out.append(html.escape(text[pos:m.start()], quote=False))

        def link(num: re.Match[str]) -> str:
            n = int(num.group())
            if known is not None and n not in known:
                return num.group()
            return f'<a href="cite:{n}" style="color:{color}; font-weight:600">{n}</a>'

        out.append("[" + _NUM.sub(link, m.group(1)) + "]")
        pos = m.end()
    out.append(html.escape(text[pos:], quote=False))
    return "".join(out)


def highlight(code: str, lang: str, style: str) -> str:
    """``code`` as HTML spans with inline colours (plain escaped text for unknown languages)."""
    from pygments import highlight as pyg_highlight
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    if not lang:
        return html.escape(code, quote=False)
    try:
        lexer = get_lexer_by_name(lang, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return html.escape(code, quote=False)
    return pyg_highlight(code, lexer, _formatter(style)).rstrip("\n")


@lru_cache(maxsize=4)
def _formatter(style: str) -> Any:
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(nowrap=True, noclasses=True, style=style)


class _Renderer(RendererHTML):
    """Renders citations as links, and code blocks as highlighted, wrapped tables."""

    def __init__(self, parser: Any = None):
        super().__init__(parser)
        self.known: Collection[int] | None = None
        self.palette: dict[str, str] = LIGHT

    def text(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return _link_citations(tokens[idx].content, self.known, self.palette["cite"])

    def _code_block(self, code: str, lang: str) -> str:
        c = self.palette
        body = highlight(code.rstrip("\n"), lang, c["code_style"])
        label = (f'<div style="color:{c["quote"]}; font-size:small">{html.escape(lang)}</div>'
                 if lang else "")
        return (f'<table width="100%" cellspacing="0" cellpadding="8" '
                f'style="background-color:{c["code_bg"]}; margin-top:4px; margin-bottom:8px">'
                f'<tr><td>{label}<pre style="white-space:pre-wrap; margin:0">{body}</pre></td></tr></table>\n')

    def fence(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        lang = token.info.strip().split(maxsplit=1)[0] if token.info.strip() else ""
        return self._code_block(token.content, lang)

    def code_block(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return self._code_block(tokens[idx].content, "")

    def hr(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return f'<hr style="color:{self.palette["rule"]}"/>\n'

    def image(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        """An image becomes a link, never an ``<img>``: a remote one would be fetched (a
        tracking pixel, or a note's text smuggled out in its URL). Nothing loads from the web."""
        token = tokens[idx]
        alt = self.renderInlineAsText(token.children or [], options, env)
        src = str(token.attrGet("src") or "")
        return f'<a href="{html.escape(src)}">[image: {html.escape(alt or src, quote=False)}]</a>'


class MarkdownRenderer:
    """Renders answers; keep one per thread (the parser is reused)."""

    def __init__(self) -> None:
        self._md = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True},
                              renderer_cls=_Renderer).enable(["table", "strikethrough"])
        self._md.validateLink = _safe_link  # type: ignore[method-assign]  # markdown-it's documented hook for link policy

    def render(self, text: str, *, dark: bool = False, known: Collection[int] | None = None) -> str:
        renderer: _Renderer = self._md.renderer  # type: ignore[assignment]  # ours (renderer_cls); typed as the protocol
        renderer.known = known
        renderer.palette = colors(dark)
        return self._md.render(text)


def _safe_link(url: str) -> bool:
    """Only web and mail links survive; ``file:``, ``javascript:`` and the like do not."""
    return url.lower().startswith(("http://", "https://", "mailto:"))


def plain_to_html(text: str) -> str:
    """Plain text (a user's message) as HTML, keeping its line breaks."""
    return html.escape(text, quote=False).replace("\n", "<br/>")


_FENCE = re.compile(r"^ {0,3}(```|~~~)", re.MULTILINE)


class StreamingMarkdown:
    """Renders a growing answer without re-rendering what is already final.

    The text is cut at the last blank line outside a code fence: the part before it is
    rendered once and cached, only the tail is rendered on each update. (Blocks rarely
    reach across a blank line; :meth:`finish` renders the whole text once at the end, which
    fixes the rare list or reference that does.)
    """

    def __init__(self, renderer: MarkdownRenderer, *, dark: bool = False,
                 known: Collection[int] | None = None):
        self.renderer, self.dark, self.known = renderer, dark, known
        self._stable_src = ""
        self._stable_html = ""

    def _split(self, text: str) -> int:
        cut = text.rfind("\n\n")
        while cut > len(self._stable_src):
            fences = _FENCE.findall(text, 0, cut)
            if len(fences) % 2 == 0:
                return cut
            cut = text.rfind("\n\n", 0, cut)
        return len(self._stable_src)

    def update(self, text: str) -> str:
        if not text.startswith(self._stable_src):
            self._stable_src, self._stable_html = "", ""
        cut = self._split(text)
        if cut > len(self._stable_src):
            fresh = text[len(self._stable_src):cut]
            self._stable_html += self.renderer.render(fresh, dark=self.dark, known=self.known)
            self._stable_src = text[:cut]
        return self._stable_html + self.renderer.render(text[cut:], dark=self.dark, known=self.known)

    def finish(self, text: str) -> str:
        self._stable_src = self._stable_html = ""
        return self.renderer.render(text, dark=self.dark, known=self.known)
