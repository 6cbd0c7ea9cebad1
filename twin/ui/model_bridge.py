"""ModelBridge: the app's model slot (:class:`twin.app.model_slot.ModelSlot`) as Qt signals.

The slot (built by :class:`twin.app.twin.Twin`) loads the engine and owns the chat service;
this bridge only turns its typed events into signals, which reach widgets through queued
connections (the events come from the loading thread), and words its state for the status
bar in the user's language.

Signals:
    loading(str): a model file started loading (its name).
    progress(float): loading progress, 0…1.
    ready(object): the model is loaded (:class:`ModelInfo`).
    failed(str): the model could not be loaded (a message fit to show), or none is set.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Signal

from twin.app.model_slot import ModelEvent, ModelFailed, ModelLoading, ModelProgress, ModelReady, ModelSlot
from twin.core.llm.engine import ModelInfo
from twin.ui.i18n import num, shown

log = logging.getLogger("twin.ui")

if TYPE_CHECKING:
    from twin.app.chat_service import ChatService
    from twin.core.llm.engine import Engine


def describe(info: ModelInfo) -> str:
    """``Qwen3-30B-A3B · GPU 49/49 layers · ctx 32768`` for the status bar."""
    where = QCoreApplication.translate("ModelBridge", "CPU")
    off = info.offload
    if off is not None and off.offloaded_layers:
        where = QCoreApplication.translate("ModelBridge", "GPU {done}/{total} layers").format(
            done=off.offloaded_layers, total=off.total_layers)
        if off.vram_total_mib:
            where += " " + QCoreApplication.translate("ModelBridge", "({used}/{total} GB VRAM)").format(
                used=num((off.vram_used_mib or 0) / 1024, 1), total=num(off.vram_total_mib / 1024))
    if off is not None and off.auto_reason:
        where += " " + QCoreApplication.translate("ModelBridge", "(auto)")  # why: ModelSlot.status_detail()
    lora = ""
    if info.lora is not None:
        lora = " · " + (info.lora.summary if info.lora.applied else QCoreApplication.translate(
            "ModelBridge", "LoRA not applied: {error}").format(error=shown(info.lora.error)))
    ctx = QCoreApplication.translate("ModelBridge", "ctx {n}").format(n=num(info.n_ctx))
    return f"{info.name or Path(info.path).name} · {where} · {ctx}{lora}"


class ModelBridge(QObject):
    """The window's view of the model slot."""

    loading = Signal(str)
    progress = Signal(float)
    ready = Signal(object)
    failed = Signal(str)

    def __init__(self, slot: ModelSlot, parent: QObject | None = None):
        super().__init__(parent)
        self.slot = slot
        slot.on_event = self._on_event

    def _on_event(self, event: ModelEvent) -> None:  # any thread
        if not shiboken6.isValid(self):  # deleted (a window closed without its shutdown): nobody to tell
            log.debug("model event %s after the window's bridge was deleted", type(event).__name__)
            return
        self._dispatch(event)

    def _dispatch(self, event: ModelEvent) -> None:
        match event:
            case ModelLoading(name=name):
                self.loading.emit(name or self.tr("no model"))
            case ModelProgress(fraction=fraction):
                self.progress.emit(fraction)
            case ModelReady(info=info):
                self.ready.emit(info)
            case ModelFailed():
                self.failed.emit(self.error)

    # -- the slot's state, as the widgets read it ---------------------------------------------

    @property
    def chat(self) -> "ChatService | None":
        return self.slot.chat

    @property
    def engine(self) -> "Engine | None":
        return self.slot.engine

    @property
    def info(self) -> ModelInfo | None:
        return self.slot.info

    @property
    def fraction(self) -> float:
        return self.slot.fraction

    @property
    def is_ready(self) -> bool:
        return self.slot.is_ready

    @property
    def error(self) -> str:
        """Why there is no model, fit to show ("" while it loads or once it is loaded)."""
        slot = self.slot
        if not slot.error:
            return ""
        from twin.errors import KnownError

        if slot.exception is None or isinstance(slot.exception, KnownError):
            # twin's own messages (twin.messages) in the window's language; others as they are
            return shown(slot.exception) if slot.exception is not None else slot.error
        return self.tr("The model could not be loaded: {error}").format(error=slot.error)

    def status_detail(self) -> str:
        """The slot's :meth:`~ModelSlot.status_detail` (why this offload, loading warnings such
        as the out-of-memory retry), each line in the window's language."""
        off = self.info.offload if self.info is not None else None
        if off is None:
            return ""
        return "\n".join(shown(x) for x in (off.auto_reason, *off.warnings) if x)

    def status_text(self) -> str:
        if self.info is not None:
            return describe(self.info)
        if self.error:
            return self.tr("No model: {error}").format(error=self.error.split("\n", 1)[0])
        return self.tr("Loading model… {percent}%").format(percent=int(self.fraction * 100))
