"""Messages from twin's app and core that the window shows, as a key and its parameters.

A :class:`Msg` is a ``str`` (its English text, so the CLI, the log, ``str(error)`` and every
``"… in reason"`` check keep working unchanged) that also carries the key of its English
template in :data:`CATALOG` and the values that filled it. The window does not show the English:
``twin.ui.i18n.shown`` looks the template up with ``QCoreApplication.translate("Messages", …)``
and fills it in the window's language (numbers in the locale; a parameter that is itself a
:class:`Msg` is translated too).

The app and the core raise ``SomeKnownError(msg("model.not_found", path=p))`` or put a
``msg(…)`` where a reason string went (``Rejected.reason``); it survives pickling (the memory
engine's child process) as a key and parameters. ``pyside6-lupdate`` reads this file (it is one
of ``twin.ui.i18n.ui_sources``): each template is marked with :func:`QT_TRANSLATE_NOOP` under
the context ``Messages``, and ``resources/i18n/twin_ru.ts`` holds its Russian.

No Qt here (a shared root module: the core imports it).
"""

from __future__ import annotations

from typing import Any

CONTEXT = "Messages"


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:  # noqa: N802 - the name lupdate looks for
    """Marks ``text`` for lupdate (context ``context``); returns it unchanged."""
    return text


