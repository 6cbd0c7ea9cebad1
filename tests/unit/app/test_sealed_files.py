"""Sealing twin's own files (notes, inbox copies): names, round trips, crash-safe conversion."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.app import encryption_switch
from twin.app.sealed_files import SealedFiles, convert_folder, pack, sealed_name, unpack
from twin.core.crypto import KdfParams
from twin.core.memory.documents import read_document
from twin.core.memory.sources import FileFilter
from twin.errors import DocumentError
from twin.paths import resolve_paths


@pytest.fixture
def vault(tmp_path: Path):  # type: ignore[no-untyped-def]
    paths = resolve_paths({"TWIN_HOME": str(tmp_path / "home")}).ensure()
    return encryption_switch.enable(paths, "pass phrase", kdf=KdfParams.cheap())


def test_names_reveal_only_date_and_type() -> None:
    import datetime as dt

    name = sealed_name("Secret plans/Мой дневник.PDF", dt.date(2026, 1, 2))
    assert name.startswith("2026-01-02-") and name.endswith(".pdf.twin-sealed") and "plans" not in name
    assert sealed_name("a.md", key=b"k" * 32) == sealed_name("a.md", key=b"k" * 32) != sealed_name("b.md", key=b"k" * 32)
    assert unpack(pack("x/y.md", b"body\n")) == ("x/y.md", b"body\n") and unpack(b"raw") == ("", b"raw")


def test_filter_takes_sealed_files_only_with_a_decoder() -> None:
    assert FileFilter([".md"], sealed=True).accepts("2026-01-02-abc.md.twin-sealed")
    assert not FileFilter([".md"]).accepts("2026-01-02-abc.md.twin-sealed")
    assert not FileFilter([".md"], sealed=True).accepts("2026-01-02-abc.exe.twin-sealed")


def test_conversion_round_trip_and_crash_rerun(vault, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    inbox = vault.paths.inbox_dir
    (inbox / "Trip").mkdir(parents=True)
    (inbox / "Trip" / "Тбилиси notes.md").write_text("# Tbilisi\n\nKhachapuri every day.\n", encoding="utf-8")
    original = (inbox / "Trip" / "Тбилиси notes.md").read_bytes()
    renames = convert_folder(vault, inbox, encrypt=True)
    (sealed,) = list(inbox.iterdir())
    assert renames == {str(inbox / "Trip" / "Тбилиси notes.md"): str(sealed)}
    assert b"Khachapuri" not in sealed.read_bytes()
    assert "Khachapuri" in read_document(sealed, 1 << 20, SealedFiles(vault).decode).text
    with pytest.raises(DocumentError, match="encrypted by twin"):
        read_document(sealed, 1 << 20)
    # a crash after the sealed copy was written but before the plain one was removed:
    (inbox / "Trip").mkdir()
    (inbox / "Trip" / "Тбилиси notes.md").write_bytes(original)
    convert_folder(vault, inbox, encrypt=True)
    assert list(inbox.iterdir()) == [sealed]  # the same (keyed) name: no second copy
    convert_folder(vault, inbox, encrypt=False)
    assert (inbox / "Trip" / "Тбилиси notes.md").read_bytes() == original and not sealed.exists()
    # a crash on the way back: the plain file exists already, the sealed one was not removed
    again = convert_folder(vault, inbox, encrypt=True)
    restored = Path(next(iter(again.values())))
    (inbox / "Trip").mkdir()
    (inbox / "Trip" / "Тбилиси notes.md").write_bytes(original)
    convert_folder(vault, inbox, encrypt=False)
    assert not restored.exists() and [p.name for p in (inbox / "Trip").iterdir()] == ["Тбилиси notes.md"]
