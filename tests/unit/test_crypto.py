"""The crypto core: key file, data key, sealed values, blind tokens, keyed hashes, codecs."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from twin.core.crypto import (
    PLAIN,
    TEXT_PREFIX,
    CryptoError,
    KdfParams,
    KeyFile,
    Keys,
    SealedCodec,
    TamperedData,
    WrongPassphrase,
)

PASS = "correct horse battery"


@pytest.fixture(scope="module")
def made() -> tuple[KeyFile, Keys]:
    return KeyFile.create(PASS, KdfParams.cheap())


def test_roundtrip_and_wrong_passphrase(made: tuple[KeyFile, Keys], tmp_path: Path) -> None:
    kf, keys = made
    path = tmp_path / "keys.json"
    kf.save(path)
    raw = path.read_text(encoding="utf-8")
    assert keys.dek.hex() not in raw and PASS not in raw  # nothing secret in the clear
    loaded = KeyFile.load(path)
    assert loaded is not None and loaded.unlock(PASS).dek == keys.dek
    with pytest.raises(WrongPassphrase, match="Wrong passphrase"):
        loaded.unlock(PASS + "!")
    assert KeyFile.load(tmp_path / "none.json") is None


def test_default_kdf_is_argon2id() -> None:
    kdf = KdfParams.default()
    assert kdf.name == "argon2id" and kdf.memory_kib >= 19 * 1024 and len(kdf.salt) == 16
    assert KdfParams.default().salt != kdf.salt


def test_rewrap_keeps_the_data_key(made: tuple[KeyFile, Keys]) -> None:
    kf, keys = made
    new = kf.rewrapped(keys, "another passphrase", KdfParams.cheap())
    assert new.unlock("another passphrase").dek == keys.dek and new.wrapped != kf.wrapped
    with pytest.raises(WrongPassphrase):
        new.unlock(PASS)


def test_short_passphrase_refused() -> None:
    with pytest.raises(CryptoError, match="at least"):
        KeyFile.create("short", KdfParams.cheap())


def test_damaged_key_file(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CryptoError, match="unreadable"):
        KeyFile.load(path)
    path.write_text(json.dumps({"version": 1, "kdf": {}}), encoding="utf-8")
    with pytest.raises(CryptoError, match="damaged"):
        KeyFile.load(path)


def test_sealed_values(made: tuple[KeyFile, Keys]) -> None:
    codec = SealedCodec(made[1])
    for text in ("Купил велосипед", "hello", "😀 emoji", "x" * 10_000):
        sealed = codec.seal_text(text, "chunk.text")
        assert sealed.startswith(TEXT_PREFIX) and text not in sealed
        assert codec.open_text(sealed, "chunk.text") == text
        assert codec.seal_text(text, "chunk.text") != sealed  # a fresh nonce each time
    assert codec.seal_text("", "chunk.text") == ""


def test_tamper_wrong_purpose_and_wrong_key_detected(made: tuple[KeyFile, Keys]) -> None:
    codec = SealedCodec(made[1])
    sealed = codec.seal_text("secret diary", "msg.content")
    with pytest.raises(TamperedData):
        codec.open_text(sealed, "msg.thinking")  # moved to another column
    blob = bytearray(base64.b64decode(sealed[len(TEXT_PREFIX):]))
    for i in (0, 14, len(blob) - 1):  # nonce, ciphertext, tag
        bad = bytearray(blob)
        bad[i] ^= 0x01
        with pytest.raises(TamperedData):
            codec.open_text(TEXT_PREFIX + base64.b64encode(bytes(bad)).decode(), "msg.content")
    other = SealedCodec(KeyFile.create(PASS, KdfParams.cheap())[1])
    with pytest.raises(TamperedData):
        other.open_text(sealed, "msg.content")
    with pytest.raises(TamperedData, match="not encrypted"):
        codec.open_text("plain text", "msg.content")
    assert codec.is_sealed(sealed, "msg.content") and not other.is_sealed(sealed, "msg.content")


def test_blind_tokens_deterministic_per_key(made: tuple[KeyFile, Keys]) -> None:
    keys = made[1]
    again = Keys(keys.dek)
    other = KeyFile.create(PASS, KdfParams.cheap())[1]
    terms = ["велосипед", "fire", "london", "fire"]
    tokens = SealedCodec(keys).terms(terms)
    assert tokens == SealedCodec(again).terms(terms)
    assert tokens[1] == tokens[3] and len(set(tokens)) == 3
    assert all(len(t) == 16 and t.isalnum() and t == t.lower() for t in tokens)
    assert SealedCodec(other).terms(terms) != tokens
    assert keys.keyed_hash("abc") == again.keyed_hash("abc") != other.keyed_hash("abc")


def test_plain_codec_is_identity() -> None:
    assert PLAIN.seal_text("a", "x") == "a" and PLAIN.open_text("a", "x") == "a"
    assert PLAIN.terms(["a"]) == ["a"] and PLAIN.hash("h") == "h" and PLAIN.id == ""
