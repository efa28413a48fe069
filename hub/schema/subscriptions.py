"""GraphQL subscriptions: scores, attendance marks and course grades changed by the mirrors' syncs.

The document is planned like a query when the subscription starts (the
policy gate: a field readable under no relation refuses it then). Each
change (ids only, from :mod:`hub.realtime`) is then read through a fresh
scope of the caller under that plan, so a row reaches a subscriber only when
they are related to it at delivery time, with only the fields they may read;
each delivered event is audited before it is sent (:class:`DeliveryAudit`).
``sectionId`` / ``studentId`` narrow what is delivered, never widen it, and
compare only links the caller may read on the row.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import Info
from strawberry.types.graphql import OperationType

from hub.audit import Disclosures
from hub.federation.ids import decode_id
from hub.federation.scope import readable_value
from hub.model import Entity, Record
from hub.realtime import Change
from hub.schema.context import HubContext
from hub.schema.disclosure import audit_answer
from hub.schema.gate import forbidden_error
from hub.schema.resolve import context
from hub.schema.types import AttendanceEvent, CourseGrade, Score

__all__ = ["DeliveryAudit", "Subscription"]

# Per entity and argument: the row's attribute compared, and the attribute
# the caller must be able to read on the row for the comparison to be made.
_NARROWING: dict[tuple[Entity, str], tuple[str, str, Entity]] = {
    (Entity.SCORE, "student"): ("student_id", "student_id", Entity.STUDENT),
    (Entity.SCORE, "section"): ("section_id", "section_id", Entity.SECTION),
    (Entity.ATTENDANCE_EVENT, "student"): ("student_id", "student_id", Entity.STUDENT),
    (Entity.ATTENDANCE_EVENT, "section"): ("section_id", "section_id", Entity.SECTION),
    (Entity.COURSE_GRADE, "student"): ("student_id", "student_id", Entity.STUDENT),
    (Entity.COURSE_GRADE, "section"): ("section_id", "section_id", Entity.SECTION),
}


def _matches(info: Info[Any, Any], entity: Entity, row: Record, argument: str, hub_id: str | None) -> bool:
    """Whether ``row`` is linked to ``hub_id`` (``None``: no narrowing) through a
    link the caller may read on it."""
    if hub_id is None:
        return True
    compared, required, linked = _NARROWING[(entity, argument)]
    if readable_value(row, required) is None:
        return False
    value = getattr(row, compared, None)
    if not value:
        return False
    identity = context(info).hub.identity
    decoded = decode_id(str(hub_id))
    if decoded is None or decoded.entity is not linked:
        return False
    return identity.canonical(linked, row.source or "", value) == identity.canonical(
        linked, decoded.source, decoded.vendor_id
    )


async def changed_rows(
    info: Info[Any, Any], entity: Entity, section_id: str | None, student_id: str | None
) -> AsyncGenerator[Any, None]:
    """Each changed row of ``entity`` the caller may see now, as it arrives."""
    ctx = context(info)
    if ctx.plan is not None and ctx.plan.forbidden:
        # Refused at the start: nothing is subscribed.
        raise forbidden_error(ctx.plan.forbidden)
    renew = ctx.renew_access
    if renew is None:  # pragma: no cover - the gate always sets it
        return
    reach = _Reach(ctx.hub.changes, entity, renew, lambda: ctx.hub.relationships(ctx.principal, ctx.caller))
    with ctx.hub.changes.subscribe(entity) as feed:
        # The caller's relations worked out now, not when a burst of changes arrives.
        for source in ctx.hub.registry.sources_for(entity):
            await reach.prime(source)
        async for change in feed:
            candidates = await reach.candidates(change)
            if not candidates:
                continue
            # One scope per change, over the caller's relations as the roster
            # stands now (see _Reach): its rows read at once, each event audited
            # for its own disclosures only.
            access = renew(reach.relationships)
            ctx.data = access
            rows = await access.many(entity, change.source, candidates, disclose=False)
            for row in rows:
                if not (
                    _matches(info, entity, row, "section", section_id)
                    and _matches(info, entity, row, "student", student_id)
                ):
                    continue
                access.scope.forget_disclosed()
                ctx.disclosures = Disclosures()
                ctx.withheld = []
                access.scope.disclose((row,))
                yield row


class _Reach:
    """A subscriber's relations, kept while the roster stands, and which changed
    rows they can reach (from the links the change carries: the others are
    skipped without a read). Only a first cut: a row it keeps is still read and
    decided through the scope. Worked out again after every roster change (the
    bus's ``roster_version``) and at least every ``_REACH_SECONDS`` (enrollments
    end with the date)."""

    def __init__(self, bus: Any, entity: Entity, renew: Any, relations_now: Any) -> None:
        self.bus = bus
        self.entity = entity
        self.renew = renew
        self.relations_now = relations_now
        self.relationships = relations_now()
        self._pairs: dict[str, tuple[tuple[str, frozenset[str]], ...] | None] = {}
        self._made: set[str] = set()
        self._standing = (bus.roster_version, time.monotonic())

    async def prime(self, source: str) -> None:
        """Work out the relations for ``source``'s rows ahead of its first change."""
        await self._pairs_for(source)

    async def candidates(self, change: Change) -> list[str]:
        version, since = self._standing
        now = time.monotonic()
        if version != self.bus.roster_version or now - since > _REACH_SECONDS:
            self.relationships = self.relations_now()
            self._standing = (self.bus.roster_version, now)
            self._made.clear()
        pairs = await self._pairs_for(change.source)
        if not pairs:  # every row may be reachable (or the relations cannot say)
            return list(change.vendor_ids)
        out = []
        for vendor_id in change.vendor_ids:
            links = change.links.get(vendor_id)
            if links is None or _reaches(pairs, vendor_id, links):
                out.append(vendor_id)
        return out

    async def _pairs_for(self, source: str) -> tuple[tuple[str, frozenset[str]], ...] | None:
        if source not in self._made:
            self._made.add(source)
            try:
                pairs = await self.renew(self.relationships).scope.visible_if(self.entity, source)
            except Exception:  # no first cut then: every row is read and decided
                pairs = ()
            self._pairs[source] = tuple((name, frozenset(values)) for name, values in pairs) or None
        return self._pairs.get(source)


