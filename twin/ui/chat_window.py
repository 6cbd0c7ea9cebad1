"""ChatWindow: the main window — conversations, the chat, sources and memory side by side.

Layout: ConversationList | ChatPane | (Sources, Memory) tabs, with a status bar for the model
(name, GPU/CPU, layers, context) and the memory. It shows at once; the model and the memory
engine load in the background and report into the banner and status bar.

Closing hides to the tray when there is one and the user wants it (UiState.close_to_tray);
otherwise it quits. Geometry, splitter sizes and the open conversation are remembered.

Signals:
    settings_requested(): open the settings dialog.
    quick_ask_requested(): open the quick-ask popup.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDesktopServices,
    QKeySequence,
    QShortcut,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QSplitter,
    QTabWidget,
    QWidget,
)

from twin.core.prompt.citations import Citation, cited_numbers
from twin.core.types import Hit
from twin.ui.chat_pane import ChatPane
from twin.ui.controller import Controller
from twin.ui.conversation_list import ConversationList
from twin.ui.documents_flow import DocumentsFlow
from twin.ui.drop_zone import DropZone
from twin.ui.markdown_render import MarkdownRenderer
from twin.ui.memory_panel import MemoryPanel
from twin.ui.message_bubble import MessageBubble
from twin.ui.source_viewer import SourceViewer, encrypted_hint
from twin.ui.sources_panel import SourcesPanel
from twin.ui.theme import app_icon
from twin.ui.ui_state import UiState

log = logging.getLogger("twin.ui")


class ChatWindow(QMainWindow):
    settings_requested = Signal()
    quick_ask_requested = Signal()

    def __init__(self, controller: Controller, ui_state: UiState, *, tray_available: bool = False,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.ui_state = ui_state
        self.tray_available = tray_available
        self.dark = False
        self.quitting = False
        self.setWindowTitle("twin")
        self.setWindowIcon(app_icon())
        self.resize(1280, 820)
        self.renderer = MarkdownRenderer()
        self.viewer: SourceViewer | None = None

        self.conversations = ConversationList(controller.history)
        self.pane = ChatPane(controller, self.renderer)
        self.sources = SourcesPanel()
        self.memory_panel = MemoryPanel(controller)
        self.side = QTabWidget(objectName="SidePanel")
        self.side.addTab(self.sources, self.tr("Sources"))
        self.side.addTab(self.memory_panel, self.tr("Memory"))
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        for w in (self.conversations, self.pane, self.side):
            self.splitter.addWidget(w)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([250, 720, 330])
        self.splitter.setChildrenCollapsible(False)
        self.setCentralWidget(self.splitter)

        self.model_status = QLabel()
        self.model_bar = QProgressBar(maximumWidth=140, textVisible=False)
        self.model_bar.setRange(0, 100)
        self.memory_status = QLabel()
        self.memory_bar = QProgressBar(maximumWidth=120, textVisible=False)
        sb = self.statusBar()
        sb.addWidget(self.model_status, 1)
        sb.addWidget(self.model_bar)
        sb.addPermanentWidget(self.memory_status)
        sb.addPermanentWidget(self.memory_bar)

        self.drop_zone = DropZone(self)
        self.documents = DocumentsFlow(self, controller, ui_state, self.pane.composer)
        self.drop_zone.dropped.connect(self.documents.dropped)

        self.conversations.conversation_selected.connect(self.open_conversation)
        self.conversations.new_requested.connect(self.new_chat)
        self.conversations.rename_requested.connect(controller.rename)
        self.conversations.delete_requested.connect(self._delete)
        self.pane.conversation_changed.connect(self._conversation_changed)
        self.pane.answer_selected.connect(self._show_sources)
        self.pane.citation_clicked.connect(self._citation)
        self.pane.settings_requested.connect(self.settings_requested)
        self.sources.open_requested.connect(self.show_citation)
        self.sources.open_external.connect(self._open_external)
        self.memory_panel.hit_activated.connect(self.show_hit)
        self.memory_panel.add_folder_requested.connect(self._ask_folder)
        # queued: a rename arrives from inside the list's own itemChanged signal
        controller.conversations_changed.connect(self._refresh_conversations, Qt.ConnectionType.QueuedConnection)
        controller.status_changed.connect(self._update_status)
        controller.show_conversation.connect(self.show_conversation)
        controller.model.progress.connect(lambda _f: self._update_status())
        controller.memory.progress.connect(self._memory_progress)
        self._build_menus()
        self._restore()
        self._update_status()

    # -- menus and shortcuts ----------------------------------------------------------------

    def _build_menus(self) -> None:
        def action(menu, text: str, slot, shortcut: str | QKeySequence | None = None) -> QAction:
            a = QAction(text, self)
            a.triggered.connect(lambda _checked=False: slot())
            if shortcut:
                a.setShortcut(QKeySequence(shortcut))
                a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            menu.addAction(a)
            return a

        bar = self.menuBar()
        f = bar.addMenu(self.tr("&File"))
        self.new_action = action(f, self.tr("New chat"), self.new_chat, "Ctrl+N")
        action(f, self.tr("Quick ask…"), self.quick_ask_requested.emit)
        action(f, self.tr("Add documents…"), self._ask_documents)
        f.addSeparator()
        self.settings_action = action(f, self.tr("Settings…"), self.settings_requested.emit, "Ctrl+,")
        f.addSeparator()
        action(f, self.tr("Quit"), self.controller.quit_requested.emit, QKeySequence.StandardKey.Quit)
        e = bar.addMenu(self.tr("&Edit"))
        self.find_action = action(e, self.tr("Find conversation"), self.conversations.focus_search, "Ctrl+F")
        self.stop_action = action(e, self.tr("Stop answering"), self.pane.stop)
        v = bar.addMenu(self.tr("&View"))
        toggle = self.side.toggleViewAction() if hasattr(self.side, "toggleViewAction") else None
        if toggle is None:
            action(v, self.tr("Show side panel"), lambda: self.side.setVisible(not self.side.isVisible()), "Ctrl+B")
        action(v, self.tr("Memory panel"), lambda: self.side.setCurrentWidget(self.memory_panel), "Ctrl+M")
        h = bar.addMenu(self.tr("&Help"))
        action(h, self.tr("About twin"), self._about)
        # Esc stops generation anywhere in the window (the composer also handles it)
        esc = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        esc.activated.connect(self.pane.stop)

    # -- conversations ----------------------------------------------------------------------

    def open_conversation(self, cid: str | None) -> None:
        self.pane.open_conversation(cid)

    def new_chat(self) -> None:
        self.pane.new_chat()

    def show_conversation(self, cid: str) -> None:
        """Bring the window up on ``cid`` (from the quick-ask popup or the tray)."""
        self.conversations.refresh()
        self.open_conversation(cid)
        self.bring_up()

    def bring_up(self) -> None:
        self.show()
        self.setWindowState((self.windowState() & ~Qt.WindowState.WindowMinimized) | Qt.WindowState.WindowActive)
        self.raise_()
        self.activateWindow()

    def _conversation_changed(self, cid: object) -> None:
        self.conversations.set_current(cid if isinstance(cid, str) else None)
        self.ui_state.last_conversation = cid if isinstance(cid, str) else ""
        if cid is None:
            self.sources.show_citations([])

    def _refresh_conversations(self) -> None:
        if not self.controller.closed:  # a queued refresh may arrive after shutdown
            self.conversations.refresh()

    def _delete(self, cid: str) -> None:
        if cid == self.pane.conversation_id:
            self.new_chat()
        self.controller.tasks.spawn(self.controller.delete(cid), name=f"delete:{cid}")

    # -- sources ----------------------------------------------------------------------------

    def _show_sources(self, bubble: MessageBubble) -> None:
        self.sources.show_citations(bubble.citations, bubble.memories, cited_numbers(bubble.text))

    def _citation(self, bubble: MessageBubble, n: int) -> None:
        self.pane.view.select(bubble)
        self.side.setCurrentWidget(self.sources)
        citation = next((c for c in bubble.citations if c.n == n), None)
        if citation is not None:
            self.show_citation(citation)

    def show_citation(self, c: Citation) -> None:
        self._viewer().setWindowTitle(self.tr("Source [{n}]").format(n=c.n))
        self.controller.tasks.spawn(self._viewer().show_source(c.path, c.start_line, c.end_line, c.heading),
                                    name="viewer")

    def show_hit(self, hit: Hit) -> None:
        self._viewer().setWindowTitle(self.tr("Memory"))
        self.controller.tasks.spawn(self._viewer().show_source(hit.path, hit.start_line, hit.end_line, hit.heading),
                                    name="viewer")

    def _viewer(self) -> SourceViewer:
        if self.viewer is None:
            from twin.app.sealed_files import SealedFiles

            decode = SealedFiles(self.controller.vault).decode
            self.viewer = SourceViewer(self, dark=self.dark, decode=decode, background=self.controller.app.background)
        return self.viewer

    def _open_external(self, path: str) -> None:
        """Open in the user's editor; a file twin encrypted goes to the in-app viewer instead."""
        from twin.core.memory.documents import is_sealed

        if is_sealed(path):
            viewer = self._viewer()

            async def show() -> None:
                await viewer.show_source(path, 0, 0)
                viewer.where.setText(encrypted_hint())

            self.controller.tasks.spawn(show(), name="viewer")
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(path))

    # -- memory and documents ---------------------------------------------------------------

    def _ask_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Add a folder of notes"))
        if folder:
            self.memory_panel.add_folder(folder)

    def _ask_documents(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, self.tr("Add documents"), str(Path.home()),
                                                self.tr("Documents (*.md *.markdown *.txt *.pdf *.docx *.html *.htm)"))
        if files:
            self.documents.dropped([Path(f) for f in files])

    def _memory_progress(self, p) -> None:
        if p.phase == "done":
            self.memory_bar.hide()
        else:
            self.memory_bar.show()
            self.memory_bar.setRange(0, max(1, p.total) if p.phase == "index" else 0)
            self.memory_bar.setValue(p.done)
        self._update_status()

    # -- status -----------------------------------------------------------------------------

    def _update_status(self) -> None:
        m = self.controller.model
        self.model_status.setText(m.status_text())
        self.model_status.setToolTip(m.status_detail())
        self.model_bar.setVisible(not m.is_ready and not m.error)
        self.model_bar.setValue(int(m.fraction * 100))
        self.memory_status.setText(self.controller.memory_status_text())
        if not self.controller.memory.busy:
            self.memory_bar.hide()

    def set_dark(self, dark: bool) -> None:
        self.dark = dark
        self.pane.view.set_dark(dark)
        if self.viewer is not None:
            self.viewer.dark = dark

    def _about(self) -> None:
        from twin import __version__

        QMessageBox.about(self, self.tr("About twin"),
                          f"<b>twin {__version__}</b><p>" + self.tr(
                              "Your personal AI twin. It answers from your own diaries and notes, with "
                              "sources, and everything stays on this computer.") + "</p>")

    # -- geometry and closing ---------------------------------------------------------------

    def _restore(self) -> None:
        geometry, state, splitter = self.ui_state.geometry(), self.ui_state.window_state(), self.ui_state.splitter()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        if splitter is not None:
            self.splitter.restoreState(splitter)

    def save_layout(self) -> None:
        self.ui_state.save_window(self.saveGeometry(), self.saveState(), self.splitter.saveState())
        self.ui_state.sync()

    def reopen_last(self) -> None:
        """List the conversations and open the last one shown (both read on the pool; one that
        is gone leaves a new chat)."""
        self.conversations.refresh()
        self.open_conversation(self.ui_state.last_conversation or None)

    def shutdown(self) -> None:
        """The app is quitting: save the layout, stop reading the closing stores."""
        self.quitting = True
        self.save_layout()
        self.conversations.active = False
        self.conversations._search_timer.stop()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_layout()
        if not self.quitting and self.tray_available and self.ui_state.close_to_tray:
            event.ignore()
            self.hide()
            return
        event.accept()
        if not self.quitting:
            self.controller.quit_requested.emit()
