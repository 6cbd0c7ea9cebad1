"""``twin-gui``: the desktop app's entry point.

One loop: the Qt event loop *is* the asyncio loop (qasync, ARCHITECTURE §2). ``main`` makes
the QApplication, then runs :func:`run_app` on a qasync ``QEventLoop`` through
``asyncio.Runner``; ``run_app`` builds :class:`TwinApp`, shows the window and waits for the
quit sentinel (tray/menu Quit, the session ending), then shuts everything down while the
loop still runs, so closing never freezes the window.

Options: ``--fake`` answers with the scripted FakeEngine (demos, screenshots), ``--tray``
(or ``--hidden``) starts in the tray (the XDG autostart entry uses it), ``--no-hotkey`` skips
the global hotkey. Files and folders named on the command line (the file manager's "Open
with twin", the ``.desktop`` entry's ``%F``) are dropped into the window as a drag would;
when a window of the same data folder is already running, they go to that one and this
process exits (:mod:`twin.ui.single_instance`).
``--helper NAME …`` runs one of twin's helper processes (:mod:`twin.helpers`; a frozen build
starts its children this way) and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from twin.errors import ConfigError
from twin.helpers import dispatch
from twin.log import setup_logging
from twin.offline import enforce_offline, install_network_guard
from twin.paths import resolve_paths
from twin.settings import Settings, load_settings

log = logging.getLogger("twin.ui")

FAKE_ANSWER = ("I remember it well. We went to the sea in May [1], and it rained the whole "
               "second day [2].\n\n- the sea was cold\n- we ate *fish* by the pier\n")


def fake_engine_factory(llm: Any, on_progress: Any = None) -> Any:
    """A FakeEngine that answers with a short scripted text (``--fake``)."""
    from twin.core.llm.fake import FakeEngine

    engine = FakeEngine(n_ctx=8192, delay_s=0.03, name="fake model")
    for _ in range(50):
        engine.enqueue(FAKE_ANSWER)
    return engine


def _warm_up_renderer() -> None:
    """Import Pygments' lexers off the GUI thread (about 0.1 s) before the first code block."""
    from twin.ui.markdown_render import highlight

    highlight("x = 1", "python", "friendly")


async def run_app(app: Any, settings: Settings, options: argparse.Namespace, vault: Any = None) -> int:
    from twin.ui.app_shell import TwinApp
    from twin.app.model_slot import default_engine_factory

    paths = resolve_paths()
    while True:
        shell = TwinApp(app, paths, settings, engine_factory=fake_engine_factory if options.fake else default_engine_factory,
                        hotkey=not options.no_hotkey, vault=vault)
        app.aboutToQuit.connect(shell.quit)  # the session is ending
        idle = _idle_lock(shell, settings, vault)
        shell.start(show=not options.hidden or bool(options.files))
        if options.files:
            open_files(shell, options.files)
            options.files = []  # once: not again after an idle lock
        handed = _take_handed_over_files(shell, getattr(options, "instance", None))
        await shell.quit_event.wait()
        if handed is not None:
            options.instance.files.disconnect(handed)
        if idle is not None:
            idle.stop()
        await shell.aclose()
        app.aboutToQuit.disconnect(shell.quit)
        if not shell.lock_requested:
            return 0
        # Idle lock: the data is closed (aclose); forget the key, then ask again.
        settings = shell.controller.settings
        vault.lock()
        if not await ask_unlock(vault):
            return 0


def open_files(shell: Any, names: Sequence[str]) -> None:
    """Files and folders from the command line: into the window as if dropped on it.

    A name that does not exist is reported in the window (the rest still go in).
    """
    paths = [Path(n).expanduser().absolute() for n in names]
    missing = [p for p in paths if not p.exists()]
    present = [p for p in paths if p.exists()]
    log.info("opened from the command line: %s", ", ".join(map(str, paths)))
    if missing:
        shell.window.documents.report_missing([str(p) for p in missing])
    if present:
        shell.window.documents.dropped(present)


def _take_handed_over_files(shell: Any, server: Any) -> Any:
    """Files another ``twin-gui`` sent (:mod:`twin.ui.single_instance`): window up, files in."""
    if server is None:
        return None

    def take(files: list[str]) -> None:
        shell.window.bring_up()
        if files:
            open_files(shell, files)

    server.files.connect(take)
    return take


