"""``twin encrypt …`` and ``twin unlock``: encryption at rest from the command line.

Every command that opens data asks for the passphrase when the data dir is encrypted
(:func:`cli_vault`): from ``TWIN_PASSPHRASE`` if set, else on the terminal (never echoed).
A wrong passphrase is a clear error and changes nothing. A CLI process keeps the key only
while it runs: ``twin unlock`` just checks a passphrase.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from twin.app.encryption_switch import change_passphrase, disable, enable
from twin.app.vault_service import KEY_FILE, PASSPHRASE_ENV, Vault, env_passphrase
from twin.core.crypto import CryptoError
from twin.paths import Paths

#: What encryption leaves readable, said the same way here, in the README and in the window.
REMAINS = (
    "Encrypted: conversation text, titles, thinking and memories; chunk text and headings; "
    "profile files. Not encrypted: embedding vectors (numbers from which the topics of a "
    "chunk could be approximately guessed), file paths and names, dates, sizes, counts and "
    "timings; full-text search holds keyed tokens (which chunks share a word, not the word). "
    "Chat-memory notes (data/memories) and copies of dropped documents (data/inbox) are "
    "sealed, their names showing only a date and the file type. Your own source folders "
    "are plain files twin only reads: it does not encrypt them."
)


def _terminal_prompt(prompt: str = "twin passphrase: ") -> str | None:
    if not sys.stdin.isatty():
        return None
    return getpass.getpass(prompt)


def ask_passphrase(prompt: str = "twin passphrase: ") -> str | None:
    """``TWIN_PASSPHRASE``, else a terminal prompt, else None."""
    return env_passphrase() or _terminal_prompt(prompt)


def cli_vault(paths: Paths) -> Vault:
    """The vault for a CLI command: asks for the passphrase only if data is opened."""
    return Vault(paths.ensure(), ask=ask_passphrase)


def _new_passphrase(prompt: str = "new passphrase: ") -> str:
    env = env_passphrase()
    if env:
        return env
    first = _terminal_prompt(prompt)
    if first is None:
        raise CryptoError(f"No passphrase: run in a terminal, or set {PASSPHRASE_ENV}.")
    if _terminal_prompt("again: ") != first:
        raise CryptoError("The two passphrases differ; nothing was changed.")
    return first


def _required(prompt: str = "twin passphrase: ") -> str:
    value = ask_passphrase(prompt)
    if not value:
        raise CryptoError(f"No passphrase: run in a terminal, or set {PASSPHRASE_ENV}.")
    return value


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("encrypt", help="encryption at rest: status, enable, disable, change-passphrase")
    es = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    es.add_parser("status", help="is the data encrypted, and what stays readable").set_defaults(func=cmd_status)
    es.add_parser("enable", help="encrypt conversations, the memory index and the profile "
                  f"(passphrase asked twice, or {PASSPHRASE_ENV})").set_defaults(func=cmd_enable)
    es.add_parser("disable", help="decrypt everything and forget the key").set_defaults(func=cmd_disable)
    q = es.add_parser("change-passphrase", help="new passphrase; the data is not rewritten")
    q.add_argument("--new-from-env", metavar="VAR", default=None,
                   help="read the new passphrase from this environment variable (scripts)")
    q.set_defaults(func=cmd_change)
    sub.add_parser("unlock", help="check the passphrase (each command asks for it when needed)"
                   ).set_defaults(func=cmd_unlock)


def cmd_status(args: argparse.Namespace, paths: Paths) -> int:
    vault = Vault(paths)
    kf = vault.key_file()
    if kf is None:
        print("Encryption: off. Turn it on with `twin encrypt enable`.")
    else:
        state = "on" if kf.status == "on" else f"interrupted ({kf.status}): run the same command again"
        print(f"Encryption: {state} (AES-256-GCM, key from the passphrase by {kf.kdf.name}).")
    print(REMAINS)
    return 0


def cmd_enable(args: argparse.Namespace, paths: Paths) -> int:
    kf = Vault(paths).key_file()
    passphrase = _required() if kf is not None else _new_passphrase()
    enable(paths.ensure(), passphrase)
    print("Encryption is on. Without the passphrase, this data cannot be read: keep it safe.")
    print(REMAINS)
    old = plaintext_backups(paths)
    if old:
        print(f"Warning: {len(old)} backup(s) made before encryption still hold plain text "
              f"(in {old[0].parent}). Delete them with `twin backup prune --keep 0` once you "
              "no longer need them.")
    return 0


def plaintext_backups(paths: Paths) -> list[Path]:
    """Backups (twin.app.backup) without a key file: made while the data was plain."""
    try:
        from twin.app.backup import list_backups
    except ImportError:  # pragma: no cover - backups arrive separately
        return []
    from twin.settings import load_settings

    cfg = load_settings(paths.settings_file).backup
    return [b.path for b in list_backups(paths, cfg) if not (b.path / KEY_FILE).exists()]


def cmd_disable(args: argparse.Namespace, paths: Paths) -> int:
    disable(paths, _required())
    print("Encryption is off: the data dir is plain text again.")
    return 0


def cmd_change(args: argparse.Namespace, paths: Paths) -> int:
    import os

    old = _required("current passphrase: ")
    if args.new_from_env:
        new = os.environ.get(args.new_from_env, "")
        if not new:
            raise CryptoError(f"{args.new_from_env} is not set; nothing was changed.")
    else:
        first = _terminal_prompt("new passphrase: ")
        if first is None or _terminal_prompt("again: ") != first:
            raise CryptoError("No new passphrase (or the two differ); nothing was changed.")
        new = first
    change_passphrase(paths, old, new)
    print("Passphrase changed.")
    return 0


def cmd_unlock(args: argparse.Namespace, paths: Paths) -> int:
    vault = Vault(paths)
    if not vault.enabled:
        print("Encryption is off: nothing to unlock.")
        return 0
    vault.unlock(_required())
    print("Passphrase accepted.")
    return 0
