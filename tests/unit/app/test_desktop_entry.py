"""``twin install-desktop``: menu entry, icons, AppStream metainfo and autostart under tmp XDG dirs."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from twin.app import desktop_entry
from twin.cli.main import main as cli_main


@pytest.fixture()
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    data, config = tmp_path / "data", tmp_path / "config"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    return data, config


def _entry(path: Path) -> configparser.SectionProxy:
    cp = configparser.ConfigParser(interpolation=None, strict=True)
    cp.optionxform = str  # type: ignore[assignment,method-assign]
    cp.read(path, encoding="utf-8")
    return cp["Desktop Entry"]


def _fake_gui(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    gui = folder / "twin-gui"
    gui.write_text("#!/bin/sh\n", encoding="utf-8")
    gui.chmod(0o755)
    return gui


def test_install_writes_entry_icons_and_metainfo_with_the_absolute_gui(xdg: tuple[Path, Path], tmp_path: Path) -> None:
    data, config = xdg
    gui = _fake_gui(tmp_path / "venv" / "bin")
    result = desktop_entry.install(gui=gui)
    entry = _entry(data / "applications" / "twin.desktop")
    assert entry["Exec"] == f"{gui} %F"
    assert entry["TryExec"] == str(gui) and entry["Icon"] == "twin"
    assert "text/markdown;" in entry["MimeType"]
    for size in (16, 48, 256, 512):
        png = data / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "twin.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (data / "icons" / "hicolor" / "scalable" / "apps" / "twin.svg").read_text().lstrip().startswith("<")
    meta = ET.parse(data / "metainfo" / "twin.metainfo.xml").getroot()
    assert meta.findtext("launchable") == "twin.desktop" and meta.findtext("id") == desktop_entry.COMPONENT_ID
    assert not (config / "autostart").exists()
    assert len(result.files) == len(desktop_entry.ICON_SIZES) + 3


def test_autostart_starts_hidden_in_the_tray_and_can_be_taken_back(xdg: tuple[Path, Path], tmp_path: Path) -> None:
    data, config = xdg
    gui = _fake_gui(tmp_path / "bin")
    desktop_entry.install(autostart=True, gui=gui)
    auto = _entry(config / "autostart" / "twin.desktop")
    assert auto["Exec"] == f"{gui} --tray" and auto["X-GNOME-Autostart-enabled"] == "true"
    desktop_entry.install(gui=gui)  # installing again without --autostart turns it off
    assert not (config / "autostart" / "twin.desktop").exists()
    desktop_entry.install(autostart=True, gui=gui)
    removed = desktop_entry.remove()
    assert len(removed.files) == len(desktop_entry.ICON_SIZES) + 4
    assert not (data / "applications" / "twin.desktop").exists()
    assert not (config / "autostart" / "twin.desktop").exists()
    assert desktop_entry.remove().files == []  # nothing left: fine


def test_exec_quotes_paths_with_spaces_and_specials() -> None:
    assert desktop_entry.exec_quote("/opt/twin/twin-gui") == "/opt/twin/twin-gui"
    # spec: quoted, with " ` $ \ escaped, then every backslash doubled by the string escape
    assert desktop_entry.exec_quote("/home/a b/twin-gui") == '"/home/a b/twin-gui"'
    assert desktop_entry.exec_quote('/x/$y"z') == '"/x/\\\\$y\\\\"z"'
    assert desktop_entry.exec_quote("/x/100%/gui") == "/x/100%%/gui"


@pytest.mark.skipif(not shutil.which("desktop-file-validate"), reason="desktop-file-utils not installed")
def test_entries_pass_desktop_file_validate(xdg: tuple[Path, Path], tmp_path: Path) -> None:
    data, config = xdg
    desktop_entry.install(autostart=True, gui=_fake_gui(tmp_path / "with space" / "bin"))
    for f in (data / "applications" / "twin.desktop", config / "autostart" / "twin.desktop"):
        out = subprocess.run(["desktop-file-validate", str(f)], capture_output=True, text=True, timeout=30)
        assert out.returncode == 0 and "error" not in out.stdout, out.stdout


@pytest.mark.skipif(not shutil.which("appstreamcli"), reason="appstream not installed")
def test_metainfo_passes_appstreamcli_validate(xdg: tuple[Path, Path], tmp_path: Path) -> None:
    data, _ = xdg
    desktop_entry.install(gui=_fake_gui(tmp_path / "bin"))
    out = subprocess.run(["appstreamcli", "validate", "--no-net", str(data / "metainfo" / "twin.metainfo.xml")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


def test_cli_install_desktop_uses_this_installs_twin_gui(xdg: tuple[Path, Path], capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    data, _ = xdg
    gui = _fake_gui(tmp_path / "venv" / "bin")
    monkeypatch.setattr(sys, "executable", str(gui.parent / "python"))  # the venv's interpreter
    assert cli_main(["install-desktop", "--autostart"]) == 0
    assert f"it starts {gui}" in capsys.readouterr().out
    assert _entry(data / "applications" / "twin.desktop")["Exec"] == f"{gui} %F"
    assert cli_main(["install-desktop", "--remove"]) == 0
    assert not (data / "applications" / "twin.desktop").exists()


def test_cli_without_a_gui_says_so(xdg: tuple[Path, Path], capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "empty" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert cli_main(["install-desktop"]) == 2
    assert "twin-gui was not found" in capsys.readouterr().err
