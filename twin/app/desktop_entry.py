"""Linux desktop integration: the menu entry, icons, AppStream metainfo and login autostart.

``twin install-desktop`` writes, for the current user (XDG base directories):

* ``$XDG_DATA_HOME/applications/twin.desktop``: ``Exec=<absolute twin-gui> %F``, so the menu
  and the file manager's "Open with" start *this* install (a venv is not on ``PATH``), and the
  files it is given are dropped into the window;
* ``$XDG_DATA_HOME/icons/hicolor/<size>/apps/twin.png`` and ``scalable/apps/twin.svg``;
* ``$XDG_DATA_HOME/metainfo/twin.metainfo.xml`` (AppStream: software centres, ``appstreamcli``);
* with ``autostart``: ``$XDG_CONFIG_HOME/autostart/twin.desktop``, which starts the window
  hidden in the tray at login (``twin-gui --tray``), so the memory stays current.

:func:`remove` takes them all away again. Nothing here needs Qt.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from twin import __version__
from twin.assets import resources_dir
from twin.errors import KnownError

log = logging.getLogger("twin.desktop")

APP_ID = "twin"  # the desktop file name; the window sets QGuiApplication.desktopFileName to it
COMPONENT_ID = "app.twin.Twin"  # AppStream wants a reverse-DNS component id
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
MIME_TYPES = ("text/markdown", "text/plain", "application/pdf",
              "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "text/html")
_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


class DesktopError(KnownError):
    """The desktop entry cannot be written (no twin-gui found, a folder not writable…)."""


@dataclass
class Installed:
    """What :func:`install` wrote (or :func:`remove` removed)."""

    gui: str
    files: list[Path] = field(default_factory=list)


def xdg_data_home() -> Path:
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if os.path.isabs(value) else Path.home() / ".local" / "share"


def xdg_config_home() -> Path:
    value = os.environ.get("XDG_CONFIG_HOME", "")
    return Path(value) if os.path.isabs(value) else Path.home() / ".config"


def gui_executable() -> Path:
    """The absolute path of this install's ``twin-gui`` (next to the interpreter or the frozen app)."""
    here = Path(sys.executable).parent  # not resolved: a venv's bin/python is a symlink to the system one
    for name in ("twin-gui", "twin-gui.exe"):
        if (here / name).is_file():
            return (here / name).absolute()
    found = shutil.which("twin-gui")
    if found:
        return Path(found).absolute()
    raise DesktopError(f"twin-gui was not found next to {sys.executable} nor on PATH; install twin with its "
                       "window first (pip install 'twin[gui]', or scripts/setup.sh)")


def exec_quote(arg: str) -> str:
    """One argument of a desktop entry's ``Exec`` key (Desktop Entry Specification, "Exec key")."""
    arg = arg.replace("%", "%%")
    if any(c in _RESERVED for c in arg):
        arg = '"' + "".join("\\" + c if c in '"`$\\' else c for c in arg) + '"'
    return arg.replace("\\", "\\\\")  # the string-value escape applies on top of the quoting


def desktop_entry(gui: Path, *, autostart: bool = False) -> str:
    exe = exec_quote(str(gui))
    lines = [
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.4",
        "Name=twin",
        "GenericName=Personal AI twin",
        "GenericName[ru]=Личный ИИ-двойник",
        "Comment=Chat with an AI that answers from your own diaries and notes, locally",
        "Comment[ru]=Чат с ИИ, который отвечает по вашим дневникам и заметкам, без облака",
        f"TryExec={exe}",
        f"Exec={exe} --tray" if autostart else f"Exec={exe} %F",
        f"Icon={APP_ID}",
        "Terminal=false",
        "Categories=Utility;",
        "Keywords=diary;notes;AI;chat;memory;дневник;заметки;",
        f"StartupWMClass={APP_ID}",
    ]
    if autostart:
        lines += ["X-GNOME-Autostart-enabled=true", "X-KDE-autostart-after=panel", "NoDisplay=true"]
    else:
        lines += ["MimeType=" + "".join(m + ";" for m in MIME_TYPES), "StartupNotify=true"]
    return "\n".join(lines) + "\n"


