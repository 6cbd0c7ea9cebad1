"""twin.atomic: the one durable write (temp file, fsync, replace, fsync the folder)."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from twin import atomic
from twin.atomic import fsync_dir, open_atomic, write_atomic

POSIX = sys.platform != "win32"


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_bytes_and_text_content(tmp_path: Path) -> None:
    p = tmp_path / "a.bin"
    write_atomic(p, b"\x00\x01binary\n")
    assert p.read_bytes() == b"\x00\x01binary\n"
    t = tmp_path / "a.txt"
    write_atomic(t, "héllo\nwörld\n")
    assert t.read_bytes() == "héllo\nwörld\n".encode("utf-8")  # no \r\n translation
    write_atomic(t, "second")
    assert t.read_text(encoding="utf-8") == "second"
    assert _leftovers(tmp_path) == []


def test_streaming_context_manager(tmp_path: Path) -> None:
    p = tmp_path / "out.jsonl"
    with open_atomic(p) as f:
        for i in range(3):
            f.write(f"{i}\n")
        assert not p.exists(), "the target appears only when the block ends"
    assert p.read_bytes() == b"0\n1\n2\n"
    with open_atomic(p, binary=True) as fb:
        fb.write(b"raw")
    assert p.read_bytes() == b"raw"
    assert _leftovers(tmp_path) == []


def test_exception_leaves_target_and_no_temp(tmp_path: Path) -> None:
    p = tmp_path / "keep.txt"
    p.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError, match="boom"):
        with open_atomic(p) as f:
            f.write("half of the new")
            raise RuntimeError("boom")
    assert p.read_text(encoding="utf-8") == "old"
    assert _leftovers(tmp_path) == []
    assert sorted(x.name for x in tmp_path.iterdir()) == ["keep.txt"]


def test_failed_replace_removes_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "x.txt"

    def no_replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", no_replace)
    with pytest.raises(OSError, match="No space"):
        write_atomic(p, "data")
    assert not p.exists()
    assert _leftovers(tmp_path) == []


def test_encode_error_writes_nothing(tmp_path: Path) -> None:
    p = tmp_path / "x.txt"
    with pytest.raises(UnicodeEncodeError):
        write_atomic(p, "\udcff lone surrogate")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not POSIX, reason="POSIX permission bits")
def test_permissions(tmp_path: Path) -> None:
    secret = tmp_path / "key.json"
    write_atomic(secret, "{}", mode=0o600)
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    # a rewrite without mode keeps the file's bits
    write_atomic(secret, "{1}")
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    # a user's chmod survives the next save
    os.chmod(secret, 0o640)
    write_atomic(secret, "{2}")
    assert stat.S_IMODE(secret.stat().st_mode) == 0o640
    # a new file gets the umask default, like open(path, "w")
    umask = os.umask(0o022)
    os.umask(umask)
    plain = tmp_path / "plain.txt"
    write_atomic(plain, "x")
    assert stat.S_IMODE(plain.stat().st_mode) == 0o666 & ~umask
    # an explicit mode wins over the umask
    old = os.umask(0o077)
    try:
        write_atomic(tmp_path / "shared.txt", "x", mode=0o644)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "shared.txt").stat().st_mode) == 0o644


def test_file_and_folder_are_fsynced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[tuple[str, bool]] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        st = os.fstat(fd)
        synced.append((os.readlink(f"/proc/self/fd/{fd}") if POSIX and os.path.exists("/proc/self/fd")
                       else str(fd), stat.S_ISDIR(st.st_mode)))
        real_fsync(fd)

    monkeypatch.setattr(atomic.os, "fsync", recording_fsync)
    p = tmp_path / "d.txt"
    write_atomic(p, "x")
    kinds = [is_dir for _, is_dir in synced]
    assert kinds == [False, True], synced  # the temp file first, then the folder after the rename
    if os.path.exists("/proc/self/fd"):
        assert synced[0][0].endswith(".tmp") and Path(synced[1][0]) == tmp_path


def test_no_folder_fsync_when_the_write_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: calls.append(fd))
    with pytest.raises(ValueError):
        with open_atomic(tmp_path / "n.txt") as f:
            f.write("x")
            raise ValueError
    assert calls == []


def test_fsync_dir_is_best_effort(tmp_path: Path) -> None:
    fsync_dir(tmp_path)  # works
    fsync_dir(tmp_path / "missing")  # never raises


def test_temp_name_is_hidden_and_skipped_by_the_watcher(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from twin.core.memory.sources import FileFilter

    seen: list[str] = []
    real_replace = os.replace

    def spy(src: str, dst: str) -> None:
        seen.append(Path(src).name)
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", spy)
    write_atomic(tmp_path / "2024-05-01.md", "# May\n")
    (name,) = seen
    assert name.startswith(".2024-05-01.md.") and name.endswith(".tmp")
    watched = FileFilter([".md"])
    assert watched.accepts("2024-05-01.md") and not watched.accepts(name)
    assert watched.accepts(".2024-05-01.md") is False  # hidden: never indexed by default
    assert watched.is_temp(name)  # and a temp file even where hidden files are indexed
