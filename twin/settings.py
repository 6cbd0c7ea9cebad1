"""Typed settings, declared once: every key has a type, a default and a description.

The sections are declared beside what they configure (:mod:`twin.llm_settings`: ``[llm]``,
``[chat]``; :mod:`twin.memory_settings`: ``[memory]``, ``[embedding]``, ``[search]``; the rest
here); this module assembles them into :class:`Settings`, validates, loads and saves.

The settings live in one TOML file (``Paths.settings_file``). It is first written with every key
and its description as a comment, so the file documents itself; after that it is the user's:
saving rewrites only the keys that changed and keeps comments, order and formatting
(:mod:`twin.settings_toml`). Unknown keys are ignored with a log line (and stay in the file);
a value of the wrong type is a :class:`~twin.errors.ConfigError` naming the key.

Environment overrides (read at load, never written back):
``TWIN_EMBEDDING_MODEL`` (a local folder or a sentence-transformers model name),
``TWIN_EMBEDDING_DEVICE`` (``auto``, ``cpu``, ``cuda``…) and ``TWIN_MODEL`` (a GGUF path).
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from twin.atomic import write_atomic
from twin.errors import ConfigError
from twin.messages import msg
from twin.llm_settings import ChatSettings, LlmSettings, described, first_broken, one_of, validate_llm_settings
from twin.memory_settings import EmbeddingSettings, MemorySettings, SearchSettings
from twin.settings_toml import TOMLKitError, update_toml

log = logging.getLogger("twin.settings")

SCHEMA_VERSION = 1


@dataclass
class BackupSettings:
    keep: int = field(
        default=5,
        metadata=described("How many backups of the data folder to keep (the oldest go first). One is "
                      "taken automatically before a database upgrade or a full re-index; "
                      "`twin backup` takes one by hand."),
    )
    folder: str = field(
        default="",
        metadata=described("Where backups go; empty = the 'backups' folder inside the data folder. "
                      "Backups are snapshots: text deleted later stays in them until they are "
                      "pruned (`twin backup prune`)."),
    )


@dataclass
class PrivacySettings:
    lock_after_min: int = field(
        default=15,
        metadata=described("With encryption on (`twin encrypt enable`), the window locks after this many "
                      "minutes without input: it forgets the key, closes the data and asks for the "
                      "passphrase again. 0 = never."),
    )


@dataclass
class ProfileSettings:
    schedule: str = field(
        default="manual",
        metadata=described("When the self-profile is rebuilt from your diaries (heavy: it runs the model over "
                      "every new or changed entry): 'manual' (twin profile build), 'daily' or 'weekly'."),
    )
    prompt_share: float = field(
        default=0.08,
        metadata=described("At most this share of the context is used for your accepted profile facts in every "
                      "prompt (0 = leave them out)."),
    )
    batch_tokens: int = field(
        default=1200, metadata=described("Diary text the model reads per step, in tokens (capped by the context)."))
    max_entries: int = field(default=8, metadata=described("Diary entries per step, at most."))
    answer_tokens: int = field(default=480, metadata=described("The longest answer per step, in tokens."))
    retries: int = field(default=1, metadata=described("Extra attempts when the model's answer is unusable."))


@dataclass
class UiSettings:
    language: str = field(
        default="auto",
        metadata=described("The window's language: 'auto' (follow the system locale), 'en' or 'ru'. "
                      "A change applies when the window restarts."),
    )


@dataclass
class Settings:
    schema_version: int = field(default=SCHEMA_VERSION, metadata=described("Settings file format version."))
    memory: MemorySettings = field(default_factory=MemorySettings, metadata=described("Sources and parsing."))
    embedding: EmbeddingSettings = field(default_factory=EmbeddingSettings, metadata=described("Embedding model."))
    search: SearchSettings = field(default_factory=SearchSettings, metadata=described("Retrieval."))
    llm: LlmSettings = field(default_factory=LlmSettings, metadata=described("Language model."))
    chat: ChatSettings = field(default_factory=ChatSettings, metadata=described("Chat: persona, memories, sampling."))
    profile: ProfileSettings = field(default_factory=ProfileSettings,
                                     metadata=described("Self-profile: facts about you, built from your diaries."))
    backup: BackupSettings = field(default_factory=BackupSettings, metadata=described("Backups of the data folder."))
    privacy: PrivacySettings = field(default_factory=PrivacySettings,
                                     metadata=described("Encryption at rest: locking when idle."))
    ui: UiSettings = field(default_factory=UiSettings, metadata=described("The desktop window."))
    # Values from the file that an environment variable replaced, by dotted key: saving writes
    # these back, so an override never leaks into the file.
    env_overrides: dict[str, Any] = field(default_factory=dict, repr=False, metadata={"internal": True})
    # (file, its values by dotted key) as last loaded from or saved to that file: saving writes
    # only the keys whose value differs from these, so a hand edit made meanwhile survives.
    file_state: tuple[str, dict[str, Any]] | None = field(
        default=None, repr=False, compare=False, metadata={"internal": True})


# -- loading -----------------------------------------------------------------------------


def _check(value: Any, tp: Any, key: str, origin: str) -> Any:
    """Return ``value`` converted to ``tp`` or raise ConfigError naming ``key``."""
    org = typing.get_origin(tp)
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif tp is str:
        if isinstance(value, str):
            return value
    elif org is list:
        (item_tp,) = typing.get_args(tp)
        if isinstance(value, list):
            return [_check(v, item_tp, f"{key}[{i}]", origin) for i, v in enumerate(value)]
    elif org in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            if arg is type(None) and value is None:
                return None
            try:
                return _check(value, arg, key, origin)
            except ConfigError:
                continue
    else:  # pragma: no cover - a new type in the schema without support here is a bug
        raise TypeError(f"unsupported settings type {tp!r}")
    raise ConfigError(msg("config.wrong_type", origin=origin, key=key, type=getattr(tp, "__name__", str(tp)),
                          value=repr(value)))


def _from_dict(cls: type, data: dict[str, Any], prefix: str, origin: str) -> Any:
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        key = f"{prefix}{f.name}"
        if f.metadata.get("internal") or f.name not in data:
            continue
        value = data[f.name]
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp):
            if not isinstance(value, dict):
                raise ConfigError(msg("config.not_table", origin=origin, key=key))
            kwargs[f.name] = _from_dict(tp, value, key + ".", origin)
        else:
            kwargs[f.name] = _check(value, tp, key, origin)
    unknown = set(data) - {f.name for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    for name in sorted(unknown):
        log.warning("%s: unknown setting '%s%s' ignored", origin, prefix, name)
    return cls(**kwargs)


def _validate(s: Settings) -> None:
    first_broken([
        (s.embedding.batch_size >= 1, msg("config.at_least", key="embedding.batch_size", min=1)),
        (s.embedding.chunk_tokens >= 0, msg("config.zero_or_more", key="embedding.chunk_tokens")),
        (s.search.k >= 1, msg("config.at_least", key="search.k", min=1)),
        one_of("search.llm_expand", s.search.llm_expand, ("auto", "on", "off")),
        (s.search.llm_rerank_depth >= 2, msg("config.at_least", key="search.llm_rerank_depth", min=2)),
        (s.memory.max_file_mb >= 1, msg("config.at_least", key="memory.max_file_mb", min=1)),
        (s.memory.debounce_ms >= 0, msg("config.zero_or_more", key="memory.debounce_ms")),
        one_of("memory.runner", s.memory.runner, ("process", "thread")),
        one_of("ui.language", s.ui.language, ("auto", "en", "ru")),
        one_of("profile.schedule", s.profile.schedule, ("manual", "daily", "weekly")),
        (0.0 <= s.profile.prompt_share <= 0.5, msg("config.between", key="profile.prompt_share", low=0, high=0.5)),
        (s.profile.batch_tokens >= 1, msg("config.at_least", key="profile.batch_tokens", min=1)),
        (s.profile.max_entries >= 1, msg("config.at_least", key="profile.max_entries", min=1)),
        (s.profile.answer_tokens >= 1, msg("config.at_least", key="profile.answer_tokens", min=1)),
        (s.profile.retries >= 0, msg("config.zero_or_more", key="profile.retries")),
    ])
    validate_llm_settings(s.llm, s.chat)
    s.memory.extensions = [e.lower() if e.startswith(".") else "." + e.lower() for e in s.memory.extensions]


def _apply_env(s: Settings, env: "os._Environ[str] | dict[str, str]") -> None:
    for section in dataclasses.fields(s):
        obj = getattr(s, section.name)
        if not dataclasses.is_dataclass(obj):
            continue
        for f in dataclasses.fields(obj):
            name = f.metadata.get("env")
            if name and env.get(name, "").strip():
                s.env_overrides[f"{section.name}.{f.name}"] = getattr(obj, f.name)
                setattr(obj, f.name, env[name].strip())


def load_settings(path: Path, env: "os._Environ[str] | dict[str, str] | None" = None) -> Settings:
    """Read ``path`` (missing file: defaults), validate, and apply environment overrides."""
    env = os.environ if env is None else env
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(msg("config.bad_toml", path=path, error=str(e))) from e
        except OSError as e:
            raise ConfigError(msg("config.unreadable", path=path, error=str(e.strerror))) from e
    settings = _from_dict(Settings, data, "", str(path))
    _validate(settings)
    _apply_env(settings, env)
    settings.file_state = (str(path), file_values(settings))
    return settings


# -- saving ------------------------------------------------------------------------------


def _inline(value: Any) -> str:
    """A TOML value on one line (for the "Default:" comments)."""
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    return tomli_w.dumps({"x": value})[4:].strip()


def _comment(text: str) -> str:
    return "".join(f"# {line}\n" for line in text.splitlines())


def render_settings(s: Settings) -> str:
    """Render ``s`` as TOML with each key's description as a comment above it."""
    out = [
        "# twin settings. Every key is listed with its default and what it does.\n",
        "# Environment overrides: TWIN_HOME, TWIN_EMBEDDING_MODEL, TWIN_EMBEDDING_DEVICE, TWIN_MODEL,\n"
        "# TWIN_ENDPOINT_API_KEY, TWIN_LORA.\n\n",
    ]
    sections = []
    for f in dataclasses.fields(s):
        if f.metadata.get("internal"):
            continue
        value = getattr(s, f.name)
        if dataclasses.is_dataclass(value):
            sections.append((f, value))
        else:
            out.append(_comment(f.metadata["doc"]) + tomli_w.dumps({f.name: value}) + "\n")
    for f, section in sections:
        out.append(_comment(f.metadata["doc"]) + f"[{f.name}]\n")
        for sf in dataclasses.fields(section):
            doc = sf.metadata["doc"]
            default = sf.default if sf.default is not dataclasses.MISSING else sf.default_factory()  # type: ignore[misc]  # typeshed: MISSING-or-factory union
            doc += f"\nDefault: {_inline(default)}"
            value = s.env_overrides.get(f"{f.name}.{sf.name}", getattr(section, sf.name))
            out.append(_comment(doc) + tomli_w.dumps({sf.name: value}))
        out.append("\n")
    return "".join(out)