_REACH_SECONDS = 60.0


def _reaches(
    pairs: tuple[tuple[str, frozenset[str]], ...], vendor_id: str, links: Mapping[str, tuple[str, ...]]
) -> bool:
    for name, values in pairs:
        if name == "vendor_id":
            if vendor_id in values:
                return True
        elif name not in links:
            return True  # the change does not say: read it
        elif any(value in values for value in links[name]):
            return True
    return False


@strawberry.type(description="Changes the mirrors' syncs bring, for those who may see them.")
class Subscription:
    @strawberry.subscription
    async def score_changed(
        self, info: Info, section_id: strawberry.ID | None = None, student_id: strawberry.ID | None = None
    ) -> AsyncGenerator[Score, None]:
        async for row in changed_rows(info, Entity.SCORE, section_id, student_id):
            yield row

    @strawberry.subscription
    async def attendance_changed(
        self, info: Info, section_id: strawberry.ID | None = None, student_id: strawberry.ID | None = None
    ) -> AsyncGenerator[AttendanceEvent, None]:
        async for row in changed_rows(info, Entity.ATTENDANCE_EVENT, section_id, student_id):
            yield row

    @strawberry.subscription
    async def course_grade_changed(
        self, info: Info, section_id: strawberry.ID | None = None, student_id: strawberry.ID | None = None
    ) -> AsyncGenerator[CourseGrade, None]:
        async for row in changed_rows(info, Entity.COURSE_GRADE, section_id, student_id):
            yield row


class DeliveryAudit(SchemaExtension):
    """Each subscription event is audited before it is sent; one that cannot be
    is not sent (its data replaced by an AUDIT_UNAVAILABLE error)."""

    async def on_stream_result(self, result: Any) -> AsyncIterator[None]:
        await _audit_event(self, result)
        yield


async def _audit_event(extension: SchemaExtension, result: Any) -> None:
    execution = extension.execution_context
    if execution.operation_type is not OperationType.SUBSCRIPTION:
        return
    ctx: HubContext = execution.context
    errors = list(getattr(result, "errors", None) or [])
    errors.extend(ctx.withheld)
    if errors != list(getattr(result, "errors", None) or []):
        result.errors = errors
    sent = await audit_answer(
        ctx,
        operation=execution.operation_name,
        query=execution.query or "",
        purpose=None,
        partial=bool(errors),
    )
    if not sent:
        result.data = None
        result.errors = [
            GraphQLError(
                "the audit log cannot be written; no data was sent", extensions={"code": "AUDIT_UNAVAILABLE"}
            )
        ]
