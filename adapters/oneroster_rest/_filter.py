"""The OneRoster ``filter`` grammar: building expressions safely, and parsing them.

``filter=<field><predicate>'<value>'``, predicates ``= != > >= < <= ~``, values
in single quotes with a literal quote doubled, at most a few predicates
joined by `` AND `` or `` OR `` (never both). The adapter builds filters here
and only here: field names come from the adapter's own tables and every
value goes through :func:`quote`, so no input can end a value early and add
a predicate of its own. The simulator parses with :func:`parse_filter`, which
the tests also use to check that a built filter means exactly what was asked.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "OPERATORS",
    "Filter",
    "FilterSyntaxError",
    "Predicate",
    "all_of",
    "any_of",
    "encoded_length",
    "instant",
    "or_chunks",
    "parse_filter",
    "predicate",
    "quote",
    "values_at",
]

OPERATORS = ("=", "!=", ">", ">=", "<", "<=", "~")
_LONGEST_FIRST = (">=", "<=", "!=", "=", ">", "<", "~")
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_JOINER = re.compile(r"\s+(AND|OR)\s+")
_OR_LENGTH = 4  # " OR " form-encoded: "+OR+"


class FilterSyntaxError(ValueError):
    """A filter expression that does not follow the grammar."""


def quote(value: str) -> str:
    """``value`` as a filter literal: single-quoted, inner quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


def predicate(field: str, operator: str, value: str) -> str:
    """One predicate; ``field`` must be a field name, ``operator`` one of :data:`OPERATORS`."""
    if not _FIELD.fullmatch(field):
        raise ValueError(f"not a filter field name: {field!r}")
    if operator not in OPERATORS:
        raise ValueError(f"not a filter operator: {operator!r}")
    return f"{field}{operator}{quote(value)}"


def any_of(field: str, values: Iterable[str]) -> str:
    """``field='a' OR field='b' ...``: records whose ``field`` is one of ``values``."""
    parts = [predicate(field, "=", value) for value in values]
    if not parts:
        raise ValueError("any_of needs at least one value")
    return " OR ".join(parts)


def encoded_length(expression: str) -> int:
    """The characters ``expression`` takes in a URL query once form-encoded (as
    httpx sends it: quotes and ``=`` become ``%27``/``%3D``, spaces ``+``)."""
    return len(urllib.parse.quote_plus(expression))


def or_chunks(field: str, values: Iterable[str], *, max_predicates: int, max_length: int) -> list[str]:
    """``values`` (repeats dropped, order kept) as few :func:`any_of`
    expressions as fit both limits: at most ``max_predicates`` predicates and
    ``max_length`` encoded characters (:func:`encoded_length`) each. Chunks
    are filled in order up to an even share of what is left, so none is left
    nearly empty; a single predicate longer than ``max_length`` is still
    sent, alone (it cannot be split)."""
    unique = list(dict.fromkeys(values))
    if not unique:
        return []
    sizes = [encoded_length(predicate(field, "=", value)) for value in unique]
    whole = sum(sizes) + _OR_LENGTH * (len(unique) - 1)
    count = max(math.ceil(len(unique) / max_predicates), math.ceil(whole / max_length))
    chunks: list[list[str]] = []
    index = 0
    while index < len(unique):
        # An even share of what is left over the chunks still planned.
        left = max(1, count - len(chunks))
        share = min(max_predicates, math.ceil((len(unique) - index) / left))
        chunk, length = [unique[index]], sizes[index]
        index += 1
        while index < len(unique) and len(chunk) < share:
            if length + _OR_LENGTH + sizes[index] > max_length:
                break
            length += _OR_LENGTH + sizes[index]
            chunk.append(unique[index])
            index += 1
        chunks.append(chunk)
    return [any_of(field, chunk) for chunk in chunks]


def all_of(predicates: Sequence[str]) -> str:
    """Predicates joined with `` AND ``."""
    if not predicates:
        raise ValueError("all_of needs at least one predicate")
    return " AND ".join(predicates)


@dataclass(frozen=True, slots=True)
class Predicate:
    """``field operator 'value'`` as parsed."""

    field: str
    operator: str
    value: str


@dataclass(frozen=True, slots=True)
class Filter:
    """A parsed filter: its predicates and how they are joined (``None`` for one)."""

    predicates: tuple[Predicate, ...]
    joiner: str | None = None

    def matches(self, obj: Mapping[str, Any]) -> bool:
        """Whether a JSON object satisfies the filter."""
        results = (_holds(p, obj) for p in self.predicates)
        return any(results) if self.joiner == "OR" else all(results)


