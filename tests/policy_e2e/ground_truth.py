"""Ground truth for the policy end-to-end tests, computed without the hub.

The district is read straight from the OneRoster CSV set the synthetic
generator wrote, and the rules straight from ``policies/*.csv``. Relations
follow the documented semantics (docs/policies.md, "Relations"; teaching is
what runs today, an ended enrollment staying current for the grace period,
while a student's or guardian's tie to a section never lapses), and a
decision follows the documented rule: a role reads a field under a relation
when some matching line allows it and no matching line denies it; a caller
with several roles gets the union. No hub module is imported here, so the
oracle cannot share a bug with what it checks. The GraphQL schema handed to
:func:`check_response` is used for the shape of types only (return types,
interfaces, argument defaults).

:func:`check_response` walks a response with its operation and reports
*leaks* (a value, or a record, the caller may not see) apart from
*mismatches* (anything else that differs from the expected answer: a missing
row, a wrong value, a missing or unexpected error).
"""

from __future__ import annotations

import base64
import binascii
import csv
import datetime as dt
import functools
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
    parse,
    value_from_ast_untyped,
)

__all__ = [
    "ENTITY_TYPES",
    "POLICY_DIR",
    "RELATIONS",
    "Caller",
    "District",
    "Findings",
    "Oracle",
    "Policy",
    "Row",
    "check_response",
    "hub_id",
    "parse_hub_id",
    "selected_fields",
]

SOURCE = "sis"
POLICY_DIR = Path(__file__).resolve().parents[2] / "policies"
RELATIONS = ("self", "guardian", "teacher", "school", "district", "directory")
ENTITY_TYPES = frozenset(
    {
        "Organization",
        "AcademicSession",
        "Course",
        "Section",
        "Student",
        "Teacher",
        "Guardian",
        "Enrollment",
        "Assignment",
        "Score",
        "CourseGrade",
        "AttendanceEvent",
    }
)
STUDENT_ROLE = "student"
TEACHING_ROLES = frozenset({"teacher", "aide"})
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
GUARDIAN_ROLES = frozenset({"guardian", "parent", "relative"})
RACES = (
    "americanIndianOrAlaskaNative",
    "asian",
    "blackOrAfricanAmerican",
    "nativeHawaiianOrOtherPacificIslander",
    "white",
    "demographicRaceTwoOrMoreRaces",
)
FORBIDDEN = "FORBIDDEN"
FORBIDDEN_FIELD = "FORBIDDEN_FIELD"
NOT_FOUND = "NOT_FOUND"
DEFAULT_PAGE_SIZE = 100  # what an explicit ``first: null`` means


# ---------------------------------------------------------------- hub ids


def hub_id(type_name: str, vid: str) -> str:
    """The opaque id the hub gives a record (base64url of ``Type:source:vendorId``)."""
    return base64.urlsafe_b64encode(f"{type_name}:{SOURCE}:{vid}".encode()).rstrip(b"=").decode()


def parse_hub_id(value: object) -> tuple[str, str] | None:
    """``(type, vendor id)`` of a hub id of our source, or ``None``."""
    if not isinstance(value, str) or not value:
        return None
    try:
        text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeError, ValueError):
        return None
    parts = text.split(":", 2)
    if len(parts) != 3 or parts[1] != SOURCE:
        return None
    return parts[0], parts[2]


# ---------------------------------------------------------------- policy


@dataclass(frozen=True, slots=True)
class Rule:
    """One ``p`` line."""

    sub: str
    obj: str
    act: str
    rel: str
    eft: str

    def matches(self, obj: str) -> bool:
        return _glob(self.obj).fullmatch(obj) is not None


@functools.cache
def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern))


class Policy:
    """The documented decision rule over ``p`` and ``g`` lines."""

    def __init__(self, rules: Sequence[Rule], links: Sequence[tuple[str, str]]) -> None:
        self.rules = tuple(rules)
        self.links = tuple(links)
        self._relations: dict[tuple[frozenset[str], str], frozenset[str]] = {}

    @classmethod
    def from_dir(cls, directory: Path = POLICY_DIR) -> Policy:
        """Every ``*.csv`` of ``directory``: ``p`` and ``g`` lines, ``#`` comments."""
        rules: list[Rule] = []
        links: list[tuple[str, str]] = []
        for path in sorted(directory.glob("*.csv")):
            for raw in path.read_text(encoding="utf-8").splitlines():
                line = raw.strip()
                if not line or line.startswith("#"):
                    continue
                cells = [cell.strip() for cell in line.split(",")]
                if cells[0] == "p" and len(cells) == 6:
                    rules.append(Rule(*cells[1:]))
                elif cells[0] == "g" and len(cells) == 3:
                    links.append((cells[1], cells[2]))
                else:
                    raise ValueError(f"{path}: cannot read line {raw!r}")
        return cls(rules, links)

    def held(self, role: str) -> frozenset[str]:
        """``role`` and every role it holds through ``g`` lines."""
        found = [role]
        for name in found:
            found.extend(r for member, r in self.links if member == name and r not in found)
        return frozenset(found)

    def decide(self, role: str, obj: str, rel: str) -> bool:
        held = self.held(role)
        matching = [
            rule
            for rule in self.rules
            if rule.sub in held and rule.act == "read" and rule.rel in ("*", rel) and rule.matches(obj)
        ]
        return any(r.eft == "allow" for r in matching) and not any(r.eft == "deny" for r in matching)

    def relations(self, roles: Iterable[str], obj: str) -> frozenset[str]:
        """The relations under which a caller holding ``roles`` reads ``obj`` (``Type.field``)."""
        key = (frozenset(roles), obj)
        found = self._relations.get(key)
        if found is None:
            found = frozenset(rel for role in key[0] for rel in RELATIONS if self.decide(role, obj, rel))
            self._relations[key] = found
        return found


# ---------------------------------------------------------------- the district


@dataclass(slots=True)
class Row:
    """One record as the CSV files say: expected GraphQL scalar values and its links."""

    type: str
    vid: str
    values: dict[str, Any]
    refs: dict[str, Any]

    @property
    def id(self) -> str:
        return hub_id(self.type, self.vid)


Running = Callable[[dt.date | None, dt.date | None], bool]


