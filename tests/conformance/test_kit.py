"""The kit itself: a well-behaved adapter passes every check, and each kind of
broken adapter fails the check meant to catch it (with a message saying what)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import random
from collections.abc import Callable, Iterator, Sequence

import pytest

from hub.sdk import (
    Adapter,
    AttendanceEvent,
    Capabilities,
    Entity,
    EntitySupport,
    FetchRequest,
    FetchResult,
    LoadReport,
    Record,
    Section,
    SourceAuthFailed,
    SourceUnavailable,
    Student,
    UnsupportedRequest,
    matches,
    visible,
)
from hub.testing.conformance import (
    CHECKS,
    AdapterConformance,
    ConformanceFailure,
    ConformanceTarget,
    check_all,
    check_cancellation,
    check_declared_fields,
    check_filters,
    check_id_stability,
    check_minimisation,
    check_narrowing,
    check_outage,
    check_paging,
    check_unsupported_requests,
)

CAPABILITIES = Capabilities(
    entities={
        Entity.STUDENT: EntitySupport(
            fields=frozenset(
                {"given_name", "family_name", "grade_level", "school_id", "guardian_ids", "birth_date"}
            ),
            filters=frozenset({"grade_level", "school_id", "guardian_ids", "search"}),
            narrowing=True,
        ),
        Entity.SECTION: EntitySupport(
            fields=frozenset({"title", "school_id"}), filters=frozenset({"school_id"})
        ),
        Entity.ATTENDANCE_EVENT: EntitySupport(
            fields=frozenset({"student_id", "date", "status"}),
            filters=frozenset({"student_id", "date_from", "date_to"}),
        ),
    }
)
FAMILY = ("Diaz", "Nguyen", "Okafor", "Smith", "Kowalski")


def _records() -> list[Record]:
    rows: list[Record] = []
    for n in range(55):
        rows.append(
            Student(
                vendor_id=f"s{n:02d}",
                given_name=f"Kid{n}",
                family_name=FAMILY[n % len(FAMILY)],
                grade_level=f"{6 + n % 3:02d}",
                school_id=f"k{n % 2}",
                guardian_ids=(f"g{n}", f"g{n + 1}"),
                birth_date=dt.date(2012, 1 + n % 12, 1 + n % 28),
            )
        )
    rows += [Section(vendor_id=f"c{n}", title=f"Class {n}", school_id=f"k{n % 2}") for n in range(5)]
    start = dt.date(2026, 11, 2)
    rows += [
        AttendanceEvent(
            vendor_id=f"a{n:02d}",
            student_id=f"s{n % 7:02d}",
            date=start + dt.timedelta(days=n % 10),
            status="PRESENT" if n % 4 else "ABSENT",
        )
        for n in range(45)
    ]
    return rows


RECORDS = _records()


@dataclasses.dataclass
class Vendor:
    """The pretend vendor behind the adapters: can go down."""

    down: bool = False
    password: str = "right"


class GoodAdapter:
    """An in-memory adapter that keeps every promise (offset cursors, strict refusals)."""

    def __init__(self, vendor: Vendor, password: str = "right", name: str = "mem") -> None:
        self.name = name
        self.vendor = vendor
        self.password = password
        self.opened = False

    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    async def open(self) -> LoadReport:
        await asyncio.sleep(0)
        if self.vendor.down:
            raise SourceUnavailable(self.name, "vendor unreachable")
        if self.password != self.vendor.password:
            raise SourceAuthFailed(self.name, "credentials refused")
        self.opened = True
        return LoadReport(counts={"Student": 55})

    async def aclose(self) -> None:
        self.opened = False

    def check(self, request: FetchRequest) -> None:
        support = self.capabilities().entities.get(request.entity)
        if support is None:
            raise UnsupportedRequest(self.name, f"{request.entity} not served")
        if request.fields - support.fields:
            raise UnsupportedRequest(self.name, "fields not served")
        if set(request.filters) - support.filters:
            raise UnsupportedRequest(self.name, "filters not served")
        if request.cursor is not None and not request.cursor.isdigit():
            raise UnsupportedRequest(self.name, "unknown cursor")

    def select(self, request: FetchRequest) -> list[Record]:
        kind = {Entity.STUDENT: Student, Entity.SECTION: Section, Entity.ATTENDANCE_EVENT: AttendanceEvent}
        rows = [r for r in RECORDS if type(r) is kind[request.entity]]
        if request.ids is not None:
            rows = [r for r in rows if r.vendor_id in request.ids]
        filters = dict(request.filters)
        term = filters.pop("search", None)
        if term:
            words = term[0].casefold().split()
            rows = [r for r in rows if all(w in f"{r.given_name} {r.family_name}".casefold() for w in words)]  # type: ignore[attr-defined]
        return [r for r in rows if matches(r, filters) and visible(r, request.visible_if)]

    def project(self, record: Record, fields: frozenset[str]) -> Record:
        return type(record)(vendor_id=record.vendor_id, **{name: getattr(record, name) for name in fields})

    async def fetch(self, request: FetchRequest) -> FetchResult:
        self.check(request)
        await asyncio.sleep(0.001)  # a vendor round trip: cancellation can land here
        if self.vendor.down:
            raise SourceUnavailable(self.name, "vendor unreachable")
        rows = self.select(request)
        start = int(request.cursor or 0)
        end = len(rows) if request.limit is None else min(len(rows), start + request.limit)
        page = [self.project(record, request.fields) for record in rows[start:end]]
        return FetchResult(page, str(end) if end < len(rows) else None, len(rows))


def target_for(adapter_type: Callable[..., Adapter], **options: object) -> ConformanceTarget:
    vendor = Vendor()

    @contextlib.contextmanager
    def outage() -> Iterator[None]:
        vendor.down = True
        try:
            yield
        finally:
            vendor.down = False

    return ConformanceTarget(
        make_adapter=lambda: adapter_type(vendor),
        outage=outage,
        bad_credentials=lambda: adapter_type(vendor, password="wrong"),
        **options,  # type: ignore[arg-type]
    )


async def test_a_well_behaved_adapter_passes_every_check() -> None:
    outcomes = await check_all(target_for(GoodAdapter))
    assert outcomes == dict.fromkeys(CHECKS, "ok")


async def test_a_check_without_its_hook_is_skipped() -> None:
    outcomes = await check_all(ConformanceTarget(make_adapter=lambda: GoodAdapter(Vendor())))
    assert outcomes["outage"].startswith("skipped: no outage hook")
    assert outcomes["credentials"].startswith("skipped:")


class TestGoodAdapterThroughTheBaseClass(AdapterConformance):
    """The pytest face of the kit: each check is a test of this class."""

    @pytest.fixture
    def conformance_target(self) -> ConformanceTarget:
        return target_for(GoodAdapter)


# -- broken adapters ---------------------------------------------------------------


class Leaky(GoodAdapter):
    """Fills the birth date whatever was asked."""

    def project(self, record: Record, fields: frozenset[str]) -> Record:
        names = fields | ({"birth_date"} if isinstance(record, Student) else set())
        return super().project(record, frozenset(names))


class Undeclared(GoodAdapter):
    """Fills an attribute it never declared."""

    def project(self, record: Record, fields: frozenset[str]) -> Record:
        projected = super().project(record, fields)
        if isinstance(projected, Student):
            projected.email = "kid@example.org"
        return projected


class Boastful(GoodAdapter):
    """Declares a field it never fills."""

    def capabilities(self) -> Capabilities:
        student = CAPABILITIES.entities[Entity.STUDENT]
        boasted = dataclasses.replace(student, fields=student.fields | {"middle_name"})
        return Capabilities({**CAPABILITIES.entities, Entity.STUDENT: boasted})

    def check(self, request: FetchRequest) -> None:
        super().check(dataclasses.replace(request, fields=request.fields - {"middle_name"}))


class Overlapping(GoodAdapter):
    """Each next page starts one record early."""

    async def fetch(self, request: FetchRequest) -> FetchResult:
        result = await super().fetch(request)
        if result.next_cursor is not None:
            result.next_cursor = str(int(result.next_cursor) - 1)
        return result


class Endless(GoodAdapter):
    """Never says the last page is the last."""

    async def fetch(self, request: FetchRequest) -> FetchResult:
        result = await super().fetch(request)
        if result.next_cursor is None and request.limit is not None:
            result.next_cursor = str(int(request.cursor or 0) + request.limit)
        return result


class Shuffling(GoodAdapter):
    """Answers in a different order every time."""

    def select(self, request: FetchRequest) -> list[Record]:
        rows = super().select(request)
        random.shuffle(rows)
        return rows


class FilterBlind(GoodAdapter):
    """Ignores the grade-level filter."""

    def select(self, request: FetchRequest) -> list[Record]:
        filters = {k: v for k, v in request.filters.items() if k != "grade_level"}
        return super().select(dataclasses.replace(request, filters=filters))


class NarrowingBlind(GoodAdapter):
    """Declares narrowing and ignores ``visible_if``."""

    def select(self, request: FetchRequest) -> list[Record]:
        return super().select(dataclasses.replace(request, visible_if=()))


class Crashing(GoodAdapter):
    """Lets a KeyError out for an unknown field."""

    def check(self, request: FetchRequest) -> None:
        if "conformance_no_such_field" in request.fields:
            raise KeyError("conformance_no_such_field")
        super().check(request)


class Unmapped(GoodAdapter):
    """Reports an outage as a bare connection error."""

    async def fetch(self, request: FetchRequest) -> FetchResult:
        if self.vendor.down:
            raise ConnectionError("refused")
        return await super().fetch(request)


class Swallowing(GoodAdapter):
    """Turns a cancellation into SourceUnavailable."""

    async def fetch(self, request: FetchRequest) -> FetchResult:
        try:
            await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            raise SourceUnavailable(self.name, "interrupted") from None
        return await super().fetch(request)


class Wedged(GoodAdapter):
    """A cancelled fetch leaves a lock held: every later fetch fails."""

    busy = False

    async def fetch(self, request: FetchRequest) -> FetchResult:
        if self.busy:
            raise SourceUnavailable(self.name, "a previous request is still in progress")
        self.busy = True
        result = await super().fetch(request)
        self.busy = False
        return result


BROKEN: Sequence[tuple[type[GoodAdapter], Callable[[ConformanceTarget], object], str]] = [
    (Leaky, check_minimisation, "Student with fields=.*also filled birth_date"),
    (Undeclared, check_declared_fields, "Student: attributes filled although not declared: email"),
    (Boastful, check_declared_fields, "Student: declared but empty .*: middle_name"),
    (Overlapping, check_paging, "pages of 7 repeat records"),
    (Endless, check_paging, "go on past|never ends|still not at the end"),
    (Shuffling, check_id_stability, "other ids or another order"),
    (FilterBlind, check_filters, r"Student filtered by grade_level \(1 values\): \d+ records do not match"),
    (NarrowingBlind, check_narrowing, r"Student: (\d+ records outside|visible_if naming no record)"),
    (Crashing, check_unsupported_requests, "field conformance_no_such_field: raised KeyError"),
    (Unmapped, check_outage, "fetch\\(\\) during the outage raised ConnectionError"),
    (Swallowing, check_cancellation, "became SourceUnavailable"),
    (Wedged, check_cancellation, "cancelled at 0 s, the next one fails: a previous request is still"),
]


@pytest.mark.parametrize(("adapter", "check", "message"), BROKEN, ids=[b[0].__name__ for b in BROKEN])
async def test_a_broken_adapter_fails_its_check(
    adapter: type[GoodAdapter], check: Callable[[ConformanceTarget], object], message: str
) -> None:
    with pytest.raises(ConformanceFailure, match=message) as caught:
        await check(target_for(adapter))  # type: ignore[misc]
    assert "(source 'mem')" in str(caught.value)


async def test_a_hanging_fetch_fails_instead_of_hanging() -> None:
    class Hanging(GoodAdapter):
        async def fetch(self, request: FetchRequest) -> FetchResult:
            await asyncio.sleep(3600)
            raise AssertionError("unreachable")

    with pytest.raises(
        ConformanceFailure, match=r"fetch\(Section\) \(source 'mem'\) did not finish within 0\.2 s"
    ):
        await check_paging(target_for(Hanging, call_timeout=0.2))
