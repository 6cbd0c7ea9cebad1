"""A :class:`~twin.core.types.Scope` as a SQL prefilter on the ``chunks`` table (pure).

Paths are matched as strings, the way the index stores them: a folder scope takes every
path that starts with the folder followed by a separator (so ``/notes/work`` never takes
``/notes/workshop``), a document scope one exact path, a dates scope the entry dates in its
range (undated chunks never match, as with a date range in a query).
"""

from __future__ import annotations

import os

from twin.core.types import DateRange, Scope


def sql_str(value: str) -> str:
    """A SQL string literal: single quotes doubled, so any path is safe in a filter."""
    return "'" + value.replace("'", "''") + "'"


def date_filter(dates: DateRange) -> str | None:
    """A SQL prefilter on ``entry_date`` (NULL dates never match a comparison)."""
    parts = []
    if dates.since is not None:
        parts.append(f"entry_date >= date '{dates.since.isoformat()}'")
    if dates.until is not None:
        parts.append(f"entry_date <= date '{dates.until.isoformat()}'")
    return " AND ".join(parts) or None


def scope_filter(scope: Scope | None) -> str | None:
    """The filter for ``scope``; None for no restriction (``all`` or no scope).

    ``Scope.none()`` has no filter form: callers return nothing before searching.
    """
    if scope is None or scope.kind == "all":
        return None
    if scope.kind == "document":
        return f"path = {sql_str(scope.path)}"
    if scope.kind == "folder":
        folder = scope.path.rstrip("/" + os.sep) or scope.path
        seps = {"/", os.sep}
        return "(" + " OR ".join(f"starts_with(path, {sql_str(folder + s)})" for s in sorted(seps)) + ")"
    if scope.kind == "dates":
        return date_filter(scope.date_range) or "entry_date IS NOT NULL"
    raise ValueError(f"scope {scope} has no filter")


def combine(*filters: str | None) -> str | None:
    """``a AND b`` of the filters that are not None (None when none is left)."""
    parts = [f for f in filters if f]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else " AND ".join(f"({p})" for p in parts)