#: key → the English template (``str.format`` fields, no format specs: numbers are formatted
#: by :func:`english` here and in the locale by the window).
CATALOG: dict[str, str] = {
    # -- a model file (twin.core.llm.gguf_meta): chosen in the settings or the first run, loaded
    "model.not_found": QT_TRANSLATE_NOOP("Messages", "Model file not found: {path}"),
    "model.unreadable": QT_TRANSLATE_NOOP("Messages", "Cannot read model file {path}: {error}"),
    "model.is_folder": QT_TRANSLATE_NOOP("Messages", "{path} is a folder, not a model file: choose the .gguf file inside it."),
    "model.not_regular": QT_TRANSLATE_NOOP("Messages", "{path} is not a regular file (a device or a pipe?): choose a .gguf model "
                                                       "file."),
    "model.empty": QT_TRANSLATE_NOOP("Messages", "{path} is empty (0 bytes): an interrupted download? Download it again."),
    "model.old_format": QT_TRANSLATE_NOOP("Messages", "{path} is in the old {format} format, which llama.cpp no longer reads: "
                                                      "download a GGUF build of the model."),
    "model.not_gguf": QT_TRANSLATE_NOOP("Messages", "{path} is not a GGUF model file (llama.cpp needs .gguf; convert or download a "
                                                    "GGUF build of the model)."),
    "model.bad_version": QT_TRANSLATE_NOOP("Messages", "{path}: unsupported GGUF version {version} (llama.cpp reads versions 2 "
                                                       "and 3)."),
    "model.header_truncated": QT_TRANSLATE_NOOP("Messages", "{path}: the GGUF header ends early: the file is truncated (an "
                                                            "interrupted download?). Download it again."),
    "model.truncated": QT_TRANSLATE_NOOP("Messages", "{path} is truncated: its tensors need {need} bytes but the file has {size} "
                                                     "(an interrupted download?). Download it again."),
    "model.corrupt": QT_TRANSLATE_NOOP("Messages", "{path} is corrupt: {detail}. Download the model again or pick another file."),
    "model.is_lora": QT_TRANSLATE_NOOP("Messages", "{path} is a LoRA adapter, not a model: choose the base model's GGUF as the "
                                                   "model (the adapter goes in the LoRA adapter setting)."),
    "model.no_architecture": QT_TRANSLATE_NOOP("Messages", "{path} names no model architecture (general.architecture is missing): "
                                                           "it is not a complete GGUF model. Download the model again or pick another "
                                                           "file."),
    "model.none_set": QT_TRANSLATE_NOOP("Messages", "No model file is set: choose a GGUF in the settings (llm.model_path) or set "
                                                    "TWIN_MODEL."),
    "model.check_slow": QT_TRANSLATE_NOOP("Messages", "Checking {path} took over {seconds} s; is the disk slow?"),
    "model.unsupported_arch": QT_TRANSLATE_NOOP("Messages", "{path}: llama.cpp does not support the model architecture "
                                                            "'{arch}'. Update llama-cpp-python, or choose a model of a "
                                                            "supported architecture."),
    "model.crashed": QT_TRANSLATE_NOOP("Messages", "{path} is corrupt or malformed: llama.cpp crashed while reading "
                                                   "it. Download the model again or pick another file."),
    "model.crashed_reason": QT_TRANSLATE_NOOP("Messages", "{path} is corrupt or malformed: llama.cpp crashed while "
                                                          "reading it ({reason}). Download the model again or pick "
                                                          "another file."),
    "model.cannot_load": QT_TRANSLATE_NOOP("Messages", "llama.cpp cannot load {path}."),
    "model.cannot_load_reason": QT_TRANSLATE_NOOP("Messages", "llama.cpp cannot load {path}: {reason}"),
    # -- loading the model (twin.core.llm.llama): the status bar
    "load.cancelled": QT_TRANSLATE_NOOP("Messages", "Loading was cancelled."),
    "load.unsupported_arch": QT_TRANSLATE_NOOP("Messages", "{path}: llama.cpp does not support the architecture "
                                                           "'{arch}'."),
    "load.oom": QT_TRANSLATE_NOOP("Messages", "Not enough memory to load {name} with a {n_ctx}-token context. "
                                              "{advice}"),
    "load.failed": QT_TRANSLATE_NOOP("Messages", "llama.cpp could not load {path}: {reason}"),
    "oom.advice_gpu": QT_TRANSLATE_NOOP("Messages", "Try fewer GPU layers (llm.n_gpu_layers, e.g. 24), a smaller "
                                                    "context (llm.n_ctx, now {n_ctx}; e.g. {half}) or a q8_0 KV cache "
                                                    "(llm.kv_cache_type = 'q8_0')."),
    "oom.advice_cpu": QT_TRANSLATE_NOOP("Messages", "Try a smaller context (llm.n_ctx, now {n_ctx}; e.g. {half}) or a "
                                                    "q8_0 KV cache (llm.kv_cache_type = 'q8_0')."),
    # -- a LoRA adapter (twin.core.llm.lora, .llama): the settings, the status bar
    "lora.missing": QT_TRANSLATE_NOOP("Messages", "LoRA adapter {path} does not exist (check llm.lora_path)."),
    "lora.bad_file": QT_TRANSLATE_NOOP("Messages", "LoRA adapter: {error}"),
    "lora.is_model": QT_TRANSLATE_NOOP("Messages", "{name} is a model, not an adapter: llm.lora_path needs a LoRA "
                                                   "adapter GGUF (made by llama.cpp's convert_lora_to_gguf.py; see "
                                                   "docs/FINETUNE.md)."),
    "lora.other_type": QT_TRANSLATE_NOOP("Messages", "{name} is of type '{type}', not an adapter: llm.lora_path needs "
                                                     "a LoRA adapter GGUF (made by llama.cpp's convert_lora_to_gguf.py; "
                                                     "see docs/FINETUNE.md)."),
    "lora.not_lora": QT_TRANSLATE_NOOP("Messages", "{name} is a '{type}' adapter; twin loads LoRA adapters only."),
    "lora.other_arch": QT_TRANSLATE_NOOP("Messages", "{name} was made for the '{arch}' architecture but the model is "
                                                     "'{base}': convert the adapter with --base pointing at this "
                                                     "model's Hugging Face folder."),
    "lora.empty": QT_TRANSLATE_NOOP("Messages", "{name} holds no LoRA tensors."),
    "lora.cannot_apply": QT_TRANSLATE_NOOP("Messages", "llama.cpp cannot apply the LoRA adapter {name}."),
    "lora.cannot_apply_reason": QT_TRANSLATE_NOOP("Messages", "llama.cpp cannot apply the LoRA adapter {name}: "
                                                              "{reason}"),
    "lora.cannot_set": QT_TRANSLATE_NOOP("Messages", "llama.cpp could not set the LoRA adapter {name} on the "
                                                     "context."),
    # -- the details of a corrupt header ("{path} is corrupt: {detail}. …")
    "corrupt.text": QT_TRANSLATE_NOOP("Messages", "a text value claims {n} bytes, in a {size}-byte file"),
    "corrupt.text_in": QT_TRANSLATE_NOOP("Messages", "a text value in '{key}' claims {n} bytes, in a {size}-byte file"),
    "corrupt.list": QT_TRANSLATE_NOOP("Messages", "the list '{key}' claims {n} items, in a {size}-byte file"),
    "corrupt.value_type": QT_TRANSLATE_NOOP("Messages", "'{key}' has an unknown value type ({type})"),
    "corrupt.count": QT_TRANSLATE_NOOP("Messages", "its header claims {n} {what} (a model has a few thousand at most)"),
    "corrupt.dims": QT_TRANSLATE_NOOP("Messages", "the tensor '{name}' claims {n} dimensions (at most {max})"),
    "corrupt.shape": QT_TRANSLATE_NOOP("Messages", "the tensor '{name}' claims the shape {shape}"),
    "corrupt.tensors": QT_TRANSLATE_NOOP("Messages", "tensors"),
    "corrupt.entries": QT_TRANSLATE_NOOP("Messages", "metadata entries"),
    # -- how many layers go to the GPU (twin.core.llm.fit, n_gpu_layers "auto"): the status bar's tooltip
    "fit.auto": QT_TRANSLATE_NOOP("Messages", "auto: {reason}"),
    "fit.auto_no_gpu_build": QT_TRANSLATE_NOOP("Messages", "auto: this llama.cpp build has no GPU support, so the "
                                                           "model runs on the CPU"),
    "fit.ctx": QT_TRANSLATE_NOOP("Messages", "{n}-token context, {kv} KV cache"),
    "fit.the_gpu": QT_TRANSLATE_NOOP("Messages", "the GPU"),
    "fit.needs": QT_TRANSLATE_NOOP("Messages", "all {total} layers with a {ctx} need {full}"),
    "fit.too_big": QT_TRANSLATE_NOOP("Messages", "too big for this machine: with {k} of {total} layers on {gpu}, the "
                                                 "rest needs {rest} of RAM and {ram} is installed"),
    "fit.all_on_gpu": QT_TRANSLATE_NOOP("Messages", "all {total} layers on {gpu}: {full} needed, {free} free ({ctx})"),
    "fit.partial": QT_TRANSLATE_NOOP("Messages", "{k} of {total} layers on {gpu} ({used} of {free} free; {needs}); the "
                                                 "other {other} run on the CPU"),
    "fit.no_gpu_build": QT_TRANSLATE_NOOP("Messages", "this llama.cpp build has no GPU support: the model runs on the "
                                                      "CPU"),
    "fit.no_gpu": QT_TRANSLATE_NOOP("Messages", "no GPU found: the model runs on the CPU"),
    "fit.none_fits": QT_TRANSLATE_NOOP("Messages", "not even one layer fits in the {free} free on {gpu} ({needs}): the "
                                                   "model runs on the CPU"),
    # -- out of memory while loading (twin.core.llm.fit.retry_message)
    "oom.retried_gpu": QT_TRANSLATE_NOOP("Messages", "The GPU ran out of memory with {tried} layers; the model was loaded with "
                                                     "{done} of {total} layers on the GPU. Close other programs using the GPU, or "
                                                     "lower llm.n_ctx, to put more on the GPU."),
    "oom.retried_cpu": QT_TRANSLATE_NOOP("Messages", "The GPU ran out of memory with {tried} layers; the model was loaded with the "
                                                     "CPU only. Close other programs using the GPU, or lower llm.n_ctx, to put more "
                                                     "on the GPU."),
    # -- dropped documents (twin.app.documents_service, twin.core.memory.walk)
    "drop.not_found": QT_TRANSLATE_NOOP("Messages", "not found"),
    "drop.not_regular": QT_TRANSLATE_NOOP("Messages", "not a regular file"),
    "drop.unsupported": QT_TRANSLATE_NOOP("Messages", "unsupported file type {suffix} (supported: {kinds})"),
    "drop.no_extension": QT_TRANSLATE_NOOP("Messages", "(no extension)"),
    "drop.excluded": QT_TRANSLATE_NOOP("Messages", "excluded by the settings (hidden, temporary or matching an exclusion)"),
    "drop.permission": QT_TRANSLATE_NOOP("Messages", "permission denied"),
    "drop.empty_folder": QT_TRANSLATE_NOOP("Messages", "the folder holds no supported documents"),
    "drop.copy_failed": QT_TRANSLATE_NOOP("Messages", "cannot copy into the inbox: {error}"),
    # -- a document that cannot be read (twin.core.memory.documents, .encoding): a drop's
    #    problems, the memory panel
    "doc.binary": QT_TRANSLATE_NOOP("Messages", "binary file, not text"),
    "doc.pdf_encrypted_here": QT_TRANSLATE_NOOP("Messages", "encrypted PDF that cannot be opened here ({error})"),
    "doc.pdf_password": QT_TRANSLATE_NOOP("Messages", "encrypted PDF (password protected)"),
    "doc.pdf_broken": QT_TRANSLATE_NOOP("Messages", "broken PDF ({error})"),
    "doc.pdf_no_page": QT_TRANSLATE_NOOP("Messages", "broken PDF (no page could be read)"),
    "doc.docx_broken": QT_TRANSLATE_NOOP("Messages", "broken DOCX ({error})"),
    "doc.sealed": QT_TRANSLATE_NOOP("Messages", "encrypted by twin: turn encryption on (and unlock) to read it"),
    "doc.unsupported": QT_TRANSLATE_NOOP("Messages", "unsupported file type '{suffix}'"),
    "doc.directory": QT_TRANSLATE_NOOP("Messages", "is a directory, not a file"),
    "doc.not_regular": QT_TRANSLATE_NOOP("Messages", "not a regular file"),
    "doc.too_large": QT_TRANSLATE_NOOP("Messages", "file too large ({size}; the limit is {limit})"),
    "doc.cannot_decrypt": QT_TRANSLATE_NOOP("Messages", "cannot decrypt: {error}"),
    "doc.permission": QT_TRANSLATE_NOOP("Messages", "permission denied"),
    "doc.vanished": QT_TRANSLATE_NOOP("Messages", "file disappeared while reading"),
    "doc.link_loop": QT_TRANSLATE_NOOP("Messages", "symbolic link loop"),
    "doc.name_too_long": QT_TRANSLATE_NOOP("Messages", "file name too long"),
    "doc.io_error": QT_TRANSLATE_NOOP("Messages", "input/output error (disk or network problem)"),
    "doc.not_a_dir": QT_TRANSLATE_NOOP("Messages", "a folder in the path is a file"),
    "doc.unreadable": QT_TRANSLATE_NOOP("Messages", "cannot read the file ({error})"),
    # -- a folder's walk (twin.core.memory.sources)
    "walk.broken_link": QT_TRANSLATE_NOOP("Messages", "file disappeared or is a broken link"),
    "walk.link_loop": QT_TRANSLATE_NOOP("Messages", "symlink loop"),
    "walk.too_long": QT_TRANSLATE_NOOP("Messages", "path too long"),
    "walk.io_error": QT_TRANSLATE_NOOP("Messages", "input/output error (disk?)"),
    # -- the memory engine could not start (twin.core.memory.embedder): the memory status
    "embed.offline": QT_TRANSLATE_NOOP("Messages", "Embedding model '{ref}' is not available offline ({kind}). "
                                                   "Download it once with: twin models pull-embedding {ref}  (or set "
                                                   "TWIN_EMBEDDING_MODEL to a local folder)."),
    # -- a chat answer's note (twin.app.query_understanding): the memory search did not run
    "chat.context_overflow": QT_TRANSLATE_NOOP("Messages", "The prompt needs {n} tokens but the model's context "
                                                           "holds {ctx}. Start a new conversation, shorten the message, "
                                                           "or raise llm.n_ctx."),
    "chat.memories_unavailable": QT_TRANSLATE_NOOP("Messages", "Memories are unavailable for this answer: {error}"),
    "chat.scope_unsupported": QT_TRANSLATE_NOOP("Messages", "Memories are unavailable for this answer: the search "
                                                            "cannot limit them to {scope}."),
    # -- encryption at rest (twin.core.crypto, twin.app.vault_service, .encryption_switch): the unlock
    #    dialog, the passphrase page and the encryption panel
    "crypto.wrong_passphrase": QT_TRANSLATE_NOOP("Messages", "Wrong passphrase: the data stays locked and nothing was "
                                                             "changed."),
    "crypto.too_short": QT_TRANSLATE_NOOP("Messages", "The passphrase must have at least {n} characters."),
    "crypto.unknown_kdf": QT_TRANSLATE_NOOP("Messages", "unknown key derivation '{name}' in the key file"),
    "crypto.keyfile_unreadable": QT_TRANSLATE_NOOP("Messages", "The key file {path} is unreadable ({error}); restore "
                                                               "it from a backup."),
    "crypto.keyfile_version": QT_TRANSLATE_NOOP("Messages", "The key file {path} is from another twin version."),
    "crypto.keyfile_damaged": QT_TRANSLATE_NOOP("Messages", "The key file {path} is damaged ({error}); restore it from "
                                                            "a backup."),
    "crypto.already_on_change": QT_TRANSLATE_NOOP("Messages", "Encryption is already on (twin encrypt "
                                                              "change-passphrase changes the passphrase)."),
    "crypto.already_on": QT_TRANSLATE_NOOP("Messages", "Encryption is already on (or being turned on)."),
    "crypto.not_on": QT_TRANSLATE_NOOP("Messages", "Encryption is not on."),
    "crypto.disable_interrupted": QT_TRANSLATE_NOOP("Messages", "Turning encryption off was interrupted: run `twin "
                                                                "encrypt disable` to finish it first."),
    "crypto.enable_interrupted": QT_TRANSLATE_NOOP("Messages", "Turning encryption on was interrupted: run `twin "
                                                               "encrypt enable` again to finish it."),
    "crypto.disable_unfinished": QT_TRANSLATE_NOOP("Messages", "Turning encryption off was interrupted: run `twin "
                                                               "encrypt disable` again to finish it."),
    "crypto.sealed_but_off": QT_TRANSLATE_NOOP("Messages", "An encrypted file was found but encryption is off."),
    # -- the settings file (twin.settings): the start-up error, the settings dialog
    "config.bad_toml": QT_TRANSLATE_NOOP("Messages", "{path}: not valid TOML: {error}"),
    "config.unreadable": QT_TRANSLATE_NOOP("Messages", "{path}: cannot read settings: {error}"),
    "config.wrong_type": QT_TRANSLATE_NOOP("Messages", "{origin}: '{key}' must be {type}, got {value}"),
    "config.not_table": QT_TRANSLATE_NOOP("Messages", "{origin}: '[{key}]' must be a table"),
    # the settings' value rules (a file's value, or one typed in the settings dialog)
    "config.at_least": QT_TRANSLATE_NOOP("Messages", "'{key}' must be at least {min}"),
    "config.zero_or_more": QT_TRANSLATE_NOOP("Messages", "'{key}' must be 0 or more"),
    "config.positive": QT_TRANSLATE_NOOP("Messages", "'{key}' must be positive"),
    "config.between": QT_TRANSLATE_NOOP("Messages", "'{key}' must be between {low} and {high}"),
    "config.in_interval": QT_TRANSLATE_NOOP("Messages", "'{key}' must be in {interval}"),
    "config.one_of": QT_TRANSLATE_NOOP("Messages", "'{key}' must be one of: {choices}"),
    "config.not_empty": QT_TRANSLATE_NOOP("Messages", "'{key}' must not be empty"),
    "config.gpu_layers": QT_TRANSLATE_NOOP("Messages", "'llm.n_gpu_layers' must be 'auto', -1 (all layers), 0 or more"),
    "config.threads": QT_TRANSLATE_NOOP("Messages", "'llm.n_threads' must be 0 (automatic) or more"),
    "config.kv_needs_flash": QT_TRANSLATE_NOOP("Messages", "a quantized 'llm.kv_cache_type' needs 'llm.flash_attn = true'"),
    # -- the index writer lock (twin.app.writer_lock): another process keeps the index current
    "lock.owner": QT_TRANSLATE_NOOP("Messages", "{who} (pid {pid})"),
    "lock.window_owner": QT_TRANSLATE_NOOP("Messages", "the twin window (pid {pid})"),
    "lock.another_process": QT_TRANSLATE_NOOP("Messages", "another twin process"),
    "lock.held": QT_TRANSLATE_NOOP("Messages", "the index is being kept current by {who}"),
    "lock.held_picked_up": QT_TRANSLATE_NOOP("Messages", "the index is being kept current by {who}: your changes will be "
                                                         "picked up; searching works meanwhile"),
    "lock.drop_there": QT_TRANSLATE_NOOP("Messages", "{writer}. Drop the documents there, or close it first."),
    "lock.folders_there": QT_TRANSLATE_NOOP("Messages", "{writer}. Change folders there, or close it first."),
    # -- the global shortcut (twin.ui.hotkey): said when the user sets one in the settings
    "hotkey.unavailable": QT_TRANSLATE_NOOP("Messages", "The global shortcut is not available here ({error}); the tray and "
                                                        "the window work as before."),
    "hotkey.not_usable": QT_TRANSLATE_NOOP("Messages", "The global shortcut {combo} cannot be used: {error}"),
    # -- downloads (twin.app.downloads, twin.app.model_download: the window's download helper)
    "download.failed": QT_TRANSLATE_NOOP("Messages", "could not download {name}: {error}"),
    "download.unreachable": QT_TRANSLATE_NOOP("Messages", "could not reach {repo} on the hub: {error}"),
    "download.file_failed": QT_TRANSLATE_NOOP("Messages", "could not download {name} from {repo}: {error}"),
    "download.no_size": QT_TRANSLATE_NOOP("Messages", "the hub gave no size for {name} in {repo}"),
    "download.damaged_size": QT_TRANSLATE_NOOP("Messages", "the download of {name} is damaged (it has {size} bytes, the hub says "
                                                           "{expected}); it was deleted: download it again."),
    "download.damaged_sha": QT_TRANSLATE_NOOP("Messages", "the download of {name} is damaged (its sha256 is {digest}, the hub says "
                                                          "{expected}); it was deleted: download it again."),
    "download.offline": QT_TRANSLATE_NOOP("Messages", "twin is set to stay offline (TWIN_OFFLINE), so it will not download models."),
}