def parse_filter(text: str) -> Filter:
    """Parse ``text``; raises :class:`FilterSyntaxError` saying where it fails.

    Mixing ``AND`` and ``OR`` is refused: the spec gives them no precedence.
    """
    predicates: list[Predicate] = []
    joiners: set[str] = set()
    position = 0
    text_length = len(text)
    while True:
        while position < text_length and text[position].isspace():
            position += 1
        field_match = _FIELD.match(text, position)
        if field_match is None:
            raise FilterSyntaxError(f"expected a field name at {position}")
        position = field_match.end()
        operator = next(
            (op for op in (">=", "<=", "!=", "=", ">", "<", "~") if text.startswith(op, position)), None
        )
        if operator is None:
            raise FilterSyntaxError(f"expected an operator at {position}")
        position += len(operator)
        if position >= text_length or text[position] != "'":
            raise FilterSyntaxError(f"expected a quoted value at {position}")
        value, position = _read_literal(text, position)
        predicates.append(Predicate(field_match.group(), operator, value))
        if position >= text_length or not text[position:].strip():
            break
        joiner = _JOINER.match(text, position)
        if joiner is None:
            raise FilterSyntaxError(f"expected AND or OR at {position}")
        joiners.add(joiner.group(1))
        position = joiner.end()
    if len(joiners) > 1:
        raise FilterSyntaxError("AND and OR cannot be mixed")
    return Filter(tuple(predicates), joiners.pop() if joiners else None)


def _read_literal(text: str, start: int) -> tuple[str, int]:
    """The value of the quoted literal at ``start`` and the position after it."""
    chunks: list[str] = []
    position = start + 1
    while True:
        end = text.find("'", position)
        if end < 0:
            raise FilterSyntaxError(f"unterminated value starting at {start}")
        chunks.append(text[position:end])
        if text.startswith("''", end):
            chunks.append("'")
            position = end + 2
            continue
        return "".join(chunks), end + 1


def _leaves(value: Any, path: Sequence[str]) -> list[Any]:
    """Values at a dotted path; lists on the way are searched element by element."""
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item, path)]
    if not path:
        return [value]
    if not isinstance(value, Mapping):
        return []
    return _leaves(value.get(path[0]), path[1:]) if path[0] in value else []


def values_at(obj: Mapping[str, Any], field: str) -> list[Any]:
    """The values a predicate on the dotted ``field`` tests (lists are searched)."""
    return _leaves(obj, field.split("."))


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict):
        return None
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if number == number else None


def instant(text: str) -> dt.datetime | None:
    """``text`` as a point in time when it is an ISO 8601 date-time with a zone
    (``dateLastModified``'s form), else ``None``: dates and ids are not instants."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _compare(leaf: Any, operator: str, value: str) -> bool:
    left = _text(leaf)
    if left is None:
        return False
    if operator == "~":
        return value.lower() in left.lower()
    # Date-times compare as instants: as text, "10.5Z" sorts before "10Z" and
    # "+01:00" offsets sort by their digits, so a delta read would miss rows.
    if "T" in left and "T" in value:
        moment, bound = instant(left), instant(value)
        if moment is not None and bound is not None:
            return _ordered(moment, operator, bound)
    # Equality is textual (ids like '007' must not equal '7') unless the vendor's
    # value is a JSON number; ordering is numeric whenever both sides are numbers.
    numeric = isinstance(leaf, int | float) and not isinstance(leaf, bool)
    a, b = _number(left), _number(value)
    pair: tuple[Any, Any] = (left, value)
    if a is not None and b is not None and (numeric or operator not in ("=", "!=")):
        pair = (a, b)
    return _ordered(pair[0], operator, pair[1])


def _ordered(x: Any, operator: str, y: Any) -> bool:
    if operator == "=":
        return bool(x == y)
    if operator == "!=":
        return bool(x != y)
    if operator == ">":
        return bool(x > y)
    if operator == ">=":
        return bool(x >= y)
    if operator == "<":
        return bool(x < y)
    return bool(x <= y)


def _holds(p: Predicate, obj: Mapping[str, Any]) -> bool:
    leaves = [leaf for leaf in _leaves(obj, p.field.split(".")) if _text(leaf) is not None]
    if p.operator == "!=":
        return all(_compare(leaf, "!=", p.value) for leaf in leaves)
    return any(_compare(leaf, p.operator, p.value) for leaf in leaves)
