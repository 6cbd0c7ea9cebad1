"""The user's bad GGUF files of tests/model/test_model_bad_files.py, loaded through the app's
own path (``make_engine``: the header check, then the model check's child process for what only
llama.cpp can judge), explained in Russian by the Russian window (``twin.ui.i18n.shown``, what
the status bar and the settings show) and in English by the CLI (``str(error)``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_model_bad_files import EXPECTED, bad, settings  # noqa: F401 - bad: the module's fixture

from twin.app.chat_service import make_engine
from twin.errors import KnownError
from twin.messages import message_of
from twin.ui import i18n

pytestmark = pytest.mark.slow

CYRILLIC = re.compile(r"[а-яА-ЯёЁ]")
#: the Russian the window shows, per file (a pattern; the file's path is checked apart)
RUSSIAN = {
    "empty": r"пуст \(0 байт\): прерванная загрузка\? Скачайте его заново\.",
    "bad magic": r"— не файл модели GGUF",
    "old ggml format": r"в старом формате GGJT, который llama\.cpp больше не читает",
    "truncated tensor data": r"обрезан: его тензорам нужно 448\u00a0192 байт, а в файле 447\u00a0192",
    "absurd string length": r"повреждён: текстовое значение заявляет 1\u00a0152\u00a0921\u00a0504\u00a0606\u00a0846\u00a0976 "
                            r"байт",
    "absurd tensor count": r"повреждён: его заголовок заявляет тензоров: 4\u00a0611\u00a0686",
    "unknown architecture": r"llama\.cpp не поддерживает архитектуру модели «twinalien»",
    "lora adapter": r"— адаптер LoRA, а не модель",
    "llama.cpp aborts": r"повреждён или искажён: llama\.cpp аварийно завершился при чтении \(GGML_ASSERT",
}


@pytest.fixture()
def russian(qapp: Any) -> Iterator[None]:
    i18n.uninstall()
    assert i18n.install("ru", app=qapp) == "ru"
    yield
    i18n.uninstall()


@pytest.mark.parametrize("name", list(EXPECTED))
def test_every_bad_model_file_is_explained_in_russian(bad: dict[str, Path], name: str,  # noqa: F811
                                                      russian: None) -> None:
    engine = make_engine(settings(bad[name]))
    try:
        with pytest.raises(KnownError) as caught:
            engine.start_loading().result(120)
    finally:
        engine.close()
    assert re.search(EXPECTED[name][1], str(caught.value))  # the CLI's English, unchanged
    assert message_of(caught.value) is not None, f"{name}: raised without a message key: {caught.value}"
    shown = i18n.shown(caught.value)
    assert str(bad[name]) in shown and CYRILLIC.search(shown), shown
    if name in RUSSIAN:
        assert re.search(RUSSIAN[name], shown), shown