def file_values(s: Settings) -> dict[str, Any]:
    """Every key's value as the file should hold it (environment overrides undone), by dotted key."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(s):
        if f.metadata.get("internal"):
            continue
        value = getattr(s, f.name)
        if not dataclasses.is_dataclass(value):
            out[f.name] = copy.deepcopy(value)
            continue
        for sf in dataclasses.fields(value):
            key = f"{f.name}.{sf.name}"
            out[key] = copy.deepcopy(s.env_overrides.get(key, getattr(value, sf.name)))
    return out


def _docs() -> dict[tuple[str, ...], str]:
    """Descriptions by key path (tables and keys), for keys that saving has to add."""
    docs: dict[tuple[str, ...], str] = {}
    hints = typing.get_type_hints(Settings)
    for f in dataclasses.fields(Settings):
        if f.metadata.get("internal"):
            continue
        docs[(f.name,)] = f.metadata["doc"]
        if dataclasses.is_dataclass(hints[f.name]):
            for sf in dataclasses.fields(hints[f.name]):
                docs[(f.name, sf.name)] = sf.metadata["doc"]
    return docs


def _values_in_file(text: str) -> dict[str, Any]:
    """The file's values by dotted key, over the defaults (what loading it would give)."""
    values = file_values(Settings())
    data = tomllib.loads(text)
    for key, value in data.items():
        if isinstance(value, dict):
            values.update({f"{key}.{k}": v for k, v in value.items() if f"{key}.{k}" in values})
        elif key in values:
            values[key] = value
    return values


