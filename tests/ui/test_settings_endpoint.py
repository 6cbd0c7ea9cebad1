"""Settings → Model: the OpenAI-compatible server chooser, its "Test connection" button (off the GUI
thread, against a real local HTTP server and a port nothing listens on), and saving it into the
user's hand-written settings.toml without losing their comments."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
from fake_openai import FakeOpenAI, refused_port  # noqa: E402

from twin.settings import load_settings, save_settings  # noqa: E402

HAND = """\
# my settings, by hand
[llm]
model_path = "/models/qwen.gguf"   # the big one

[chat]
user_name = "Anna"
"""


def _dialog(qtbot: Any, paths: Any, settings: Any) -> Any:
    from twin.ui.settings_dialog import SettingsDialog
    from twin.ui.ui_state import UiState

    dialog = SettingsDialog(settings, paths, UiState(paths.config_dir))
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_backend_chooser_shows_the_right_fields(qtbot: Any, paths: Any) -> None:
    paths.settings_file.write_text(HAND, encoding="utf-8")
    d = _dialog(qtbot, paths, load_settings(paths.settings_file, env={}))
    assert d.backend.currentData() == "llama"
    assert d.model_path.isVisible() and d.gpu_layers.isVisible() and not d.endpoint.isVisible()
    d.backend.setCurrentIndex(d.backend.findData("openai"))
    assert d.endpoint.isVisible() and not d.model_path.isVisible() and not d.gpu_layers.isVisible()
    assert d.n_ctx.isVisible()  # the context applies to both
    assert d.endpoint.url.text() == "http://127.0.0.1:8080/v1"
    assert d.endpoint.api_key.echoMode() == d.endpoint.api_key.EchoMode.Password


def test_test_connection_says_ok_and_errors(qtbot: Any, paths: Any) -> None:
    paths.settings_file.write_text(HAND, encoding="utf-8")
    d = _dialog(qtbot, paths, load_settings(paths.settings_file, env={}))
    d.backend.setCurrentIndex(d.backend.findData("openai"))
    box = d.endpoint
    with FakeOpenAI(models=["qwen3-30b-a3b"], api_key="k1") as srv:
        box.url.setText(srv.url)
        box.api_key.setText("k1")
        with qtbot.waitSignal(box.tested, timeout=10_000):
            qtbot.mouseClick(box.test_button, Qt.MouseButton.LeftButton)
            assert not box.test_button.isEnabled()  # working on a thread; the window stays live
            assert "Connecting to" in box.result.text()
        assert box.test_button.isEnabled()
        assert box.result.text() == "✓ Connected: qwen3-30b-a3b" and box.last is not None and box.last.ok
        box.api_key.setText("wrong")
        with qtbot.waitSignal(box.tested, timeout=10_000):
            box.test_button.click()
        assert box.result.text().startswith("⚠") and "API key" in box.result.text() and "401" in box.result.text()
    box.url.setText(f"http://127.0.0.1:{refused_port()}/v1")
    with qtbot.waitSignal(box.tested, timeout=10_000):
        box.test_button.click()
    assert "connection refused" in box.result.text() and box.last is not None and box.last.kind == "refused"
    box.url.setText("http://192.0.2.10:8000/v1")
    with qtbot.waitSignal(box.tested, timeout=10_000):
        box.test_button.click()
    assert box.last is not None and box.last.kind == "remote" and "another computer" in box.result.text()


def test_saving_the_server_keeps_the_users_file(qtbot: Any, paths: Any) -> None:
    paths.settings_file.write_text(HAND, encoding="utf-8")
    d = _dialog(qtbot, paths, load_settings(paths.settings_file, env={}))
    d.backend.setCurrentIndex(d.backend.findData("openai"))
    d.endpoint.url.setText("http://gpu-box.lan:8000/v1")
    d.endpoint.model.setText("Qwen/Qwen3-30B-A3B")
    d.endpoint.remote.setChecked(True)
    saved: list[Any] = []
    d.saved.connect(lambda s, prefs: saved.append(s))
    assert d.save()
    save_settings(saved[0], paths.settings_file)  # what the controller does with it
    text = paths.settings_file.read_text(encoding="utf-8")
    assert text.startswith('# my settings, by hand\n[llm]\nmodel_path = "/models/qwen.gguf"   # the big one\n')
    again = load_settings(paths.settings_file, env={})
    assert (again.llm.backend, again.llm.endpoint_url, again.llm.endpoint_model, again.llm.endpoint_remote) == \
        ("openai", "http://gpu-box.lan:8000/v1", "Qwen/Qwen3-30B-A3B", True)
    assert again.chat.user_name == "Anna" and 'user_name = "Anna"' in text
