"""Render a GGUF's Jinja2 chat template into trusted and untrusted prompt segments (pure).

The environment matches llama-cpp-python's ``Jinja2ChatFormatter`` (sandboxed, trim_blocks,
lstrip_blocks, loopcontrols, ``tojson``, ``strftime_now``, ``raise_exception``, the
``{% generation %}`` tag ignored), so a prompt renders exactly as it would there; a model test
checks the two agree on Qwen3's template.

The one difference is safety: message contents are rendered as placeholders and then put
back as *untrusted* segments, so that text from a diary such as ``<|im_end|>`` is never
tokenized as a control token, while the template's own ``<|im_start|>`` is. Contents are
stripped of surrounding whitespace first (what templates do with ``trim``/``strip``) and may
not contain the two private-use characters used as placeholder brackets.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from typing import Any

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

from twin.core.llm.engine import ChatMessage, Segment

_OPEN, _CLOSE = "\ue000", "\ue001"
_PLACEHOLDER = re.compile(f"{_OPEN}(\\d+){_CLOSE}")


class TemplateError(ValueError):
    """The chat template failed to render (a template bug or an unsupported message shape)."""


class _IgnoreGenerationTags(jinja2.ext.Extension):
    """Pass-through for HuggingFace's ``{% generation %}`` tag (as llama-cpp-python does)."""

    tags = {"generation"}

    def parse(self, parser: Any) -> Any:
        parser.stream.skip(1)
        return parser.parse_statements(("name:endgeneration",), drop_needle=True)


def _tojson(x: Any, ensure_ascii: bool = False, indent: int | None = None,
            separators: tuple[str, str] | None = None, sort_keys: bool = False) -> str:
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                      sort_keys=sort_keys)


def _raise(message: str) -> None:
    raise TemplateError(message)


def clean_content(text: str) -> str:
    """Message content as it goes into a template: stripped, placeholder characters removed."""
    return text.replace(_OPEN, "").replace(_CLOSE, "").strip()


class ChatTemplate:
    """A compiled chat template."""

    def __init__(self, source: str, *, bos_token: str = "", eos_token: str = ""):
        env = ImmutableSandboxedEnvironment(
            loader=jinja2.BaseLoader(), trim_blocks=True, lstrip_blocks=True,
            extensions=[_IgnoreGenerationTags, jinja2.ext.loopcontrols],
        )
        env.filters["tojson"] = _tojson
        try:
            self._template = env.from_string(source)
        except jinja2.TemplateError as e:
            raise TemplateError(f"The model's chat template does not compile: {e}") from e
        self.source = source
        self.bos_token = bos_token
        self.eos_token = eos_token

    def render_text(self, messages: Sequence[ChatMessage], *, add_generation_prompt: bool = True,
                    enable_thinking: bool | None = None) -> str:
        """The prompt as one string (contents cleaned), as llama-cpp-python would render it."""
        return "".join(s.text for s in self.render(messages, add_generation_prompt=add_generation_prompt,
                                                   enable_thinking=enable_thinking))

    def render(self, messages: Sequence[ChatMessage], *, add_generation_prompt: bool = True,
               enable_thinking: bool | None = None) -> list[Segment]:
        """Render ``messages``; template text is trusted, message contents are not."""
        contents = [clean_content(m.content) for m in messages]
        placeholders = [{"role": m.role, "content": f"{_OPEN}{i}{_CLOSE}"} for i, m in enumerate(messages)]
        kwargs: dict[str, Any] = {}
        if enable_thinking is not None:
            kwargs["enable_thinking"] = enable_thinking
        try:
            rendered = self._template.render(
                messages=placeholders, bos_token=self.bos_token, eos_token=self.eos_token,
                raise_exception=_raise, add_generation_prompt=add_generation_prompt,
                functions=None, function_call=None, tools=None, tool_choice=None,
                strftime_now=lambda f: dt.datetime.now().strftime(f), **kwargs,
            )
        except jinja2.TemplateError as e:
            raise TemplateError(f"The model's chat template failed: {e}") from e
        segments: list[Segment] = []
        pos = 0
        for m in _PLACEHOLDER.finditer(rendered):
            if m.start() > pos:
                segments.append(Segment(rendered[pos:m.start()], trusted=True))
            text = contents[int(m.group(1))]
            if text:
                segments.append(Segment(text, trusted=False))
            pos = m.end()
        if pos < len(rendered):
            segments.append(Segment(rendered[pos:], trusted=True))
        return merge_segments(segments)


def merge_segments(segments: Sequence[Segment]) -> list[Segment]:
    """Join neighbours of the same trust (fewer, longer pieces tokenize the same or better)."""
    out: list[Segment] = []
    for s in segments:
        if not s.text:
            continue
        if out and out[-1].trusted == s.trusted:
            out[-1] = Segment(out[-1].text + s.text, s.trusted)
        else:
            out.append(s)
    return out
