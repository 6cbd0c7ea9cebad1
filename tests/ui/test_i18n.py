"""The window in Russian (issue 10): Qt's translation machinery, end to end.

- The catalogs: ``resources/i18n/twin_ru.ts`` is complete (no unfinished entry, every
  placeholder kept, three plural forms), it holds exactly what ``pyside6-lupdate`` extracts
  from ``twin/ui`` today (run into a temporary file), and the committed ``.qm`` files are what
  ``lrelease`` makes of the committed ``.ts`` files (``python -m twin.ui.i18n`` rebuilds them).
- The real window, settings dialog and first-run wizard with ``ui.language = "ru"`` show
  Russian (Qt's own buttons too), plural forms and dates/numbers follow the locale, and the
  language choice in the settings dialog is saved.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QLocale, QTranslator
from PySide6.QtWidgets import QLabel

from twin.errors import ConfigError
from twin.settings import Settings, load_settings, save_settings
from twin.ui import i18n

ROOT = Path(__file__).resolve().parents[2]
I18N = ROOT / "resources" / "i18n"
PLACEHOLDER = re.compile(r"\{\w*\}|%L?n")
CYRILLIC = re.compile(r"[а-яА-ЯёЁ]")
#: Sources whose Russian text is rightly the same (a name).
SAME_IN_RUSSIAN = {"Twin"}


def catalog(ts: Path) -> dict[tuple[str, str], ET.Element]:
    """``{(context, source): <message>}`` of a .ts file."""
    out = {}
    for ctx in ET.parse(ts).getroot().iter("context"):
        name = ctx.findtext("name") or ""
        for m in ctx.iter("message"):
            out[(name, m.findtext("source") or "")] = m
    return out


def texts(m: ET.Element) -> list[str]:
    tr = m.find("translation")
    assert tr is not None
    forms = [f.text or "" for f in tr.iter("numerusform")]
    return forms if m.get("numerus") == "yes" else [tr.text or ""]


# -- the catalogs -------------------------------------------------------------------------


def test_the_russian_catalog_is_complete() -> None:
    messages = catalog(I18N / "twin_ru.ts")
    assert len(messages) > 250
    problems = []
    for (ctx, src), m in messages.items():
        tr = m.find("translation")
        assert tr is not None
        if tr.get("type") in ("unfinished", "obsolete", "vanished"):
            problems.append(f"{ctx}: {src!r} is {tr.get('type')}")
            continue
        forms = texts(m)
        if m.get("numerus") == "yes" and len(forms) != 3:
            problems.append(f"{ctx}: {src!r} needs 3 plural forms (one, few, many), has {len(forms)}")
        for text in forms:
            if not text.strip():
                problems.append(f"{ctx}: {src!r} has an empty translation")
            elif sorted(set(PLACEHOLDER.findall(text))) != sorted(set(PLACEHOLDER.findall(src))):
                problems.append(f"{ctx}: {src!r} → {text!r} loses or adds a placeholder")
            elif src not in SAME_IN_RUSSIAN and not CYRILLIC.search(text):
                problems.append(f"{ctx}: {src!r} → {text!r} is not Russian")
    assert not problems, "\n".join(problems)


def test_every_string_in_the_ui_code_is_in_the_catalogs(tmp_path: Path) -> None:
    """lupdate over twin/ui into fresh files: the same messages as the committed catalogs."""
    if i18n.lupdate_command() is None:
        pytest.skip("pyside6-lupdate is not installed")
    for lang in ("ru", "en"):
        fresh = tmp_path / f"twin_{lang}.ts"
        i18n.update_ts(fresh)
        extracted = {k: m.get("numerus") == "yes" for k, m in catalog(fresh).items()}
        committed = {k: m.get("numerus") == "yes" for k, m in catalog(I18N / f"twin_{lang}.ts").items()}
        missing = sorted(set(extracted) - set(committed))
        stale = sorted(set(committed) - set(extracted))
        assert not missing, f"twin_{lang}.ts lacks (run python -m twin.ui.i18n, then translate): {missing}"
        assert not stale, f"twin_{lang}.ts has entries no code uses any more: {stale}"
        assert extracted == committed, "a message changed between plain and plural"
    assert all(m.get("numerus") == "yes" for m in catalog(I18N / "twin_en.ts").values())
    assert len(catalog(I18N / "twin_en.ts")) >= 20  # the plural forms English needs


def test_the_committed_qm_files_are_built_from_the_ts_files(tmp_path: Path) -> None:
    if i18n.lrelease_command() is None:
        pytest.skip("pyside6-lrelease is not installed")
    for lang in ("ru", "en"):
        built = tmp_path / f"twin_{lang}.qm"
        assert i18n.compile_ts(I18N / f"twin_{lang}.ts", built)
        assert built.read_bytes() == (I18N / f"twin_{lang}.qm").read_bytes(), (
            f"twin_{lang}.qm is out of date: run `python -m twin.ui.i18n --release` and commit it")


def test_the_qm_loads_and_translates() -> None:
    t = QTranslator()
    assert t.load(str(I18N / "twin_ru.qm"))
    assert t.translate("ChatWindow", "New chat") == "Новый чат"
    assert t.translate("SettingsDialog", "Language") == "Язык"
    assert t.translate("ChatWindow", "no such text") == ""


def test_a_ts_newer_than_its_qm_is_compiled_into_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "i18n"
    folder.mkdir()
    shutil.copy(I18N / "twin_ru.ts", folder)
    shutil.copy(I18N / "twin_ru.qm", folder)
    monkeypatch.setattr(i18n, "i18n_dir", lambda: folder)
    cache = tmp_path / "cache"
    assert i18n.qm_file("ru", cache) == folder / "twin_ru.qm"  # up to date: the shipped one
    ts = folder / "twin_ru.ts"
    ts.write_text(ts.read_text(encoding="utf-8").replace("Новый чат", "Новая беседа"), encoding="utf-8")
    later = (folder / "twin_ru.qm").stat().st_mtime + 10
    os.utime(ts, (later, later))
    if i18n.lrelease_command() is not None:
        built = i18n.qm_file("ru", cache)
        assert built == cache / "i18n" / "twin_ru.qm"
        t = QTranslator()
        assert t.load(str(built)) and t.translate("ChatWindow", "New chat") == "Новая беседа"
    # without lrelease (or when it fails) the shipped catalog is still used
    monkeypatch.setattr(i18n, "lrelease_command", lambda: None)
    assert i18n.qm_file("ru", tmp_path / "other-cache") == folder / "twin_ru.qm"


# -- language, plural forms, numbers and dates --------------------------------------------


def test_the_language_follows_the_system_locale_unless_chosen() -> None:
    assert i18n.resolve_language("auto", QLocale("ru_RU")) == "ru"
    assert i18n.resolve_language("auto", QLocale("en_GB")) == "en"
    assert i18n.resolve_language("auto", QLocale("de_DE")) == "en"  # no German: the English source
    assert i18n.resolve_language("en", QLocale("ru_RU")) == "en"
    assert i18n.resolve_language("ru", QLocale("en_US")) == "ru"


def test_plural_forms(language: Any) -> None:
    tr = QCoreApplication.translate
    assert language("ru") == "ru"
    expected = {1: "1 файл", 2: "2 файла", 4: "4 файла", 5: "5 файлов", 11: "11 файлов", 21: "21 файл",
                22: "22 файла", 25: "25 файлов", 111: "111 файлов"}
    for n, text in expected.items():
        assert tr("MemoryPanel", "%Ln file(s)", "", n) == text
    assert tr("MemoryPanel", "%Ln file(s)", "", 1234) == "1\u00a0234 файла"  # %Ln: grouped as in Russian
    assert tr("MessageBubble", "(%n word(s))", "", 3) == "(3 слова)"
    assert tr("DocumentsFlow", "%n item(s) were not added:", "", 7) == "7 объектов не добавлено:"
    assert language("en") == "en"  # English: its plural-only catalog
    assert tr("MemoryPanel", "%Ln file(s)", "", 1) == "1 file"
    assert tr("MemoryPanel", "%Ln file(s)", "", 1234) == "1,234 files"
    assert tr("MessageBubble", "(%n word(s))", "", 1) == "(1 word)"


def test_numbers_and_dates_follow_the_language(language: Any) -> None:
    day = dt.date(2024, 5, 1)
    language("ru")
    assert i18n.num(2.5, 1) == "2,5"
    assert i18n.num(1234567) == "1\u00a0234\u00a0567"
    assert i18n.date_text(day, "d MMMM") == "1 мая"
    assert i18n.date_text("2024-05-01") == "1 мая 2024"
    assert i18n.date_text(day, "") == "01.05.2024"  # the short format
    assert i18n.weekday_text(day) == "ср"
    assert i18n.datetime_text(dt.datetime(2024, 5, 1, 14, 30)) == "1 мая 14:30"
    language("en")
    assert i18n.num(2.5, 1) == "2.5"
    assert i18n.date_text(day, "d MMMM") == "1 May"
    assert i18n.date_text(day) == "1 May 2024"
    assert i18n.date_text("not a date") == "not a date"


def test_a_subclass_keeps_its_base_class_translations(language: Any) -> None:
    """PySide's tr() looks the text up under each class of the MRO (lupdate files it under the
    class that has the code)."""
    from twin.ui.sources_panel import SourcesPanel

    class Custom(SourcesPanel):
        pass

    language("ru")
    assert Custom().title.text() == "Источники"


def test_a_source_card_names_one_line_or_a_range_in_the_language(language: Any, qtbot: Any) -> None:
    from twin.core.prompt.citations import Citation
    from twin.ui.sources_panel import SourceCard

    def meta(card: SourceCard) -> str:
        qtbot.addWidget(card)
        return " | ".join(label.text() for label in card.findChildren(QLabel) if label.objectName() == "Muted")

    language("ru")
    assert meta(SourceCard(Citation(1, "/d/a.md", "Утро", None, 5, 5, 0.9), "x")) == "Утро · строка 5"
    assert meta(SourceCard(Citation(1, "/d/a.md", "Утро", None, 3, 8, 0.9), "x")) == "Утро · строки 3–8"
    language("en")
    assert meta(SourceCard(Citation(1, "/d/a.md", "Morning", None, 5, 5, 0.9), "x")) == "Morning · line 5"


def test_the_language_setting_is_checked_and_saved(tmp_path: Path) -> None:
    assert Settings().ui.language == "auto"
    path = tmp_path / "settings.toml"
    s = Settings()
    s.ui.language = "ru"
    save_settings(s, path)
    assert load_settings(path, env={}).ui.language == "ru"
    path.write_text('[ui]\nlanguage = "fr"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="ui.language"):
        load_settings(path, env={})


# -- the real window in Russian -----------------------------------------------------------


@pytest.fixture()
def ui_language() -> str:
    return "ru"  # this module's shell (russian_shell) starts in Russian


def test_the_window_settings_and_first_run_speak_russian(russian_shell: Any, run_until: Any, paths: Any) -> None:
    from PySide6.QtCore import QRect, Qt
    from PySide6.QtWidgets import QApplication, QDialogButtonBox, QLabel, QWizard

    shell = russian_shell
    assert shell.language == "ru" and i18n.current_language() == "ru"
    w = shell.window
    assert [a.text() for a in w.menuBar().actions()] == ["&Файл", "&Правка", "&Вид", "&Справка"]
    assert [w.side.tabText(i) for i in range(w.side.count())] == ["Источники", "Память"]
    assert w.new_action.text() == "Новый чат" and w.settings_action.text() == "Настройки…"
    assert w.pane.composer.send.text() == "Отправить"
    assert w.conversations.new_button.text() == "+ Новый"
    assert w.conversations.search.placeholderText() == "Поиск по чатам (Ctrl+F)"
    assert w.memory_panel.on_this_day_button.text() == "В этот день"
    run_until(lambda: w.memory_status.text() == "Память: всё актуально", what="the memory status in Russian")
    w.memory_panel.refresh()
    run_until(lambda: "3 файла" in w.memory_panel.counts.text(), what="the counts with a Russian plural")
    assert re.fullmatch(r"3 файла · \d+ фрагмент(а|ов)?", w.memory_panel.counts.text())

    dialog = shell.open_settings()
    assert dialog.windowTitle() == "Настройки"
    assert [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())][:4] == [
        "Модель", "Персона", "Память", "Приложение"]
    box = dialog.findChildren(QDialogButtonBox)[-1]
    assert sorted(b.text() for b in box.buttons()) == ["Отмена", "Сохранить"]  # Qt's own qtbase_ru
    assert [dialog.language.itemData(i) for i in range(dialog.language.count())] == ["auto", "en", "ru"]
    assert dialog.language.currentData() == "ru"
    assert dialog.language_note.text() == "Новый язык вступит в силу после перезапуска twin."
    dialog.language.setCurrentIndex(dialog.language.findData("en"))
    assert dialog.save()
    assert shell.controller.settings.ui.language == "en"
    assert load_settings(paths.settings_file, env={}).ui.language == "en"
    assert i18n.current_language() == "ru"  # applies at the next start, as the note says

    wizard = shell.open_wizard()
    assert wizard.windowTitle() == "Добро пожаловать в twin"
    assert wizard.page(wizard.pageIds()[0]).title() == "Ваши заметки"
    assert "Далее" in wizard.button(QWizard.WizardButton.NextButton).text()
    assert wizard.button(QWizard.WizardButton.CancelButton).text() == "Отмена"
    # QWizard keeps the first page's header height: a longer subtitle on the next page (as
    # Russian texts are) must still show whole
    model_step = wizard.page(wizard.pageIds()[1])
    assert CYRILLIC.search(model_step.subTitle())
    model_step.setSubTitle(model_step.subTitle() + " " + model_step.subTitle())
    for _ in range(3):
        QApplication.processEvents()
    wizard.next()
    for _ in range(3):
        QApplication.processEvents()
    subtitle = next(label for label in wizard.findChildren(QLabel) if label.text() == model_step.subTitle())
    need = subtitle.fontMetrics().boundingRect(QRect(0, 0, subtitle.width(), 100_000), Qt.TextFlag.TextWordWrap,
                                               subtitle.text()).height()
    assert subtitle.height() >= need > 2 * subtitle.fontMetrics().lineSpacing()
    wizard.reject()
