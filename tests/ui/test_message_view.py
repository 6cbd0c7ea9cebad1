"""MessageView and Markdown rendering: throttled streaming, auto-scroll, citations, code, safety."""

from __future__ import annotations

from typing import Any

from twin.core.prompt.citations import Citation
from twin.ui.markdown_render import MarkdownRenderer, StreamingMarkdown
from twin.ui.message_view import MessageView
from twin.ui.sources_panel import snippets_from_memories


def test_citations_become_links_only_in_prose() -> None:
    html = MarkdownRenderer().render("Sea [1] and rain [2, 3].\n\n`code [1]`\n\n```\nx[1]\n```", known={1, 2})
    assert 'href="cite:1"' in html and 'href="cite:2"' in html and 'href="cite:3"' not in html
    assert "<code>code [1]</code>" in html and "x[1]" in html


def test_raw_html_and_unsafe_links_stay_text() -> None:
    html = MarkdownRenderer().render('<img src=x onerror=alert(1)> [a](javascript:alert(1)) [b](https://ok.example)')
    assert "<img" not in html and "&lt;img" in html
    assert "javascript:" not in html.replace("[a](javascript:alert(1))", "")
    assert 'href="https://ok.example"' in html


def test_code_blocks_are_highlighted_and_wrapped() -> None:
    html = MarkdownRenderer().render("```python\ndef f():\n    return 1\n```")
    assert "white-space:pre-wrap" in html and "<span style=" in html and ">python<" in html


def test_streaming_render_matches_the_full_render() -> None:
    r = MarkdownRenderer()
    text = "# Title\n\nPara one [1].\n\n```py\nx = 1\n\ny = 2\n```\n\n- a\n- b\n\nEnd."
    s = StreamingMarkdown(r, known={1})
    for i in range(1, len(text) + 1):
        s.update(text[:i])
    assert s.update(text) == r.render(text, known={1})


def test_snippets_are_parsed_from_the_memories_block() -> None:
    block = ("Memories from my notes (cite as [n]):\n[1] 2024-05-01 · /d/a.md › Morning\n> We went to the sea.\n>\n"
             "> Cold water.\n\n[2] /d/b.md\n> Chess in the rain.")
    assert snippets_from_memories(block) == {1: "We went to the sea.\n\nCold water.", 2: "Chess in the rain."}


def test_auto_scroll_follows_until_the_user_scrolls_up(qtbot: Any, qapp: Any) -> None:
    view = MessageView(MarkdownRenderer())
    qtbot.addWidget(view)
    view.resize(600, 300)
    view.show()
    bar = view.verticalScrollBar()
    for i in range(6):
        view.add_user(f"question {i}\n" * 3)
    answer = view.begin_answer()
    for i in range(120):
        answer.append(f"word{i} ")
        if i % 10 == 0:
            answer.flush()
            qapp.processEvents()
    answer.flush()
    qapp.processEvents()
    assert bar.maximum() > 0 and bar.value() == bar.maximum()
    # the user scrolls up: more text does not pull the view down
    bar.setValue(bar.maximum() // 3)
    held = bar.value()
    for i in range(60):
        answer.append(f"more{i} ")
    answer.flush()
    qapp.processEvents()
    assert bar.value() == held and bar.maximum() > held
    # back at the bottom: it follows again
    bar.setValue(bar.maximum())
    for i in range(60):
        answer.append(f"tail{i} ")
    answer.flush()
    qapp.processEvents()
    assert bar.value() == bar.maximum()


def test_tokens_are_rendered_throttled(qtbot: Any, qapp: Any) -> None:
    view = MessageView(MarkdownRenderer())
    qtbot.addWidget(view)
    view.show()
    answer = view.begin_answer()
    answer.set_citations([Citation(1, "/d/a.md", "Morning", "2024-05-01", 3, 5, 0.9)])
    renders = 0
    original = answer.body.setHtml

    def counting(html: str) -> None:
        nonlocal renders
        renders += 1
        original(html)

    answer.body.setHtml = counting  # type: ignore[method-assign]
    for i in range(200):
        answer.append(f"t{i} ")
    assert renders == 0  # nothing rendered per token
    qtbot.waitUntil(lambda: renders >= 1, timeout=2000)
    assert "t199" in answer.body.toPlainText()
    answer.append("the sea [1].")
    answer.end_stream()
    assert "cite:1" in answer.body.toHtml()
