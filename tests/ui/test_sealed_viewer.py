"""The source viewer shows a file twin sealed (encryption on) decrypted in memory, and does
not hand it to an external editor (which would see only ciphertext)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from tests.ui.gui_thread import elsewhere
from twin.app import encryption_switch
from twin.app.chat_memories import ChatMemories
from twin.app.sealed_files import SealedFiles, note_hooks
from twin.core.crypto import KdfParams
from twin.paths import resolve_paths

FACT = "My favourite fruit is the quokkaberry."


def test_viewer_decrypts_a_sealed_note_and_keeps_it_from_editors(tmp_path: Path, qloop: Any, qtbot: Any) -> None:
    from twin.ui.source_viewer import SourceViewer, encrypted_hint

    paths = resolve_paths({"TWIN_HOME": str(tmp_path / "home")}).ensure()
    vault = elsewhere(encryption_switch.enable, paths, "pass phrase", kdf=KdfParams.cheap())
    note = ChatMemories(paths.memories_dir, now=lambda: dt.datetime(2026, 11, 30, 9, 0),
                        **note_hooks(vault)).remember(FACT).path  # type: ignore[arg-type]
    assert note.name.endswith(".md.twin-sealed") and FACT.encode() not in note.read_bytes()

    viewer = SourceViewer(decode=SealedFiles(vault).decode)
    qtbot.addWidget(viewer)
    qloop.run_until_complete(viewer.show_source(str(note), 5, 5))
    assert FACT in viewer.editor.toPlainText()
    assert not viewer.open_button.isEnabled() and viewer.open_button.toolTip() == encrypted_hint()
    viewer.open_external()  # explains instead of opening the ciphertext
    assert viewer.where.text() == encrypted_hint()

    blind = SourceViewer()  # no decoder: a clear message, no crash
    qtbot.addWidget(blind)
    qloop.run_until_complete(blind.show_source(str(note), 1, 1))
    assert blind.editor.toPlainText().startswith("Cannot show this file: encrypted by twin")