def _idle_lock(shell: Any, settings: Settings, vault: Any) -> Any:
    """An IdleWatcher that locks ``shell`` (only with encryption on and a lock time set)."""
    minutes = settings.privacy.lock_after_min
    if vault is None or not vault.unlocked or minutes <= 0:
        return None
    from twin.ui.idle_lock import IdleWatcher

    idle = IdleWatcher(minutes * 60, parent=shell)
    idle.idle.connect(shell.lock)
    return idle


async def ask_unlock(vault: Any) -> bool:
    """Show the unlock dialog without blocking the loop; True once unlocked."""
    from twin.ui.unlock_dialog import UnlockDialog

    dialog = UnlockDialog(vault)
    done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    dialog.finished.connect(lambda code: done.done() or done.set_result(code))
    dialog.open()
    code = await done
    dialog.deleteLater()
    return code == UnlockDialog.DialogCode.Accepted and vault.unlocked


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="twin-gui", description="twin: your personal AI twin (desktop app)")
    p.add_argument("--fake", action="store_true", help="answer with a scripted fake model (demo)")
    p.add_argument("--tray", "--hidden", dest="hidden", action="store_true",
                   help="start hidden in the tray (memory keeps indexing); the tray icon opens the window")
    p.add_argument("--no-hotkey", action="store_true", help="do not register the global hotkey")
    p.add_argument("-v", "--verbose", action="count", default=0)
    p.add_argument("files", nargs="*", metavar="FILE",
                   help="documents or folders to add to the memory (as if dropped on the window)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    code = dispatch(["twin-gui", *args])  # a helper process (`--helper NAME`, multiprocessing's child)
    if code is not None:
        return code
    options = parse_args(args)
    enforce_offline()
    install_network_guard()  # every connection attempt is recorded and blocked, except a download
    from twin.ui.priority import tune_for_gui

    tune_for_gui()  # fewer math threads (before torch loads), a shorter GIL switch interval
    paths = resolve_paths()
    setup_logging(paths.log_file, options.verbose)
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("twin")
    app.setDesktopFileName("twin")
    app.setQuitOnLastWindowClosed(False)  # the tray keeps it alive; Quit ends it
    from twin.ui.theme import app_icon

    app.setWindowIcon(app_icon())
    from twin.ui.collector import GuiCollector

    collector = GuiCollector(app)  # reference cycles are collected on this thread only
    collector.start()
    try:
        return _run(app, paths, options)
    finally:
        collector.stop()


def _run(app: Any, paths: Any, options: argparse.Namespace) -> int:
    import qasync
    from PySide6.QtWidgets import QMessageBox

    from twin.ui.single_instance import InstanceServer, forward, server_name

    instance = server_name(paths.config_dir)
    if forward(instance, options.files):  # a window is running: it takes the files
        log.info("handed %d file(s) to the running window", len(options.files))
        return 0
    options.instance = InstanceServer(instance)
    from PySide6.QtCore import QCoreApplication

    from twin.ui import i18n

    i18n.install("auto", paths.cache_dir)  # the system's language until the settings are read
    try:
        settings = load_settings(paths.settings_file)
    except ConfigError as e:
        QMessageBox.critical(None, "twin", QCoreApplication.translate(
            "main", "The settings file cannot be used:\n\n{error}\n\nFix or delete {file} and start again.")
            .format(error=i18n.shown(e), file=paths.settings_file))
        options.instance.close()
        return e.exit_code
    i18n.install(settings.ui.language, paths.cache_dir)  # before the first window is built
    from twin.app.vault_service import Vault

    vault = Vault(paths)
    if vault.enabled:  # encrypted: unlock before anything opens the data
        from twin.ui.unlock_dialog import UnlockDialog

        if UnlockDialog(vault).exec() != UnlockDialog.DialogCode.Accepted:
            options.instance.close()
            return 0
    threading.Thread(target=_warm_up_renderer, name="twin-warm-up", daemon=True).start()
    try:
        with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
            code = runner.run(run_app(app, settings, options, vault))
    finally:
        options.instance.close()
    log.info("bye")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
