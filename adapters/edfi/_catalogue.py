"""Organisations, sessions and courses: read whole from the cached catalogue.

Ed-Fi has no hierarchy of sessions: a school's year-round session, its
semesters and its grading periods stand side by side. The unified model has
one (year > semester/term > grading period), so parents are inferred: a
session's parent is its school's year-round session of the same year; a
grading period's parent is the shortest of its school's sessions that lists
it (``session.gradingPeriods``), else the shortest session whose dates
contain it.
"""

from __future__ import annotations

from collections.abc import Sequence

from adapters.edfi import _mapping as m
from adapters.edfi._keys import grading_period_id, session_id
from adapters.edfi._reader import Catalogue
from hub.sdk import Entity, Record

__all__ = ["catalogue_records"]


async def catalogue_records(catalogue: Catalogue, entity: Entity) -> list[Record]:
    """Every record of a catalogue entity, in the API's order."""
    if entity is Entity.ORGANIZATION:
        leas = await catalogue.items("localEducationAgencies")
        schools = await catalogue.items("schools")
        built = [m.organization(o, "district") for o in leas] + [m.organization(o, "school") for o in schools]
        return [r for r in built if r is not None]
    if entity is Entity.COURSE:
        return [r for r in (m.course(o) for o in await catalogue.items("courses")) if r is not None]
    if entity is Entity.ACADEMIC_SESSION:
        return _sessions(await catalogue.items("sessions"), await catalogue.items("gradingPeriods"))
    raise ValueError(f"{entity} is not a catalogue entity")


def _span(obj: m.Json) -> int:
    begin, end = m.read_date(obj.get("beginDate")), m.read_date(obj.get("endDate"))
    return (end - begin).days if begin and end else 1 << 30


def _school_year(obj: m.Json) -> tuple[str, str]:
    school = m.ref(obj, "schoolReference").get("schoolId")
    year = m.ref(obj, "schoolYearTypeReference").get("schoolYear")
    return str(school), str(year)


def _sessions(sessions: Sequence[m.Json], periods: Sequence[m.Json]) -> list[Record]:
    year_sessions: dict[tuple[str, str], str] = {}
    for obj in sessions:
        built = m.session(obj, None)
        if built is not None and built.type == "schoolYear":
            year_sessions.setdefault(_school_year(obj), built.vendor_id)
    records: list[Record] = []
    for obj in sessions:
        vendor_id = session_id(obj)
        parent = year_sessions.get(_school_year(obj))
        record = m.session(obj, parent if parent != vendor_id else None)
        if record is not None:
            records.append(record)
    by_length = sorted((o for o in sessions if session_id(o)), key=_span)
    for obj in periods:
        record = m.grading_period(obj, _period_parent(obj, by_length))
        if record is not None:
            records.append(record)
    return records


def _period_parent(period: m.Json, sessions_by_length: Sequence[m.Json]) -> str | None:
    key = _school_year(period)
    same = [s for s in sessions_by_length if _school_year(s) == key]
    wanted = grading_period_id(period)
    for candidate in same:
        listed = candidate.get("gradingPeriods")
        refs = (
            (m.ref(item, "gradingPeriodReference") for item in listed if isinstance(item, dict))
            if isinstance(listed, list)
            else ()
        )
        if any(grading_period_id(ref) == wanted for ref in refs):
            return session_id(candidate)
    begin, end = m.read_date(period.get("beginDate")), m.read_date(period.get("endDate"))
    for candidate in same:
        start, stop = m.read_date(candidate.get("beginDate")), m.read_date(candidate.get("endDate"))
        if begin and end and start and stop and start <= begin and end <= stop:
            return session_id(candidate)
    return None
