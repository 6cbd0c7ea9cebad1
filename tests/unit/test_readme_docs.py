"""The README documents what the code does: every TWIN_* variable twin reads, the log folder,
and the fusion the retriever really uses."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end > 0 else None]


def test_every_twin_variable_read_by_the_code_is_in_the_table() -> None:
    names: set[str] = set()
    for py in (ROOT / "twin").rglob("*.py"):
        names |= set(re.findall(r"\b(TWIN_[A-Z][A-Z0-9_]*)\b", py.read_text(encoding="utf-8")))
    assert {"TWIN_HOME", "TWIN_MODEL", "TWIN_OFFLINE"} <= names
    table = _section("Environment variables")
    missing = sorted(n for n in names if f"`{n}`" not in table)
    assert not missing, f"README's environment table lacks {missing}"


def test_settings_overrides_in_the_table() -> None:
    import dataclasses

    from twin.settings import Settings

    table = _section("Environment variables")
    s = Settings()
    for section in dataclasses.fields(s):
        value = getattr(s, section.name)
        if dataclasses.is_dataclass(value):
            for f in dataclasses.fields(value):
                env = f.metadata.get("env")
                if env:
                    assert f"`{env}`" in table and f"`{section.name}.{f.name}`" in table, env


def test_log_folder_matches_paths(tmp_path: Path) -> None:
    from twin.paths import resolve_paths

    logs = _section("Logs")
    assert resolve_paths({"TWIN_HOME": str(tmp_path)}).log_file == tmp_path / "logs" / "twin.log"
    assert "`$TWIN_HOME/logs/twin.log`" in logs
    if not sys.platform.startswith("linux"):
        pytest.skip("the Linux row is checked on Linux")
    linux = resolve_paths({}).log_file
    assert linux.name == "twin.log" and str(linux).endswith("/twin/log/twin.log")
    assert "`~/.local/state/twin/log/twin.log`" in logs


def test_fusion_is_described_as_it_is() -> None:
    import inspect

    from twin.core.memory.retriever import Retriever

    assert inspect.signature(Retriever).parameters["fusion"].default == "zscore"
    assert "z-score" in README and "fused by reciprocal rank" not in README
    assert "**z-score**" in _section("How search ranks")
