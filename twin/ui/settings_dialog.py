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

from twin.errors import ConfigError, KnownError
from twin.paths import Paths
from twin.settings import Settings, load_settings, render_settings
from twin.app.background import Background
from twin.ui.jobs import off_gui
from twin.ui.gguf_summary import describe_gguf, lora_problem
from twin.ui.i18n import shown
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


class SettingsDialog(QDialog):
    saved = Signal(object, dict)

    def __init__(self, settings: Settings, paths: Paths, ui_state: UiState, parent: QWidget | None = None, *,
                 background: Background | None = None):
        super().__init__(parent)
        # The app's pool for reading a GGUF's header (None: a pool of its own per job).
        self.background = background
        self.setWindowTitle(self.tr("Settings"))
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

        self.encryption = EncryptionBox(paths, background=self.background)
        self.tabs.addTab(self.encryption, self.tr("Privacy"))
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
        self._backend_rows(form, s)
        row = QHBoxLayout()
        self.model_path = QLineEdit(s.llm.model_path, placeholderText="…/Qwen3-30B-A3B-Q6_K.gguf")
        browse = QPushButton(self.tr("Browse…"))
        browse.clicked.connect(self._browse_model)
        row.addWidget(self.model_path, 1)
        row.addWidget(browse)
        models = QPushButton(self.tr("Models…"))
        models.setToolTip(self.tr("Models that fit this computer, files found on it, downloads"))
        models.clicked.connect(self.open_models)
        row.addWidget(models)
        form.addRow(self.tr("Model file"), row)
        if "llm.model_path" in s.env_overrides:
            self.model_path.setReadOnly(True)
            self.model_path.setToolTip(self.tr("Set by the TWIN_MODEL environment variable"))
            browse.setEnabled(False)
            models.setEnabled(False)
        self.model_meta = QLabel(objectName="Muted", wordWrap=True)
        form.addRow("", self.model_meta)
        self.model_path.editingFinished.connect(self.read_model_meta)
        # -2 stands for "auto" (the spin box's special value); -1 = all layers
        layers = s.llm.n_gpu_layers
        self.gpu_layers = QSpinBox(minimum=-2, maximum=999, value=layers if isinstance(layers, int) else -2)
        self.gpu_layers.setSpecialValueText(self.tr("auto (as many as fit)"))
        self.gpu_layers.setToolTip(self.tr("Layers offloaded to the GPU: auto (as many as fit the free VRAM), "
                                            "-1 = all, fewer to save VRAM, 0 = CPU only"))
        form.addRow(self.tr("GPU layers"), self.gpu_layers)
        self.n_ctx = QSpinBox(minimum=0, maximum=1_048_576, singleStep=1024, value=s.llm.n_ctx)
        self.n_ctx.setToolTip(self.tr("Context window in tokens (clamped to the model's trained context)"))
        form.addRow(self.tr("Context"), self.n_ctx)
        self.thinking = QCheckBox(self.tr("Let reasoning models think before answering (new conversations)"))
        self.thinking.setChecked(s.chat.thinking)
        form.addRow(self.tr("Thinking"), self.thinking)
        self._lora_rows(form, s)
        self.tabs.addTab(tab, self.tr("Model"))
        self.read_model_meta()
        self._backend_changed()

    def _backend_rows(self, form: QFormLayout, s: Settings) -> None:
        """Where the model runs: a GGUF file here, or an OpenAI-compatible server (twin.ui.endpoint_box)."""
        from twin.ui.endpoint_box import EndpointBox

        self.model_form = form
        self.backend = QComboBox()
        self.backend.addItem(self.tr("On this computer (a GGUF file)"), "llama")
        self.backend.addItem(self.tr("On a server (OpenAI-compatible: llama-server, vLLM, Ollama)"), "openai")
        self.backend.setCurrentIndex(max(0, self.backend.findData(s.llm.backend)))
        form.addRow(self.tr("Model runs"), self.backend)
        self.endpoint = EndpointBox(s, background=self.background)
        form.addRow(self.endpoint)
        self.backend.currentIndexChanged.connect(lambda _i: self._backend_changed())

    def _backend_changed(self) -> None:
        """Show the server's fields, or the local model's (file, GPU layers, LoRA)."""
        server = self.backend.currentData() == "openai"
        local = [self.model_path, self.model_meta, self.gpu_layers, self.lora_path, self.lora_meta]
        form = self.model_form
        for r in range(form.rowCount()):
            item = form.itemAt(r, QFormLayout.ItemRole.FieldRole)
            inner = item.layout() if item is not None else None
            widget = item.widget() if item is not None else None
            if widget in local or (inner is not None and any(inner.indexOf(w) >= 0 for w in local)):
                form.setRowVisible(r, not server)
        form.setRowVisible(self.endpoint, server)

    def _lora_rows(self, form: QFormLayout, s: Settings) -> None:
        """LoRA adapter: a GGUF file, its strength, and a switch (docs/FINETUNE.md)."""
        row = QHBoxLayout()
        self.lora_enabled = QCheckBox(self.tr("On"))
        self.lora_enabled.setChecked(s.llm.lora_enabled)
        self.lora_path = QLineEdit(s.llm.lora_path, placeholderText=self.tr("none (a LoRA adapter .gguf)"))
        self.lora_browse = QPushButton(self.tr("Browse…"))
        self.lora_browse.clicked.connect(self._browse_lora)
        self.lora_scale = QDoubleSpinBox(minimum=0.0, maximum=4.0, singleStep=0.1, decimals=2, value=s.llm.lora_scale)
        self.lora_scale.setToolTip(self.tr("Strength: 0 = off, 1 = as trained"))
        row.addWidget(self.lora_enabled)
        row.addWidget(self.lora_path, 1)
        row.addWidget(self.lora_browse)
        row.addWidget(QLabel(self.tr("Scale")))
        row.addWidget(self.lora_scale)
        form.addRow(self.tr("LoRA adapter"), row)
        if "llm.lora_path" in s.env_overrides:
            self.lora_path.setReadOnly(True)
            self.lora_path.setToolTip(self.tr("Set by the TWIN_LORA environment variable"))
            self.lora_browse.setEnabled(False)
        self.lora_meta = QLabel(objectName="Muted", wordWrap=True)
        form.addRow("", self.lora_meta)
        self.lora_path.editingFinished.connect(self.read_lora_meta)
        self.lora_enabled.toggled.connect(lambda _on: self.read_lora_meta())
        self.read_lora_meta()

    def _persona_tab(self, s: Settings) -> None:
        tab = QWidget()
        form = QFormLayout(tab)
        self.user_name = QLineEdit(s.chat.user_name, placeholderText=self.tr("How the twin calls you"))
        form.addRow(self.tr("Your name"), self.user_name)
        self.persona_mode = QComboBox()
        self.persona_mode.addItem(self.tr("Speaks as me (first person)"), "me")
        self.persona_mode.addItem(self.tr("An assistant who knows me"), "assistant")
        self.persona_mode.setCurrentIndex(max(0, self.persona_mode.findData(s.chat.persona_mode)))
        form.addRow(self.tr("Mode"), self.persona_mode)
        self.persona = QPlainTextEdit(s.chat.persona)
        form.addRow(self.tr("Persona"), self.persona)
        self.profile_schedule = QComboBox()
        self.profile_schedule.addItem(self.tr("Only when I ask (twin profile build)"), "manual")
        self.profile_schedule.addItem(self.tr("Daily, in the background"), "daily")
        self.profile_schedule.addItem(self.tr("Weekly, in the background"), "weekly")
        self.profile_schedule.setCurrentIndex(max(0, self.profile_schedule.findData(s.profile.schedule)))
        self.profile_schedule.setToolTip(self.tr("Reading your diaries into a profile is heavy: it runs while the "
                                                 "model is idle and stops for your questions."))
        form.addRow(self.tr("Self-profile"), self.profile_schedule)
        self.tabs.addTab(tab, self.tr("Persona"))

    def _memory_tab(self, s: Settings) -> None:
        tab = QWidget()
        form = QFormLayout(tab)
        self.sources = QListWidget()
        self.sources.addItems(s.memory.sources)
        buttons = QHBoxLayout()
        add = QPushButton(self.tr("Add folder…"))
        add.clicked.connect(self._add_source)
        remove = QPushButton(self.tr("Remove"))
        remove.clicked.connect(lambda: [self.sources.takeItem(self.sources.row(i)) for i in self.sources.selectedItems()])
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        box = QVBoxLayout()
        box.addWidget(self.sources)
        box.addLayout(buttons)
        form.addRow(self.tr("Folders"), box)
        self.embedding = QLineEdit(s.embedding.model)
        self.embedding.setToolTip(self.tr("A sentence-transformers model name or a local folder; changing it re-embeds everything"))
        form.addRow(self.tr("Embedding model"), self.embedding)
        from twin.ui.model_page import EmbeddingDownload

        self.embedding_download = EmbeddingDownload(s.embedding.model, self.paths.cache_dir)
        form.addRow("", self.embedding_download)
        self.exclude = QPlainTextEdit("\n".join(s.memory.exclude))
        self.exclude.setPlaceholderText(self.tr("One pattern per line, e.g. private/**  or  *.draft.md"))
        self.exclude.setMaximumHeight(100)
        form.addRow(self.tr("Skip"), self.exclude)
        self.tabs.addTab(tab, self.tr("Memory"))

    def _app_tab(self, ui: UiState) -> None:
        tab = QWidget()
        form = QFormLayout(tab)
        self.close_to_tray = QCheckBox(self.tr("Keep running in the tray when the window is closed"))
        self.close_to_tray.setChecked(ui.close_to_tray)
        form.addRow(self.tr("Closing"), self.close_to_tray)
        self.hotkey = QLineEdit(ui.hotkey, placeholderText=self.tr("<ctrl>+<alt>+space (empty: off)"))
        form.addRow(self.tr("Quick-ask hotkey"), self.hotkey)
        self.theme = QComboBox()
        for label, value in ((self.tr("Follow the system"), "system"), (self.tr("Light"), "light"), (self.tr("Dark"), "dark")):
            self.theme.addItem(label, value)
        self.theme.setCurrentIndex(max(0, self.theme.findData(ui.theme)))
        form.addRow(self.tr("Theme"), self.theme)
        self.drop_mode = QComboBox()
        for label, value in ((self.tr("Ask me"), ""), (self.tr("Copy into twin's inbox"), "copy"),
                             (self.tr("Index where they are"), "in_place")):
            self.drop_mode.addItem(label, value)
        self.drop_mode.setCurrentIndex(max(0, self.drop_mode.findData(ui.drop_mode)))
        form.addRow(self.tr("Dropped documents"), self.drop_mode)
        self._language_row(form)
        self.network = QLabel(objectName="Muted", wordWrap=True)
        self.network.setToolTip(self.tr("twin connects to nothing, except a model download that you start and confirm"))
        form.addRow(self.tr("Network"), self.network)
        self.refresh_network_status()
        self.tabs.addTab(tab, self.tr("App"))

    def _language_row(self, form: QFormLayout) -> None:
        """``ui.language``: the system's, English or Russian; applied when the window restarts."""
        self.language = QComboBox()
        # each language is named in itself, as language menus do
        for label, value in ((self.tr("Follow the system"), "auto"), ("English", "en"), ("Русский", "ru")):
            self.language.addItem(label, value)
        self.language.setCurrentIndex(max(0, self.language.findData(self.settings.ui.language)))
        box = QVBoxLayout()
        box.addWidget(self.language)
        self.language_note = QLabel(self.tr("A new language applies when twin restarts."), objectName="Muted",
                                    wordWrap=True)
        box.addWidget(self.language_note)
        form.addRow(self.tr("Language"), box)

    def refresh_network_status(self) -> None:
        """Show what the network guard saw, in plain words (``twin.offline.network_status``)."""
        from twin.offline import network_status

        status = network_status()
        # the two everyday states in the window's language (a download's or a server's details stay as logged)
        known = {"offline: no connection has been made": self.tr("offline: no connection has been made"),
                 "offline switches are set, but connections are not watched in this process":
                     self.tr("offline switches are set, but connections are not watched in this process")}
        self.network.setText(known.get(status, status))

    # -- actions ----------------------------------------------------------------------------

    def open_models(self) -> None:
        """The model page in a dialog; a chosen or downloaded file becomes the model file."""
        from PySide6.QtWidgets import QDialog, QDialogButtonBox

        from twin.ui.model_page import ModelPage

        dialog = QDialog(self)
        dialog.setWindowTitle(self.tr("Models"))
        lay = QVBoxLayout(dialog)
        page = ModelPage(self.edited(), self.paths, parent=dialog, background=self.background)
        page.model_chosen.connect(lambda path: (self.model_path.setText(path), self.read_model_meta()))
        lay.addWidget(page)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(dialog.reject)
        lay.addWidget(close)
        dialog.resize(860, 640)
        dialog.finished.connect(lambda _r: page.runner.cancel())
        page.refresh()
        dialog.open()
        self.models_dialog, self.model_page = dialog, page

    def _browse_model(self) -> None:
        start = str(Path(self.model_path.text()).parent) if self.model_path.text() else str(self.paths.models_dir)
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Choose a GGUF model"), start, self.tr("GGUF models (*.gguf)"))
        if path:
            self.model_path.setText(path)
            self.read_model_meta()

    def _browse_lora(self) -> None:
        start = str(Path(self.lora_path.text()).parent) if self.lora_path.text() else str(self.paths.models_dir)
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Choose a LoRA adapter"), start, self.tr("GGUF adapters (*.gguf)"))
        if path:
            self.lora_path.setText(path)
            self.read_lora_meta()

    def read_lora_meta(self) -> None:
        """Check the adapter's header against the model's architecture (a small file: read here)."""
        text = lora_problem(self.lora_path.text().strip(), self.model_path.text().strip())
        if not self.lora_path.text().strip():
            text = ""
        elif not text:
            text = self.tr("Adapter ✓") if self.lora_enabled.isChecked() else self.tr("Adapter ✓ (off: the base model runs alone)")
        else:
            text = f"⚠ {text}"
        self.lora_meta.setText(text)

    def _add_source(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Add a folder of notes"))
        if folder:
            self.sources.addItem(folder)

    def read_model_meta(self) -> None:
        path = self.model_path.text().strip()
        if not path:
            self.model_meta.setText(self.tr("No model chosen: memory search works; chatting needs a model."))
            return
        self.model_meta.setText(self.tr("Reading the model file…"))
        try:
            import asyncio

            asyncio.get_running_loop()
        except RuntimeError:  # no loop (a synchronous caller): read here, it is a header only
            self._show_meta(path)
            return
        self.meta_task = asyncio.ensure_future(self._read_meta(path))

    async def _read_meta(self, path: str) -> None:
        try:
            text = await off_gui(self.background, describe_gguf, path)
        except KnownError as e:
            text = f"⚠ {shown(e)}"
        if self.model_path.text().strip() == path:
            self.model_meta.setText(text)

    def _show_meta(self, path: str) -> None:
        try:
            self.model_meta.setText(describe_gguf(path))
        except KnownError as e:
            self.model_meta.setText(f"⚠ {shown(e)}")

    def edited(self) -> Settings:
        """The settings as edited (not yet validated)."""
        s = copy.deepcopy(self.settings)
        s.llm.backend = str(self.backend.currentData())
        self.endpoint.apply(s)
        if "llm.model_path" not in s.env_overrides:
            s.llm.model_path = self.model_path.text().strip()
        s.llm.n_gpu_layers = "auto" if self.gpu_layers.value() == -2 else self.gpu_layers.value()
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
        s.ui.language = str(self.language.currentData())
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
                raise ConfigError(self.tr("Folder not found: {folders}").format(folders=", ".join(missing)))
            if checked.llm.lora_enabled and checked.llm.lora_path:
                problem = lora_problem(checked.llm.lora_path, checked.llm.model_path)
                if problem:
                    raise ConfigError(problem + " " + self.tr("(or turn the adapter off)"))
        except ConfigError as e:
            self.error.setText(self.tr("Not saved: {error}").format(error=shown(e)))
            self.error.show()
            return False
        self.error.hide()
        self.saved.emit(checked, self.preferences())
        self.accept()
        return True
