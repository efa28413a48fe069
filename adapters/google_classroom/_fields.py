"""Google partial responses: the ``fields`` query parameter.

Every Google API takes ``fields=`` to return only the named parts of a
response: names separated by commas, ``a/b`` for ``b`` inside ``a``,
``a(b,c)`` for several names inside ``a`` and ``*`` for every name at a level.
The adapter builds masks here from the paths its records need, so fields a
caller may not read are not even transferred; the simulator parses and
applies them with the same code, and the tests check one against the other.

A mask is held as a tree: name -> sub-tree, where an empty sub-tree means
"the whole value".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["FieldMaskError", "FieldTree", "build_mask", "object_mask", "parse_mask", "prune", "tree_of"]

FieldTree = dict[str, "FieldTree"]

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_*")


class FieldMaskError(ValueError):
    """A ``fields`` value that does not follow the grammar."""


def tree_of(paths: Iterable[str]) -> FieldTree:
    """The tree selecting every ``a/b/c`` path (a path ending higher selects everything below)."""
    tree: FieldTree = {}
    whole: set[tuple[str, ...]] = set()
    for path in paths:
        parts = tuple(part for part in path.split("/") if part)
        if not parts:
            continue
        whole.add(parts)
        node = tree
        for part in parts:
            node = node.setdefault(part, {})
    # A path selecting a whole value wins over narrower paths below it.
    for parts in sorted(whole, key=len):
        node = tree
        for part in parts[:-1]:
            node = node.get(part, {})
        if parts[-1] in node:
            node[parts[-1]] = {}
    return tree


def _render(tree: FieldTree) -> str:
    parts = []
    for name in sorted(tree):
        sub = tree[name]
        parts.append(f"{name}({_render(sub)})" if sub else name)
    return ",".join(parts)


def object_mask(paths: Iterable[str]) -> str:
    """``fields=`` for a get method: the ``paths`` of the one object."""
    return _render(tree_of(paths))


def build_mask(collection: str, paths: Iterable[str]) -> str:
    """``fields=`` for a list method: ``nextPageToken`` and the ``paths`` of each item."""
    items = tree_of(paths)
    inner = _render(items)
    return f"{collection}({inner}),nextPageToken" if inner else f"{collection},nextPageToken"


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def fail(self, what: str) -> FieldMaskError:
        return FieldMaskError(f"{what} at {self.at}")

    def name(self) -> str:
        start = self.at
        while self.at < len(self.text) and self.text[self.at] in _NAME_CHARS:
            self.at += 1
        if start == self.at:
            raise self.fail("expected a field name")
        return self.text[start : self.at]

    def selection(self, into: FieldTree) -> None:
        """One comma-separated list, into ``into``."""
        while True:
            self.path(into)
            if self.at < len(self.text) and self.text[self.at] == ",":
                self.at += 1
                continue
            return

    def path(self, into: FieldTree) -> None:
        name = self.name()
        node = into.setdefault(name, {})
        if self.at < len(self.text) and self.text[self.at] == "/":
            self.at += 1
            self.path(node)
        elif self.at < len(self.text) and self.text[self.at] == "(":
            self.at += 1
            self.selection(node)
            if self.at >= len(self.text) or self.text[self.at] != ")":
                raise self.fail("expected ')'")
            self.at += 1


def parse_mask(text: str) -> FieldTree:
    """The tree of a ``fields`` value; raises :class:`FieldMaskError` saying where it fails."""
    parser = _Parser(text.replace(" ", ""))
    tree: FieldTree = {}
    parser.selection(tree)
    if parser.at != len(parser.text):
        raise parser.fail("unexpected character")
    return tree


def prune(value: Any, tree: FieldTree) -> Any:
    """``value`` with only what ``tree`` selects (lists are pruned item by item)."""
    if not tree:
        return value
    if isinstance(value, list):
        return [prune(item, tree) for item in value]
    if not isinstance(value, dict):
        return value
    if "*" in tree:
        every = tree["*"]
        return {key: prune(item, tree.get(key, every)) for key, item in value.items()}
    return {key: prune(value[key], sub) for key, sub in tree.items() if key in value}
