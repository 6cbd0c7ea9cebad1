"""Settings: typed defaults, documented file, validation, env overrides, TWIN_HOME."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from twin.errors import ConfigError
from twin.paths import resolve_paths
from twin.settings import Settings, load_settings, render_settings, save_settings


def test_twin_home_puts_everything_under_one_folder(tmp_path: Path) -> None:
    p = resolve_paths({"TWIN_HOME": str(tmp_path)})
    for d in (p.config_dir, p.data_dir, p.cache_dir, p.log_dir, p.index_dir, p.state_db):
        assert tmp_path in d.parents
    assert p.settings_file == tmp_path / "config" / "settings.toml"


def test_without_twin_home_uses_platform_dirs(tmp_path: Path) -> None:
    p = resolve_paths({})
    assert "twin" in str(p.config_dir) and "twin" in str(p.data_dir)
    assert str(tmp_path) not in str(p.data_dir)


def test_autouse_fixture_isolates_home(twin_home: Path) -> None:
    p = resolve_paths()
    assert p.data_dir == twin_home.resolve() / "data"


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    s = load_settings(tmp_path / "nope.toml", env={})
    assert s == Settings()
    assert s.embedding.model == "intfloat/multilingual-e5-base"
    assert ".md" in s.memory.extensions


def test_rendered_file_documents_every_key_and_round_trips(tmp_path: Path) -> None:
    s = Settings()
    s.memory.sources = ["/tmp/дневник", "/tmp/it's notes"]
    path = tmp_path / "settings.toml"
    save_settings(s, path)
    text = path.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    for section in ("memory", "embedding", "search"):
        for key in data[section]:
            # every key is preceded by a comment with its description and default
            idx = text.index(f"\n{key} = ")
            assert text[:idx].rstrip().splitlines()[-1].startswith("# Default:"), key
    assert load_settings(path, env={}) == s


def test_wrong_type_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text('[search]\nk = "ten"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"search\.k"):
        load_settings(path, env={})


def test_invalid_value_rejected(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text("[embedding]\nbatch_size = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="batch_size"):
        load_settings(path, env={})


def test_broken_toml_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text("[memory\nsources = 3", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(path, env={})


def test_unknown_keys_are_ignored_with_a_log(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "s.toml"
    path.write_text("[memory]\nfoo = 1\n", encoding="utf-8")
    s = load_settings(path, env={})
    assert s.memory == Settings().memory
    assert "memory.foo" in caplog.text


def test_env_override_is_applied_but_never_saved(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    s = load_settings(path, env={"TWIN_EMBEDDING_MODEL": "/models/minilm"})
    assert s.embedding.model == "/models/minilm"
    save_settings(s, path)
    assert "/models/minilm" not in path.read_text(encoding="utf-8")
    assert load_settings(path, env={}).embedding.model == "intfloat/multilingual-e5-base"


def test_extensions_are_normalised(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text('[memory]\nextensions = ["MD", ".TXT"]\n', encoding="utf-8")
    assert load_settings(path, env={}).memory.extensions == [".md", ".txt"]


def test_render_has_no_internal_fields() -> None:
    assert "env_overrides" not in render_settings(Settings())
