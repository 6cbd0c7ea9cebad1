"""Which files under the user's source folders are indexed.

Pure filtering rules (:class:`FileFilter`) plus a directory walk that survives symlink loops,
unreadable folders and files vanishing mid-walk. Hidden folders (``.git``, ``.obsidian``,
``.trash``…) and editors' temp, swap and backup files are never indexed.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable, Iterator, Sequence

log = logging.getLogger("twin.index")

#: Suffix of a file twin sealed (same as :data:`twin.core.memory.documents.SEALED_SUFFIX`).
SEALED_SUFFIX = ".twin-sealed"

#: Folders never indexed, hidden or not (tools' metadata, trash, dependency trees).
ALWAYS_SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".svn", ".obsidian", ".trash", ".Trash", ".Trashes", ".stfolder", ".stversions",
     "node_modules", "__pycache__", ".venv", "$RECYCLE.BIN", "lost+found"}
)

#: Editors' temp, swap, lock and backup files (vim, emacs, Office, LibreOffice, browsers).
TEMP_FILE_GLOBS = (
    "*.swp", "*.swo", "*.swx", "*.swn", "*~", ".#*", "#*#", "*.tmp", "*.temp", "*.bak",
    "~$*", ".~lock.*#", "*.part", "*.crdownload", "*.kate-swp", ".DS_Store", "4913",
)


@dataclass(frozen=True)
class FoundFile:
    """A candidate file with the stat data the indexer compares against its records."""

    path: Path
    source: Path
    size: int
    mtime_ns: int


class FileFilter:
    """Decides whether a path under a source folder is indexed.

    Args:
        extensions: lower-case suffixes with the dot (``.md``).
        exclude: user globs, matched against the path relative to the source (POSIX
            separators) and against the bare file name.
        index_hidden: index hidden files and folders other than :data:`ALWAYS_SKIPPED_DIRS`.
        sealed: also take files twin sealed (``name.md.twin-sealed``: the suffix before
            :data:`SEALED_SUFFIX` is checked); only when the reader gets a decoder.
    """

    def __init__(self, extensions: Iterable[str], exclude: Sequence[str] = (), index_hidden: bool = False,
                 sealed: bool = False):
        self.extensions = frozenset(e.lower() for e in extensions)
        self.exclude = tuple(exclude)
        self.index_hidden = index_hidden
        self.sealed = sealed

    def skip_dir(self, name: str, rel: str = "") -> bool:
        if name in ALWAYS_SKIPPED_DIRS:
            return True
        if name.startswith(".") and not self.index_hidden:
            return True
        return bool(rel) and self._excluded(rel + "/", name)

    def is_temp(self, name: str) -> bool:
        return any(fnmatch.fnmatchcase(name, g) for g in TEMP_FILE_GLOBS)

    def accepts(self, rel: str) -> bool:
        """Whether a file at ``rel`` (relative to its source, POSIX) is indexed."""
        parts = PurePosixPath(rel).parts
        if not parts:
            return False
        name = parts[-1]
        if any(self.skip_dir(p) for p in parts[:-1]):
            return False
        if name.startswith(".") and not self.index_hidden:
            return False
        if self.is_temp(name):
            return False
        base = name
        if self.sealed and name.lower().endswith(SEALED_SUFFIX):
            base = name[: -len(SEALED_SUFFIX)]
        if os.path.splitext(base)[1].lower() not in self.extensions:
            return False
        return not self._excluded(rel, name)

    def _excluded(self, rel: str, name: str) -> bool:
        for pattern in self.exclude:
            pat = pattern.replace("**/", "*").replace("/**", "/*")
            if fnmatch.fnmatch(rel, pat) or fnmatch.fnmatch(name, pattern):
                return True
            if pattern.endswith("/**") and rel.startswith(pattern[:-3] + "/"):
                return True
        return False


def source_of(path: Path, sources: Sequence[Path]) -> Path | None:
    """The (deepest) source folder that contains ``path``, if any."""
    best: Path | None = None
    for src in sources:
        try:
            path.relative_to(src)
        except ValueError:
            continue
        if best is None or len(src.parts) > len(best.parts):
            best = src
    return best


def walk_sources(
    sources: Sequence[Path],
    file_filter: FileFilter,
    on_error: Callable[[Path, str], None] | None = None,
) -> Iterator[FoundFile]:
    """Yield every indexable file under ``sources`` once.

    Follows symlinked folders but never the same folder twice (so a symlink loop ends), and
    reports unreadable folders and broken links through ``on_error`` instead of raising.
    """
    seen_dirs: set[tuple[int, int]] = set()
    seen_files: set[Path] = set()

    def report(p: Path, why: str) -> None:
        log.warning("skipping %s: %s", p, why)
        if on_error is not None:
            on_error(p, why)

    for source in sources:
        stack = [source]
        while stack:
            folder = stack.pop()
            try:
                st = folder.stat()
            except OSError as e:
                report(folder, _reason(e))
                continue
            key = (st.st_dev, st.st_ino)
            if key in seen_dirs:
                continue
            seen_dirs.add(key)
            try:
                entries = list(os.scandir(folder))
            except OSError as e:
                report(folder, _reason(e))
                continue
            for entry in sorted(entries, key=lambda e: e.name):
                p = Path(entry.path)
                try:
                    is_dir = entry.is_dir(follow_symlinks=True)
                except OSError as e:
                    report(p, _reason(e))
                    continue
                rel = p.relative_to(source).as_posix()
                if is_dir:
                    if not file_filter.skip_dir(entry.name, rel):
                        stack.append(p)
                    continue
                if not file_filter.accepts(rel):
                    continue
                try:
                    fst = entry.stat(follow_symlinks=True)
                except OSError as e:
                    report(p, _reason(e))
                    continue
                if not stat.S_ISREG(fst.st_mode) or p in seen_files:
                    continue
                seen_files.add(p)
                yield FoundFile(p, source, fst.st_size, fst.st_mtime_ns)


def _reason(e: OSError) -> str:
    """A short human reason for an OS error."""
    import errno

    from twin.messages import msg

    reasons = {
        errno.EACCES: "doc.permission",
        errno.EPERM: "doc.permission",
        errno.ENOENT: "walk.broken_link",
        errno.ELOOP: "walk.link_loop",
        errno.ENAMETOOLONG: "walk.too_long",
        errno.EIO: "walk.io_error",
    }
    key = reasons.get(e.errno or 0)
    return msg(key) if key else e.strerror or str(e)
