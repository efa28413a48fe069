"""What a generated district's CSV files say about its students, sections and schools.

The hardening tests use it to choose ids worth asking about (a section the
caller does not teach, a student who matches a search) and to check answers
against the files; whether the caller may see a row is always asked of the hub.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from hub.federation.ids import encode_id
from hub.model import Entity
from hub.personas import Persona

NAME_COLUMNS = ("givenName", "familyName", "middleName", "preferredGivenName")


def rows_of(folder: Path, file_name: str) -> list[dict[str, str]]:
    """The rows of one CSV file of the set, as dicts by column."""
    with (folder / file_name).open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def student_id(vendor_id: str) -> str:
    """The hub id of a student of the source "sis"."""
    return encode_id(Entity.STUDENT.value, "sis", vendor_id)


def section_id(vendor_id: str) -> str:
    """The hub id of a section of the source "sis"."""
    return encode_id(Entity.SECTION.value, "sis", vendor_id)


@dataclass(frozen=True)
class StudentRow:
    """One student as the files hold them."""

    vid: str
    names: tuple[str, ...]  # given, family, middle, preferred: those present, once each
    grade: str
    school: str
    opted_out: bool
    birth_date: str
    programs: tuple[str, ...]

    @property
    def hub_id(self) -> str:
        return student_id(self.vid)

    def matches(self, term: str) -> bool:
        """Whether every word of ``term`` occurs in the names (case-blind), as ``search`` compares."""
        text = " ".join(self.names).casefold()
        return all(word in text for word in term.casefold().split())


class Roster:
    """Students (in file order), their sections and guardians, and the schools."""

    def __init__(self, folder: Path) -> None:
        roles = rows_of(folder, "roles.csv")
        primary_org = {r["userSourcedId"]: r["orgSourcedId"] for r in roles if r["roleType"] == "primary"}
        student_ids = {r["userSourcedId"] for r in roles if r["role"] == "student"}
        demographics = {r["sourcedId"]: r for r in rows_of(folder, "demographics.csv")}
        users = rows_of(folder, "users.csv")
        self.students = {
            u["sourcedId"]: StudentRow(
                vid=u["sourcedId"],
                names=tuple(dict.fromkeys(u[c] for c in NAME_COLUMNS if u[c])),
                grade=u["grades"],
                school=primary_org[u["sourcedId"]],
                opted_out=demographics[u["sourcedId"]]["metadata.directoryOptOut"] == "true",
                birth_date=demographics[u["sourcedId"]]["birthDate"],
                programs=tuple(filter(None, demographics[u["sourcedId"]]["metadata.programs"].split(","))),
            )
            for u in users
            if u["sourcedId"] in student_ids
        }
        self.agents = {u["sourcedId"]: set(filter(None, u["agentSourcedIds"].split(","))) for u in users}
        self.school_of = primary_org
        self.sections_of: dict[str, set[str]] = defaultdict(set)
        self.members: dict[str, list[str]] = defaultdict(list)  # section -> students, file order
        for enrollment in rows_of(folder, "enrollments.csv"):
            self.sections_of[enrollment["userSourcedId"]].add(enrollment["classSourcedId"])
            if enrollment["role"] == "student":
                self.members[enrollment["classSourcedId"]].append(enrollment["userSourcedId"])
        self.section_school = {c["sourcedId"]: c["schoolSourcedId"] for c in rows_of(folder, "classes.csv")}
        self.schools = [o["sourcedId"] for o in rows_of(folder, "orgs.csv") if o["type"] == "school"]
        self.counselor = next(r["userSourcedId"] for r in roles if r["role"] == "counselor")

    def children(self, guardian: str) -> set[str]:
        """The students linked to ``guardian`` (from either side of the link)."""
        linked = self.agents.get(guardian, set()) | {s for s in self.students if guardian in self.agents[s]}
        return linked & set(self.students)

    def caller_sections(self, persona: Persona) -> set[str]:
        """Sections in which the caller may see rows: her own, her children's, and for
        school staff every section of her school."""
        me = persona.sourced_id or ""
        people = {me} | self.children(me)
        sections = {s for person in people for s in self.sections_of.get(person, ())}
        if persona.name in ("principal", "counselor"):
            sections |= {s for s, school in self.section_school.items() if school == self.school_of.get(me)}
        return sections
