"""The LoRA adapter row of the settings dialog: checked against the model, saved, switchable."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from twin.settings import load_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "qwen3"))
from tiny_lora import write_tiny_lora
from tiny_qwen3 import write_tiny_qwen3


def test_lora_adapter_is_checked_saved_and_switchable(shell: Any, tmp_path: Path) -> None:
    dialog = shell.open_settings()
    assert dialog.lora_meta.text() == ""  # none set
    dialog.lora_path.setText(str(tmp_path / "missing.gguf"))
    dialog.read_lora_meta()
    assert "does not exist" in dialog.lora_meta.text()
    assert not dialog.save() and "does not exist" in dialog.error.text()

    model = write_tiny_qwen3(tmp_path / "tiny.gguf")
    dialog.model_path.setText(str(model))
    dialog.lora_path.setText(str(write_tiny_lora(tmp_path / "llama-lora.gguf", architecture="llama")))
    dialog.read_lora_meta()
    assert "'llama' architecture but the model is 'qwen3moe'" in dialog.lora_meta.text()
    dialog.lora_enabled.setChecked(False)  # off: kept, not checked on save
    dialog.model_path.setText("")
    assert dialog.save()
    assert load_settings(shell.paths.settings_file).llm.lora_enabled is False

    dialog = shell.open_settings()
    good = write_tiny_lora(tmp_path / "lora.gguf")
    dialog.lora_path.setText(str(good))
    dialog.lora_enabled.setChecked(True)
    dialog.lora_scale.setValue(0.5)
    dialog.read_lora_meta()
    assert dialog.lora_meta.text() == "Adapter ✓"
    assert dialog.save()
    llm = load_settings(shell.paths.settings_file).llm
    assert (llm.lora_path, llm.lora_scale, llm.lora_enabled) == (str(good), 0.5, True)
    assert shell.controller.settings.llm.lora_path == str(good)  # applied: the model host reloads
