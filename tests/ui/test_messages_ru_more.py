"""More messages from the app and the core, shown by the Russian window in Russian (issue 10;
the first part is tests/ui/test_messages_ru.py): a wrong or short passphrase (the real key file
and vault), a source the viewer cannot read (the real document reader), a prompt longer than the
context, a model given as the LoRA adapter, a broken settings file. Each also keeps the CLI's
English."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.ui.gui_thread import elsewhere
from twin.ui import i18n

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
CYRILLIC_RE = re.compile(r"[а-яА-ЯёЁ]")


# -- encryption at rest ------------------------------------------------------------------------


def test_a_wrong_passphrase_and_a_short_one_are_explained_in_russian(qtbot: Any, twin_home: Path, language: Any
                                                                     ) -> None:
    """The real key file (cheap KDF) and vault: the unlock dialog after a wrong passphrase, and
    the passphrase fields when the app layer refuses a short one."""
    from PySide6.QtCore import Qt

    from twin.app import encryption_switch, vault_service
    from twin.core.crypto import CryptoError, KdfParams
    from twin.paths import resolve_paths
    from twin.ui.unlock_dialog import UnlockDialog

    paths = resolve_paths({"TWIN_HOME": str(twin_home)}).ensure()
    elsewhere(encryption_switch.enable, paths, "correct horse battery", kdf=KdfParams.cheap())
    language("ru")
    dialog = UnlockDialog(vault_service.Vault(paths))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.passphrase, "not it at all")
    qtbot.keyClick(dialog.passphrase, Qt.Key.Key_Return)
    wrong = "Неверная парольная фраза: данные остаются запертыми, ничего не изменено."
    qtbot.waitUntil(lambda: dialog.error.text() == wrong, timeout=10000)
    assert dialog.isVisible() and dialog.vault.locked
    with pytest.raises(CryptoError) as caught:
        encryption_switch.prepare_enable(resolve_paths({"TWIN_HOME": str(twin_home / "other")}).ensure(), "short")
    assert str(caught.value).startswith("The passphrase must have at least")  # the CLI's English
    assert re.fullmatch(r"Парольная фраза должна быть не короче \d+ символов\.", i18n.shown(caught.value))


# -- a source that cannot be shown; a prompt that does not fit --------------------------------


def test_a_source_that_cannot_be_read_is_explained_in_russian(qapp: Any, qloop: Any, language: Any,
                                                              tmp_path: Path) -> None:
    """The source viewer reads a cited file with the real document reader: a binary one and a
    vanished one get their reason in Russian."""
    from twin.ui.source_viewer import SourceViewer

    binary = tmp_path / "dump.txt"
    binary.write_bytes(bytes(range(256)) * 64)
    language("ru")
    viewer = SourceViewer()
    try:
        qloop.run_until_complete(viewer.show_source(str(binary), 1, 1))
        assert viewer.editor.toPlainText() == "Не удаётся показать этот файл: двоичный файл, не текст"
        qloop.run_until_complete(viewer.show_source(str(tmp_path / "gone.md"), 1, 1))
        assert viewer.editor.toPlainText().startswith("Не удаётся показать этот файл: "), viewer.editor.toPlainText()
        assert CYRILLIC_RE.search(viewer.editor.toPlainText().split(": ", 1)[1]), viewer.editor.toPlainText()
    finally:
        viewer.close()
        viewer.deleteLater()


def test_a_prompt_longer_than_the_context_is_explained_in_russian(language: Any) -> None:
    """llama.cpp's decode loop refuses a prompt that does not fit its context (before any
    llama.cpp call): the chat pane shows the error in Russian, the CLI in English."""
    from twin.core.llm.errors import ContextOverflowError
    from twin.core.llm.llama_decode import DecodeLoop

    loop = DecodeLoop.__new__(DecodeLoop)  # only the context size matters before any native call
    loop.n_ctx = 512
    with pytest.raises(ContextOverflowError) as caught:
        loop.run(list(range(600)), None, None)  # type: ignore[arg-type]  # refused before they are used
    assert str(caught.value).startswith("The prompt needs 600 tokens but the model's context holds 512.")
    language("ru")
    assert i18n.shown(caught.value) == ("Запросу нужно 600 токенов, а контекст модели вмещает 512. Начните новый "
                                        "разговор, сократите сообщение или увеличьте llm.n_ctx.")


def test_a_model_chosen_as_lora_adapter_is_explained_in_russian(language: Any, tmp_path: Path) -> None:
    """The settings' LoRA check over the real header reader: a model file given as the adapter."""
    from twin.ui.gguf_summary import lora_problem

    sys.path.insert(0, str(FIXTURES / "qwen3"))
    from tiny_qwen3 import write_tiny_qwen3

    tiny = write_tiny_qwen3(tmp_path / "tiny.gguf")
    language("en")
    assert lora_problem(str(tiny), "").startswith("tiny.gguf is a model, not an adapter: llm.lora_path needs")
    language("ru")
    assert lora_problem(str(tiny), "") == ("tiny.gguf — модель, а не адаптер: в llm.lora_path нужен GGUF адаптера "
                                           "LoRA (его делает convert_lora_to_gguf.py из llama.cpp; см. "
                                           "docs/FINETUNE.md).")
    assert lora_problem(str(tmp_path / "none.gguf"), "") == f"Адаптера LoRA {tmp_path / 'none.gguf'} нет (проверьте " \
                                                             "llm.lora_path)."


def test_a_broken_settings_file_is_explained_in_russian(language: Any, tmp_path: Path) -> None:
    """What the start-up error box and the settings dialog show for a settings file that is not
    TOML, or holds a value of the wrong type (the real loader)."""
    from twin.errors import ConfigError
    from twin.settings import load_settings

    broken = tmp_path / "settings.toml"
    broken.write_text("[llm\nmodel_path = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(broken, env={})
    assert str(caught.value).startswith(f"{broken}: not valid TOML: ")  # the CLI's English
    language("ru")
    assert i18n.shown(caught.value).startswith(f"{broken}: это не корректный TOML: ")
    broken.write_text('[memory]\ndebounce_ms = "soon"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(broken, env={})
    assert i18n.shown(caught.value) == f"{broken}: «memory.debounce_ms» должно быть типа int, а указано 'soon'"
