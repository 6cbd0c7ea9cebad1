"""Writing changed settings into the user's own ``settings.toml``, keeping everything else.

The settings file is meant to be edited by hand: comments, blank lines, the order of keys, a
key twin does not know, a literal ``'C:\\path'`` string or a multi-line list are the user's.
:func:`update_toml` parses the file with tomlkit (a style-preserving TOML library), replaces
the values of the given keys only, adds missing keys (with their description as a comment)
at the end of their table, and returns the text: everything not changed is byte for byte
what it was.

A shared root module (like :mod:`twin.atomic`): it imports nothing from twin.
"""

from __future__ import annotations

from typing import Any, Mapping

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import Item, String, StringType, Table

__all__ = ["update_toml", "TOMLKitError"]

Key = tuple[str, ...]


def update_toml(text: str, changes: Mapping[Key, Any], docs: Mapping[Key, str] | None = None) -> str:
    """``text`` (a TOML document) with the keys in ``changes`` set to their new values.

    Args:
        text: the current file.
        changes: new values by key path, e.g. ``("memory", "sources") → ["/diary"]``;
            ``("schema_version",)`` is a top-level key.
        docs: a description per key path or table path, written as a comment above a key or
            table that has to be added (never above an existing one).

    Raises:
        TOMLKitError: ``text`` is not valid TOML.
    """
    docs = docs or {}
    doc = tomlkit.parse(text)
    for key, value in changes.items():
        *tables, name = key
        container: Any = doc
        for depth, table in enumerate(tables, start=1):
            if table not in container:
                new = tomlkit.table()
                _add_comment(new, docs.get(tuple(tables[:depth]), ""))
                container.add(table, new)
            container = container[table]
        if name in container:
            container[name] = _item(value, like=container[name])
        else:
            _append(container, name, _item(value, like=None), docs.get(key, ""))
    return tomlkit.dumps(doc)


def _append(container: Any, name: str, item: Any, comment: str) -> None:
    """Add ``name`` after the table's last key: before the blank lines and comments that end
    it, which belong to what follows (a comment above the next table stays above it)."""
    body = getattr(getattr(container, "value", None), "body", None)
    tail: list[Any] = []
    if isinstance(container, Table) and isinstance(body, list):
        keyed = [i for i, (k, _) in enumerate(body) if k is not None]
        cut = keyed[-1] + 1 if keyed else len(body)  # an empty table: after its own comment
        if keyed and isinstance(body[keyed[-1]][1], Table):
            cut = len(body)  # a sub-table last: add after it, as tomlkit does
        tail = body[cut:]
        del body[cut:]
    _add_comment(container, comment)
    container.add(name, item)
    if tail and isinstance(body, list):
        body.extend(tail)


def _add_comment(container: Any, text: str) -> None:
    for line in text.splitlines():
        container.add(tomlkit.comment(line))


def _item(value: Any, like: Item | None) -> Any:
    """A tomlkit item for ``value``, in the style of the item it replaces where that fits."""
    if isinstance(value, list):
        array = tomlkit.array()
        array.extend(value)
        if like is not None and "\n" in like.as_string():
            array.multiline(True)  # the user's one-item-per-line list stays one
        return array
    if isinstance(value, str):
        literal = isinstance(like, String) and like.type in (StringType.SLL, StringType.MLL)
        multiline = "\n" in value
        fits = "'''" not in value if multiline else "'" not in value
        if literal and fits and not any(ord(c) < 32 and c not in "\t\n" for c in value):
            return tomlkit.string(value, literal=True, multiline=multiline)
        return tomlkit.string(value, multiline=multiline)
    return value