class Msg(str):
    """A message fit to show: its English text (the ``str``), its :data:`CATALOG` key and the
    values that filled the template (``params``). Build it with :func:`msg`."""

    key: str
    params: dict[str, Any]

    def __new__(cls, key: str, params: dict[str, Any] | None = None) -> "Msg":
        params = dict(params or {})
        self = super().__new__(cls, english(key, params))
        self.key = key
        self.params = params
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (Msg, (self.key, self.params))

    def __repr__(self) -> str:
        return f"msg({self.key!r}, {self.params!r})"


def msg(key: str, /, **params: Any) -> Msg:
    """``msg("model.not_found", path=p)``: the message ``key`` with its values."""
    if key not in CATALOG:
        raise KeyError(f"no message {key!r} in twin.messages.CATALOG")
    return Msg(key, params)


def english_value(value: Any) -> str:
    """A parameter as the English text shows it: ``1,234``; ``2.5``; a Msg's own text."""
    if isinstance(value, bool) or isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def english(key: str, params: dict[str, Any]) -> str:
    """The English text of ``key`` filled with ``params`` (the key itself when unknown)."""
    template = CATALOG.get(key)
    if template is None:
        return key
    try:
        return template.format(**{k: english_value(v) for k, v in params.items()})
    except (KeyError, IndexError, ValueError):
        return template


def to_json(m: Msg) -> dict[str, Any]:
    """``{"key", "params"}`` for a JSON line (a helper process's report); paths become text."""
    return {"key": m.key, "params": {k: to_json(v) if isinstance(v, Msg) else
                                     v if isinstance(v, (int, float, str)) else str(v) for k, v in m.params.items()}}


def from_json(data: object) -> Msg | None:
    """The :class:`Msg` of :func:`to_json`'s output (None when it is not one, or unknown here)."""
    if not isinstance(data, dict) or data.get("key") not in CATALOG or not isinstance(data.get("params", {}), dict):
        return None
    params = {k: from_json(v) or str(v) if isinstance(v, dict) else v for k, v in data.get("params", {}).items()}
    return Msg(str(data["key"]), params)


def message_of(value: object) -> Msg | None:
    """The :class:`Msg` in ``value``: itself, or an exception raised with one (else None)."""
    if isinstance(value, Msg):
        return value
    if isinstance(value, BaseException) and value.args and isinstance(value.args[0], Msg):
        return value.args[0]
    return None
