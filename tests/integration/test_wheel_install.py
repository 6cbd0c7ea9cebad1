"""The built wheel, installed into a fresh venv, runs and carries its resources.

Builds the wheel from a copy of the sources (``pip wheel --no-deps``, no network: the venv's
setuptools), makes a fresh venv (no system site-packages) that sees the main venv's
dependencies through a plain ``.pth`` path line (so the checkout's editable ``twin`` is NOT
visible there), installs the wheel with ``--no-deps --no-index``, and then, from outside the
repository: ``twin --version``, ``twin-gui --help``, the icon and both stylesheets through
:mod:`importlib.resources`, the window's first start (the first-run wizard opens, the packaged
stylesheet applied), and ``twin install-desktop`` pointing at that venv's ``twin-gui``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)  # type: ignore[call-overload]
    assert out.returncode == 0, f"{cmd}\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}"
    return out  # type: ignore[no-any-return]


def test_wheel_installs_into_a_fresh_venv_with_its_resources(tmp_path: Path) -> None:
    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for d in ("twin", "resources"):
        shutil.copytree(ROOT / d, src / d, ignore=ignore)
    for f in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy2(ROOT / f, src / f)
    env = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("PIP_FIND_LINKS", None)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
          str(tmp_path / "wheels"), str(src)], env=env)
    (wheel,) = (tmp_path / "wheels").glob("twin-*.whl")

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    py = venv / "bin" / "python"
    purelib = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    (purelib / "zz_main_venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    _run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index", "-q", str(wheel)],
         env=env)

    away = tmp_path / "elsewhere"  # not the repository: nothing may come from the checkout
    away.mkdir()
    run_env = dict(env, TWIN_HOME=str(tmp_path / "home"), QT_QPA_PLATFORM="offscreen",
                   XDG_DATA_HOME=str(tmp_path / "xdg-data"), XDG_CONFIG_HOME=str(tmp_path / "xdg-config"))
    run_env.pop("TWIN_RESOURCES", None)
    run_env.pop("PYTHONPATH", None)
    assert _run([str(venv / "bin" / "twin"), "--version"], cwd=away, env=run_env).stdout.strip() == "twin 0.1.0"
    helptext = _run([str(venv / "bin" / "twin-gui"), "--help"], cwd=away, env=run_env).stdout
    assert "FILE" in helptext and "--tray" in helptext

    probe = textwrap.dedent("""
        import json, sys
        import twin
        from twin.assets import resources_dir
        from PySide6.QtGui import QPixmap
        from PySide6.QtWidgets import QApplication
        app = QApplication(sys.argv[:1])
        from twin.ui.theme import app_icon, stylesheet, tray_icon
        icon = app_icon()
        print(json.dumps({"twin": twin.__file__, "resources": str(resources_dir()),
                          "png": QPixmap(str(resources_dir() / "icons" / "twin-64.png")).width(),
                          "icon_pixmap": icon.pixmap(64, 64).width(),
                          "tray_null": tray_icon(False).isNull(),
                          "light": len(stylesheet(False)), "dark": len(stylesheet(True))}))
    """)
    got = json.loads(_run([str(py), "-c", probe], cwd=away, env=run_env).stdout.strip().splitlines()[-1])
    assert got["twin"].startswith(str(purelib)), got  # the wheel's twin, not the checkout's
    assert got["resources"] == str(purelib / "twin" / "resources"), got
    assert got["png"] == 64 and got["icon_pixmap"] == 64 and not got["tray_null"], got
    assert got["light"] > 500 and got["dark"] > 500, got
    assert not (purelib / "twin" / "resources" / "make_icons.py").exists()  # a dev tool, not package data

    # The installed window's first start (fresh TWIN_HOME): the real main(), the first-run wizard
    # opens, the stylesheet from the package is applied; quit after a moment.
    first_run = textwrap.dedent("""
        import json, sys
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        from twin.ui import main as gui_main
        from twin.ui.app_shell import TwinApp
        seen = {}
        original = TwinApp.start
        def start(self, show=True):
            original(self, show)
            seen["first_run"] = self.first_run
            seen["wizard"] = self.wizard is not None and self.wizard.isVisible()
            seen["style"] = len(QApplication.instance().styleSheet())
            QTimer.singleShot(1500, self.quit)
        TwinApp.start = start
        code = gui_main.main(["--fake", "--no-hotkey"])
        print(json.dumps(dict(seen, code=code)))
    """)
    got = json.loads(_run([str(py), "-c", first_run], cwd=away, env=run_env).stdout.strip().splitlines()[-1])
    assert got == {"first_run": True, "wizard": True, "style": got["style"], "code": 0} and got["style"] > 500, got
    log_text = (tmp_path / "home" / "logs" / "twin.log").read_text(encoding="utf-8")
    assert "window up" in log_text and "resources folder not found" not in log_text

    _run([str(venv / "bin" / "twin"), "install-desktop"], cwd=away, env=run_env)
    entry = (tmp_path / "xdg-data" / "applications" / "twin.desktop").read_text(encoding="utf-8")
    assert f"Exec={venv / 'bin' / 'twin-gui'} %F" in entry.splitlines()
