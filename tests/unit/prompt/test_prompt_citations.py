"""Citations: mapping hits to numbers and finding the numbers an answer uses."""

from __future__ import annotations

import datetime as dt

from twin.core.prompt.citations import Citation, cited_numbers, used_citations
from twin.core.types import Hit


def test_from_hit_and_json_roundtrip() -> None:
    hit = Hit("diary/a.md", "Morning", dt.date(2024, 5, 1), 3, 9, 0.8123456789, "text")
    c = Citation.from_hit(2, hit)
    assert c.label == "diary/a.md › Morning (2024-05-01)"
    assert c.on_date == dt.date(2024, 5, 1)
    back = Citation.from_json(c.to_json())
    assert back.n == 2 and back.path == "diary/a.md" and back.start_line == 3 and back.end_line == 9
    assert abs(back.score - 0.812346) < 1e-9


def test_cited_numbers() -> None:
    assert cited_numbers("We went [2], then [1][2] and [3, 4]; see [10].") == [2, 1, 3, 4, 10]
    assert cited_numbers("no citations, [x] or [] here") == []


def test_used_citations_ignores_unknown_numbers() -> None:
    cites = [Citation(1, "a", "", None, 1, 1, 1.0), Citation(2, "b", "", None, 1, 1, 1.0)]
    assert [c.path for c in used_citations("see [2] and [7]", cites)] == ["b"]
