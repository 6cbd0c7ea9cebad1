"""Types on twin/: mypy with the project's config, against a baseline that only shrinks.

``tests/mypy_baseline.txt`` lists the errors mypy reports today, one per line, without line
numbers (``path: [code] message``), so unrelated edits that move code do not break the test.
A new error fails the test; so does a fixed one still listed (the ratchet: the baseline must
shrink with it). After fixing errors, or when the lead accepts new ones knowingly::

    .venv/bin/python tests/unit/test_typing.py --update

Every ``# type: ignore`` in twin/ names its error code and says why, on the same line
(``# type: ignore[attr-defined]  # why``); mypy's ``warn_unused_ignores`` removes the stale.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "tests" / "mypy_baseline.txt"
_ERROR = re.compile(r"^(?P<path>[^:\s]+\.py):(?P<line>\d+)(?::\d+)?: error: (?P<msg>.*?)(?:\s+\[(?P<code>[a-z-]+)\])?$")
_IGNORE = re.compile(r"#\s*type:\s*ignore(?P<codes>\[[^\]]*\])?(?P<rest>.*)$")


def run_mypy() -> tuple[list[tuple[str, str]], str]:
    """(key, located line) for each error mypy reports on twin/, and the raw output."""
    try:
        import mypy  # noqa: F401
    except ImportError:
        pytest.fail("mypy is not installed (pip install -e '.[test]')")
    r = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary", "--no-pretty"], cwd=ROOT,
                       capture_output=True, text=True, timeout=900)
    if r.returncode not in (0, 1) or "error: " not in r.stdout and r.returncode == 1:
        pytest.fail(f"mypy did not run (exit {r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    out = []
    for line in r.stdout.splitlines():
        m = _ERROR.match(line.strip())
        if m:
            out.append((key(m["path"], m["code"] or "misc", m["msg"]), line.strip()))
    return out, r.stdout


def key(path: str, code: str, msg: str) -> str:
    # no line numbers, not even inside the message ("defined on line 12")
    msg = re.sub(r"line \d+", "line N", msg)
    return f"{Path(path).as_posix()}: [{code}] {msg}"


def read_baseline() -> Counter[str]:
    if not BASELINE.exists():
        return Counter()
    lines = BASELINE.read_text(encoding="utf-8").splitlines()
    return Counter(x for x in lines if x.strip() and not x.startswith("#"))


@pytest.mark.slow
def test_mypy_errors_only_shrink() -> None:
    found, raw = run_mypy()
    now = Counter(k for k, _ in found)
    base = read_baseline()
    new, fixed = now - base, base - now
    located = [loc for k, loc in found if k in new]
    assert not new, ("new mypy errors (fix them; the baseline only shrinks):\n  "
                     + "\n  ".join(located[:60]) + f"\n({sum(new.values())} new)")
    assert not fixed, ("mypy errors fixed but still in tests/mypy_baseline.txt: shrink it with "
                       "`python tests/unit/test_typing.py --update`:\n  " + "\n  ".join(sorted(fixed)[:60]))


def test_type_ignores_are_justified() -> None:
    """Each ``# type: ignore`` names its codes and gives a reason after it on the line."""
    bad = []
    for f in sorted((ROOT / "twin").rglob("*.py")):
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            m = _IGNORE.search(line)
            if not m:
                continue
            reason = m["rest"].strip().lstrip("#").strip()
            if not m["codes"] or len(reason) < 8:
                bad.append(f"{f.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not bad, ("`# type: ignore[code]  # why` wanted (or fix the type):\n  " + "\n  ".join(bad))


def test_the_baseline_has_no_line_numbers() -> None:
    for entry in read_baseline():
        assert re.match(r"^twin/\S+\.py: \[[a-z-]+\] ", entry), entry


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python tests/unit/test_typing.py --update")
    found, raw = run_mypy()
    keys = sorted(k for k, _ in found)
    BASELINE.write_text("# mypy errors accepted today (tests/unit/test_typing.py); this list only shrinks.\n"
                        + "".join(k + "\n" for k in keys), encoding="utf-8")
    print(f"{len(keys)} errors in {BASELINE.relative_to(ROOT)}")
