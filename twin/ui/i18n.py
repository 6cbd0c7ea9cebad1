"""The window's language: Qt translators for twin's own strings and Qt's standard ones.

Every user-visible string in ``twin/ui`` goes through ``self.tr()`` or
``QCoreApplication.translate(context, …)``; ``pyside6-lupdate`` extracts them into
``resources/i18n/twin_<lang>.ts`` and ``pyside6-lrelease`` compiles that into the ``.qm``
loaded here (``python -m twin.ui.i18n`` does both: see :func:`main`).

Which ``.qm`` is loaded: the one committed next to the ``.ts`` (so a wheel, a frozen build
or a checkout without Qt's tools has it), unless the ``.ts`` is newer (a translator edited it
and did not rebuild): then it is compiled into the cache folder with ``lrelease`` and that
copy is used; if that fails, the committed one still is. ``tests/ui/test_i18n.py`` checks
that the committed ``.qm`` is what ``lrelease`` makes of the committed ``.ts``.

The language follows the system locale (``ui.language = "auto"``) unless the settings pick
``"en"`` or ``"ru"``; a change applies at the next start. Qt's own ``qtbase_<lang>`` catalog
(standard buttons: Save, Cancel, Yes…) is installed with it. :func:`num`, :func:`date_text`
and friends format numbers and dates in the chosen locale (:class:`QLocale`).
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import (
    QCoreApplication,
    QDate,
    QDateTime,
    QLibraryInfo,
    QLocale,
    QTime,
    QTranslator,
)

from twin.messages import CATALOG, CONTEXT, Msg, message_of

log = logging.getLogger("twin.ui")

#: The choices of ``ui.language``; "auto" follows the system locale.
LANGUAGES = ("auto", "en", "ru")
#: Languages twin has a translation for (English is the source language).
TRANSLATED = ("ru",)

_installed: list[QTranslator] = []
_language = ""


def resolve_language(choice: str, system: QLocale | None = None) -> str:
    """``"en"`` or ``"ru"`` for a ``ui.language`` value (``"auto"``: the system locale's)."""
    if choice in ("en", *TRANSLATED):
        return choice
    locale = system if system is not None else QLocale.system()
    for name in [locale.name(), *locale.uiLanguages()]:
        lang = name.replace("-", "_").split("_", 1)[0].lower()
        if lang in TRANSLATED:
            return lang
        if lang == "en":
            return "en"
    return "en"


def i18n_dir() -> Path | None:
    """``resources/i18n`` (the .ts sources and the committed .qm files)."""
    from twin import assets

    root = assets.resources_dir()
    return root / "i18n" if root is not None else None


def lrelease_command() -> list[str] | None:
    """Qt's ``lrelease`` as shipped with PySide6 (``PySide6/lrelease``), or on PATH."""
    import PySide6

    here = Path(PySide6.__file__).parent
    for name in ("lrelease", "lrelease.exe"):
        if (here / name).is_file():
            return [str(here / name)]
    beside = Path(sys.executable).parent / "pyside6-lrelease"  # the venv's wrapper
    found = shutil.which("pyside6-lrelease") or (str(beside) if beside.is_file() else None)
    return [found] if found else None


def compile_ts(ts: Path, qm: Path) -> bool:
    """``lrelease ts -qm qm``; False (and a log line) when the tool is missing or fails."""
    cmd = lrelease_command()
    if cmd is None:
        log.warning("cannot compile %s: lrelease not found (PySide6 ships it)", ts.name)
        return False
    qm.parent.mkdir(parents=True, exist_ok=True)
    tmp = qm.with_suffix(".qm.tmp")
    try:
        r = subprocess.run([*cmd, "-silent", str(ts), "-qm", str(tmp)], capture_output=True, text=True,
                           timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        log.warning("lrelease failed on %s: %s", ts.name, e)
        return False
    if r.returncode != 0 or not tmp.is_file():
        log.warning("lrelease failed on %s: %s", ts.name, (r.stderr or r.stdout).strip()[:500])
        tmp.unlink(missing_ok=True)
        return False
    tmp.replace(qm)
    return True


def qm_file(lang: str, cache_dir: Path | None = None) -> Path | None:
    """The compiled catalog for ``lang``: the committed one, or a fresh build of a newer .ts."""
    folder = i18n_dir()
    if folder is None:
        return None
    ts, qm = folder / f"twin_{lang}.ts", folder / f"twin_{lang}.qm"
    stale = ts.is_file() and (not qm.is_file() or ts.stat().st_mtime > qm.stat().st_mtime + 1)
    if stale and cache_dir is not None:
        cached = cache_dir / "i18n" / qm.name
        if cached.is_file() and cached.stat().st_mtime >= ts.stat().st_mtime:
            return cached
        if compile_ts(ts, cached):
            log.info("compiled %s into %s (newer than the shipped .qm)", ts.name, cached)
            return cached
    return qm if qm.is_file() else None


def install(choice: str = "auto", cache_dir: Path | None = None, app: QCoreApplication | None = None) -> str:
    """Install the translators for ``choice`` (``ui.language``); returns the language used.

    Idempotent: a second call for the same language changes nothing. Call it before the
    first widget is built (labels are translated when they are made).
    """
    global _language
    app = app or QCoreApplication.instance()
    lang = resolve_language(choice)
    if app is None or lang == _language:
        return lang
    for t in _installed:
        QCoreApplication.removeTranslator(t)
    _installed.clear()
    _language = lang
    # numbers and dates follow the window's language when it is chosen, else the system
    QLocale.setDefault(_system_locale() if choice not in ("en", *TRANSLATED) else QLocale(lang))
    # English is the source language; its catalog holds only the plural forms ("1 file", "2 files")
    qm = qm_file(lang, cache_dir)
    ours = QTranslator(app)
    if qm is None or not ours.load(str(qm)):
        log.warning("no %s translation found (%s): the window shows its English source texts", lang, qm)
    else:
        QCoreApplication.installTranslator(ours)
        _installed.append(ours)
    if lang == "en":
        log.info("window language: English")
        return lang
    qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    qt = QTranslator(app)
    if qt.load(f"qtbase_{lang}", qt_dir):
        QCoreApplication.installTranslator(qt)
        _installed.append(qt)
    else:
        log.info("Qt's own %s translation not found in %s", lang, qt_dir)
    log.info("window language: %s (%s)", lang, qm)
    return lang


def _system_locale() -> QLocale:
    """The system's locale; the bare C/POSIX one (containers, CI) formats like US English."""
    system = QLocale.system()
    if system.language() == QLocale.Language.C:
        return QLocale(QLocale.Language.English, QLocale.Country.UnitedStates)
    return system


def current_language() -> str:
    """The language :func:`install` set up ("" before it ran)."""
    return _language


def uninstall() -> None:
    """Remove twin's translators (tests switch languages)."""
    global _language
    for t in _installed:
        QCoreApplication.removeTranslator(t)
    _installed.clear()
    _language = ""
    QLocale.setDefault(_system_locale())


# -- numbers and dates in the locale ------------------------------------------------------


def num(value: float | int, decimals: int = 0) -> str:
    """``1,234`` / ``1 234``; ``2.5`` / ``2,5``: a number in the locale."""
    loc = QLocale()
    if isinstance(value, int) and decimals == 0:
        return loc.toString(value)
    return loc.toString(float(value), "f", decimals)


def _qdate(d: dt.date) -> QDate:
    return QDate(d.year, d.month, d.day)


def date_text(d: dt.date | str, fmt: str = "d MMM yyyy") -> str:
    """A date in the locale, by a Qt pattern: ``1 May 2024`` / ``1 мая 2024`` by default
    (unambiguous in every locale, unlike the short format's 5/1/24); ``fmt=""``: the short format.

    An ISO string is parsed first; anything else comes back as it was."""
    if isinstance(d, str):
        try:
            d = dt.date.fromisoformat(d[:10])
        except ValueError:
            return d
    loc = QLocale()
    return loc.toString(_qdate(d), fmt) if fmt else loc.toString(_qdate(d), QLocale.FormatType.ShortFormat)


def time_text(t: dt.datetime) -> str:
    return QLocale().toString(QTime(t.hour, t.minute), QLocale.FormatType.ShortFormat)


def datetime_text(t: dt.datetime, date_fmt: str = "d MMM") -> str:
    """``5 Dec 14:30`` / ``5 дек. 14:30``."""
    return f"{date_text(t.date(), date_fmt)} {time_text(t)}"


def weekday_text(d: dt.date) -> str:
    """The short day name (``Mon`` / ``пн``)."""
    return QLocale().dayName(d.isoweekday(), QLocale.FormatType.ShortFormat)


def qdatetime(t: dt.datetime) -> QDateTime:
    return QDateTime(_qdate(t.date()), QTime(t.hour, t.minute, t.second))


# -- messages from the app and the core (twin.messages) -------------------------------------


def shown(value: object) -> str:
    """What the window shows for a message from the app or the core, in its language.

    ``value`` is a :class:`twin.messages.Msg` (or an exception raised with one, or a reason
    string that is one): its template is translated under the context ``Messages`` and filled
    with its parameters (numbers in the locale, nested messages translated too). Anything else
    (a plain string from a library, an exception without a key) is shown as it is.
    """
    m = message_of(value)
    if m is None:
        return str(value)
    template = CATALOG.get(m.key)
    if template is None:
        return str(m)
    try:
        return QCoreApplication.translate(CONTEXT, template).format(
            **{k: _shown_value(v) for k, v in m.params.items()})
    except (KeyError, IndexError, ValueError):  # a translation that lost a placeholder: the English
        log.warning("message %s: the translation does not fit its parameters", m.key)
        return str(m)


def _shown_value(value: object) -> str:
    if isinstance(value, Msg):
        return shown(value)
    if isinstance(value, bool) or isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return num(value) if -(2**63) <= value < 2**63 else f"{value:,}"  # QLocale takes 64-bit numbers
    if isinstance(value, float):
        return QLocale().toString(value, "g", 6)
    return str(value)


# -- developer tool: refresh the .ts from the sources and compile it ------------------------


def lupdate_command() -> list[str] | None:
    import PySide6

    here = Path(PySide6.__file__).parent
    for name in ("lupdate", "lupdate.exe"):
        if (here / name).is_file():
            return [str(here / name)]
    found = shutil.which("pyside6-lupdate")
    return [found] if found else None


def ui_sources() -> list[Path]:
    """The Python files lupdate reads: every module of ``twin/ui``, and ``twin/messages.py``
    (the app's and the core's messages the window shows, context ``Messages``)."""
    here = Path(__file__).resolve().parent
    return [*sorted(here.glob("*.py")), here.parent / "messages.py"]


def update_ts(ts: Path, *, no_obsolete: bool = True) -> subprocess.CompletedProcess[str]:
    """Run lupdate over :func:`ui_sources` into ``ts`` (kept translations stay)."""
    cmd = lupdate_command()
    if cmd is None:
        raise RuntimeError("lupdate not found (it ships with PySide6)")
    lang = ts.stem.split("_", 1)[1]
    args = [*cmd, "-locations", "none", *(["-no-obsolete"] if no_obsolete else []),
            # English is the source language: its catalog needs only the plural forms
            *(["-pluralonly"] if lang == "en" else []),
            *([] if ts.is_file() else ["-source-language", "en", "-target-language", lang]),
            *map(str, ui_sources()), "-ts", str(ts)]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=True)


def main(argv: list[str] | None = None) -> int:
    """``python -m twin.ui.i18n``: lupdate every .ts in resources/i18n, then lrelease each."""
    folder = i18n_dir()
    if folder is None:
        print("resources/i18n not found", file=sys.stderr)
        return 1
    only_release = "--release" in (argv if argv is not None else sys.argv[1:])
    ok = True
    for ts in sorted(folder.glob("twin_*.ts")):
        if not only_release:
            print(update_ts(ts).stdout.strip())
        ok = compile_ts(ts, ts.with_suffix(".qm")) and ok
        print(f"{ts.with_suffix('.qm')}: {'ok' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