def metainfo() -> str:
    """The AppStream metainfo (``appstreamcli validate`` passes it)."""
    summary = "Chat with an AI that answers from your own diaries and notes"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<component type="desktop-application">
  <id>{COMPONENT_ID}</id>
  <metadata_license>CC0-1.0</metadata_license>
  <project_license>MIT</project_license>
  <name>twin</name>
  <summary>{escape(summary)}</summary>
  <summary xml:lang="ru">Чат с ИИ, который отвечает по вашим дневникам и заметкам</summary>
  <description>
    <p>twin is a personal AI twin that runs entirely on your computer. It reads your diaries,
    notes and documents, keeps a searchable memory of them, and answers your questions from
    them with citations to the entries it used.</p>
    <p>Nothing leaves the machine: the language model and the memory are local.</p>
  </description>
  <developer id="twin">
    <name>The twin developers</name>
  </developer>
  <launchable type="desktop-id">{APP_ID}.desktop</launchable>
  <provides>
    <binary>twin-gui</binary>
    <binary>twin</binary>
  </provides>
  <categories>
    <category>Utility</category>
  </categories>
  <content_rating type="oars-1.1"/>
  <releases>
    <release version="{escape(__version__)}" date="2026-12-05"/>
  </releases>
</component>
"""


def _targets(data: Path, config: Path) -> dict[str, Path]:
    return {
        "desktop": data / "applications" / f"{APP_ID}.desktop",
        "metainfo": data / "metainfo" / f"{APP_ID}.metainfo.xml",
        "autostart": config / "autostart" / f"{APP_ID}.desktop",
        "icons": data / "icons" / "hicolor",
    }


def _write(path: Path, text: str, done: list[Path]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    done.append(path)


def install(*, autostart: bool = False, gui: Path | None = None) -> Installed:
    """Write the menu entry, the icons, the metainfo and (``autostart``) the login entry."""
    gui = gui or gui_executable()
    res = resources_dir()
    if res is None:
        raise DesktopError("twin's resources (icons) are missing from this install; reinstall twin")
    t = _targets(xdg_data_home(), xdg_config_home())
    result = Installed(str(gui))
    try:
        for size in ICON_SIZES:
            src = res / "icons" / f"twin-{size}.png"
            if src.is_file():
                dest = t["icons"] / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dest)
                result.files.append(dest)
        dest = t["icons"] / "scalable" / "apps" / f"{APP_ID}.svg"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(res / "icons" / "twin.svg", dest)
        result.files.append(dest)
        _write(t["desktop"], desktop_entry(gui), result.files)
        _write(t["metainfo"], metainfo(), result.files)
        if autostart:
            _write(t["autostart"], desktop_entry(gui, autostart=True), result.files)
        elif t["autostart"].exists():
            t["autostart"].unlink()
    except OSError as e:
        raise DesktopError(f"cannot write the desktop entry: {e}") from e
    _refresh_caches(t)
    log.info("desktop entry installed for %s (%d files)", gui, len(result.files))
    return result


def remove() -> Installed:
    """Remove what :func:`install` wrote (a file that is not there is fine)."""
    t = _targets(xdg_data_home(), xdg_config_home())
    result = Installed("")
    candidates = [t["desktop"], t["metainfo"], t["autostart"], t["icons"] / "scalable" / "apps" / f"{APP_ID}.svg"]
    candidates += [t["icons"] / f"{s}x{s}" / "apps" / f"{APP_ID}.png" for s in ICON_SIZES]
    for p in candidates:
        try:
            p.unlink()
            result.files.append(p)
        except FileNotFoundError:
            pass
        except OSError as e:
            raise DesktopError(f"cannot remove {p}: {e}") from e
    _refresh_caches(t)
    return result


def _refresh_caches(t: dict[str, Path]) -> None:
    """Tell the desktop about the change where its tools are installed (best effort)."""
    for cmd in (["update-desktop-database", "-q", str(t["desktop"].parent)],
                ["gtk-update-icon-cache", "-q", "-t", "-f", str(t["icons"])]):
        if shutil.which(cmd[0]) and Path(cmd[-1]).is_dir():
            try:
                subprocess.run(cmd, capture_output=True, timeout=30, check=False)
            except (OSError, subprocess.SubprocessError) as e:
                log.debug("%s failed: %s", cmd[0], e)
