"""Saving settings keeps the user's own settings.toml: comments, blank lines, order, unknown keys.

Only keys whose value changed are rewritten (tomlkit); everything else is byte for byte what the
user wrote. Real files in tmp dirs, the real load/save path the window and the CLI use.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from twin.settings import Settings, load_settings, save_settings

HAND_WRITTEN = """\
# My twin. Written by hand, do not lose these notes!

[memory]
# the diaries, newest first
sources = [
    "/home/anna/Дневник",   # since 2009
    "/home/anna/notes",
]

debounce_ms = 900  # my laptop is slow
shiny_new_option = "kept"   # twin does not know this key


# --- the model ---
[llm]
model_path = 'C:\\models\\qwen.gguf'
n_ctx = 8192

[chat]
temperature = 1   # an int where a float is expected
persona = \"\"\"I write short.
I never use emoji.\"\"\"

[my_plugin]
colour = "green"
"""


def _write(tmp_path: Path, text: str = HAND_WRITTEN) -> Path:
    path = tmp_path / "settings.toml"
    path.write_bytes(text.encode("utf-8"))
    return path


def test_saving_unchanged_settings_leaves_the_file_untouched(tmp_path: Path) -> None:
    path = _write(tmp_path)
    s = load_settings(path, env={})
    assert s.memory.debounce_ms == 900 and s.chat.temperature == 1.0
    save_settings(s, path)
    assert path.read_text(encoding="utf-8") == HAND_WRITTEN


def test_changed_keys_are_replaced_in_place_and_everything_else_kept(tmp_path: Path) -> None:
    path = _write(tmp_path)
    s = load_settings(path, env={})
    s.memory.debounce_ms = 250
    s.llm.n_ctx = 16384
    s.llm.model_path = "D:\\other\\model.gguf"
    save_settings(s, path)
    text = path.read_text(encoding="utf-8")
    expected = (HAND_WRITTEN.replace("debounce_ms = 900", "debounce_ms = 250")
                .replace("n_ctx = 8192", "n_ctx = 16384")
                .replace("'C:\\models\\qwen.gguf'", "'D:\\other\\model.gguf'"))  # stays a literal string
    assert text == expected
    again = load_settings(path, env={})
    assert (again.memory.debounce_ms, again.llm.n_ctx, again.llm.model_path) == (250, 16384, "D:\\other\\model.gguf")
    assert tomllib.loads(text)["memory"]["shiny_new_option"] == "kept"
    assert tomllib.loads(text)["my_plugin"] == {"colour": "green"}


def test_a_changed_list_keeps_its_one_item_per_line_layout(tmp_path: Path) -> None:
    path = _write(tmp_path)
    s = load_settings(path, env={})
    s.memory.sources = ["/home/anna/Дневник", "/mnt/old diary"]
    save_settings(s, path)
    text = path.read_text(encoding="utf-8")
    assert '    "/home/anna/Дневник",\n    "/mnt/old diary",\n]' in text
    # the rest of the file is the user's, unchanged
    head, _, tail = HAND_WRITTEN.partition("sources = [")
    assert text.startswith(head + "sources = [")
    assert text.endswith(tail[tail.index("]\n") + 2:])
    assert load_settings(path, env={}).memory.sources == ["/home/anna/Дневник", "/mnt/old diary"]


def test_new_keys_and_tables_are_added_with_their_description(tmp_path: Path) -> None:
    path = _write(tmp_path)
    s = load_settings(path, env={})
    s.chat.user_name = "Анна"
    s.search.k = 12
    s.chat.persona = "Short.\nNo emoji.\nMultiline 'quotes' \"too\"."
    save_settings(s, path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith(HAND_WRITTEN.partition("[chat]")[0])  # everything before [chat] as written
    data = tomllib.loads(text)
    assert data["chat"]["user_name"] == "Анна"
    assert data["search"] == {"k": 12}
    assert "# Your name, as the twin should use it.\nuser_name = " in text
    assert "[search]\n# Retrieval.\n# Memories returned per search.\nk = 12\n" in text
    assert '"""\n# Your name' in text and '\nuser_name = "Анна"\n\n[my_plugin]' in text  # blank line kept before the next table
    loaded = load_settings(path, env={})
    assert (loaded.chat.persona, loaded.chat.user_name, loaded.search.k) == (s.chat.persona, "Анна", 12)
    # keys left at their default are not added
    assert "n_gpu_layers" not in text and "[embedding]" not in text


def test_a_hand_edit_made_while_the_app_runs_survives_the_apps_save(tmp_path: Path) -> None:
    path = _write(tmp_path)
    s = load_settings(path, env={})  # the window loads at start
    path.write_text(path.read_text(encoding="utf-8").replace("n_ctx = 8192", "n_ctx = 4096  # hand"),
                    encoding="utf-8")  # the user edits the file meanwhile
    s.memory.debounce_ms = 300  # then changes another key in the window
    save_settings(s, path)
    text = path.read_text(encoding="utf-8")
    assert "n_ctx = 4096  # hand" in text and "debounce_ms = 300  # my laptop is slow" in text


def test_settings_built_elsewhere_are_compared_with_the_file(tmp_path: Path) -> None:
    """The dialog's settings come back through a temporary file: saved against the real file's values."""
    path = _write(tmp_path)
    other = tmp_path / "other.toml"
    other.write_text(HAND_WRITTEN.replace("n_ctx = 8192", "n_ctx = 2048"), encoding="utf-8")
    s = load_settings(other, env={})
    save_settings(s, path)
    assert path.read_text(encoding="utf-8") == HAND_WRITTEN.replace("n_ctx = 8192", "n_ctx = 2048")


def test_env_override_is_not_written_into_a_hand_written_file(tmp_path: Path) -> None:
    path = _write(tmp_path)
    s = load_settings(path, env={"TWIN_MODEL": "/tmp/override.gguf"})
    assert s.llm.model_path == "/tmp/override.gguf"
    s.llm.n_ctx = 1024
    save_settings(s, path)
    text = path.read_text(encoding="utf-8")
    assert "override" not in text and "model_path = 'C:\\models\\qwen.gguf'" in text
    assert "n_ctx = 1024" in text


def test_a_new_file_documents_every_key(tmp_path: Path) -> None:
    path = tmp_path / "new" / "settings.toml"
    save_settings(Settings(), path)
    text = path.read_text(encoding="utf-8")
    assert "# Default:" in text and "[llm]" in text and "endpoint_url" in text
    s = load_settings(path, env={})
    s.search.k = 3
    save_settings(s, path)
    assert path.read_text(encoding="utf-8") == text.replace("\nk = 8\n", "\nk = 3\n")


def test_broken_file_is_kept_aside_and_replaced(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = _write(tmp_path, "[memory\nsources = ")
    save_settings(Settings(), path)
    assert (tmp_path / "settings.toml.broken").read_text(encoding="utf-8") == "[memory\nsources = "
    assert load_settings(path, env={}) == Settings()
    assert "not valid TOML" in caplog.text