def _read(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _items(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(",") if part.strip()]


def _text(cell: str | None) -> str | None:
    return cell or None


def _enum(cell: str) -> str | None:
    if not cell:
        return None
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", cell)
    return re.sub(r"[^A-Za-z0-9]+", "_", words).upper()


def _bool(cell: str) -> bool | None:
    return {"true": True, "false": False}.get(cell.strip().lower()) if cell else None


def _float(cell: str) -> float | None:
    return float(cell) if cell else None


def _date(cell: str) -> dt.date | None:
    return dt.date.fromisoformat(cell) if cell else None


def _datetime(cell: str) -> dt.datetime | None:
    if not cell:
        return None
    if len(cell) <= 10:
        day = dt.date.fromisoformat(cell)
        return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    value = dt.datetime.fromisoformat(cell.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _grade(cell: str) -> str:
    return cell.zfill(2) if cell.isdigit() else cell.upper()


def _person_values(user: Mapping[str, str]) -> dict[str, Any]:
    return {
        "givenName": _text(user["givenName"]),
        "familyName": _text(user["familyName"]),
        "middleName": _text(user["middleName"]),
        "preferredName": _text(user.get("preferredGivenName", "")),
        "email": _text(user["email"]),
        "username": _text(user["username"]),
        "identifier": _text(user["identifier"]),
    }


class District:
    """Every record of a generated district, read from its CSV files."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.rows: dict[str, dict[str, Row]] = {name: {} for name in ENTITY_TYPES}
        self._index: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        self._load()

    # -- reading --

    def _add(self, row: Row, *indexed: str) -> None:
        self.rows[row.type][row.vid] = row
        for ref in indexed:
            value = row.refs.get(ref)
            if value is not None:
                self._index[(row.type, ref)][value].append(row.vid)

    def _load(self) -> None:
        d = self.directory
        values: dict[str, Any]
        refs: dict[str, Any]
        for r in _read(d / "orgs.csv"):
            values = {
                "name": _text(r["name"]),
                "type": _enum(r["type"]),
                "identifier": _text(r["identifier"]),
            }
            self._add(
                Row("Organization", r["sourcedId"], values, {"parent": _text(r["parentSourcedId"])}), "parent"
            )
        for r in _read(d / "academicSessions.csv"):
            values = {
                "title": _text(r["title"]),
                "type": _enum(r["type"]),
                "startDate": _text(r["startDate"]),
                "endDate": _text(r["endDate"]),
                "schoolYear": _text(r["schoolYear"]),
            }
            refs = {
                "parent": _text(r["parentSourcedId"]),
                "start": _date(r["startDate"]),
                "end": _date(r["endDate"]),
            }
            self._add(Row("AcademicSession", r["sourcedId"], values, refs))
        for r in _read(d / "courses.csv"):
            values = {
                "title": _text(r["title"]),
                "courseCode": _text(r["courseCode"]),
                "grades": [_grade(g) for g in _items(r["grades"])],
                "subjects": _items(r["subjects"]),
            }
            self._add(Row("Course", r["sourcedId"], values, {"org": _text(r["orgSourcedId"])}))
        for r in _read(d / "classes.csv"):
            values = {
                "title": _text(r["title"]),
                "classCode": _text(r["classCode"]),
                "classType": _text(r["classType"]),
                "location": _text(r["location"]),
                "periods": _items(r["periods"]),
                "subjects": _items(r["subjects"]),
            }
            refs = {
                "course": r["courseSourcedId"],
                "school": r["schoolSourcedId"],
                "terms": tuple(_items(r["termSourcedIds"])),
            }
            self._add(Row("Section", r["sourcedId"], values, refs))
        self._load_people()
        sections = self.rows["Section"]
        for r in _read(d / "enrollments.csv"):
            values = {
                "role": _enum(r["role"]),
                "primary": _bool(r["primary"]),
                "beginDate": _text(r["beginDate"]),
                "endDate": _text(r["endDate"]),
            }
            refs = {
                "section": r["classSourcedId"],
                "person": r["userSourcedId"],
                "role": r["role"],
                "begin": _date(r["beginDate"]),
                "end": _date(r["endDate"]),
                "school": r["schoolSourcedId"] or sections[r["classSourcedId"]].refs["school"],
            }
            self._add(Row("Enrollment", r["sourcedId"], values, refs), "section", "person")
        categories = {r["sourcedId"]: r["title"] for r in _read(d / "categories.csv")}
        for r in _read(d / "lineItems.csv"):
            values = {
                "title": _text(r["title"]),
                "description": _text(r["description"]),
                "assignDate": _datetime(r["assignDate"]),
                "dueDate": _datetime(r["dueDate"]),
                "category": categories.get(r["categorySourcedId"]) or None,
                "pointsPossible": _float(r["resultValueMax"]),
            }
            self._add(Row("Assignment", r["sourcedId"], values, {"section": r["classSourcedId"]}), "section")
        assignments = self.rows["Assignment"]
        for r in _read(d / "results.csv"):
            values = {
                "score": _float(r["score"]),
                "scoreStatus": _enum(r["scoreStatus"]),
                "late": _bool(r["late"]),
                "missing": _bool(r["missing"]),
                "submittedAt": _datetime(r["scoreDate"]),
                "comment": _text(r["comment"]),
            }
            refs = {
                "assignment": r["lineItemSourcedId"],
                "student": r["studentSourcedId"],
                "section": r["classSourcedId"] or assignments[r["lineItemSourcedId"]].refs["section"],
            }
            self._add(Row("Score", r["sourcedId"], values, refs), "student", "assignment")
        for r in _read(d / "courseGrades.csv"):
            values = {"letterGrade": _text(r["letterGrade"]), "percent": _float(r["percent"])}
            refs = {
                "student": r["studentSourcedId"],
                "section": r["classSourcedId"],
                "term": _text(r["academicSessionSourcedId"]),
            }
            self._add(Row("CourseGrade", r["sourcedId"], values, refs), "student")
        students = self.rows["Student"]
        for r in _read(d / "attendance.csv"):
            section = _text(r["classSourcedId"])
            school = (
                _text(r["schoolSourcedId"])
                or (sections[section].refs["school"] if section else None)
                or students[r["userSourcedId"]].refs["school"]
            )
            values = {"date": r["date"], "status": _enum(r["attendanceStatus"])}
            refs = {"student": r["userSourcedId"], "section": section, "school": school}
            self._add(Row("AttendanceEvent", r["sourcedId"], values, refs), "student")

    def _load_people(self) -> None:
        d = self.directory
        values: dict[str, Any]
        roles: dict[str, list[dict[str, str]]] = defaultdict(list)
        for r in _read(d / "roles.csv"):
            roles[r["userSourcedId"]].append(r)
        demographics = {r["sourcedId"]: r for r in _read(d / "demographics.csv")}
        users = _read(d / "users.csv")
        kinds: dict[str, str] = {}
        for user in users:
            vid = user["sourcedId"]
            held = roles.get(vid, [])
            if not held:
                continue
            primary = next((r for r in held if r["roleType"] == "primary"), held[0])
            names = {r["role"] for r in held}
            if names & STAFF_ROLES:
                kind = "Teacher"
            elif primary["role"] == STUDENT_ROLE:
                kind = "Student"
            else:
                kind = "Guardian"
            kinds[vid] = kind
            values = _person_values(user)
            if kind == "Teacher":
                values["phone"] = _text(user["phone"])
                schools = tuple(dict.fromkeys(r["orgSourcedId"] for r in held if r["role"] in STAFF_ROLES))
                role = primary["role"] if primary["role"] in STAFF_ROLES else next(iter(names & STAFF_ROLES))
                self._add(Row("Teacher", vid, values, {"schools": schools, "role": role}))
            elif kind == "Guardian":
                values["phone"] = _text(user["phone"])
                values["relationship"] = (
                    primary["role"]
                    if primary["role"] in GUARDIAN_ROLES
                    else next(r["role"] for r in held if r["role"] in GUARDIAN_ROLES)
                )
                self._add(Row("Guardian", vid, values, {"students": ()}))
            else:
                grades = _items(user["grades"])
                values["gradeLevel"] = _grade(grades[0]) if grades else None
                school = user["primaryOrgSourcedId"] or primary["orgSourcedId"]
                schools = tuple(dict.fromkeys(r["orgSourcedId"] for r in held if r["role"] == STUDENT_ROLE))
                demo = demographics.get(vid)
                opt_out = False
                if demo is None:
                    values.update(birthDate=None, sex=None, races=None, hispanicOrLatino=None, programs=None)
                else:
                    flags = {name: _bool(demo.get(name, "")) for name in RACES}
                    values.update(
                        birthDate=_text(demo["birthDate"]),
                        sex=_text(demo["sex"]),
                        races=(
                            [name for name in RACES if flags[name]]
                            if any(v is not None for v in flags.values())
                            else None
                        ),
                        hispanicOrLatino=_bool(demo["hispanicOrLatinoEthnicity"]),
                        programs=[p.upper() for p in _items(demo.get("metadata.programs", ""))],
                    )
                    opt_out = bool(_bool(demo.get("metadata.directoryOptOut", "")))
                values["directoryOptOut"] = opt_out
                refs = {"school": school, "schools": schools, "guardians": (), "opt_out": opt_out}
                self._add(Row("Student", vid, values, refs), "school")
        # Guardian links, listed on either side, hold both ways.
        guardians_of: dict[str, dict[str, None]] = defaultdict(dict)
        students_of: dict[str, dict[str, None]] = defaultdict(dict)
        for user in users:
            vid = user["sourcedId"]
            for agent in _items(user["agentSourcedIds"]):
                pair = {kinds.get(vid): vid, kinds.get(agent): agent}
                student, guardian = pair.get("Student"), pair.get("Guardian")
                if student and guardian and student != guardian:
                    guardians_of[student][guardian] = None
                    students_of[guardian][student] = None
        for vid, row in self.rows["Student"].items():
            row.refs["guardians"] = tuple(guardians_of.get(vid, {}))
        for vid, row in self.rows["Guardian"].items():
            row.refs["students"] = tuple(students_of.get(vid, {}))

    # -- look-ups --

    def get(self, type_name: str, vid: str | None) -> Row | None:
        if vid is None:
            return None
        return self.rows.get(type_name, {}).get(vid)

    def linked(self, type_name: str, ref: str, value: str) -> list[str]:
        """Vendor ids of ``type_name`` records whose ``ref`` is ``value``, in file order."""
        return list(self._index[(type_name, ref)].get(value, ()))

    def students(self) -> list[str]:
        return list(self.rows["Student"])

    def single(self, row: Row, name: str) -> tuple[str, str | None] | None:
        """``(type, vendor id)`` a single-record field of ``row`` points at (``None``: not one)."""
        target = _SINGLE.get((row.type, name))
        if target is not None:
            return target[0], row.refs.get(target[1])
        if (row.type, name) == ("Enrollment", "person"):
            kind = "Student" if row.refs["role"] == STUDENT_ROLE else "Teacher"
            return kind, row.refs["person"]
        return None

    def many(
        self, row: Row, name: str, args: Mapping[str, Any], running: Running
    ) -> tuple[str, list[str]] | None:
        """``(type, vendor ids)`` a list or connection field of ``row`` holds, before policy;
        ``running`` says whether an enrollment span is current."""
        unsupported = set(args) - {"first", "from", "to", "includeInactive"}
        if unsupported:
            raise NotImplementedError(f"ground truth does not model arguments {sorted(unsupported)}")
        key = (row.type, name)
        if key == ("Organization", "children"):
            return "Organization", self.linked("Organization", "parent", row.vid)
        if key == ("Section", "terms"):
            return "AcademicSession", list(row.refs["terms"])
        if key == ("Section", "teachers"):
            return "Teacher", self._people_of_section(row.vid, TEACHING_ROLES, None)
        if key == ("Section", "students"):
            current = None if args.get("includeInactive") else running
            return "Student", self._people_of_section(row.vid, frozenset({STUDENT_ROLE}), current)
        if key == ("Section", "assignments"):
            return "Assignment", self.linked("Assignment", "section", row.vid)
        if key == ("Student", "sections"):
            return "Section", self._sections_of_person(row.vid, frozenset({STUDENT_ROLE}))
        if key == ("Teacher", "sections"):
            return "Section", self._sections_of_person(row.vid, TEACHING_ROLES)
        if key == ("Student", "guardians"):
            return "Guardian", list(row.refs["guardians"])
        if key == ("Guardian", "students"):
            return "Student", list(row.refs["students"])
        if key == ("Teacher", "schools"):
            return "Organization", list(row.refs["schools"])
        if key == ("Student", "scores"):
            return "Score", self.linked("Score", "student", row.vid)
        if key == ("Assignment", "scores"):
            return "Score", self.linked("Score", "assignment", row.vid)
        if key == ("Student", "courseGrades"):
            return "CourseGrade", self.linked("CourseGrade", "student", row.vid)
        if key == ("Student", "attendance"):
            low = _date(str(args.get("from") or ""))
            high = _date(str(args.get("to") or ""))
            events = [
                vid
                for vid in self.linked("AttendanceEvent", "student", row.vid)
                if (low is None or self.rows["AttendanceEvent"][vid].values["date"] >= low.isoformat())
                and (high is None or self.rows["AttendanceEvent"][vid].values["date"] <= high.isoformat())
            ]
            return "AttendanceEvent", events
        return None

    def _people_of_section(self, section: str, roles: frozenset[str], running: Running | None) -> list[str]:
        enrollments = [self.rows["Enrollment"][e] for e in self.linked("Enrollment", "section", section)]
        if running is not None:
            enrollments = [e for e in enrollments if running(e.refs["begin"], e.refs["end"])]
        return list(dict.fromkeys(e.refs["person"] for e in enrollments if e.refs["role"] in roles))

    def _sections_of_person(self, person: str, roles: frozenset[str]) -> list[str]:
        enrollments = [self.rows["Enrollment"][e] for e in self.linked("Enrollment", "person", person)]
        return list(dict.fromkeys(e.refs["section"] for e in enrollments if e.refs["role"] in roles))


_SINGLE: dict[tuple[str, str], tuple[str, str]] = {
    ("Organization", "parent"): ("Organization", "parent"),
    ("AcademicSession", "parent"): ("AcademicSession", "parent"),
    ("Course", "org"): ("Organization", "org"),
    ("Section", "course"): ("Course", "course"),
    ("Section", "school"): ("Organization", "school"),
    ("Student", "school"): ("Organization", "school"),
    ("Enrollment", "section"): ("Section", "section"),
    ("Assignment", "section"): ("Section", "section"),
    ("Score", "assignment"): ("Assignment", "assignment"),
    ("Score", "student"): ("Student", "student"),
    ("CourseGrade", "student"): ("Student", "student"),
    ("CourseGrade", "section"): ("Section", "section"),
    ("CourseGrade", "term"): ("AcademicSession", "term"),
    ("AttendanceEvent", "student"): ("Student", "student"),
    ("AttendanceEvent", "section"): ("Section", "section"),
    ("AttendanceEvent", "school"): ("Organization", "school"),
}


# ---------------------------------------------------------------- relations


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asks: policy roles and, when known, the roster person (type, vendor id)."""

    roles: tuple[str, ...]
    kind: str | None = None
    vid: str | None = None


class Oracle:
    """What one caller may see of a district under a policy, on a given day."""

    def __init__(
        self,
        district: District,
        policy: Policy,
        caller: Caller,
        *,
        today: dt.date,
        grace_days: int = 14,
        district_roles: Iterable[str] = ("district_admin",),
    ) -> None:
        self.district = district
        self.policy = policy
        self.caller = caller
        self.today = today
        self.grace_days = grace_days
        self.is_district = bool(set(caller.roles) & set(district_roles))
        self._relations: dict[tuple[str, str], frozenset[str]] = {}
        self._readable: dict[tuple[str, str], frozenset[str]] = {}
        self._facts()

    # -- the caller's roster ties --

    def running(self, begin: dt.date | None, end: dt.date | None) -> bool:
        """Whether a span runs today; an ended one stays current for the grace period."""
        if begin is not None and self.today < begin:
            return False
        return end is None or self.today <= end + dt.timedelta(days=self.grace_days)

    def _section_running(self, section: str) -> bool:
        row = self.district.rows["Section"].get(section)
        if row is None:
            return False
        terms = [self.district.rows["AcademicSession"].get(t) for t in row.refs["terms"]]
        known = [t for t in terms if t is not None]
        return not row.refs["terms"] or any(self.running(t.refs["start"], t.refs["end"]) for t in known)

    def _current_sections(self, people: Iterable[str], roles: frozenset[str]) -> frozenset[str]:
        rows = self.district.rows["Enrollment"]
        return frozenset(
            rows[e].refs["section"]
            for person in people
            for e in self.district.linked("Enrollment", "person", person)
            if rows[e].refs["role"] in roles
            and self.running(rows[e].refs["begin"], rows[e].refs["end"])
            and self._section_running(rows[e].refs["section"])
        )

    def _sections_ever(self, people: Iterable[str], roles: frozenset[str]) -> frozenset[str]:
        rows = self.district.rows["Enrollment"]
        return frozenset(
            rows[e].refs["section"]
            for person in people
            for e in self.district.linked("Enrollment", "person", person)
            if rows[e].refs["role"] in roles
        )

    def _current_people(self, sections: Iterable[str], roles: frozenset[str]) -> frozenset[str]:
        rows = self.district.rows["Enrollment"]
        return frozenset(
            rows[e].refs["person"]
            for section in sections
            for e in self.district.linked("Enrollment", "section", section)
            if rows[e].refs["role"] in roles and self.running(rows[e].refs["begin"], rows[e].refs["end"])
        )

    def _guardians_of(self, students: Iterable[str]) -> frozenset[str]:
        rows = self.district.rows["Student"]
        return frozenset(g for s in students if s in rows for g in rows[s].refs["guardians"])

    def _facts(self) -> None:
        d, c = self.district, self.caller
        me = d.get(c.kind, c.vid) if c.kind else None
        is_student = me is not None and me.type == "Student"
        is_guardian = me is not None and me.type == "Guardian"
        is_staff = me is not None and me.type == "Teacher"
        self.me = me
        self.children: frozenset[str] = frozenset(me.refs["students"]) if is_guardian and me else frozenset()
        # A student's and a guardian's tie to a section does not lapse (past classes stay
        # theirs); only teaching is limited to what runs today.
        self.own_sections = (
            self._sections_ever([me.vid], frozenset({STUDENT_ROLE})) if is_student and me else frozenset()
        )
        self.child_sections = self._sections_ever(self.children, frozenset({STUDENT_ROLE}))
        self.taught_sections = (
            self._current_sections([me.vid], TEACHING_ROLES) if is_staff and me else frozenset()
        )
        self.taught_students = self._current_people(self.taught_sections, frozenset({STUDENT_ROLE}))
        self.staff_schools: frozenset[str] = frozenset(me.refs["schools"]) if is_staff and me else frozenset()
        self.school_students = frozenset(
            vid
            for vid, row in d.rows["Student"].items()
            if ({row.refs["school"], *row.refs["schools"]} & self.staff_schools)
        )
        self.my_teachers = self._current_people(self.own_sections, TEACHING_ROLES)
        self.child_teachers = self._current_people(self.child_sections, TEACHING_ROLES)
        self.own_guardians = self._guardians_of([me.vid]) if is_student and me else frozenset()
        self.taught_guardians = self._guardians_of(self.taught_students)
        self.school_guardians = self._guardians_of(self.school_students)
        self.self_student = me.vid if is_student and me else None

    # -- relations to one record --

    def relations(self, type_name: str, vid: str) -> frozenset[str]:
        """How the caller is related to the record (empty when it does not exist)."""
        key = (type_name, vid)
        found = self._relations.get(key)
        if found is None:
            row = self.district.get(type_name, vid)
            found = frozenset(self._relations_of(row)) if row is not None else frozenset()
            self._relations[key] = found
        return found

    def _relations_of(self, row: Row) -> set[str]:
        out: set[str] = set()
        refs, t, me = row.refs, row.type, self.me
        if self.is_district:
            out.add("district")
        if t == "Student":
            if row.vid == self.self_student:
                out.add("self")
            if row.vid in self.children:
                out.add("guardian")
            if row.vid in self.taught_students:
                out.add("teacher")
            if {refs["school"], *refs["schools"]} & self.staff_schools:
                out.add("school")
            if not refs["opt_out"]:
                out.add("directory")
        elif t in ("Score", "CourseGrade", "Enrollment", "AttendanceEvent"):
            student = refs["person"] if t == "Enrollment" else refs["student"]
            if student is not None and student == self.self_student:
                out.add("self")
            if t == "Enrollment" and self.self_student and refs["section"] in self.own_sections:
                out.add("self")
            if student in self.children:
                out.add("guardian")
            if t == "AttendanceEvent" and not refs["section"]:
                if student in self.taught_students:
                    out.add("teacher")
            elif refs["section"] in self.taught_sections:
                out.add("teacher")
            if t in ("Score", "CourseGrade"):
                if student in self.school_students:
                    out.add("school")
            elif refs["school"] in self.staff_schools:
                out.add("school")
        elif t in ("Section", "Assignment"):
            section = row.vid if t == "Section" else refs["section"]
            if section in self.own_sections:
                out.add("self")
            if section in self.child_sections:
                out.add("guardian")
            if section in self.taught_sections:
                out.add("teacher")
            school_row = self.district.get("Section", section)
            if school_row is not None and school_row.refs["school"] in self.staff_schools:
                out.add("school")
            out.add("directory")
        elif t == "Teacher":
            if me is not None and (
                (row.vid == me.vid and me.type == "Teacher") or row.vid in self.my_teachers
            ):
                out.add("self")
            if row.vid in self.child_teachers:
                out.add("guardian")
            if set(refs["schools"]) & self.staff_schools:
                out.add("school")
            out.add("directory")
        elif t == "Guardian":
            if me is not None and (
                (row.vid == me.vid and me.type == "Guardian") or row.vid in self.own_guardians
            ):
                out.add("self")
            if row.vid in self.taught_guardians:
                out.add("teacher")
            if row.vid in self.school_guardians:
                out.add("school")
        elif t == "Organization":
            if row.vid in self.staff_schools:
                out.add("school")
            out.add("directory")
        elif t == "Course":
            if refs["org"] in self.staff_schools:
                out.add("school")
            out.add("directory")
        elif t == "AcademicSession":
            out.add("directory")
        return out

    # -- policy applied --

    def readable(self, type_name: str, name: str) -> frozenset[str]:
        """Relations under which the caller's roles read ``type_name.name``."""
        key = (type_name, name)
        found = self._readable.get(key)
        if found is None:
            found = self._readable[key] = self.policy.relations(self.caller.roles, f"{type_name}.{name}")
        return found

    def allows(self, type_name: str, name: str, vid: str) -> bool:
        """Whether the caller may read field ``name`` of this record."""
        return bool(self.readable(type_name, name) & self.relations(type_name, vid))

    def opened(self, type_name: str, selected: Mapping[str, frozenset[str]]) -> frozenset[str]:
        """Relations that open at least one field of ``type_name`` the operation selects."""
        out: frozenset[str] = frozenset()
        for name in selected.get(type_name, frozenset()):
            out |= self.readable(type_name, name)
        return out

    def visible(self, type_name: str, vid: str, selected: Mapping[str, frozenset[str]]) -> bool:
        """Whether the record appears at all: some selected field of it is readable."""
        return bool(self.relations(type_name, vid) & self.opened(type_name, selected))

    def forbidden(self, selected: Mapping[str, frozenset[str]]) -> list[str]:
        """Selected ``Type.field`` the caller reads under no relation (the operation is refused)."""
        return sorted(
            f"{type_name}.{name}"
            for type_name, names in selected.items()
            if type_name in ENTITY_TYPES
            for name in names
            if not self.readable(type_name, name)
        )

    def care_students(self, selected: Mapping[str, frozenset[str]]) -> list[str]:
        """``viewer.students`` before policy: the students in the caller's care."""
        if self.is_district:
            return self.district.students()
        ids = set(self.children) | set(self.taught_students)
        if self.self_student:
            ids.add(self.self_student)
        if self.staff_schools and "school" in self.opened("Student", selected):
            ids |= self.school_students
        return [vid for vid in self.district.students() if vid in ids]

    def care_sections(self) -> list[str]:
        """``viewer.sections`` before policy: taught or attended now."""
        keys = self.taught_sections | self.own_sections
        return [vid for vid in self.district.rows["Section"] if vid in keys]

    def withheld_values(self, type_name: str, name: str) -> set[str]:
        """String forms of ``type_name.name`` values the caller may see of no record.

        Values shared with a record the caller may see are left out (they would
        appear legitimately)."""
        hidden: set[str] = set()
        shown: set[str] = set()
        for vid, row in self.district.rows[type_name].items():
            value = row.values.get(name)
            items = value if isinstance(value, list) else [value]
            target = shown if self.allows(type_name, name, vid) else hidden
            target.update(str(item) for item in items if item is not None)
        return hidden - shown


# ---------------------------------------------------------------- response checking


@dataclass
class Findings:
    """What :func:`check_response` found: disclosures the policy forbids, and the rest."""

    leaks: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    forbidden: list[str] = field(default_factory=list)
    rows_checked: int = 0
    values_checked: int = 0

    @property
    def problems(self) -> list[str]:
        return [*(f"LEAK: {leak}" for leak in self.leaks), *self.mismatches]


_MISSING: Any = object()
Path_ = tuple[str | int, ...]


class _Operation:
    """One parsed operation, with fragments and variables, over the schema's shapes."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any]) -> None:
        self.schema = schema
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) != 1:
            raise ValueError("check_response handles documents with exactly one operation")
        self.operation = operations[0]
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.variables: dict[str, Any] = {}
        for definition in self.operation.variable_definitions or ():
            if definition.default_value is not None:
                self.variables[definition.variable.name.value] = value_from_ast_untyped(
                    definition.default_value
                )
        self.variables.update(variables)
        self._fields: dict[tuple[str, tuple[int, ...]], dict[str, list[FieldNode]]] = {}
        self._possible: dict[str, frozenset[str]] = {}
        self._kinds: dict[tuple[str, str], str] = {}

    def included(self, directives: Sequence[DirectiveNode] | None) -> bool:
        for directive in directives or ():
            if directive.name.value not in ("skip", "include"):
                continue
            condition = next((a for a in directive.arguments or () if a.name.value == "if"), None)
            value = value_from_ast_untyped(condition.value, self.variables) if condition else None
            if not isinstance(value, bool):
                continue  # unknown: counted as selected (the gate errs the same way)
            if (directive.name.value == "skip") == value:
                return False
        return True

    def args(self, node: FieldNode) -> dict[str, Any]:
        return {a.name.value: value_from_ast_untyped(a.value, self.variables) for a in node.arguments or ()}

    def possible(self, type_name: str) -> frozenset[str]:
        found = self._possible.get(type_name)
        if found is None:
            found = self._possible[type_name] = self._possible_types(type_name)
        return found

    def _possible_types(self, type_name: str) -> frozenset[str]:
        graphql_type = self.schema.get_type(type_name)
        if isinstance(graphql_type, GraphQLObjectType):
            return frozenset({type_name})
        if graphql_type is not None and is_abstract_type(graphql_type):
            return frozenset(t.name for t in self.schema.get_possible_types(graphql_type))
        return frozenset()

    def fields_of(self, type_name: str, sets: Sequence[SelectionSetNode]) -> dict[str, list[FieldNode]]:
        """Response key -> field nodes, as the executor collects them for a concrete type."""
        key = (type_name, tuple(id(s) for s in sets))
        found = self._fields.get(key)
        if found is None:
            found = self._fields[key] = self._collect(type_name, sets)
        return found

    def _collect(self, type_name: str, sets: Sequence[SelectionSetNode]) -> dict[str, list[FieldNode]]:
        out: dict[str, list[FieldNode]] = {}

        def walk(selection_set: SelectionSetNode) -> None:
            for selection in selection_set.selections:
                if not self.included(selection.directives):
                    continue
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    out.setdefault(key, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    condition = selection.type_condition
                    if condition is None or type_name in self.possible(condition.name.value):
                        walk(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    fragment = self.fragments.get(selection.name.value)
                    if fragment is not None and type_name in self.possible(
                        fragment.type_condition.name.value
                    ):
                        walk(fragment.selection_set)

        for selection_set in sets:
            walk(selection_set)
        return out

    def selected(self) -> dict[str, frozenset[str]]:
        """Type -> fields the operation can read on it (statically, over possible types)."""
        found: dict[str, set[str]] = defaultdict(set)
        seen: set[tuple[frozenset[str], int]] = set()

        def walk(types: frozenset[str], selection_set: SelectionSetNode) -> None:
            key = (types, id(selection_set))
            if not types or key in seen:
                return
            seen.add(key)
            for selection in selection_set.selections:
                if not self.included(selection.directives):
                    continue
                if isinstance(selection, FieldNode):
                    name = selection.name.value
                    if name.startswith("__"):
                        continue
                    children: set[str] = set()
                    for type_name in types:
                        definition = self.field(type_name, name)
                        if definition is None:
                            continue
                        found[type_name].add(name)
                        children |= self.possible(get_named_type(definition.type).name)
                    if selection.selection_set is not None:
                        walk(frozenset(children), selection.selection_set)
                elif isinstance(selection, InlineFragmentNode):
                    condition = selection.type_condition
                    narrowed = types & self.possible(condition.name.value) if condition else types
                    walk(narrowed, selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    fragment = self.fragments.get(selection.name.value)
                    if fragment is not None:
                        walk(
                            types & self.possible(fragment.type_condition.name.value), fragment.selection_set
                        )

        walk(frozenset({"Query"}), self.operation.selection_set)
        return {name: frozenset(names) for name, names in found.items()}

    def field(self, type_name: str, name: str) -> Any:
        graphql_type = self.schema.get_type(type_name)
        fields = getattr(graphql_type, "fields", None)
        return fields.get(name) if fields else None

    def kind(self, type_name: str, name: str) -> str:
        """scalar | object | list | connection | sources"""
        key = (type_name, name)
        found = self._kinds.get(key)
        if found is None:
            found = self._kinds[key] = self._kind(type_name, name)
        return found

    def _kind(self, type_name: str, name: str) -> str:
        if name == "sources":
            return "sources"
        definition = self.field(type_name, name)
        graphql_type = definition.type
        named = get_named_type(graphql_type)
        if is_leaf_type(named):
            return "scalar"
        if named.name.endswith("Connection"):
            return "connection"
        if isinstance(graphql_type, GraphQLNonNull):
            graphql_type = graphql_type.of_type
        return "list" if isinstance(graphql_type, GraphQLList) else "object"

    def non_null(self, type_name: str, name: str) -> bool:
        return isinstance(self.field(type_name, name).type, GraphQLNonNull)

    def default_first(self, type_name: str, name: str) -> int:
        argument = self.field(type_name, name).args.get("first")
        default = getattr(argument, "default_value", None)
        return default if isinstance(default, int) else DEFAULT_PAGE_SIZE

    def return_type(self, type_name: str, name: str) -> str:
        return str(get_named_type(self.field(type_name, name).type).name)


def selected_fields(
    schema: GraphQLSchema, query: str, variables: Mapping[str, Any] | None = None
) -> dict[str, frozenset[str]]:
    """Type -> fields an operation selects (for planning expectations in tests)."""
    return _Operation(schema, parse(query), variables or {}).selected()


def _same(expected: Any, actual: Any) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, dt.datetime):
        try:
            return dt.datetime.fromisoformat(str(actual)) == expected
        except ValueError:
            return False
    if isinstance(expected, float) and not isinstance(expected, bool):
        return isinstance(actual, int | float) and math.isclose(expected, float(actual))
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(_same(e, a) for e, a in zip(expected, actual, strict=True))
        )
    return bool(expected == actual)


class _Checker:
    def __init__(self, oracle: Oracle, operation: _Operation, body: Mapping[str, Any]) -> None:
        self.oracle = oracle
        self.op = operation
        self.body = body
        self.findings = Findings()
        self.selected = operation.selected()
        self.expected_errors: dict[Path_, str] = {}
        self._seen: dict[tuple[str, str], bool] = {}

    def visible(self, type_name: str, vid: str) -> bool:
        key = (type_name, vid)
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = self.oracle.visible(type_name, vid, self.selected)
        return found

    # -- reporting --

    def leak(self, message: str) -> None:
        self.findings.leaks.append(message)

    def mismatch(self, message: str) -> None:
        self.findings.mismatches.append(message)

    def expect_error(self, path: Path_, code: str) -> None:
        self.expected_errors[path] = code

    # -- the walk --

    def run(self) -> None:
        errors = list(self.body.get("errors") or [])
        data = self.body.get("data")
        forbidden = self.oracle.forbidden(self.selected)
        self.findings.forbidden = forbidden
        if forbidden:
            if data is not None:
                self.leak(f"operation selecting forbidden {forbidden} answered with data")
            codes = [(e.get("extensions") or {}).get("code") for e in errors]
            if codes != [FORBIDDEN]:
                self.mismatch(f"expected one FORBIDDEN error for {forbidden}, got {errors}")
            elif (errors[0].get("extensions") or {}).get("fields") != forbidden:
                self.mismatch(
                    f"FORBIDDEN lists {errors[0]['extensions'].get('fields')}, expected {forbidden}"
                )
            return
        if data is None:
            self.mismatch(f"no data: {errors}")
            return
        self.object("Query", data, [self.op.operation.selection_set], ())
        actual: dict[Path_, str] = {}
        for error in errors:
            path = tuple(error.get("path") or ())
            code = (error.get("extensions") or {}).get("code")
            actual[path] = str(code)
            if self.expected_errors.get(path) != code:
                self.mismatch(f"unexpected error at {list(path)}: {error}")
        for path, code in self.expected_errors.items():
            if actual.get(path) != code:
                self.mismatch(f"missing {code} error at {list(path)}")

    def object(self, type_name: str, value: Any, sets: Sequence[SelectionSetNode], path: Path_) -> None:
        """A structural object (Query, Viewer)."""
        for key, nodes in self.op.fields_of(type_name, sets).items():
            node = nodes[0]
            name = node.name.value
            sub = [n.selection_set for n in nodes if n.selection_set is not None]
            here = (*path, key)
            v = value.get(key, _MISSING) if isinstance(value, dict) else _MISSING
            if v is _MISSING:
                self.mismatch(f"{list(here)} missing from the response")
                continue
            if name == "__typename":
                continue
            args = self.op.args(node)
            if type_name == "Query":
                self.root_field(name, v, sub, here, args)
            elif type_name == "Viewer":
                self.viewer_field(name, v, sub, here, args)
            else:
                raise NotImplementedError(f"structural type {type_name}")

    def root_field(
        self, name: str, v: Any, sub: Sequence[SelectionSetNode], path: Path_, args: dict[str, Any]
    ) -> None:
        o = self.oracle
        if name == "viewer":
            self.object("Viewer", v, sub, path)
        elif name in ("students", "sections"):
            if args.get("filter") is not None:
                raise NotImplementedError("ground truth does not model root list filters")
            type_name = "Student" if name == "students" else "Section"
            first = self._first(args, self.op.default_first("Query", name))
            self.connection(type_name, list(o.district.rows[type_name]), v, sub, path, first, root=True)
        elif name == "schools":
            schools = [
                vid for vid, r in o.district.rows["Organization"].items() if r.values["type"] == "SCHOOL"
            ]
            self.items("Organization", schools, v, sub, path)
        elif name in ("student", "section", "teacher", "node"):
            parsed = parse_hub_id(args.get("id"))
            wanted = {"student": "Student", "section": "Section", "teacher": "Teacher"}.get(name)
            found = (
                parsed is not None
                and (wanted is None or parsed[0] == wanted)
                and parsed[0] in ENTITY_TYPES
                and o.district.get(parsed[0], parsed[1]) is not None
                and self.visible(parsed[0], parsed[1])
            )
            if not found:
                if v is not None:
                    self.leak(
                        f"{name}(id: {args.get('id')}) answered {v} for a record the caller may not see"
                    )
                if name != "node":
                    self.expect_error(path, NOT_FOUND)
                return
            assert parsed is not None
            if v is None:
                self.mismatch(f"{list(path)}: expected {parsed}, got null")
                return
            self.entity(parsed[0], v, sub, path, parsed[1])
        else:
            raise NotImplementedError(f"ground truth does not model Query.{name}")

    def viewer_field(
        self, name: str, v: Any, sub: Sequence[SelectionSetNode], path: Path_, args: dict[str, Any]
    ) -> None:
        o = self.oracle
        if name == "roles":
            if v != list(o.caller.roles):
                self.mismatch(f"viewer roles {v}, expected {list(o.caller.roles)}")
        elif name == "person":
            me = o.me
            if me is None or not self.visible(me.type, me.vid):
                if v is not None:
                    self.leak(f"viewer.person answered {v} though the caller may not see their own record")
                return
            if v is None:
                self.mismatch(f"{list(path)}: expected the caller's own record")
                return
            self.entity(me.type, v, sub, path, me.vid)
        elif name == "students":
            first = self._first(args, self.op.default_first("Viewer", name))
            self.connection("Student", o.care_students(self.selected), v, sub, path, first, root=True)
        elif name == "sections":
            first = self._first(args, self.op.default_first("Viewer", name))
            self.connection("Section", o.care_sections(), v, sub, path, first, root=True)
        elif name != "subject":
            raise NotImplementedError(f"ground truth does not model Viewer.{name}")

    @staticmethod
    def _first(args: Mapping[str, Any], default: int) -> int:
        if "first" not in args:
            return default
        first = args["first"]
        return DEFAULT_PAGE_SIZE if first is None else int(first)

    def _visible(self, type_name: str, candidates: Sequence[str]) -> list[str]:
        return [
            vid
            for vid in candidates
            if self.oracle.district.get(type_name, vid) is not None and self.visible(type_name, vid)
        ]

    def _concrete(
        self, type_name: str, value: Any, sets: Sequence[SelectionSetNode], expected_vid: str | None
    ) -> tuple[str, str | None]:
        """The record a returned object is: concrete type and vendor id, from its ``id``
        (or ``__typename`` and the expected id when no id was selected)."""
        if not isinstance(value, dict):
            return type_name, expected_vid
        for concrete in sorted(self.op.possible(type_name)):
            for key, nodes in self.op.fields_of(concrete, sets).items():
                if nodes[0].name.value != "id" or key not in value:
                    continue
                parsed = parse_hub_id(value[key])
                if parsed is not None and parsed[0] == concrete:
                    return parsed
        typename = value.get("__typename")
        if isinstance(typename, str) and typename in ENTITY_TYPES:
            return typename, expected_vid
        return type_name, expected_vid

    def entity(
        self,
        type_name: str,
        value: Any,
        sets: Sequence[SelectionSetNode],
        path: Path_,
        expected_vid: str | None,
    ) -> None:
        o = self.oracle
        concrete, vid = self._concrete(type_name, value, sets, expected_vid)
        if vid is None:
            self.mismatch(f"{list(path)}: cannot tell which {type_name} this is (select id)")
            return
        if expected_vid is not None and vid != expected_vid:
            self.mismatch(f"{list(path)}: expected {type_name} {expected_vid}, got {vid}")
        row = o.district.get(concrete, vid)
        if row is None:
            self.mismatch(f"{list(path)}: {concrete} {vid} does not exist in the district")
            return
        self.findings.rows_checked += 1
        relations = o.relations(concrete, vid)
        if not self.visible(concrete, vid):
            self.leak(
                f"{concrete} {vid} at {list(path)} shown; relations {sorted(relations)} open nothing selected"
            )
        for key, nodes in self.op.fields_of(concrete, sets).items():
            here = (*path, key)
            v = value.get(key, _MISSING)
            if v is _MISSING:
                self.mismatch(f"{list(here)} missing from the response")
                continue
            self.entity_field(row, relations, key, nodes, v, here)

    def entity_field(
        self, row: Row, relations: frozenset[str], key: str, nodes: list[FieldNode], v: Any, path: Path_
    ) -> None:
        o, op = self.oracle, self.op
        name = nodes[0].name.value
        sub = [n.selection_set for n in nodes if n.selection_set is not None]
        if name == "__typename":
            if v != row.type:
                self.mismatch(f"{list(path)}: __typename {v}, expected {row.type}")
            return
        kind = op.kind(row.type, name)
        where = f"{row.type}.{name} of {row.vid} at {list(path)}"
        self.findings.values_checked += 1
        if not o.allows(row.type, name, row.vid):
            if self._disclosed(kind, row.type, name, v, sub):
                self.leak(f"{where} disclosed ({str(v)[:80]}) under relations {sorted(relations)}")
            elif op.non_null(row.type, name) and kind in ("scalar", "object"):
                self.mismatch(f"{where}: non-null field withheld (nulls its parent)")
            else:
                self.expect_error(path, FORBIDDEN_FIELD)
            return
        if name == "id":
            if v != row.id:
                self.mismatch(f"{where}: id {v}, expected {row.id}")
        elif kind == "scalar":
            if not _same(row.values.get(name, _MISSING), v):
                self.mismatch(f"{where}: {v!r}, expected {row.values.get(name, '<not modelled>')!r}")
        elif kind == "sources":
            expected = {"source": SOURCE, "vendorId": row.vid}
            for i, item in enumerate(v or []):
                for item_key, item_nodes in op.fields_of("SourceRef", sub).items():
                    item_name = item_nodes[0].name.value
                    if item_name in expected and item.get(item_key) != expected[item_name]:
                        self.mismatch(f"{where}[{i}]: {item}, expected {expected}")
            if len(v or []) != 1:
                self.mismatch(f"{where}: {v}, expected one source")
        elif kind == "object":
            target = o.district.single(row, name)
            if target is None:
                raise NotImplementedError(f"ground truth does not model {row.type}.{name}")
            child_type, child = target
            visible = child is not None and bool(self._visible(child_type, [child]))
            if v is None:
                if visible:
                    self.mismatch(f"{where}: null, expected {child_type} {child}")
                elif op.non_null(row.type, name):
                    self.mismatch(f"{where}: non-null field refers to {child_type} {child}, not visible")
                return
            if not visible:
                self.leak(f"{where}: {child_type} {child} shown; not visible to the caller")
            self.entity(child_type, v, sub, path, child)
        else:
            args = op.args(nodes[0])
            target_many = o.district.many(row, name, args, o.running)
            if target_many is None:
                raise NotImplementedError(f"ground truth does not model {row.type}.{name}")
            child_type, candidates = target_many
            if kind == "list":
                self.items(child_type, candidates, v, sub, path)
            else:
                first = self._first(args, op.default_first(row.type, name))
                self.connection(child_type, candidates, v, sub, path, first, root=False)

    def _disclosed(
        self, kind: str, type_name: str, name: str, v: Any, sub: Sequence[SelectionSetNode]
    ) -> bool:
        if v is None:
            return False
        if kind in ("list", "sources"):
            return bool(v)
        if kind == "connection":
            parts = self._connection_parts(self.op.return_type(type_name, name), v, sub, ())
            return bool(parts.nodes) or parts.total not in (None, 0) or bool(parts.has_next)
        return True

    def items(
        self, type_name: str, candidates: Sequence[str], v: Any, sub: Sequence[SelectionSetNode], path: Path_
    ) -> None:
        expected = self._visible(type_name, candidates)
        if not isinstance(v, list):
            self.mismatch(f"{list(path)}: {v!r}, expected a list")
            return
        seen = self._nodes(type_name, candidates, [(item, (*path, i)) for i, item in enumerate(v)], sub)
        if sorted(seen) != sorted(expected):
            missing = sorted(set(expected) - set(seen))
            self.mismatch(
                f"{list(path)}: {len(seen)} {type_name} rows, expected {len(expected)}"
                f" (missing {missing[:5]})"
            )

    @dataclass
    class _Parts:
        nodes: list[tuple[Any, Path_, list[SelectionSetNode]]] = field(default_factory=list)
        total: Any = None
        has_next: Any = None
        lists: dict[tuple[str, str], tuple[list[tuple[Any, Path_]], list[SelectionSetNode]]] = field(
            default_factory=dict
        )

    def _connection_parts(
        self, connection: str, v: Any, sub: Sequence[SelectionSetNode], path: Path_
    ) -> _Checker._Parts:
        parts = _Checker._Parts()
        op = self.op
        for key, nodes in op.fields_of(connection, sub).items():
            name = nodes[0].name.value
            inner = [n.selection_set for n in nodes if n.selection_set is not None]
            value = v.get(key)
            if name == "totalCount":
                parts.total = value
            elif name == "pageInfo" and isinstance(value, dict):
                for page_key, page_nodes in op.fields_of("PageInfo", inner).items():
                    if page_nodes[0].name.value == "hasNextPage":
                        parts.has_next = value.get(page_key)
            elif name == "edges" and isinstance(value, list):
                edge_type = op.return_type(connection, "edges")
                for edge_key, edge_nodes in op.fields_of(edge_type, inner).items():
                    if edge_nodes[0].name.value != "node":
                        continue
                    node_sets = [n.selection_set for n in edge_nodes if n.selection_set is not None]
                    items = [
                        (edge.get(edge_key) if isinstance(edge, dict) else None, (*path, key, i, edge_key))
                        for i, edge in enumerate(value)
                    ]
                    parts.lists[(key, edge_key)] = (items, node_sets)
                    parts.nodes.extend((node, node_path, node_sets) for node, node_path in items)
        return parts

    def connection(
        self,
        type_name: str,
        candidates: Sequence[str],
        v: Any,
        sub: Sequence[SelectionSetNode],
        path: Path_,
        first: int,
        *,
        root: bool,
    ) -> None:
        expected = self._visible(type_name, candidates)
        if not isinstance(v, dict):
            self.mismatch(f"{list(path)}: {v!r}, expected a connection")
            return
        connection = f"{type_name}Connection"
        parts = self._connection_parts(connection, v, sub, path)
        # The edges may be selected under several keys: check each key's list on its own.
        seen_sets = {
            (*path, *keys): self._nodes(type_name, candidates, items, node_sets)
            for keys, (items, node_sets) in parts.lists.items()
        }
        want = min(first, len(expected))
        for edge_path, seen in seen_sets.items():
            if len(seen) != want:
                self.mismatch(
                    f"{list(edge_path)}: {len(seen)} {type_name} rows, expected {want} of {len(expected)}"
                )
            if first >= len(expected) and sorted(seen) != sorted(expected):
                self.mismatch(f"{list(edge_path)}: rows differ from the expected {type_name} set")
        if parts.total is not None and parts.total != len(expected):
            self.mismatch(f"{list(path)}: totalCount {parts.total}, expected {len(expected)}")
        if parts.has_next is not None:
            if len(expected) > first and parts.has_next is not True:
                self.mismatch(f"{list(path)}: hasNextPage false with {len(expected)} rows > first {first}")
            if not root and len(expected) <= first and parts.has_next is not False:
                self.mismatch(f"{list(path)}: hasNextPage true with {len(expected)} rows <= first {first}")

    def _nodes(
        self,
        type_name: str,
        candidates: Sequence[str],
        items: Sequence[tuple[Any, Path_]],
        sets: Sequence[SelectionSetNode],
    ) -> list[str]:
        """Check each returned record of a list; return their vendor ids."""
        o = self.oracle
        pool = set(candidates)
        seen: list[str] = []
        for value, path in items:
            if value is None:
                self.mismatch(f"{list(path)}: null in a list of {type_name}")
                continue
            concrete, vid = self._concrete(type_name, value, sets, None)
            if vid is None:
                self.mismatch(f"{list(path)}: cannot tell which {type_name} this is (select id)")
                continue
            if vid not in pool:
                if o.district.get(concrete, vid) is not None and not self.visible(concrete, vid):
                    self.leak(f"{concrete} {vid} at {list(path)}: not visible to the caller")
                else:
                    self.mismatch(f"{list(path)}: {concrete} {vid} does not belong here")
            if vid in seen:
                self.mismatch(f"{list(path)}: {concrete} {vid} listed twice")
            seen.append(vid)
            self.entity(concrete, value, sets, path, vid)
        return seen


def check_response(
    oracle: Oracle,
    schema: GraphQLSchema,
    query: str,
    body: Mapping[str, Any],
    variables: Mapping[str, Any] | None = None,
) -> Findings:
    """Compare a hub response with what the oracle's caller should see."""
    checker = _Checker(oracle, _Operation(schema, parse(query), variables or {}), body)
    checker.run()
    return checker.findings
