"""What the window says about a GGUF file it is offered: a one-paragraph summary of the
header, and why a LoRA adapter cannot go on a model (the settings dialog's model rows; the
translations keep the ``SettingsDialog`` context)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from twin.app.model_files import describe
from twin.errors import KnownError
from twin.ui.i18n import num, shown


def describe_gguf(path: str) -> str:
    """A one-paragraph summary of a GGUF (``model_files.describe``: the header only)."""
    m = describe(path)
    if m.error:
        return f"⚠ {shown(m.error)}"
    template = (QCoreApplication.translate("SettingsDialog", "chat template ✓") if m.chat_template
                else QCoreApplication.translate("SettingsDialog", "no chat template (used as a base model)"))
    kv = (" · " + QCoreApplication.translate("SettingsDialog", "KV cache {kib} KiB/token").format(kib=num(m.kv_bytes_per_token / 1024))
          if m.kv_bytes_per_token else "")
    quant = f" {m.quant}" if m.quant else ""
    return f"<b>{m.name}</b>{quant} · {m.architecture} · " + QCoreApplication.translate(
        "SettingsDialog", "{layers} layers · trained context {context} · {size} GB").format(
        layers=m.n_layer, context=num(m.context_length), size=num(m.size_bytes / 1e9, 1)) + f"{kv} · {template}"


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
        return shown(e)
    return ""
