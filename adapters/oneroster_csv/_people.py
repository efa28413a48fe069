"""users.csv, roles.csv and demographics.csv -> Student, Teacher and Guardian records.

People need three files before any record can be built: a 1.2 user's roles
live in roles.csv, and a student's demographics in demographics.csv. So rows
are first collected into small intermediates, then :meth:`PeopleBuilder.build`
decides each user's kind, joins demographics and links students and guardians
both ways (a link listed on only one side still exists on both).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TypeVar

from adapters.oneroster_csv._mapping import (
    Cells,
    FileLog,
    Refs,
    multi,
    optional_ref,
    optional_value,
    required_ref,
    required_value,
)
from adapters.oneroster_csv._reader import RACE_COLUMNS
from adapters.oneroster_csv._values import ROLE_TYPES, ROLES, SEXES, parse_bool, parse_date, parse_grade
from hub.sdk import Guardian, Person, Student, Teacher

__all__ = ["STAFF_ROLES", "People", "PeopleBuilder"]

STAFF_ROLES = frozenset(
    {
        "teacher",
        "aide",
        "administrator",
        "principal",
        "counselor",
        "districtAdministrator",
        "siteAdministrator",
        "systemAdministrator",
        "proctor",
    }
)
_STUDENT, _STAFF, _GUARDIAN = "student", "staff", "guardian"


def _kind(role: str) -> str:
    if role == "student":
        return _STUDENT
    if role in STAFF_ROLES:
        return _STAFF
    return _GUARDIAN  # guardian, parent or relative: ROLES admits nothing else


@dataclass(slots=True)
class _Role:
    role: str
    primary: bool
    org_id: str | None


@dataclass(slots=True)
class _User:
    """A users.csv row read but not yet a record: its kind depends on roles.csv."""

    vendor_id: str
    line: int
    given_name: str | None
    family_name: str | None
    middle_name: str | None
    preferred_name: str | None
    email: str | None
    username: str | None
    identifier: str | None
    enabled: bool | None
    phone: str | None
    grades: tuple[str, ...]
    primary_org: str | None
    agent_ids: tuple[str, ...]
    roles: list[_Role] = field(default_factory=list)


@dataclass(slots=True)
class _Demographics:
    birth_date: dt.date | None
    sex: str | None
    races: tuple[str, ...] | None
    hispanic_or_latino: bool | None
    programs: tuple[str, ...]
    directory_opt_out: bool


@dataclass(slots=True)
class People:
    """The people of a set, each list in users.csv order."""

    students: list[Student]
    teachers: list[Teacher]
    guardians: list[Guardian]


class PeopleBuilder:
    """Collects users, roles and demographics rows, then builds the records."""

    USER_COLUMNS = (
        *("sourcedId", "givenName", "familyName", "middleName", "preferredGivenName", "email"),
        *("username", "identifier", "enabledUser", "phone", "grades", "primaryOrgSourcedId"),
        *("agentSourcedIds", "role", "orgSourcedIds"),
    )
    ROLE_COLUMNS = ("sourcedId", "userSourcedId", "role", "orgSourcedId", "roleType")

    DEMOGRAPHIC_COLUMNS = (
        *("sourcedId", "birthDate", "sex", "hispanicOrLatinoEthnicity"),
        *("metadata.programs", "metadata.directoryOptOut", *RACE_COLUMNS),
    )

    def __init__(self, refs: Refs) -> None:
        self._refs = refs
        self._users: dict[str, _User] = {}
        self._file_roles: dict[str, list[_Role]] = {}
        self._demographics: dict[str, _Demographics] = {}

    def add_user(self, cells: Cells, line: int, log: FileLog) -> None:
        """One users.csv row (``USER_COLUMNS``); a 1.1 row carries its role and orgs itself."""
        vendor_id, given, family, middle, preferred, email, username, identifier, enabled = cells[:9]
        phone, grade_cell, primary_org, agents, role_text, org_cell = cells[9:]
        orgs = self._refs.orgs
        user = _User(
            vendor_id=vendor_id,
            line=line,
            given_name=given or None,
            family_name=family or None,
            middle_name=middle or None,
            preferred_name=preferred or None,
            email=email or None,
            username=username or None,
            identifier=identifier or None,
            enabled=optional_value(enabled, "enabledUser", parse_bool, line, log),
            phone=phone or None,
            grades=multi(grade_cell),
            primary_org=optional_ref(primary_org, "primaryOrgSourcedId", orgs, "org", line, log),
            agent_ids=multi(agents),
        )
        if role_text:
            role = required_value(role_text, "role", ROLES)
            org_ids: tuple[str | None, ...] = multi(org_cell)
            if orgs is not None and org_ids:
                known = tuple(org for org in org_ids if org in orgs)
                if known and len(known) < len(org_ids):
                    log.warn(line, f"{len(org_ids) - len(known)} unknown orgs left out", "orgSourcedIds")
                org_ids = known
            if not org_ids:
                # A person without a known school is still a person (and may
                # still be enrolled in classes): keep the role, without an org.
                log.warn(line, "no known org; the person belongs to no school", "orgSourcedIds")
                org_ids = (None,)
            user.roles = [_Role(role, index == 0, org) for index, org in enumerate(org_ids)]
        self._users[vendor_id] = user

    def add_role(self, cells: Cells, line: int, log: FileLog) -> None:
        """One roles.csv row (1.2, ``ROLE_COLUMNS``); a user's roles there replace users.csv's."""
        _, user_id, role_text, org_id, role_type = cells
        user_id = required_ref(user_id, "userSourcedId", self._users, "user")
        role = required_value(role_text, "role", ROLES)
        # A role at an unknown org still says who the person is.
        org_ref = optional_ref(org_id, "orgSourcedId", self._refs.orgs, "org", line, log)
        primary = optional_value(role_type, "roleType", ROLE_TYPES, line, log) == "primary"
        self._file_roles.setdefault(user_id, []).append(_Role(role, primary, org_ref))

    def add_demographics(self, cells: Cells, line: int, log: FileLog) -> None:
        """One demographics.csv row (``DEMOGRAPHIC_COLUMNS``), joined to its user by sourcedId."""
        user_id, birth_date, sex, hispanic, programs, opt_out = cells[:6]
        required_ref(user_id, "sourcedId", self._users, "user")
        flags = [
            (name, optional_value(cell, name, parse_bool, line, log))
            for name, cell in zip(RACE_COLUMNS, cells[6:], strict=True)
        ]
        races = None
        if any(value is not None for _, value in flags):
            races = tuple(name for name, value in flags if value)
        self._demographics[user_id] = _Demographics(
            birth_date=optional_value(birth_date, "birthDate", parse_date, line, log),
            sex=optional_value(sex, "sex", SEXES, line, log),
            races=races,
            hispanic_or_latino=optional_value(hispanic, "hispanicOrLatinoEthnicity", parse_bool, line, log),
            programs=tuple(item.upper() for item in multi(programs)),
            directory_opt_out=bool(
                optional_value(opt_out, "metadata.directoryOptOut", parse_bool, line, log)
            ),
        )

    def without_roles(self) -> set[str]:
        """sourcedIds of the users read so far that no role column or roles.csv row names."""
        return {
            vendor_id
            for vendor_id, user in self._users.items()
            if not user.roles and vendor_id not in self._file_roles
        }

    def build(self, log: FileLog, hints: dict[str, str] | None = None) -> People:
        """Decide each user's kind, join demographics and link students with guardians.

        ``hints`` maps a user without a role to the role its enrollments give
        it (``student``, ``teacher``...): such a user is still a person.
        """
        people = People([], [], [])
        by_id: dict[str, Person] = {}
        hints = hints or {}
        for user in self._users.values():
            roles = self._file_roles.get(user.vendor_id) or user.roles
            if not roles:
                guessed = self._guess_role(user, hints)
                if guessed is None:
                    log.reject(
                        user.line,
                        "user has no role (no role column, no roles.csv row, no enrollment, no grade)",
                        "role",
                    )
                    continue
                role, origin = guessed
                log.warn(user.line, f"no role row; served as {role} (from {origin})", "role")
                roles = [_Role(role, True, user.primary_org)]
            record = self._person(user, roles, log)
            by_id[user.vendor_id] = record
            if isinstance(record, Student):
                people.students.append(record)
            elif isinstance(record, Teacher):
                people.teachers.append(record)
            elif isinstance(record, Guardian):
                people.guardians.append(record)
        self._link(people, by_id, log)
        # The intermediates are only needed to build: free them before serving.
        self._users.clear()
        self._file_roles.clear()
        self._demographics.clear()
        return people

    @staticmethod
    def _guess_role(user: _User, hints: dict[str, str]) -> tuple[str, str] | None:
        role = hints.get(user.vendor_id)
        if role is not None:
            return role, "enrollments.csv"
        if user.grades:
            return "student", "its grades"
        return None

    def _person(self, user: _User, roles: list[_Role], log: FileLog) -> Person:
        primary = next((role for role in roles if role.primary), roles[0])
        kind = _kind(primary.role)
        kinds = {_kind(role.role) for role in roles}
        if _STAFF in kinds and _GUARDIAN in kinds:
            kind = _STAFF
            log.warn(user.line, "user has staff and guardian roles; served as staff only", "role")

        def orgs_of(wanted: str) -> tuple[str, ...]:
            return tuple(dict.fromkeys(r.org_id for r in roles if r.org_id and _kind(r.role) == wanted))

        def role_of(wanted: str) -> str:
            return (
                primary.role
                if _kind(primary.role) == wanted
                else next(r.role for r in roles if _kind(r.role) == wanted)
            )

        if kind == _STAFF:
            teacher = Teacher(
                vendor_id=user.vendor_id, phone=user.phone, role=role_of(_STAFF), school_ids=orgs_of(_STAFF)
            )
            return _with_person_fields(teacher, user)
        if kind == _GUARDIAN:
            guardian = Guardian(vendor_id=user.vendor_id, phone=user.phone, relationship=role_of(_GUARDIAN))
            return _with_person_fields(guardian, user)
        # Here the primary role is the student role (1.1: the first org listed).
        student = Student(
            vendor_id=user.vendor_id,
            grade_level=parse_grade(user.grades[0]) if user.grades else None,
            school_id=user.primary_org or primary.org_id,
            school_ids=orgs_of(_STUDENT),
            directory_opt_out=False,
        )
        demographics = self._demographics.get(user.vendor_id)
        if demographics is not None:
            student.birth_date = demographics.birth_date
            student.sex = demographics.sex
            student.races = demographics.races
            student.hispanic_or_latino = demographics.hispanic_or_latino
            student.programs = demographics.programs
            student.directory_opt_out = demographics.directory_opt_out
        return _with_person_fields(student, user)

    def _link(self, people: People, by_id: dict[str, Person], log: FileLog) -> None:
        guardians_of: dict[str, dict[str, None]] = {s.vendor_id: {} for s in people.students}
        students_of: dict[str, dict[str, None]] = {g.vendor_id: {} for g in people.guardians}
        for vendor_id, person in by_id.items():
            user = self._users[vendor_id]
            if not user.agent_ids or isinstance(person, Teacher):
                continue
            wanted, links, other_links = (
                (Guardian, guardians_of, students_of)
                if isinstance(person, Student)
                else (Student, students_of, guardians_of)
            )
            unknown = other_kind = 0
            for agent_id in user.agent_ids:
                agent = by_id.get(agent_id)
                if agent is None:
                    unknown += 1
                elif not isinstance(agent, wanted):
                    other_kind += 1
                else:
                    links[person.vendor_id][agent_id] = None
                    other_links[agent_id][person.vendor_id] = None
            if unknown:
                log.warn(user.line, f"{unknown} unknown users left out", "agentSourcedIds")
            if other_kind:
                what = "guardians" if wanted is Guardian else "students"
                log.warn(user.line, f"{other_kind} users that are not {what} left out", "agentSourcedIds")
        for student in people.students:
            student.guardian_ids = tuple(guardians_of[student.vendor_id])
        for guardian in people.guardians:
            guardian.student_ids = tuple(students_of[guardian.vendor_id])


PersonT = TypeVar("PersonT", bound=Person)


def _with_person_fields(record: PersonT, user: _User) -> PersonT:
    record.given_name = user.given_name
    record.family_name = user.family_name
    record.middle_name = user.middle_name
    record.preferred_name = user.preferred_name
    record.email = user.email
    record.username = user.username
    record.identifier = user.identifier
    record.enabled = user.enabled
    return record
