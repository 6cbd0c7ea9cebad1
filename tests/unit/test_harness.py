"""The suite's own guards (issue 11): a leaked non-daemon thread fails the test that left it,
and a warning from twin's code is an error. Each case runs in a fresh pytest process with
the suite's real ``tests/conftest.py`` and ``[tool.pytest.ini_options]``."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest((ROOT / "tests" / "conftest.py").read_text(encoding="utf-8"))
    ini = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]
    lines = ["[pytest]", "asyncio_default_fixture_loop_scope = function", "filterwarnings ="] + [f"    {w}" for w in ini["filterwarnings"]]
    pytester.makeini("\n".join(lines) + "\n")
    return pytester


def test_a_leaked_non_daemon_thread_fails_its_test(suite: pytest.Pytester) -> None:
    suite.makepyfile(test_leak="""
        import threading
        stop = threading.Event()

        def test_leaks():
            threading.Thread(target=stop.wait, name="leaky-worker").start()

        def test_next_is_fine():
            stop.set()

        def test_daemon_is_allowed():
            threading.Thread(target=threading.Event().wait, args=(5,), daemon=True).start()

        def test_a_thread_that_ends_soon_is_fine():
            import time
            threading.Thread(target=time.sleep, args=(0.3,)).start()
    """)
    r = suite.runpytest_subprocess("-p", "no:cacheprovider")
    r.assert_outcomes(passed=4, errors=1)
    r.stdout.fnmatch_lines(["*non-daemon threads left running by this test:*leaky-worker*"])


def test_the_strict_guard_catches_daemon_threads(suite: pytest.Pytester) -> None:
    suite.makepyfile(test_strict="""
        import threading

        def test_daemon(thread_guard):
            threading.Thread(target=threading.Event().wait, args=(30,), name="stray-daemon",
                             daemon=True).start()
    """)
    r = suite.runpytest_subprocess("-p", "no:cacheprovider")
    r.assert_outcomes(passed=1, errors=1)
    r.stdout.fnmatch_lines(["*threads left running:*stray-daemon*"])


def test_twin_warnings_are_errors_and_others_are_not(suite: pytest.Pytester) -> None:
    suite.makepyfile(test_warn="""
        import warnings

        def _warn_from(module):
            code = compile("import warnings\\nwarnings.warn('careful', UserWarning)", "x.py", "exec")
            exec(code, {"__name__": module})

        def test_twin_module():
            _warn_from("twin.core.memory.something")

        def test_twin_root():
            _warn_from("twin")

        def test_other_library():
            _warn_from("twinkle.lib")

        def test_third_party():
            _warn_from("somelib.module")
    """)
    r = suite.runpytest_subprocess("-p", "no:cacheprovider")
    r.assert_outcomes(passed=2, failed=2)
    r.stdout.fnmatch_lines(["*FAILED test_warn.py::test_twin_module*", "*FAILED test_warn.py::test_twin_root*"])