def save_settings(s: Settings, path: Path) -> None:
    """Write ``s`` atomically (a crash never leaves a half-written settings file).

    A new file gets every key with its description (:func:`render_settings`). An existing file
    is the user's: only the keys whose value changed are rewritten, in place (tomlkit), so the
    user's comments, blank lines, order and unknown keys stay. "Changed" is measured against
    the values ``s`` was loaded with from this same file (so a key edited by hand meanwhile is
    kept unless ``s`` changed it too), or against the file's current values.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    values = file_values(s)
    try:
        old = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        old = ""
    except (OSError, UnicodeDecodeError) as e:
        log.warning("%s: cannot read the settings file (%s); writing a new one", path, e)
        old = ""
    text = render_settings(s)
    if old.strip():
        try:
            if s.file_state is not None and s.file_state[0] == str(path):
                base = s.file_state[1]
            else:
                base = _values_in_file(old)
            changes = {tuple(k.split(".")): v for k, v in values.items() if k not in base or base[k] != v}
            text = update_toml(old, changes, _docs()) if changes else old
        except (tomllib.TOMLDecodeError, TOMLKitError) as e:
            broken = path.with_name(path.name + ".broken")
            write_atomic(broken, old)
            log.warning("%s is not valid TOML (%s): kept as %s, writing a new one", path, e, broken)
    if text != old:
        write_atomic(path, text)
    s.file_state = (str(path), values)
