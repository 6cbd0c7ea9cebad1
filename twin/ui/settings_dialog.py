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
    QDoubleSpinBox,
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


def lora_problem(lora_path: str, model_path: str) -> str:
    """Why the adapter at ``lora_path`` cannot go on ``model_path``'s model ('' = none)."""
    if not lora_path:
        return ""
    from twin.core.llm.lora import check_adapter

    arch = ""
    if model_path:
        m = describe(model_path)
        arch = "" if m.error else m.architecture
    try:
        check_adapter(lora_path, arch or None)
    except KnownError as e:
        return str(e)
    return ""


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
        from twin.ui.encryption_panel import EncryptionBox

        self.encryption = EncryptionBox(paths)
        self.tabs.addTab(self.encryption, "Privacy")
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
        self._lora_rows(form, s)
        self.tabs.addTab(tab, "Model")
        self.read_model_meta()

    def _lora_rows(self, form: QFormLayout, s: Settings) -> None:
        """LoRA adapter: a GGUF file, its strength, and a switch (docs/FINETUNE.md)."""
        row = QHBoxLayout()
        self.lora_enabled = QCheckBox("On")
        self.lora_enabled.setChecked(s.llm.lora_enabled)
        self.lora_path = QLineEdit(s.llm.lora_path, placeholderText="none (a LoRA adapter .gguf)")
        self.lora_browse = QPushButton("Browse…")
        self.lora_browse.clicked.connect(self._browse_lora)
        self.lora_scale = QDoubleSpinBox(minimum=0.0, maximum=4.0, singleStep=0.1, decimals=2, value=s.llm.lora_scale)
        self.lora_scale.setToolTip("Strength: 0 = off, 1 = as trained")
        row.addWidget(self.lora_enabled)
        row.addWidget(self.lora_path, 1)
        row.addWidget(self.lora_browse)
        row.addWidget(QLabel("Scale"))
        row.addWidget(self.lora_scale)
        form.addRow("LoRA adapter", row)
        if "llm.lora_path" in s.env_overrides:
            self.lora_path.setReadOnly(True)
            self.lora_path.setToolTip("Set by the TWIN_LORA environment variable")
            self.lora_browse.setEnabled(False)
        self.lora_meta = QLabel(objectName="Muted", wordWrap=True)
        form.addRow("", self.lora_meta)
        self.lora_path.editingFinished.connect(self.read_lora_meta)
        self.lora_enabled.toggled.connect(lambda _on: self.read_lora_meta())
        self.read_lora_meta()

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
        self.profile_schedule = QComboBox()
        self.profile_schedule.addItem("Only when I ask (twin profile build)", "manual")
        self.profile_schedule.addItem("Daily, in the background", "daily")
        self.profile_schedule.addItem("Weekly, in the background", "weekly")
        self.profile_schedule.setCurrentIndex(max(0, self.profile_schedule.findData(s.profile.schedule)))
        self.profile_schedule.setToolTip("Reading your diaries into a profile is heavy: it runs while the "
                                         "model is idle and stops for your questions.")
        form.addRow("Self-profile", self.profile_schedule)
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
        self.network = QLabel(objectName="Muted", wordWrap=True)
        self.network.setToolTip("twin connects to nothing, except a model download that you start and confirm")
        form.addRow("Network", self.network)
        self.refresh_network_status()
        self.tabs.addTab(tab, "App")

    def refresh_network_status(self) -> None:
        """Show what the network guard saw, in plain words (``twin.offline.network_status``)."""
        from twin.offline import network_status

        self.network.setText(network_status())

    # -- actions ----------------------------------------------------------------------------

    def _browse_model(self) -> None:
        start = str(Path(self.model_path.text()).parent) if self.model_path.text() else str(self.paths.models_dir)
        path, _ = QFileDialog.getOpenFileName(self, "Choose a GGUF model", start, "GGUF models (*.gguf)")
        if path:
            self.model_path.setText(path)
            self.read_model_meta()

    def _browse_lora(self) -> None:
        start = str(Path(self.lora_path.text()).parent) if self.lora_path.text() else str(self.paths.models_dir)
        path, _ = QFileDialog.getOpenFileName(self, "Choose a LoRA adapter", start, "GGUF adapters (*.gguf)")
        if path:
            self.lora_path.setText(path)
            self.read_lora_meta()

    def read_lora_meta(self) -> None:
        """Check the adapter's header against the model's architecture (a small file: read here)."""
        text = lora_problem(self.lora_path.text().strip(), self.model_path.text().strip())
        if not self.lora_path.text().strip():
            text = ""
        elif not text:
            text = "Adapter ✓" if self.lora_enabled.isChecked() else "Adapter ✓ (off: the base model runs alone)"
        else:
            text = f"⚠ {text}"
        self.lora_meta.setText(text)

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
        if "llm.lora_path" not in s.env_overrides:
            s.llm.lora_path = self.lora_path.text().strip()
        s.llm.lora_scale = round(self.lora_scale.value(), 2)
        s.llm.lora_enabled = self.lora_enabled.isChecked()
        s.chat.user_name = self.user_name.text().strip()
        s.chat.persona_mode = str(self.persona_mode.currentData())
        s.chat.persona = self.persona.toPlainText().strip()
        s.profile.schedule = str(self.profile_schedule.currentData())
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
            if checked.llm.lora_enabled and checked.llm.lora_path:
                problem = lora_problem(checked.llm.lora_path, checked.llm.model_path)
                if problem:
                    raise ConfigError(problem + " (or turn the adapter off)")
        except ConfigError as e:
            self.error.setText(f"Not saved: {e}")
            self.error.show()
            return False
        self.error.hide()
        self.saved.emit(checked, self.preferences())
        self.accept()
        return True
