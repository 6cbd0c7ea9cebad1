"""SettingsDialog: model, persona, memory and app preferences, validated before saving.

Validation is the settings module's own: the edited settings are rendered to TOML and read
back with ``load_settings`` (types, ranges, the ``[llm]``/``[chat]`` checks), so the dialog
can never save a file the app would refuse at the next start. Errors are shown inline and
the dialog stays open. A model file's metadata (name, architecture, layers, context, chat
template) is read from its GGUF header off the GUI thread as soon as it is chosen.

Values replaced by an environment variable (e.g. ``TWIN_MODEL``) are shown read-only.

Signals:
    saved(object, dict): the validated :class:`Settings` and the window preferences
        (``close_to_tray``, ``hotkey``, ``theme``, ``drop_mode``).
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from twin.app.model_files import describe
from twin.errors import ConfigError, KnownError
from twin.paths import Paths
from twin.settings import Settings, load_settings, render_settings
from twin.ui.controller import in_thread
from twin.ui.ui_state import UiState


def validate(settings: Settings, paths: Paths) -> Settings:
    """``settings`` as the app would load them, or ConfigError naming the bad value."""
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    tmp = paths.config_dir / ".settings-check.toml"
    try:
        tmp.write_text(render_settings(settings), encoding="utf-8")
        checked = load_settings(tmp, env=dict(os.environ))
    finally:
        tmp.unlink(missing_ok=True)
    return checked


def describe_gguf(path: str) -> str:
    """A one-paragraph summary of a GGUF (``model_files.describe``: the header only)."""
    m = describe(path)
    if m.error:
        return f"⚠ {m.error}"
    template = "chat template ✓" if m.chat_template else "no chat template (used as a base model)"
    kv = f" · KV cache {m.kv_bytes_per_token / 1024:.0f} KiB/token" if m.kv_bytes_per_token else ""
    quant = f" {m.quant}" if m.quant else ""
    return (f"<b>{m.name}</b>{quant} · {m.architecture} · {m.n_layer} layers · trained context "
            f"{m.context_length:,} · {m.size_bytes / 1e9:.1f} GB{kv} · {template}")


class SettingsDialog(QDialog):
    saved = Signal(object, dict)

    def __init__(self, settings: Settings, paths: Paths, ui_state: UiState, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.resize(640, 560)
        self.settings = settings
        self.paths = paths
        self.ui_state = ui_state
        layout = QVBoxLayout(self)
        self.tabs = QTabWidget()
        layout.addWidget(self.tabs, 1)
        self._model_tab(settings)
        self._persona_tab(settings)
        self._memory_tab(settings)
        self._app_tab(ui_state)
        self.error = QLabel(objectName="Banner", wordWrap=True)
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.meta_task: Any = None

    # -- tabs -------------------------------------------------------------------------------

    def _model_tab(self, s: Settings) -> None:
        tab = QWidget()
        form = QFormLayout(tab)
        row = QHBoxLayout()
        self.model_path = QLineEdit(s.llm.model_path, placeholderText="…/Qwen3-30B-A3B-Q6_K.gguf")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_model)
        row.addWidget(self.model_path, 1)
        row.addWidget(browse)
        form.addRow("Model file", row)
        if "llm.model_path" in s.env_overrides:
            self.model_path.setReadOnly(True)
            self.model_path.setToolTip("Set by the TWIN_MODEL environment variable")
            browse.setEnabled(False)
        self.model_meta = QLabel(objectName="Muted", wordWrap=True)
        form.addRow("", self.model_meta)
        self.model_path.editingFinished.connect(self.read_model_meta)
        self.gpu_layers = QSpinBox(minimum=-1, maximum=999, value=s.llm.n_gpu_layers)
        self.gpu_layers.setSpecialValueText("all (-1)")
        self.gpu_layers.setToolTip("Layers offloaded to the GPU: all, or fewer to save VRAM; 0 = CPU only")
        form.addRow("GPU layers", self.gpu_layers)
        self.n_ctx = QSpinBox(minimum=0, maximum=1_048_576, singleStep=1024, value=s.llm.n_ctx)
        self.n_ctx.setToolTip("Context window in tokens (clamped to the model's trained context)")
        form.addRow("Context", self.n_ctx)
        self.thinking = QCheckBox("Let reasoning models think before answering (new conversations)")
        self.thinking.setChecked(s.chat.thinking)
        form.addRow("Thinking", self.thinking)
        self.tabs.addTab(tab, "Model")
        self.read_model_meta()

    def _persona_tab(self, s: Settings) -> None:
        tab = QWidget()
        form = QFormLayout(tab)
        self.user_name = QLineEdit(s.chat.user_name, placeholderText="How the twin calls you")
        form.addRow("Your name", self.user_name)
        self.persona_mode = QComboBox()
        self.persona_mode.addItem("Speaks as me (first person)", "me")
        self.persona_mode.addItem("An assistant who knows me", "assistant")
        self.persona_mode.setCurrentIndex(max(0, self.persona_mode.findData(s.chat.persona_mode)))
        form.addRow("Mode", self.persona_mode)
        self.persona = QPlainTextEdit(s.chat.persona)
        form.addRow("Persona", self.persona)
        self.tabs.addTab(tab, "Persona")

    def _memory_tab(self, s: Settings) -> None:
        tab = QWidget()
        form = QFormLayout(tab)
        self.sources = QListWidget()
        self.sources.addItems(s.memory.sources)
        buttons = QHBoxLayout()
        add = QPushButton("Add folder…")
        add.clicked.connect(self._add_source)
        remove = QPushButton("Remove")
        remove.clicked.connect(lambda: [self.sources.takeItem(self.sources.row(i)) for i in self.sources.selectedItems()])
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        box = QVBoxLayout()
        box.addWidget(self.sources)
        box.addLayout(buttons)
        form.addRow("Folders", box)
        self.embedding = QLineEdit(s.embedding.model)
        self.embedding.setToolTip("A sentence-transformers model name or a local folder; changing it re-embeds everything")
        form.addRow("Embedding model", self.embedding)
        self.exclude = QPlainTextEdit("\n".join(s.memory.exclude))
        self.exclude.setPlaceholderText("One pattern per line, e.g. private/**  or  *.draft.md")
        self.exclude.setMaximumHeight(100)
        form.addRow("Skip", self.exclude)
        self.tabs.addTab(tab, "Memory")

    def _app_tab(self, ui: UiState) -> None:
        tab = QWidget()
        form = QFormLayout(tab)
        self.close_to_tray = QCheckBox("Keep running in the tray when the window is closed")
        self.close_to_tray.setChecked(ui.close_to_tray)
        form.addRow("Closing", self.close_to_tray)
        self.hotkey = QLineEdit(ui.hotkey, placeholderText="<ctrl>+<alt>+space (empty: off)")
        form.addRow("Quick-ask hotkey", self.hotkey)
        self.theme = QComboBox()
        for label, value in (("Follow the system", "system"), ("Light", "light"), ("Dark", "dark")):
            self.theme.addItem(label, value)
        self.theme.setCurrentIndex(max(0, self.theme.findData(ui.theme)))
        form.addRow("Theme", self.theme)
        self.drop_mode = QComboBox()
        for label, value in (("Ask me", ""), ("Copy into twin's inbox", "copy"), ("Index where they are", "in_place")):
            self.drop_mode.addItem(label, value)
        self.drop_mode.setCurrentIndex(max(0, self.drop_mode.findData(ui.drop_mode)))
        form.addRow("Dropped documents", self.drop_mode)
        self.tabs.addTab(tab, "App")

    # -- actions ----------------------------------------------------------------------------

    def _browse_model(self) -> None:
        start = str(Path(self.model_path.text()).parent) if self.model_path.text() else str(self.paths.models_dir)
        path, _ = QFileDialog.getOpenFileName(self, "Choose a GGUF model", start, "GGUF models (*.gguf)")
        if path:
            self.model_path.setText(path)
            self.read_model_meta()

    def _add_source(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of notes")
        if folder:
            self.sources.addItem(folder)

    def read_model_meta(self) -> None:
        path = self.model_path.text().strip()
        if not path:
            self.model_meta.setText("No model chosen: memory search works; chatting needs a model.")
            return
        self.model_meta.setText("Reading the model file…")
        try:
            import asyncio

            asyncio.get_running_loop()
        except RuntimeError:  # no loop (a synchronous caller): read here, it is a header only
            self._show_meta(path)
            return
        self.meta_task = asyncio.ensure_future(self._read_meta(path))

    async def _read_meta(self, path: str) -> None:
        try:
            text = await in_thread(describe_gguf, path, name="twin-gguf-meta")
        except KnownError as e:
            text = f"⚠ {e}"
        if self.model_path.text().strip() == path:
            self.model_meta.setText(text)

    def _show_meta(self, path: str) -> None:
        try:
            self.model_meta.setText(describe_gguf(path))
        except KnownError as e:
            self.model_meta.setText(f"⚠ {e}")

    def edited(self) -> Settings:
        """The settings as edited (not yet validated)."""
        s = copy.deepcopy(self.settings)
        if "llm.model_path" not in s.env_overrides:
            s.llm.model_path = self.model_path.text().strip()
        s.llm.n_gpu_layers = self.gpu_layers.value()
        s.llm.n_ctx = self.n_ctx.value()
        s.chat.thinking = self.thinking.isChecked()
        s.chat.user_name = self.user_name.text().strip()
        s.chat.persona_mode = str(self.persona_mode.currentData())
        s.chat.persona = self.persona.toPlainText().strip()
        s.memory.sources = [self.sources.item(i).text() for i in range(self.sources.count())]
        s.memory.exclude = [line.strip() for line in self.exclude.toPlainText().splitlines() if line.strip()]
        if "embedding.model" not in s.env_overrides:
            s.embedding.model = self.embedding.text().strip() or s.embedding.model
        return s

    def preferences(self) -> dict[str, Any]:
        return {"close_to_tray": self.close_to_tray.isChecked(), "hotkey": self.hotkey.text().strip(),
                "theme": str(self.theme.currentData()), "drop_mode": str(self.drop_mode.currentData())}

    def save(self) -> bool:
        try:
            checked = validate(self.edited(), self.paths)
            missing = [f for f in checked.memory.sources if not Path(f).expanduser().is_dir()]
            if missing:
                raise ConfigError("Folder not found: " + ", ".join(missing))
        except ConfigError as e:
            self.error.setText(f"Not saved: {e}")
            self.error.show()
            return False
        self.error.hide()
        self.saved.emit(checked, self.preferences())
        self.accept()
        return True
