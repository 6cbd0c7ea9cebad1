"""Settings dialog (validation, apply without restart), first-run wizard, clean shutdown."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from twin.core.llm.fake import FakeEngine
from twin.settings import load_settings


def test_settings_are_validated_and_not_saved_when_invalid(shell: Any) -> None:
    dialog = shell.open_settings()
    dialog.n_ctx.setValue(100)  # below the minimum the llm settings accept
    saved: list[Any] = []
    dialog.saved.connect(lambda s, p: saved.append(s))
    assert not dialog.save()
    assert dialog.isVisible() and not saved
    assert "n_ctx" in dialog.error.text() and dialog.error.isVisible()
    dialog.n_ctx.setValue(4096)
    dialog.sources.addItem("/no/such/folder")
    assert not dialog.save() and "Folder not found" in dialog.error.text()
    dialog.reject()


def test_settings_apply_without_restart(shell: Any, run_until: Any, tmp_path: Path) -> None:
    dialog = shell.open_settings()
    dialog.persona.setPlainText("Short and dry.")
    dialog.user_name.setText("Ann")
    dialog.thinking.setChecked(True)
    dialog.gpu_layers.setValue(0)
    extra = tmp_path / "letters"
    extra.mkdir()
    (extra / "letter.md").write_text("# Letter\n\nDear Ann, the lighthouse keeper sends his regards.\n")
    dialog.sources.addItem(str(extra))
    dialog.theme.setCurrentIndex(dialog.theme.findData("dark"))
    assert dialog.save()
    on_disk = load_settings(shell.paths.settings_file)
    assert on_disk.chat.persona == "Short and dry." and on_disk.chat.user_name == "Ann"
    assert on_disk.llm.n_gpu_layers == 0 and str(extra) in on_disk.memory.sources
    c = shell.controller
    assert c.settings.chat.user_name == "Ann"
    assert c.model.chat is not None and c.model.chat.settings.persona == "Short and dry."  # applied live
    run_until(lambda: c.memory.is_ready and c.memory.search("lighthouse keeper", 2)
              and c.memory.search("lighthouse keeper", 2)[0].path.endswith("letter.md"), 60, "the new folder")
    assert shell.theme.dark and shell.ui_state.theme == "dark"


def test_model_metadata_is_shown_for_a_gguf(shell: Any, run_until: Any, tmp_path: Path) -> None:
    dialog = shell.open_settings()
    dialog.model_path.setText(str(tmp_path / "missing.gguf"))
    dialog.read_model_meta()
    run_until(lambda: "not found" in dialog.model_meta.text(), what="the missing-file message")
    fake = tmp_path / "notes.gguf"
    fake.write_text("not a model")
    dialog.model_path.setText(str(fake))
    dialog.read_model_meta()
    run_until(lambda: "not a GGUF" in dialog.model_meta.text(), what="the wrong-file message")
    dialog.reject()


def test_first_run_wizard_previews_and_asks_before_downloading(shell: Any, run_until: Any, notes: Path) -> None:
    wizard = shell.open_wizard()
    wizard.add_folder(str(notes))
    run_until(lambda: "files will be indexed" in wizard.preview_label.text(), what="the preview")
    assert wizard.preview_label.text().startswith("3 files")
    assert wizard.preview_list.count() == 3
    wizard.confirm_download()
    assert wizard.confirm_box.isVisible() and "huggingface.co" in wizard.confirm_box.text()
    assert wizard.download is None  # nothing connects before the user says yes
    wizard.confirm_box.reject()
    assert wizard.download is None
    wizard.reject()


def test_hotkey_is_optional(shell: Any) -> None:
    # pynput is an optional extra; without it (or without a display) the app simply has no hotkey
    ok = shell.hotkey.start("<ctrl>+<alt>+space")
    assert ok == shell.hotkey.active
    if not ok:
        assert shell.hotkey.error.key in ("hotkey.unavailable", "hotkey.not_usable"), shell.hotkey.error
    shell.hotkey.stop()


def test_quit_while_generating_shuts_down_cleanly(qapp: Any, qloop: Any, run_until: Any, paths: Any,
                                                  ui_settings: Any, memory_factory: Any, thread_guard: None) -> None:
    """Quit in the middle of an answer: the answer stops, everything closes, no thread is left.

    Memory on the thread runner (``memory_factory``), on purpose: the index service's and the
    watcher's threads then live in this process, where the test sees them stop (the child
    process's clean exit is test_memory_process.py's)."""
    from twin.ui.app_shell import TwinApp

    before = set(threading.enumerate())  # earlier tests' engines may still idle in the process
    engine = FakeEngine(n_ctx=8192, delay_s=0.05, name="fake")
    engine.enqueue([f"w{i} " for i in range(1000)])
    app = TwinApp(qapp, paths, ui_settings, engine_factory=lambda llm, on_progress=None: engine,
                  memory_factory=memory_factory, watch=True, hotkey=False, first_run=False)
    app.start()
    run_until(lambda: app.controller.memory.is_ready and not app.controller.memory.busy, 60, "memory")
    assert any(t.name.startswith("twin-index") for t in threading.enumerate())
    turn = app.controller.ask(None, "Tell me everything")
    run_until(lambda: len(turn.answer) > 20, what="streaming")
    app.tray.actions()["quit"].trigger()
    assert app.quit_event.is_set()
    qloop.run_until_complete(app.aclose())
    engine.close()
    assert turn.is_finished
    ours = [t.name for t in threading.enumerate() if t not in before and (
        t.name.startswith("twin") or "watchdog" in t.name.lower() or t.name.startswith("Thread-"))]
    assert not ours, f"still running after quit: {ours}"
    # the partial answer was kept, marked incomplete
    from twin.core.conversation.store import ConversationStore

    store = ConversationStore(paths.conversations_db)
    (conv,) = store.list_conversations()
    answer = store.messages(conv.id)[-1]
    store.close()
    assert not answer.complete and answer.content.startswith("w0 w1")


@pytest.mark.parametrize("dark", [False, True])
def test_theme_switches_rendering(shell: Any, dark: bool) -> None:
    shell.theme.set_choice("dark" if dark else "light")
    assert shell.theme.dark is dark
    assert shell.window.pane.view.dark is dark


@pytest.mark.skipif(shutil.which("xdotool") is None or not os.environ.get("DISPLAY"),
                    reason="needs an X display and xdotool (run under xvfb-run)")
def test_global_hotkey_opens_quick_ask_under_x11(shell: Any, run_until: Any) -> None:
    pytest.importorskip("pynput", reason="the optional 'hotkey' extra is not installed")
    assert shell.hotkey.start("<ctrl>+<alt>+k"), shell.hotkey.error
    time.sleep(0.3)  # the listener thread connects to the X server
    subprocess.run(["xdotool", "key", "ctrl+alt+k"], check=True, timeout=10)
    run_until(lambda: shell.quick_ask.isVisible(), 10, "the popup from the hotkey")
    shell.hotkey.stop()
