"""twin.messages: the app's and the core's messages as a key and parameters (issue 10, Russian
in the window). The English text stays what the CLI and the log printed before; the key and the
values survive pickling (the memory engine's child process) and JSON (a helper's report)."""

from __future__ import annotations

import json
import pickle
import re
import string
from pathlib import Path

import pytest

from twin.core.llm.errors import ModelFileError
from twin.core.llm.fit import Attempt, retry_message
from twin.core.llm.gguf_meta import read_gguf_header
from twin.errors import DocumentError
from twin.messages import CATALOG, Msg, from_json, message_of, msg, to_json


def test_a_message_is_its_english_text_and_keeps_its_key_and_values(tmp_path: Path) -> None:
    m = msg("model.truncated", path=tmp_path / "a.gguf", need=1234567, size=1000)
    assert isinstance(m, str) and m == f"{tmp_path / 'a.gguf'} is truncated: its tensors need 1,234,567 bytes but " \
                                       "the file has 1,000 (an interrupted download?). Download it again."
    assert m.key == "model.truncated" and m.params["need"] == 1234567
    nested = msg("model.corrupt", path="x.gguf", detail=msg("corrupt.list", key="tokenizer.ggml.tokens", n=10**9,
                                                             size=64))
    assert nested == ("x.gguf is corrupt: the list 'tokenizer.ggml.tokens' claims 1,000,000,000 items, in a 64-byte "
                      "file. Download the model again or pick another file.")
    # a parameter may be called "key" (the message's own key is positional only)
    assert msg("corrupt.value_type", key="general.name", type="99").params == {"key": "general.name", "type": "99"}
    with pytest.raises(KeyError, match="no message 'no.such'"):
        msg("no.such")


def test_it_survives_pickling_and_json() -> None:
    m = msg("drop.unsupported", suffix=msg("drop.no_extension"), kinds=".md, .txt")
    back = pickle.loads(pickle.dumps(m))
    assert type(back) is Msg and back == m and back.key == m.key and back.params["suffix"].key == "drop.no_extension"
    e = pickle.loads(pickle.dumps(DocumentError(m)))
    assert message_of(e) == m and message_of(e).key == "drop.unsupported"  # type: ignore[union-attr]  # checked
    wire = json.loads(json.dumps(to_json(msg("download.damaged_size", name="a.gguf", size=10, expected=20))))
    again = from_json(wire)
    assert again is not None and again.key == "download.damaged_size" and again.params["size"] == 10
    assert str(again) == "the download of a.gguf is damaged (it has 10 bytes, the hub says 20); it was deleted: " \
                         "download it again."
    assert from_json({"key": "not.a.key", "params": {}}) is None and from_json("text") is None
    assert message_of(ValueError("plain")) is None and message_of("plain") is None


def test_every_template_is_well_formed() -> None:
    for key, template in CATALOG.items():
        fields = [f for _, f, spec, _ in string.Formatter().parse(template) if f is not None]
        assert all(re.fullmatch(r"[a-z_]+", f) for f in fields), (key, fields)  # named, no format spec
        assert not any(spec for _, f, spec, _ in string.Formatter().parse(template) if f), key


def test_the_core_raises_keyed_messages_with_the_same_english(tmp_path: Path) -> None:
    empty = tmp_path / "empty.gguf"
    empty.write_bytes(b"")
    text = tmp_path / "notes.gguf"
    text.write_text("just some text, not a model\n")
    with pytest.raises(ModelFileError) as caught:
        read_gguf_header(empty)
    assert str(caught.value) == f"{empty} is empty (0 bytes): an interrupted download? Download it again."
    assert message_of(caught.value).key == "model.empty"  # type: ignore[union-attr]  # raised with one
    with pytest.raises(ModelFileError) as caught:
        read_gguf_header(text)
    assert message_of(caught.value).key == "model.not_gguf"  # type: ignore[union-attr]  # raised with one
    with pytest.raises(ModelFileError, match="Model file not found"):
        read_gguf_header(tmp_path / "missing.gguf")
    retried = retry_message([Attempt(49, "out of memory"), Attempt(24, "out of memory"), Attempt(12)], 49)
    assert retried == ("The GPU ran out of memory with 49, 24 layers; the model was loaded with 12 of 49 layers on "
                       "the GPU. Close other programs using the GPU, or lower llm.n_ctx, to put more on the GPU.")
    assert message_of(retried).key == "oom.retried_gpu"  # type: ignore[union-attr]  # it is one


def test_the_window_renders_any_value(qapp: object) -> None:
    """Numbers past 64 bits (a corrupt header's claims) and unknown keys never break shown()."""
    from twin.ui import i18n

    i18n.uninstall()
    i18n.install("ru", app=qapp)  # type: ignore[arg-type]  # the session's QApplication
    try:
        huge = msg("corrupt.list", key="k", n=2**64 - 1, size=10)
        assert i18n.shown(huge) == "список «k» заявляет 18,446,744,073,709,551,615 элементов в файле размером 10 байт"
        assert i18n.shown(msg("fit.ctx", n=32768, kv="q8_0")) == "контекст на 32\u00a0768 токенов, KV-кэш q8_0"
        assert i18n.shown("a plain library message") == "a plain library message"
        assert i18n.shown(ValueError("no key")) == "no key"
    finally:
        i18n.uninstall()
