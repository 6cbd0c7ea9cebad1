"""Encryption at rest: the key file, the data key, and the codecs the stores use.

Design (``cryptography`` package; nothing hand-rolled):

* A random 256-bit **data key** (DEK) encrypts everything. It is stored only *wrapped*: in
  ``keys.json`` (:class:`KeyFile`), encrypted with AES-256-GCM under a key-encryption key
  derived from the passphrase by **Argon2id** (salt and cost stored beside it). A wrong
  passphrase fails the GCM tag check of the wrapped key, so it is detected before any data
  is read or written; changing the passphrase rewraps the DEK and touches no data.
* Sub-keys for each use are derived from the DEK with HKDF-SHA256 (:class:`Keys`), so one
  purpose's key never serves another.
* **Values** (chunk text, headings, message content…) are sealed with AES-256-GCM, a fresh
  96-bit random nonce each, and the *purpose* (``"chunk.text"``, ``"msg.content"``…) as
  associated data, so a value moved to another column fails to open. Sealed text is stored
  as ``"\\x01e1:" + base64(nonce ‖ ciphertext ‖ tag)`` (:data:`TEXT_PREFIX`).
* **Full-text search** keeps working on **blind tokens**: each stemmed term becomes
  HMAC-SHA256(blind key, term), truncated to 80 bits, in base32. Equal terms give equal tokens
  (so BM25 ranks exactly as on the terms), but the token reveals nothing of the word without
  the key. What it does reveal: which chunks share a term and how often terms occur
  (frequency analysis could guess very common words).
* **Content hashes** become HMAC-SHA256(hash key, hash), so a stored hash no longer confirms
  that a chunk holds some guessable text.

The codecs (:class:`PlainCodec`, :class:`SealedCodec`) are what :class:`LanceStore` and the
conversation store are given; the plain one is the identity, so with encryption off nothing
changes on disk.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from twin.atomic import write_atomic
from twin.errors import KnownError
from twin.messages import msg

#: Marks sealed text (a control character no user text starts a stored value with).
TEXT_PREFIX = "\x01e1:"
#: Bytes of a blind token before base32 (80 bits: collisions negligible below 10^11 terms).
TOKEN_BYTES = 10
_NONCE = 12
_KEYFILE_VERSION = 1


class CryptoError(KnownError):
    """Base of the encryption errors."""


class WrongPassphrase(CryptoError):
    """The passphrase does not open the key file (nothing was changed)."""


class VaultLocked(CryptoError):
    """The data is encrypted and no passphrase was given."""


class TamperedData(CryptoError):
    """A sealed value failed its integrity check (corrupt, or not made with this key)."""


# -- key derivation -------------------------------------------------------------------------


@dataclass(frozen=True)
class KdfParams:
    """How the key-encryption key is derived from the passphrase (stored in the key file).

    Argon2id with 64 MiB and 3 passes (OWASP's first recommended setting is 19 MiB, 2 passes;
    this is stronger and still ~0.2–0.5 s on one core). Falls back to scrypt (n=2^17, r=8)
    where the OpenSSL build lacks Argon2.
    """

    name: str = "argon2id"
    salt: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    iterations: int = 3
    memory_kib: int = 64 * 1024
    lanes: int = 4

    @classmethod
    def default(cls) -> KdfParams:
        return cls() if _has_argon2() else cls(name="scrypt", iterations=2 ** 17, memory_kib=8, lanes=1)

    @classmethod
    def cheap(cls) -> KdfParams:
        """Tiny cost, for tests only (never for a real key file)."""
        if _has_argon2():
            return cls(iterations=1, memory_kib=64, lanes=1)
        return cls(name="scrypt", iterations=2 ** 4, memory_kib=8, lanes=1)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "salt": _b64(self.salt), "iterations": self.iterations,
                "memory_kib": self.memory_kib, "lanes": self.lanes}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KdfParams:
        return cls(str(data["name"]), _unb64(data["salt"]), int(data["iterations"]),
                   int(data["memory_kib"]), int(data["lanes"]))

    def derive(self, passphrase: str) -> bytes:
        from twin.threads import check

        check("key derivation")  # a second of CPU: never on the window's GUI thread (twin.threads)
        secret = passphrase.encode("utf-8")
        if self.name == "argon2id":
            from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

            return Argon2id(salt=self.salt, length=32, iterations=self.iterations,
                            lanes=self.lanes, memory_cost=self.memory_kib).derive(secret)
        if self.name == "scrypt":
            from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

            # memory_kib holds r, lanes holds p for scrypt.
            return Scrypt(salt=self.salt, length=32, n=self.iterations, r=self.memory_kib,
                          p=self.lanes).derive(secret)
        raise CryptoError(msg("crypto.unknown_kdf", name=self.name))


def _has_argon2() -> bool:
    try:
        from cryptography.hazmat.primitives.kdf.argon2 import Argon2id  # noqa: F401
    except ImportError:  # pragma: no cover - cryptography < 44
        return False
    return True


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


# -- the data key ---------------------------------------------------------------------------


class Keys:
    """The unwrapped data key and the sub-keys derived from it. Never written anywhere."""

    def __init__(self, dek: bytes):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if len(dek) != 32:
            raise ValueError("the data key must be 32 bytes")
        self._dek = dek
        self._aead = AESGCM(self._sub(b"twin values v1"))
        self._blind_key = self._sub(b"twin blind tokens v1")
        self._hash = self._sub(b"twin content hashes v1")
        self.key_id = hmac.new(dek, b"twin key id", hashlib.sha256).hexdigest()[:16]
        # Terms repeat a lot (Zipf): cache their tokens (~2 µs each otherwise).
        self.blind = lru_cache(maxsize=262_144)(self._token)

    def _sub(self, info: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(self._dek)

    @property
    def dek(self) -> bytes:
        return self._dek

    def seal(self, data: bytes, purpose: str) -> bytes:
        """``nonce ‖ AES-256-GCM(data, aad=purpose)``."""
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, data, purpose.encode("utf-8"))

    def open(self, blob: bytes, purpose: str) -> bytes:
        """The data :meth:`seal` sealed for ``purpose``; :class:`TamperedData` otherwise."""
        from cryptography.exceptions import InvalidTag

        from twin.threads import check

        check("decryption")  # never on the window's GUI thread (twin.threads)

        if len(blob) < _NONCE + 16:
            raise TamperedData(f"a sealed {purpose} value is truncated")
        try:
            return self._aead.decrypt(blob[:_NONCE], blob[_NONCE:], purpose.encode("utf-8"))
        except InvalidTag:
            raise TamperedData(f"a sealed {purpose} value failed its integrity check") from None

    def _token(self, term: str) -> str:
        """A term's blind token: 16 base32 characters (lower case letters and 2–7)."""
        mac = hmac.new(self._blind_key, term.encode("utf-8"), hashlib.sha256).digest()[:TOKEN_BYTES]
        return base64.b32encode(mac).decode("ascii").lower()

    def keyed_hash(self, value: str) -> str:
        """HMAC-SHA256 of ``value``, 32 hex digits (the size of the plain content hash)."""
        return hmac.new(self._hash, value.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


# -- the key file ---------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyFile:
    """``keys.json``: the wrapped data key and how to unwrap it. Holds no secret in the clear.

    ``status`` is ``"on"``, or ``"enabling"``/``"disabling"`` while data is being converted
    (an interrupted conversion is finished by running the same command again).
    """

    kdf: KdfParams
    wrapped: bytes
    key_id: str
    status: str = "on"

    @classmethod
    def create(cls, passphrase: str, kdf: KdfParams | None = None,
               dek: bytes | None = None) -> tuple[KeyFile, Keys]:
        """A new key file for a new random data key (or ``dek``), and the unwrapped keys."""
        check_passphrase(passphrase)
        kdf = kdf or KdfParams.default()
        dek = dek or secrets.token_bytes(32)
        keys = Keys(dek)
        return cls(kdf, _wrap(kdf.derive(passphrase), dek), keys.key_id, "enabling"), keys

    def unlock(self, passphrase: str) -> Keys:
        """The data key; :class:`WrongPassphrase` if ``passphrase`` is not the one."""
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        kek = self.kdf.derive(passphrase)
        try:
            dek = AESGCM(kek).decrypt(self.wrapped[:_NONCE], self.wrapped[_NONCE:], b"twin dek")
        except InvalidTag:
            raise WrongPassphrase(msg("crypto.wrong_passphrase")) from None
        keys = Keys(dek)
        if keys.key_id != self.key_id:  # pragma: no cover - a hand-edited key file
            raise TamperedData("the key file's key id does not match its key")
        return keys

    def rewrapped(self, keys: Keys, new_passphrase: str, kdf: KdfParams | None = None) -> KeyFile:
        """The same data key under ``new_passphrase`` (a fresh salt)."""
        check_passphrase(new_passphrase)
        kdf = kdf or KdfParams(name=self.kdf.name, iterations=self.kdf.iterations,
                               memory_kib=self.kdf.memory_kib, lanes=self.kdf.lanes)
        return KeyFile(kdf, _wrap(kdf.derive(new_passphrase), keys.dek), self.key_id, self.status)

    def with_status(self, status: str) -> KeyFile:
        return KeyFile(self.kdf, self.wrapped, self.key_id, status)

    def to_json(self) -> dict[str, Any]:
        return {"version": _KEYFILE_VERSION, "cipher": "AES-256-GCM", "kdf": self.kdf.to_json(),
                "wrapped_key": _b64(self.wrapped), "key_id": self.key_id, "status": self.status}

    @classmethod
    def load(cls, path: Path) -> KeyFile | None:
        """The key file at ``path``, or None when there is none (encryption off)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            raise CryptoError(msg("crypto.keyfile_unreadable", path=path, error=str(e))) from e
        try:
            if int(data.get("version", 0)) != _KEYFILE_VERSION:
                raise CryptoError(msg("crypto.keyfile_version", path=path))
            return cls(KdfParams.from_json(data["kdf"]), _unb64(data["wrapped_key"]),
                       str(data["key_id"]), str(data.get("status", "on")))
        except (KeyError, TypeError, ValueError) as e:
            raise CryptoError(msg("crypto.keyfile_damaged", path=path, error=str(e))) from e

    def save(self, path: Path) -> None:
        """Write atomically and durably, readable by the owner only."""
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(self.to_json(), indent=2), mode=0o600)


def _wrap(kek: bytes, dek: bytes) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(_NONCE)
    return nonce + AESGCM(kek).encrypt(nonce, dek, b"twin dek")


#: Shortest passphrase accepted.
MIN_PASSPHRASE = 8


def check_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE:
        raise CryptoError(msg("crypto.too_short", n=MIN_PASSPHRASE))


# -- codecs ---------------------------------------------------------------------------------


class Codec(Protocol):
    """How stores turn user text into what they write, and back.

    ``id`` is ``""`` for plain storage, else the key id (stores record it, so data written
    with one key is never read with another).
    """

    id: str

    def seal_text(self, text: str, purpose: str) -> str: ...

    def open_text(self, value: str, purpose: str) -> str: ...

    def terms(self, terms: list[str]) -> list[str]: ...

    def hash(self, value: str) -> str: ...

    @property
    def encrypted(self) -> bool: ...


class PlainCodec:
    """No encryption: every transform is the identity."""

    id = ""
    encrypted = False

    def seal_text(self, text: str, purpose: str) -> str:
        return text

    def open_text(self, value: str, purpose: str) -> str:
        return value

    def terms(self, terms: list[str]) -> list[str]:
        return terms

    def hash(self, value: str) -> str:
        return value


PLAIN = PlainCodec()


class SealedCodec:
    """AES-GCM values, blind FTS tokens and keyed hashes under ``keys``."""

    encrypted = True

    def __init__(self, keys: Keys):
        self.keys = keys
        self.id = keys.key_id

    def seal_text(self, text: str, purpose: str) -> str:
        if not text:
            return ""  # an empty value stays empty (its length would show anyway)
        return TEXT_PREFIX + _b64(self.keys.seal(text.encode("utf-8", "surrogatepass"), purpose))

    def open_text(self, value: str, purpose: str) -> str:
        if not value:
            return value
        if not value.startswith(TEXT_PREFIX):
            raise TamperedData(f"a {purpose} value is not encrypted")
        try:
            blob = _unb64(value[len(TEXT_PREFIX):])
        except ValueError:
            raise TamperedData(f"a sealed {purpose} value is damaged") from None
        return self.keys.open(blob, purpose).decode("utf-8", "surrogatepass")

    def is_sealed(self, value: str, purpose: str) -> bool:
        """Whether ``value`` is a value this key sealed for ``purpose``."""
        try:
            self.open_text(value, purpose)
        except TamperedData:
            return False
        return bool(value)

    def terms(self, terms: list[str]) -> list[str]:
        return [self.keys.blind(t) for t in terms]

    def hash(self, value: str) -> str:
        return self.keys.keyed_hash(value)
