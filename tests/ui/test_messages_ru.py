"""Messages from the app and the core, shown by the Russian window in Russian (issue 10).

Each converted path runs through real components (more in tests/ui/test_messages_ru_more.py): a bad GGUF read by the real header reader
(chosen in the settings dialog; loaded by the real model slot with the llama.cpp engine
factory, as the status bar shows it), files dropped on the real window and refused by the
documents service or by the indexer in the memory engine's child process (the reason crosses
the process boundary as a key and its values), a download verified by the real helper process
against a stand-in hub that corrupts the bytes, and the out-of-memory retry note. The same
messages stay English for the CLI (``str(error)``) and in an English window.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox

from twin.settings import Settings
from twin.ui import i18n

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture()
def ui_language() -> str:
    return "ru"  # this module's shell (russian_shell) starts in Russian


@pytest.fixture()
def bad_ggufs(tmp_path: Path) -> dict[str, Path]:
    empty = tmp_path / "empty.gguf"
    empty.write_bytes(b"")
    text = tmp_path / "notes.gguf"
    text.write_text("not a model at all\n", encoding="utf-8")
    return {"empty": empty, "text": text}


# -- a bad model file -----------------------------------------------------------------------


@pytest.mark.parametrize("memory_runner", ["thread"])  # memory is incidental here
def test_a_bad_gguf_chosen_in_the_settings_is_explained_in_russian(russian_shell: Any, bad_ggufs: dict[str, Path],
                                                                   run_until: Any) -> None:
    dialog = russian_shell.open_settings()
    dialog.model_path.setText(str(bad_ggufs["empty"]))
    dialog.read_model_meta()
    empty_ru = f"⚠ {bad_ggufs['empty']} пуст (0 байт): прерванная загрузка? Скачайте его заново."
    run_until(lambda: dialog.model_meta.text() == empty_ru, what="the Russian reason for an empty file")
    dialog.model_path.setText(str(bad_ggufs["text"]))
    dialog.read_model_meta()
    text_ru = (f"⚠ {bad_ggufs['text']} — не файл модели GGUF (llama.cpp нужен .gguf; сконвертируйте модель или "
               "скачайте её сборку в GGUF).")
    run_until(lambda: dialog.model_meta.text() == text_ru, what="the Russian reason for a text file")
    dialog.reject()


def test_a_model_that_fails_to_load_is_explained_in_russian_in_the_status_bar(
        qapp: Any, language: Any, bad_ggufs: dict[str, Path]) -> None:
    """The real model slot and llama.cpp engine factory: the status bar's text (the bridge's
    ``status_text``) and the chat's banner (``error``) in Russian; the CLI's text English."""
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")
    from twin.app.background import Background
    from twin.app.model_slot import ModelSlot
    from twin.errors import KnownError
    from twin.ui.model_bridge import ModelBridge

    settings = Settings()
    settings.llm.model_path = str(bad_ggufs["text"])
    background = Background(name="test-slot")
    try:
        engines: list[Any] = []
        slot = ModelSlot(settings.llm, settings.chat, make_service=engines.append, background=background)
        bridge = ModelBridge(slot)
        slot.load()
        with pytest.raises(KnownError) as caught:
            slot.wait_ready(60)
        english = (f"{bad_ggufs['text']} is not a GGUF model file (llama.cpp needs .gguf; convert or download a "
                   "GGUF build of the model).")
        assert str(caught.value) == english  # what `twin ask` prints
        language("ru")
        russian = (f"{bad_ggufs['text']} — не файл модели GGUF (llama.cpp нужен .gguf; сконвертируйте модель или "
                   "скачайте её сборку в GGUF).")
        assert bridge.error == russian
        assert bridge.status_text() == f"Нет модели: {russian}"
        language("en")
        assert bridge.status_text() == f"No model: {english}"
        # no file at all: the first start's status bar
        settings.llm.model_path = ""
        language("ru")
        slot.load()
        with pytest.raises(KnownError):
            slot.wait_ready(60)
        assert bridge.status_text() == ("Нет модели: Файл модели не задан: выберите GGUF в настройках "
                                        "(llm.model_path) или задайте TWIN_MODEL.")
    finally:
        for engine in engines:
            engine.close()
        background.close()


def test_the_out_of_memory_retry_note_is_russian(language: Any) -> None:
    from twin.core.llm.fit import Attempt, retry_message

    note = retry_message([Attempt(49, "cudaMalloc failed: out of memory"), Attempt(30)], 49)
    language("ru")
    assert i18n.shown(note) == ("Видеопамяти не хватило при 49 слоях; модель загружена с 30 из 49 слоёв на "
                                "видеокарте. Закройте другие программы, занимающие видеокарту, или уменьшите "
                                "llm.n_ctx, чтобы поместить на неё больше.")
    cpu = retry_message([Attempt(49, "oom"), Attempt(0)], 49)
    assert i18n.shown(cpu).startswith("Видеопамяти не хватило при 49 слоях; модель загружена только на процессор.")
    language("en")
    assert i18n.shown(note) == str(note) and str(note).startswith("The GPU ran out of memory with 49 layers")


# -- dropped files ----------------------------------------------------------------------------


def test_dropped_files_that_are_refused_are_explained_in_russian(russian_shell: Any, run_until: Any,
                                                                 tmp_path: Path) -> None:
    """A .png (refused by the documents service before indexing) and a .txt holding binary
    bytes (refused by the indexer in the memory engine's child process) dropped on the window:
    the message boxes list each file with its Russian reason."""
    shell = russian_shell
    assert shell.controller.memory.runner == "process"
    outside = tmp_path / "downloads"
    outside.mkdir()
    (outside / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n....")
    (outside / "dump.txt").write_bytes(bytes(range(256)) * 64)
    (outside / "fine.md").write_text("# Fine\n\nA note that indexes well.\n", encoding="utf-8")
    flow = shell.window.documents
    flow.show_messages = True
    shell.ui_state.drop_mode = "copy"
    done: list[Any] = []
    flow.ingested.connect(done.append)
    flow.dropped([outside / "photo.png", outside / "dump.txt", outside / "fine.md"])

    def boxes() -> list[str]:
        return [b.text() for b in shell.window.findChildren(QMessageBox) if b.isVisible()]

    run_until(lambda: done and len(boxes()) == 2, 60, "the drop indexed and both reports shown")
    refused, problems = sorted(boxes(), key=lambda t: "photo.png" not in t)
    assert "<b>photo.png</b>: неподдерживаемый тип файла .png (поддерживаются: .docx, .htm, .html, .markdown, " \
           ".md, .pdf, .txt)" in refused, refused
    assert "не добавлен" in refused  # the headline, a plural form of "%n item(s) were not added:"
    assert "<b>dump.txt</b>: двоичный файл, не текст" in problems, problems
    # what the window shows is Russian; the reasons it got are keyed messages with the English
    outcome = done[0]
    (reason,) = [e.reason for e in outcome.errors if e.path.endswith("dump.txt")]
    assert reason == "binary file, not text" and reason.key == "doc.binary"
    for box in shell.window.findChildren(QMessageBox):
        box.close()
    # the memory panel's list of files with problems: the file state keeps each reason's key
    # (twin.core.memory.filestate), so it reads in Russian after a restart too
    panel = shell.window.memory_panel
    panel.refresh()

    def problem_rows() -> dict[str, tuple[str, str]]:
        return {panel.problems.topLevelItem(i).text(0): (panel.problems.topLevelItem(i).text(1),
                                                         panel.problems.topLevelItem(i).text(2))
                for i in range(panel.problems.topLevelItemCount())}

    run_until(lambda: "dump.txt" in problem_rows(), 30, "the panel's problem list")
    assert problem_rows()["dump.txt"][1] == "двоичный файл, не текст", problem_rows()


# -- a download ------------------------------------------------------------------------------


def test_a_download_that_fails_verification_is_explained_in_russian(qapp: Any, qtbot: Any, language: Any,
                                                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                    ) -> None:
    """The real download helper process against a stand-in hub that flips a byte of the body
    (size and sha256 announced are the good file's): the runner's failure text is Russian."""
    from twin.helpers import helper_command
    from twin.ui.model_page import DownloadRunner

    sys.path.insert(0, str(FIXTURES / "qwen3"))
    from tiny_qwen3 import write_tiny_qwen3

    tiny = write_tiny_qwen3(tmp_path / "tiny.gguf")
    with (tmp_path / "hub.log").open("w") as err:
        hub = subprocess.Popen([sys.executable, str(FIXTURES / "fake_hub.py"), str(tiny)], stdout=subprocess.PIPE,
                               stderr=err, text=True, env={**os.environ, "FAKE_HUB_CORRUPT": "1"})
    try:
        assert hub.stdout is not None
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{int(hub.stdout.readline())}")
        monkeypatch.setenv("PYTHONPATH", str(ROOT))
        language("ru")
        runner = DownloadRunner()
        failed: list[str] = []
        runner.failed.connect(failed.append)
        runner.start(helper_command("download-model", "test/tiny", "tiny.gguf", str(tmp_path / "models")))
        qtbot.waitUntil(lambda: not runner.running, timeout=60000)
        assert len(failed) == 1, failed
        assert failed[0].startswith("загрузка tiny.gguf повреждена (её sha256 — "), failed
        assert ", а хаб говорит " in failed[0] and failed[0].endswith("); она удалена: скачайте заново.")
        assert not (tmp_path / "models" / "tiny.gguf").exists()
    finally:
        hub.terminate()
        hub.wait(10)


# -- the memory engine cannot start ----------------------------------------------------------


def test_memory_that_cannot_start_is_explained_in_russian_in_the_status_bar(
        qapp: Any, qloop: Any, run_until: Any, paths: Any, ui_settings: Settings, thread_guard: None) -> None:
    """The real window, its memory in the child process the product ships, an embedding model
    that is not on this machine: the failure crosses the process as a keyed message and the
    status bar says it in Russian."""
    from twin.core.llm.fake import FakeEngine
    from twin.ui.app_shell import TwinApp

    ui_settings.embedding.model = "sentence-transformers/not-on-this-machine"
    ui_settings.memory.runner = "process"
    engine = FakeEngine(n_ctx=2048, name="fake")
    app = TwinApp(qapp, paths, ui_settings, engine_factory=lambda llm, on_progress=None: engine, watch=False,
                  hotkey=False, first_run=False)
    try:
        app.start()
        assert i18n.current_language() == "ru"
        run_until(lambda: app.controller.memory.error, 90, "the memory engine's failure")
        error = app.controller.memory.error
        assert getattr(error, "key", None) == "embed.offline"  # the key survived the process boundary
        assert str(error).startswith("Embedding model 'sentence-transformers/not-on-this-machine' is not available")
        run_until(lambda: app.window.memory_status.text().startswith("Память недоступна: "), 20, "the status")
        assert app.window.memory_status.text() == (
            "Память недоступна: Модель эмбеддингов «sentence-transformers/not-on-this-machine» недоступна без сети "
            "(OSError). Скачайте её один раз: twin models pull-embedding sentence-transformers/not-on-this-machine  "
            "(или укажите в TWIN_EMBEDDING_MODEL локальную папку).")
    finally:
        qloop.run_until_complete(app.aclose())
        engine.close()
        i18n.uninstall()


# -- why this offload; a chat answer's note ---------------------------------------------------


def test_the_auto_offload_reason_and_a_chat_note_are_russian(language: Any, tmp_path: Path) -> None:
    pytest.importorskip("gguf", reason="the gguf package writes the synthetic layout")
    from twin.app.query_understanding import search_memories
    from twin.core.llm.fit import GIB, MIB, Memory, ModelLayout, choose_gpu_layers, model_bytes
    from twin.core.llm.gguf_meta import read_gguf_header
    from twin.errors import StoreError

    from tests.fixtures.synthetic_layout import QWEN3_30B_A3B, write_layout  # the real layout, no weight bytes

    q6 = write_layout(tmp_path / "Qwen3-30B-A3B-Q6_K.gguf", QWEN3_30B_A3B, "Q6_K")
    card = Memory(vram_free=24164 * MIB, vram_total=24564 * MIB, gpu_name="RTX 4090", ram_total=64 * GIB)
    chosen = choose_gpu_layers(ModelLayout.from_header(read_gguf_header(q6), model_bytes(q6)), card, n_ctx=32768)
    assert chosen.reason.key == "fit.partial" and chosen.reason.startswith(f"{chosen.n_gpu_layers} of 49 layers on "
                                                                          "RTX 4090")
    language("ru")
    assert i18n.shown(chosen.reason).startswith(f"{chosen.n_gpu_layers} из 49 слоёв на RTX 4090 (")
    assert "всем 49 слоям с контекстом (контекст на 32\u00a0768 токенов, KV-кэш f16) нужно" in i18n.shown(chosen.reason)
    assert i18n.shown(chosen.reason).endswith(f"остальные {49 - chosen.n_gpu_layers} работают на процессоре")

    class BrokenIndex:
        def search(self, query: str, k: int) -> list[Any]:
            raise StoreError("the index is locked")

    hits, notes, searched = search_memories(BrokenIndex(), "where was I in May?", 4)
    assert hits == [] and not searched
    assert notes == ["Memories are unavailable for this answer: the index is locked"]  # English: CLI, log
    assert i18n.shown(notes[0]) == "Память недоступна для этого ответа: the index is locked"


# -- typed outcomes the window words itself: the inotify limit, the endpoint check -----------


def test_the_inotify_limit_banner_is_russian(qapp: Any, qloop: Any, run_until: Any, paths: Any, ui_settings: Settings,
                                             fake_engine: Any, memory_factory: Any, notes: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """No inotify watch left (ENOSPC at the watchdog boundary, tests/fixtures/watch_budget.py):
    the Russian memory panel names the folder, the sysctl and the commands (memory on the thread
    runner: the patched budget exists in this process only)."""
    sys.path.insert(0, str(FIXTURES))
    from watch_budget import WatchBudget

    from twin.core.memory import watcher as watcher_mod
    from twin.ui.app_shell import TwinApp

    WatchBudget(monkeypatch, 0)
    monkeypatch.setattr(watcher_mod, "POLL_INTERVAL_S", 0.3)
    app = TwinApp(qapp, paths, ui_settings, engine_factory=lambda llm, on_progress=None: fake_engine,
                  memory_factory=memory_factory, watch=True, hotkey=False, first_run=False)
    try:
        app.window.documents.show_messages = False
        app.start()
        run_until(lambda: app.controller.memory.is_ready and not app.controller.memory.busy, 60, "memory")
        panel = app.window.memory_panel
        panel.refresh()
        run_until(lambda: panel.watch_warning.isVisibleTo(panel), 30, "the watch-limit warning")
        text = panel.watch_warning.text()
        assert text.startswith(f"Папок больше, чем может отслеживать система (fs.inotify.max_user_watches): {notes}")
        assert "проверяются на изменения раз в 0.3 с, а не сразу. Чтобы изменения замечались сразу, поднимите " \
               "лимит:" in text, text
        assert "sudo sysctl fs.inotify.max_user_watches=524288" in text and "/etc/sysctl.d/" in text
    finally:
        qloop.run_until_complete(app.aclose())
        fake_engine.close()
        i18n.uninstall()


def test_the_endpoint_connection_test_answers_in_russian(qapp: Any, qtbot: Any, language: Any) -> None:
    """The settings' connection test against a port where nothing listens (a real connection
    attempt on loopback, off the GUI thread)."""
    import socket

    from twin.ui.endpoint_box import EndpointBox

    with socket.socket() as s:  # a free port, closed again: connecting is refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    language("ru")
    box = EndpointBox(Settings())
    qtbot.addWidget(box)
    box.url.setText(f"http://127.0.0.1:{port}/v1")
    with qtbot.waitSignal(box.tested, timeout=30000) as done:
        box.test()
    assert done.args[0].kind == "refused" and done.args[0].message.startswith("Nothing answers at")  # English
    assert box.result.text() == ("⚠ Там никто не отвечает (в соединении отказано): запущен ли сервер и на этом ли "
                                 "порту?")


def test_a_value_the_settings_refuse_is_explained_in_russian(russian_shell: Any) -> None:
    """The settings' value rules are keyed messages: the dialog says which value and why in
    the window's language (numbers in its locale), and saves nothing."""
    dialog = russian_shell.open_settings()
    saved: list[Any] = []
    dialog.saved.connect(lambda s, p: saved.append(s))
    dialog.n_ctx.setValue(100)  # the spin box allows it; the llm settings need 256 or more
    assert not dialog.save() and not saved
    assert dialog.error.text() == "Не сохранено: Значение «llm.n_ctx» должно быть не меньше 256"
    dialog.reject()


def test_every_settings_rule_has_its_russian(language: Any) -> None:
    """Each rule of both validators, broken on purpose, reads in Russian (no English left)."""
    from twin.errors import ConfigError
    from twin.settings import _validate
    from twin.ui.i18n import shown

    assert language("ru") == "ru"
    breakers = [
        lambda s: setattr(s.search, "llm_expand", "always"), lambda s: setattr(s.embedding, "batch_size", 0),
        lambda s: setattr(s.profile, "prompt_share", 0.75), lambda s: setattr(s.chat, "top_p", 1.5),
        lambda s: setattr(s.chat, "twin_label", " "), lambda s: setattr(s.llm, "n_gpu_layers", -2),
        lambda s: setattr(s.llm, "n_threads", -1), lambda s: setattr(s.llm, "endpoint_timeout_s", 0.0),
        lambda s: (setattr(s.llm, "kv_cache_type", "q8_0"), setattr(s.llm, "flash_attn", False)),
        lambda s: setattr(s.chat, "memories_k", -1),
    ]
    texts, english = [], []
    for broken in breakers:
        s = Settings()
        broken(s)
        with pytest.raises(ConfigError) as caught:
            _validate(s)
        texts.append(shown(caught.value))
        english.append(str(caught.value))
    assert texts[0] == "Значение «search.llm_expand» может быть только одним из: 'auto', 'on', 'off'"
    assert texts[2] == "Значение «profile.prompt_share» должно быть от 0 до 0,5"  # the Russian decimal comma
    assert len(set(english)) == len(breakers)  # each broke its own rule
    assert all(re.search(r"[а-яё]", t) and t != e for t, e in zip(texts, english)), texts


@pytest.mark.parametrize("memory_runner", ["thread"])  # memory is incidental here
def test_a_global_shortcut_that_cannot_work_is_explained_in_russian(russian_shell: Any) -> None:
    """Setting a shortcut that cannot work (no pynput, no X display, or a key pynput does not
    know) says why in the status bar, in the window's language; the window works on."""
    shell = russian_shell
    shell.use_hotkey = True
    prefs = {"hotkey": "<ctrl>+<no-such-key>", "theme": shell.ui_state.theme, "close_to_tray": True, "drop_mode": ""}
    shell.apply_settings(shell.controller.settings, prefs)
    assert not shell.hotkey.active
    text = shell.window.statusBar().currentMessage()
    assert text.startswith("Глобальное сочетание клавиш"), text
    assert text != str(shell.hotkey.error)  # not the English
    shell.window.statusBar().clearMessage()
    shell.apply_settings(shell.controller.settings, prefs)  # saved again, the shortcut unchanged
    assert shell.window.statusBar().currentMessage() == ""  # said once, when it was set (the log says the rest)
    shell.hotkey.stop()


@pytest.fixture()
def watch_holds_the_index(paths: Any) -> Iterator[int]:
    """Another process's writer lock (``twin watch``'s, taken here before the window starts)."""
    from twin.app.writer_lock import WriterLock

    lock = WriterLock(paths.data_dir, "twin watch")
    assert lock.try_acquire()
    yield os.getpid()
    lock.release()


def test_a_window_that_only_reads_the_index_says_who_writes_it_in_russian(
        watch_holds_the_index: int, qapp: Any, qloop: Any, run_until: Any, paths: Any, ui_settings: Settings,
        fake_engine: Any, thread_guard: None, tmp_path: Path) -> None:
    """``twin watch`` keeps the index current (and has not even made its file records yet):
    the window's memory engine (the child process) stands by, the memory panel says who
    writes in Russian, and a drop is refused with the Russian reason."""
    from twin.ui.app_shell import TwinApp

    ui_settings.ui.language = "ru"
    app = TwinApp(qapp, paths, ui_settings, engine_factory=lambda llm, on_progress=None: fake_engine,
                  watch=False, hotkey=False, first_run=False)
    app.start()
    try:
        run_until(lambda: app.controller.memory.is_ready, 60, "the memory engine, on standby")
        panel = app.window.memory_panel
        held = f"Индекс сейчас обновляет twin watch (процесс {watch_holds_the_index}): ваши изменения будут учтены, " \
               "а поиск пока работает"
        panel.refresh()
        run_until(lambda: panel.status.text() == held, 30, "the panel to name the writer")
        note = tmp_path / "note.md"
        note.write_text("# A note\n\nDropped while twin watch keeps the index.\n", encoding="utf-8")
        flow = app.window.documents
        flow.show_messages = True
        app.ui_state.drop_mode = "copy"
        flow.dropped([note])

        def boxes() -> list[str]:
            return [b.text() for b in app.window.findChildren(QMessageBox) if b.isVisible()]

        run_until(lambda: boxes(), 60, "the refusal")
        (text,) = boxes()
        assert held[0].lower() + held[1:] + ". Перетащите документы туда или сначала закройте его." in text, text
        for box in app.window.findChildren(QMessageBox):
            box.close()
    finally:
        qloop.run_until_complete(app.aclose())
        i18n.uninstall()
