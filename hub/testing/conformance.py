"""The adapter conformance kit: does an adapter keep the promises of ``hub.sdk``?

Point it at an adapter over test data (a file set, a vendor simulator, a
recording replayed through an ``httpx`` transport) and it checks what the hub
relies on, with bounded effort (``sample_size`` records per entity at most):

- **capabilities**: well-formed; every declared field comes back filled for
  some records; no undeclared attribute is ever filled;
- **data minimisation**: only the requested fields are filled (a subset, and
  none at all), and projection never changes which records come back;
- **paging**: ``limit=k`` pages concatenate to the unpaged answer, without
  duplicates, and ``next_cursor`` is ``None`` at the end (also for ``ids``);
- **id stability**: a look-up by ids gives the same records; a second opened
  adapter gives the same ids in the same order; unknown ids are simply absent;
- **filters**: each declared filter returns only matching records
  (:func:`hub.sdk.matches`), all of them when the answer is complete;
- **errors**: an undeclared entity, field or filter and a cursor the adapter
  never issued give ``UnsupportedRequest``; an outage gives
  ``SourceUnavailable`` (through a fault hook); bad credentials give
  ``SourceAuthFailed``;
- **cancellation**: a fetch cancelled mid-flight leaves the adapter usable,
  and cancellation propagates instead of becoming a ``SourceError``;
- **concurrency**: fetches run at once answer as they do one by one.

Use it from pytest by subclassing :class:`AdapterConformance` in a test module
and providing a ``conformance_target`` fixture (see docs/integrators.md), or
call the ``check_*`` coroutines yourself: each raises
:class:`ConformanceFailure` listing every problem it found.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest

from hub.model import RECORD_TYPES, Entity, Record, data_fields
from hub.sdk import (
    Adapter,
    Capabilities,
    EntitySupport,
    FetchRequest,
    FetchResult,
    LoadReport,
    SourceAuthFailed,
    SourceError,
    SourceUnavailable,
    UnsupportedRequest,
    filter_value,
    matches,
    visible,
)

__all__ = [
    "CHECKS",
    "AdapterConformance",
    "ConformanceFailure",
    "ConformanceTarget",
    "check_all",
    "check_cancellation",
    "check_capabilities",
    "check_concurrent_fetches",
    "check_credentials",
    "check_declared_fields",
    "check_filters",
    "check_id_stability",
    "check_minimisation",
    "check_narrowing",
    "check_outage",
    "check_paging",
    "check_unsupported_requests",
]

T = TypeVar("T")

DATE_FROM, DATE_TO, SEARCH = "date_from", "date_to", "search"
SPECIAL_FILTERS = frozenset({DATE_FROM, DATE_TO, SEARCH})
_NAME_PARTS = ("given_name", "preferred_name", "middle_name", "family_name")
_HUB_FIELDS = ("source", "id", "also_in")
NO_SUCH = "conformance-no-such-value"


class ConformanceFailure(AssertionError):
    """An adapter broke a promise of the SDK; the message lists every problem found."""


@dataclass(frozen=True)
class ConformanceTarget:
    """What the kit checks, and how to get at it.

    - ``make_adapter``: a fresh, unopened adapter over the test data (called
      several times: the kit opens and closes each adapter itself). Its
      constructor does no I/O, as the protocol asks.
    - ``outage``: a context manager during which the source fails (a
      simulator's fault switch, a renamed folder, a stopped server); the kit
      checks opening, and for ``reads_live`` adapters fetching, give
      ``SourceUnavailable``, and that the adapter recovers afterwards (the
      fetch asks for the entity of ``cancel_request``: people, which no
      adapter should cache). ``None`` skips that check.
    - ``bad_credentials``: a fresh adapter configured with credentials the
      vendor refuses; opening it must give ``SourceAuthFailed``.
    - ``reads_live``: whether ``fetch`` reaches the vendor (HTTP adapters);
      ``False`` for adapters that load everything in ``open``.
    - ``sparse_fields``: per entity, declared fields the test data leaves
      empty in the sample (``{"*"}``: the whole entity may be empty).
    - ``entities``: check only these (default: every declared entity).
    - ``sample_size``: at most this many records are read per entity and
      check (keep it small: the kit is meant to run in seconds).
    - ``page_size``: the ``limit`` of the paging checks.
    - ``cancel_after``: seconds after which a fetch in flight is cancelled.
    - ``cancel_request``: the request to cancel; default: every declared
      field of the first declared person entity, unpaged.
    - ``call_timeout``: seconds any single call may take before the kit
      gives up on it (a hang is a failure, not a stuck test run).
    """

    make_adapter: Callable[[], Adapter]
    outage: Callable[[], AbstractContextManager[object]] | None = None
    bad_credentials: Callable[[], Adapter] | None = None
    reads_live: bool = True
    sparse_fields: Mapping[Entity, Iterable[str]] = field(default_factory=dict)
    entities: Iterable[Entity] | None = None
    sample_size: int = 40
    page_size: int = 7
    cancel_after: tuple[float, ...] = (0.0, 0.002, 0.02)
    cancel_request: FetchRequest | None = None
    call_timeout: float = 30.0


class _Problems:
    """Problems found by one check; raised together so one run shows them all."""

    def __init__(self, check: str, source: str) -> None:
        self.check = check
        self.source = source
        self.items: list[str] = []

    def add(self, message: str) -> None:
        self.items.append(message)

    def raise_any(self) -> None:
        if self.items:
            listed = "\n".join(f"  - {item}" for item in self.items)
            raise ConformanceFailure(f"{self.check} (source '{self.source}'):\n{listed}")


# -- helpers -----------------------------------------------------------------------


async def _bounded(target: ConformanceTarget, call: Awaitable[T], what: str) -> T:
    try:
        async with asyncio.timeout(target.call_timeout):
            return await call
    except TimeoutError:
        raise ConformanceFailure(f"{what} did not finish within {target.call_timeout:g} s") from None


@asynccontextmanager
async def _opened(target: ConformanceTarget) -> AsyncIterator[Adapter]:
    adapter = target.make_adapter()
    if not isinstance(adapter, Adapter):
        raise ConformanceFailure(f"make_adapter() gave a {type(adapter).__name__}, not an Adapter")
    try:
        report = await _bounded(target, adapter.open(), f"open() (source '{adapter.name}')")
        if not isinstance(report, LoadReport):
            raise ConformanceFailure(f"open() returned a {type(report).__name__}, not a LoadReport")
        yield adapter
    finally:
        await _bounded(target, adapter.aclose(), "aclose()")


def _entities(target: ConformanceTarget, caps: Capabilities) -> list[tuple[Entity, EntitySupport]]:
    wanted = set(target.entities) if target.entities is not None else set(caps.entities)
    return [
        (entity, caps.entities[entity]) for entity in Entity if entity in caps.entities and entity in wanted
    ]


def _default(record_type: type[Record], name: str) -> Any:
    for item in dataclasses.fields(record_type):
        if item.name == name:
            if item.default is not dataclasses.MISSING:
                return item.default
            if item.default_factory is not dataclasses.MISSING:
                return item.default_factory()
    raise KeyError(name)


def _defaults(record_type: type[Record]) -> dict[str, Any]:
    return {name: _default(record_type, name) for name in (*data_fields(record_type), *_HUB_FIELDS)}


def _filled_outside(record: Record, allowed: Iterable[str], defaults: Mapping[str, Any]) -> list[str]:
    """Attributes of ``record`` holding a value although not in ``allowed``."""
    allowed = set(allowed)
    return [
        name for name, default in defaults.items() if name not in allowed and getattr(record, name) != default
    ]


def _request(request: FetchRequest, **changes: Any) -> FetchRequest:
    return dataclasses.replace(request, **changes)


async def _fetch(target: ConformanceTarget, adapter: Adapter, request: FetchRequest) -> FetchResult:
    what = f"fetch({request.entity.value}) (source '{adapter.name}')"
    result = await _bounded(target, adapter.fetch(request), what)
    if not isinstance(result, FetchResult):
        raise ConformanceFailure(f"{what} returned a {type(result).__name__}")
    return result


async def _walk(
    target: ConformanceTarget, adapter: Adapter, request: FetchRequest, *, enough: int | None = None
) -> tuple[list[Record], bool]:
    """Follow cursors from ``request``; stop at the end or once ``enough`` records came.

    Returns the records and whether the end (``next_cursor`` None) was reached.
    """
    records: list[Record] = []
    cursors: set[str] = set()
    cursor = request.cursor
    pages = 0
    budget = (enough if enough is not None else target.sample_size * 4) + 20
    while True:
        result = await _fetch(target, adapter, _request(request, cursor=cursor))
        records.extend(result.records)
        pages += 1
        if result.next_cursor is None:
            return records, True
        if enough is not None and len(records) >= enough:
            return records, False
        if result.next_cursor in cursors:
            raise ConformanceFailure(
                f"{request.entity.value} (source '{adapter.name}'): next_cursor repeated an earlier "
                "cursor (paging never ends)"
            )
        cursors.add(result.next_cursor)
        cursor = result.next_cursor
        if pages > budget:
            raise ConformanceFailure(
                f"{request.entity.value} (source '{adapter.name}'): still not at the end after "
                f"{pages} pages of limit={request.limit}"
            )


def _ids(records: Sequence[Record]) -> list[str]:
    return [record.vendor_id for record in records]


def _duplicates(ids: Sequence[str]) -> list[str]:
    return [vendor_id for vendor_id, count in Counter(ids).items() if count > 1]


def _name_matches(record: Record, term: str) -> bool:
    text = " ".join(str(part) for name in _NAME_PARTS if (part := getattr(record, name, None))).casefold()
    return all(word in text for word in term.casefold().split())


def _passes(record: Record, filters: Mapping[str, tuple[str, ...]]) -> bool:
    terms = filters.get(SEARCH)
    if terms and not _name_matches(record, terms[0]):
        return False
    return matches(record, {name: values for name, values in filters.items() if name != SEARCH})


async def _sample(
    target: ConformanceTarget, adapter: Adapter, entity: Entity, fields: frozenset[str]
) -> list[Record]:
    request = FetchRequest(entity=entity, fields=fields, limit=target.sample_size)
    return list((await _fetch(target, adapter, request)).records)[: target.sample_size]


def _sparse(target: ConformanceTarget, entity: Entity) -> frozenset[str]:
    return frozenset(target.sparse_fields.get(entity, ()))


# -- capabilities and fields ---------------------------------------------------------


async def check_capabilities(target: ConformanceTarget) -> None:
    """Capabilities are constant, name real entities, fields and filters, and
    declare the link filters the hub follows."""
    adapter = target.make_adapter()
    problems = _Problems("capabilities", getattr(adapter, "name", "?"))
    try:
        caps = adapter.capabilities()
        if not isinstance(caps, Capabilities):
            raise ConformanceFailure(f"capabilities() returned a {type(caps).__name__}")
        if adapter.capabilities() != caps:
            problems.add("capabilities() changed between two calls")
        if not caps.entities:
            problems.add("no entity is declared")
        for entity, support in caps.entities.items():
            if not isinstance(entity, Entity):
                problems.add(f"{entity!r} is not an Entity")
                continue
            names = set(data_fields(RECORD_TYPES[entity]))
            for unknown in sorted(set(support.fields) - names):
                problems.add(f"{entity.value}: declared field {unknown!r} is not an attribute of the record")
            for unknown in sorted(set(support.filters) - names - SPECIAL_FILTERS):
                problems.add(f"{entity.value}: declared filter {unknown!r} is not an attribute of the record")
            if support.filters & {DATE_FROM, DATE_TO} and "date" not in names:
                problems.add(f"{entity.value}: date filters declared, but the record has no date")
            if SEARCH in support.filters and not set(_NAME_PARTS) & names:
                problems.add(f"{entity.value}: search declared, but the record has no names")
    finally:
        await adapter.aclose()
    problems.raise_any()


async def check_declared_fields(target: ConformanceTarget) -> None:
    """Every declared field is filled in some sampled record (unless listed in
    ``sparse_fields``); no undeclared or hub-owned attribute is ever filled;
    records are of the entity's class with a vendor id."""
    async with _opened(target) as adapter:
        problems = _Problems("declared fields come back", adapter.name)
        for entity, support in _entities(target, adapter.capabilities()):
            record_type = RECORD_TYPES[entity]
            sample = await _sample(target, adapter, entity, support.fields)
            sparse = _sparse(target, entity)
            if not sample:
                if "*" not in sparse:
                    problems.add(f"{entity.value}: no records to check (give test data with some)")
                continue
            defaults = _defaults(record_type)
            wrong_type = sum(1 for record in sample if not isinstance(record, record_type))
            if wrong_type:
                problems.add(f"{entity.value}: {wrong_type} records are not {record_type.__name__}")
                continue
            if any(not isinstance(r.vendor_id, str) or not r.vendor_id for r in sample):
                problems.add(f"{entity.value}: records without a vendor_id")
            duplicates = _duplicates(_ids(sample))
            if duplicates:
                problems.add(f"{entity.value}: {len(duplicates)} vendor ids occur twice in one page")
            leaked = sorted({name for r in sample for name in _filled_outside(r, support.fields, defaults)})
            if leaked:
                problems.add(f"{entity.value}: attributes filled although not declared: {', '.join(leaked)}")
            empty = sorted(
                name
                for name in support.fields - sparse
                if all(getattr(r, name) == defaults[name] for r in sample)
            )
            if empty and "*" not in sparse:
                problems.add(
                    f"{entity.value}: declared but empty in all {len(sample)} sampled records: "
                    f"{', '.join(empty)} (if the test data has no such values, list them in sparse_fields)"
                )
        problems.raise_any()


async def check_minimisation(target: ConformanceTarget) -> None:
    """Only the requested fields are filled (every other declared field, then
    none), and the records are the same whatever the projection."""
    async with _opened(target) as adapter:
        problems = _Problems("data minimisation", adapter.name)
        for entity, support in _entities(target, adapter.capabilities()):
            defaults = _defaults(RECORD_TYPES[entity])
            every = await _sample(target, adapter, entity, support.fields)
            half = frozenset(sorted(support.fields)[::2])
            for fields in (half, frozenset()):
                sample = await _sample(target, adapter, entity, fields)
                what = f"fields={{{', '.join(sorted(fields))}}}" if fields else "fields={}"
                leaked = sorted({name for r in sample for name in _filled_outside(r, fields, defaults)})
                if leaked:
                    problems.add(f"{entity.value} with {what}: also filled {', '.join(leaked)}")
                if _ids(sample) != _ids(every):
                    problems.add(
                        f"{entity.value} with {what}: other records (or order) than with every field"
                    )
        problems.raise_any()


# -- paging and ids -----------------------------------------------------------------


async def check_paging(target: ConformanceTarget) -> None:
    """``limit=page_size`` pages concatenate to the ``limit=sample_size`` answer
    (and to the unpaged one when that fits), with no duplicates and
    ``next_cursor=None`` at the end; the same for a look-up by ids."""
    k = target.page_size
    async with _opened(target) as adapter:
        problems = _Problems("paging", adapter.name)
        for entity, support in _entities(target, adapter.capabilities()):
            name = entity.value
            base = FetchRequest(entity=entity, fields=frozenset())
            first = await _fetch(target, adapter, _request(base, limit=target.sample_size))
            expected = _ids(first.records)
            complete = first.next_cursor is None  # the whole answer fits in one sample
            walked, ended = await _walk(
                target, adapter, _request(base, limit=k), enough=None if complete else len(expected)
            )
            got = _ids(walked)
            if _duplicates(got):
                problems.add(f"{name}: pages of {k} repeat records")
            if got[: len(expected)] != expected:
                problems.add(f"{name}: pages of {k} do not concatenate to the first {len(expected)} records")
            if complete:
                if not ended or got != expected:
                    problems.add(f"{name}: pages of {k} go on past the {len(expected)} records there are")
                unpaged = await _fetch(target, adapter, base)
                if _ids(unpaged.records) != expected or unpaged.next_cursor is not None:
                    problems.add(f"{name}: the unpaged answer differs from the paged one")
            elif support.paging:
                resumed = await _fetch(target, adapter, _request(base, limit=k, cursor=first.next_cursor))
                if set(_ids(resumed.records)) & set(expected):
                    problems.add(f"{name}: the page after next_cursor repeats records of the first page")
                more, _ = await _walk(
                    target, adapter, _request(base, limit=k), enough=len(expected) + len(resumed.records)
                )
                following = _ids(more)[len(expected) : len(expected) + len(resumed.records)]
                if following != _ids(resumed.records):
                    problems.add(f"{name}: resuming from next_cursor skips or reorders records")
            if support.batch and expected:
                ids = (*expected[: 3 * k], NO_SUCH)
                looked_up = _ids((await _fetch(target, adapter, _request(base, ids=ids))).records)
                if sorted(looked_up) != sorted(ids[:-1]):
                    problems.add(f"{name}: a look-up of {len(ids) - 1} ids (and an unknown one) gave others")
                paged, ended = await _walk(target, adapter, _request(base, ids=ids, limit=k))
                if not ended or _duplicates(_ids(paged)) or sorted(_ids(paged)) != sorted(ids[:-1]):
                    problems.add(f"{name}: paging a look-up by ids (limit={k}) does not give those ids once")
        problems.raise_any()


async def check_id_stability(target: ConformanceTarget) -> None:
    """A look-up by ids gives equal records; the same request, on the same or a
    second opened adapter, gives the same ids in the same order."""
    async with _opened(target) as adapter:
        problems = _Problems("id stability", adapter.name)
        entities = _entities(target, adapter.capabilities())
        firsts: dict[Entity, list[str]] = {}
        for entity, support in entities:
            sample = await _sample(target, adapter, entity, support.fields)
            firsts[entity] = _ids(sample)
            if not sample:
                continue
            request = FetchRequest(entity=entity, fields=support.fields, ids=tuple(_ids(sample)))
            found, _ = await _walk(target, adapter, request)
            by_id = {record.vendor_id: record for record in found}
            missing = [r.vendor_id for r in sample if r.vendor_id not in by_id]
            if missing:
                problems.add(f"{entity.value}: {len(missing)} sampled ids are not found by an ids look-up")
            differing = sorted(
                {
                    name
                    for record in sample
                    if (other := by_id.get(record.vendor_id)) is not None
                    for name in support.fields
                    if getattr(record, name) != getattr(other, name)
                }
            )
            if differing:
                problems.add(f"{entity.value}: an ids look-up gives other values for {', '.join(differing)}")
            again = await _sample(target, adapter, entity, frozenset())
            if _ids(again) != firsts[entity]:
                problems.add(f"{entity.value}: asking twice gives other ids or another order")
    async with _opened(target) as second:
        for entity, _ in entities:
            if _ids(await _sample(target, second, entity, frozenset())) != firsts[entity]:
                problems.add(f"{entity.value}: a second adapter over the same data gives other ids or order")
    problems.raise_any()


# -- filters -----------------------------------------------------------------------


def _values(sample: Sequence[Record], name: str) -> list[str]:
    """Distinct filter values of attribute ``name`` in ``sample``, rarest first."""
    counts: Counter[str] = Counter()
    for record in sample:
        value = getattr(record, name, None)
        items = value if isinstance(value, tuple) else (value,)
        counts.update({filter_value(item) for item in items if item is not None and item != ""})
    return [value for value, _ in sorted(counts.items(), key=lambda item: (item[1], item[0]))]


def _filter_cases(
    name: str, support: EntitySupport, sample: Sequence[Record]
) -> list[dict[str, tuple[str, ...]]] | None:
    """Filters to try for ``name``, built from sampled values; ``None`` when
    the sample cannot show what should match."""
    if name == SEARCH:
        for record in sample:
            family = getattr(record, "family_name", None) or getattr(record, "given_name", None)
            if family and family.split():
                return [{SEARCH: (family.split()[0].upper(),)}]
        return None
    if name in (DATE_FROM, DATE_TO):
        dates = sorted(d.isoformat() for r in sample if (d := getattr(r, "date", None)) is not None)
        if "date" not in support.fields or not dates:
            return None
        middle = dates[len(dates) // 2]
        cases: list[dict[str, tuple[str, ...]]] = [{name: (middle,)}]
        if name == DATE_FROM:
            cases.append({DATE_FROM: (dates[0],), DATE_TO: (middle,)})
        return cases
    if name not in support.fields:
        return None
    values = _values(sample, name)
    if not values:
        return None
    single: list[dict[str, tuple[str, ...]]] = [{name: (values[0],)}]
    if support.batch and len(values) > 1:
        single.append({name: (values[0], values[1])})
    return single


async def check_filters(target: ConformanceTarget) -> None:
    """Each declared filter, with values taken from sampled records, returns only
    matching records, and every sampled match when the answer is complete;
    a value nothing has returns nothing; ``ids`` and a filter together mean both."""
    async with _opened(target) as adapter:
        problems = _Problems("filters", adapter.name)
        for entity, support in _entities(target, adapter.capabilities()):
            sample = await _sample(target, adapter, entity, support.fields)
            if not sample:
                continue
            for name in sorted(support.filters):
                cases = _filter_cases(name, support, sample)
                if cases is None:
                    continue
                for filters in cases:
                    shown = ", ".join(f"{key} ({len(values)} values)" for key, values in filters.items())
                    request = FetchRequest(
                        entity=entity, fields=support.fields, filters=filters, limit=target.sample_size
                    )
                    result = await _fetch(target, adapter, request)
                    strays = sum(1 for record in result.records if not _passes(record, filters))
                    if strays:
                        problems.add(f"{entity.value} filtered by {shown}: {strays} records do not match")
                    if result.next_cursor is None:
                        got = set(_ids(result.records))
                        lost = [r for r in sample if _passes(r, filters) and r.vendor_id not in got]
                        if lost:
                            problems.add(
                                f"{entity.value} filtered by {shown}: {len(lost)} matching records absent"
                            )
                if name not in (DATE_FROM, DATE_TO):
                    nothing = FetchRequest(entity=entity, fields=frozenset(), filters={name: (NO_SUCH,)})
                    try:
                        result = await _fetch(target, adapter, nothing)
                    except UnsupportedRequest:
                        pass  # refusing a value of the wrong shape is fine
                    else:
                        if result.records:
                            problems.add(f"{entity.value}: filtering {name} by an unknown value gave records")
            key = next((n for n in sorted(support.filters) if n in support.fields), None)
            cases = _filter_cases(key, support, sample) if key else None
            if cases:
                filters = cases[0]
                ids = tuple(_ids(sample))
                both = FetchRequest(entity=entity, fields=support.fields, ids=ids, filters=filters)
                found, _ = await _walk(target, adapter, both)
                expected = {r.vendor_id for r in sample if _passes(r, filters)}
                if {r.vendor_id for r in found} != expected:
                    problems.add(f"{entity.value}: ids together with a {key} filter do not mean both")
        problems.raise_any()


async def check_narrowing(target: ConformanceTarget) -> None:
    """An adapter that declares ``narrowing`` applies ``FetchRequest.visible_if``:
    only records matching at least one pair, and every sampled one that does
    (an empty ``visible_if`` narrows nothing)."""
    async with _opened(target) as adapter:
        problems = _Problems("narrowing", adapter.name)
        narrowing = [(e, s) for e, s in _entities(target, adapter.capabilities()) if s.narrowing]
        if not narrowing:
            pytest.skip("no entity declares narrowing")
        for entity, support in narrowing:
            sample = await _sample(target, adapter, entity, support.fields)
            if len(sample) < 2:
                continue
            chosen = tuple(sorted({r.vendor_id for r in sample[::2]}))
            pairs: list[tuple[str, tuple[str, ...]]] = [("vendor_id", chosen)]
            link = next(
                (n for n in sorted(support.fields) if n.endswith("_id") and n in support.filters), None
            )
            if link is not None:
                values = tuple(sorted({str(v) for r in sample[1::3] if (v := getattr(r, link, None))}))
                if values:
                    pairs.append((link, values))
            request = FetchRequest(entity=entity, fields=support.fields, visible_if=tuple(pairs))
            found, _ = await _walk(target, adapter, request)
            strays = [r.vendor_id for r in found if not visible(r, request.visible_if)]
            if strays:
                problems.add(f"{entity.value}: {len(strays)} records outside visible_if were returned")
            got = {r.vendor_id for r in found}
            lost = [r.vendor_id for r in sample if visible(r, request.visible_if) and r.vendor_id not in got]
            if lost:
                problems.add(f"{entity.value}: {len(lost)} records matching visible_if were not returned")
            nobody = FetchRequest(entity=entity, fields=frozenset(), visible_if=(("vendor_id", (NO_SUCH,)),))
            if (await _fetch(target, adapter, nobody)).records:
                problems.add(f"{entity.value}: visible_if naming no record gave records")
        problems.raise_any()


# -- errors ------------------------------------------------------------------------


async def _refused(
    target: ConformanceTarget, adapter: Adapter, request: FetchRequest, what: str, problems: _Problems
) -> None:
    try:
        await _fetch(target, adapter, request)
    except UnsupportedRequest as exc:
        if exc.source != adapter.name:
            problems.add(f"{what}: the UnsupportedRequest names source {exc.source!r}")
    except ConformanceFailure:
        raise
    except Exception as exc:
        problems.add(f"{what}: raised {type(exc).__name__}, not UnsupportedRequest")
    else:
        problems.add(f"{what}: answered instead of raising UnsupportedRequest")


async def check_unsupported_requests(target: ConformanceTarget) -> None:
    """An undeclared entity, field or filter and a cursor the adapter did not
    issue are refused with ``UnsupportedRequest`` naming the source."""
    async with _opened(target) as adapter:
        problems = _Problems("unsupported requests", adapter.name)
        caps = adapter.capabilities()
        for entity in Entity:
            if entity not in caps.entities:
                request = FetchRequest(entity=entity, fields=frozenset())
                await _refused(target, adapter, request, f"undeclared entity {entity.value}", problems)
        for entity, support in _entities(target, caps):
            names = data_fields(RECORD_TYPES[entity])
            undeclared = [*[n for n in names if n not in support.fields][:1], "conformance_no_such_field"]
            for name in undeclared:
                request = FetchRequest(entity=entity, fields=frozenset({name}))
                await _refused(target, adapter, request, f"{entity.value} field {name}", problems)
            unfiltered = [*[n for n in names if n not in support.filters][:1], "conformance_no_such_filter"]
            for name in unfiltered:
                request = FetchRequest(entity=entity, fields=frozenset(), filters={name: (NO_SUCH,)})
                await _refused(target, adapter, request, f"{entity.value} filter {name}", problems)
            if support.paging:
                request = FetchRequest(entity=entity, fields=frozenset(), limit=1, cursor=NO_SUCH)
                await _refused(
                    target, adapter, request, f"{entity.value} with a cursor never issued", problems
                )
        problems.raise_any()


async def check_outage(target: ConformanceTarget) -> None:
    """During ``target.outage``: opening gives ``SourceUnavailable``, and so does
    fetching when ``reads_live``; afterwards the opened adapter answers again."""
    if target.outage is None:
        pytest.skip("no outage hook in the ConformanceTarget")
    async with _opened(target) as adapter:
        problems = _Problems("outage", adapter.name)
        # People, not the catalogue: an adapter may rightly cache schools and terms.
        entity = _person_request(target, adapter.capabilities()).entity
        request = FetchRequest(entity=entity, fields=frozenset(), limit=target.page_size)
        before = _ids((await _fetch(target, adapter, request)).records)
        fresh = target.make_adapter()
        try:
            with target.outage():
                try:
                    await _bounded(target, fresh.open(), "open() during the outage")
                except SourceUnavailable:
                    pass
                except Exception as exc:
                    problems.add(
                        f"open() during the outage raised {type(exc).__name__}, not SourceUnavailable"
                    )
                else:
                    problems.add("open() during the outage succeeded")
                try:
                    await _fetch(target, adapter, request)
                except SourceUnavailable:
                    pass
                except Exception as exc:
                    problems.add(
                        f"fetch() during the outage raised {type(exc).__name__}, not SourceUnavailable"
                    )
                else:
                    if target.reads_live:
                        problems.add("fetch() during the outage answered (reads_live adapters must fail)")
        finally:
            await fresh.aclose()
        try:
            after = _ids((await _fetch(target, adapter, request)).records)
        except SourceError as exc:
            problems.add(f"fetch() after the outage still fails: {type(exc).__name__}")
        else:
            if after != before:
                problems.add("fetch() after the outage answers differently than before it")
        problems.raise_any()


async def check_credentials(target: ConformanceTarget) -> None:
    """Opening an adapter with refused credentials gives ``SourceAuthFailed``."""
    if target.bad_credentials is None:
        pytest.skip("no bad_credentials factory in the ConformanceTarget")
    adapter = target.bad_credentials()
    try:
        await _bounded(target, adapter.open(), "open() with bad credentials")
    except SourceAuthFailed as exc:
        if exc.source != adapter.name:
            raise ConformanceFailure(f"SourceAuthFailed names source {exc.source!r}") from None
    except Exception as exc:
        raise ConformanceFailure(f"open() with bad credentials raised {type(exc).__name__}") from None
    else:
        raise ConformanceFailure("open() with bad credentials succeeded")
    finally:
        await adapter.aclose()


# -- cancellation and concurrency ---------------------------------------------------


def _person_request(target: ConformanceTarget, caps: Capabilities) -> FetchRequest:
    """``cancel_request``, else every declared field of the first person entity, unpaged."""
    if target.cancel_request is not None:
        return target.cancel_request
    entities = _entities(target, caps)
    people = [pair for pair in entities if pair[0] in (Entity.STUDENT, Entity.TEACHER, Entity.GUARDIAN)]
    entity, support = (people or entities)[0]
    return FetchRequest(entity=entity, fields=support.fields)


async def check_cancellation(target: ConformanceTarget) -> None:
    """A fetch cancelled after each of ``cancel_after`` seconds either finished or
    let the cancellation through (never a ``SourceError``), and the adapter then
    answers as before."""
    async with _opened(target) as adapter:
        problems = _Problems("cancellation", adapter.name)
        heavy = _person_request(target, adapter.capabilities())
        probe = FetchRequest(entity=heavy.entity, fields=heavy.fields, limit=target.sample_size)
        before = list((await _fetch(target, adapter, probe)).records)
        for delay in target.cancel_after:
            try:
                async with asyncio.timeout(delay):
                    await adapter.fetch(heavy)
            except TimeoutError:
                pass  # cancelled mid-flight, as wanted
            except SourceError as exc:
                problems.add(f"cancelled after {delay:g} s: became {type(exc).__name__} ({exc.reason})")
            try:
                after = list((await _fetch(target, adapter, probe)).records)
            except SourceError as exc:
                problems.add(f"after a fetch cancelled at {delay:g} s, the next one fails: {exc.reason}")
                break
            if after != before:
                problems.add(f"after a fetch cancelled at {delay:g} s, the same request answers differently")
        problems.raise_any()


async def check_concurrent_fetches(target: ConformanceTarget) -> None:
    """Fetches running at once (as the hub sends them) answer as they do alone."""
    async with _opened(target) as adapter:
        problems = _Problems("concurrent fetches", adapter.name)
        requests = [
            FetchRequest(entity=entity, fields=support.fields, limit=target.page_size)
            for entity, support in _entities(target, adapter.capabilities())[:4]
        ]
        requests += requests[:1]
        alone = [list((await _fetch(target, adapter, r)).records) for r in requests]
        together = await _bounded(
            target, asyncio.gather(*(adapter.fetch(r) for r in requests)), "concurrent fetches"
        )
        for request, single, joint in zip(requests, alone, together, strict=True):
            if list(joint.records) != single:
                problems.add(f"{request.entity.value}: answers differently when fetched concurrently")
        problems.raise_any()


CHECKS: dict[str, Callable[[ConformanceTarget], Awaitable[None]]] = {
    "capabilities": check_capabilities,
    "declared_fields": check_declared_fields,
    "minimisation": check_minimisation,
    "paging": check_paging,
    "id_stability": check_id_stability,
    "filters": check_filters,
    "narrowing": check_narrowing,
    "unsupported_requests": check_unsupported_requests,
    "outage": check_outage,
    "credentials": check_credentials,
    "cancellation": check_cancellation,
    "concurrent_fetches": check_concurrent_fetches,
}
"""Every check by name, in the order :func:`check_all` runs them."""


async def check_all(target: ConformanceTarget) -> dict[str, str]:
    """Run every check; return each one's outcome (``"ok"``, ``"skipped: ..."``
    or the failure message). For use outside pytest; never raises a failure."""
    outcomes: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            await check(target)
        except ConformanceFailure as exc:
            outcomes[name] = str(exc)
        except pytest.skip.Exception as exc:
            outcomes[name] = f"skipped: {exc.msg}"
        else:
            outcomes[name] = "ok"
    return outcomes


# -- pytest --------------------------------------------------------------------------


def _run(check: Callable[[ConformanceTarget], Awaitable[None]], target: ConformanceTarget) -> None:
    async def main() -> None:
        await check(target)

    asyncio.run(main())


class AdapterConformance:
    """The conformance suite as pytest tests: subclass it as ``Test...`` in a test
    module and provide a ``conformance_target`` fixture::

        class TestMySis(AdapterConformance):
            @pytest.fixture
            def conformance_target(self, sis_simulator_url: str) -> ConformanceTarget:
                return ConformanceTarget(make_adapter=lambda: MySisAdapter(config(sis_simulator_url)))

    Each check is one test (they run their own event loop, so no async test
    plugin is needed). Override a ``test_*`` method to skip a check that does
    not apply, saying why.
    """

    @pytest.fixture
    def conformance_target(self) -> ConformanceTarget:
        """Override in the subclass: the adapter under test and its hooks."""
        raise NotImplementedError("define a `conformance_target` fixture returning a ConformanceTarget")

    def test_capabilities(self, conformance_target: ConformanceTarget) -> None:
        """Capabilities are constant and well-formed."""
        _run(check_capabilities, conformance_target)

    def test_declared_fields(self, conformance_target: ConformanceTarget) -> None:
        """Declared fields come back; undeclared ones never do."""
        _run(check_declared_fields, conformance_target)

    def test_minimisation(self, conformance_target: ConformanceTarget) -> None:
        """Only the requested fields are filled."""
        _run(check_minimisation, conformance_target)

    def test_paging(self, conformance_target: ConformanceTarget) -> None:
        """Pages concatenate to the whole, and end."""
        _run(check_paging, conformance_target)

    def test_id_stability(self, conformance_target: ConformanceTarget) -> None:
        """Ids find the same records, across calls and adapters."""
        _run(check_id_stability, conformance_target)

    def test_filters(self, conformance_target: ConformanceTarget) -> None:
        """Declared filters return exactly the matching records."""
        _run(check_filters, conformance_target)

    def test_narrowing(self, conformance_target: ConformanceTarget) -> None:
        """``visible_if`` is applied where ``narrowing`` is declared."""
        _run(check_narrowing, conformance_target)

    def test_unsupported_requests(self, conformance_target: ConformanceTarget) -> None:
        """Undeclared requests are refused with UnsupportedRequest."""
        _run(check_unsupported_requests, conformance_target)

    def test_outage(self, conformance_target: ConformanceTarget) -> None:
        """An outage is SourceUnavailable, and the adapter recovers."""
        _run(check_outage, conformance_target)

    def test_credentials(self, conformance_target: ConformanceTarget) -> None:
        """Refused credentials are SourceAuthFailed."""
        _run(check_credentials, conformance_target)

    def test_cancellation(self, conformance_target: ConformanceTarget) -> None:
        """A cancelled fetch leaves the adapter usable."""
        _run(check_cancellation, conformance_target)

    def test_concurrent_fetches(self, conformance_target: ConformanceTarget) -> None:
        """Concurrent fetches answer as they do alone."""
        _run(check_concurrent_fetches, conformance_target)
