"""A OneRoster CSV set (a generated district) as OneRoster JSON objects.

The simulator serves these objects; they follow the official 1.2 models
(required fields present, optional ones left out when blank) or the 1.1
models (one ``role`` and ``orgs`` per user, no ``roles``/``primaryOrg``/
preferred names; line items with ``gradingPeriod``; results without a
class). Booleans are the strings the spec names, or JSON booleans when asked
(some providers send those). Homeroom's extension files become the objects
of ``/ims/oneroster/x-homeroom/v1``.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["COLLECTION_FIELDS", "SINGULAR", "SimulatedDistrict", "load_district"]

Json = dict[str, Any]

SINGULAR = {
    "orgs": "org",
    "academicSessions": "academicSession",
    "courses": "course",
    "classes": "class",
    "users": "user",
    "demographics": "demographics",
    "enrollments": "enrollment",
    "categories": "category",
    "lineItems": "lineItem",
    "results": "result",
    "courseGrades": "courseGrade",
    "attendance": "attendance",
}
_BASE = ("sourcedId", "status", "dateLastModified", "metadata")
COLLECTION_FIELDS: dict[str, frozenset[str]] = {
    "orgs": frozenset({*_BASE, "name", "type", "identifier", "parent", "children"}),
    "academicSessions": frozenset(
        {*_BASE, "title", "startDate", "endDate", "type", "parent", "children", "schoolYear"}
    ),
    "courses": frozenset(
        {
            *_BASE,
            "title",
            "schoolYear",
            "courseCode",
            "grades",
            "subjects",
            "org",
            "subjectCodes",
            "resources",
        }
    ),
    "classes": frozenset(
        {
            *_BASE,
            *("title", "classCode", "classType", "location", "grades", "subjects", "course", "school"),
            *("terms", "subjectCodes", "periods", "resources"),
        }
    ),
    "users": frozenset(
        {
            *_BASE,
            *("userMasterIdentifier", "username", "userIds", "enabledUser", "givenName", "familyName"),
            *("middleName", "preferredFirstName", "preferredMiddleName", "preferredLastName", "pronouns"),
            *("roles", "role", "orgs", "userProfiles", "primaryOrg", "identifier", "email", "sms"),
            *("phone", "agents", "grades", "password", "resources"),
        }
    ),
    "demographics": frozenset(
        {
            *_BASE,
            *("birthDate", "sex", "americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican"),
            *("nativeHawaiianOrOtherPacificIslander", "white", "demographicRaceTwoOrMoreRaces"),
            *("hispanicOrLatinoEthnicity", "countryOfBirthCode", "stateOfBirthAbbreviation"),
            *("cityOfBirth", "publicSchoolResidenceStatus"),
        }
    ),
    "enrollments": frozenset({*_BASE, "user", "class", "school", "role", "primary", "beginDate", "endDate"}),
    "categories": frozenset({*_BASE, "title", "weight"}),
    "lineItems": frozenset(
        {
            *_BASE,
            *("title", "description", "assignDate", "dueDate", "class", "school", "category"),
            *("gradingPeriod", "academicSession", "scoreScale", "resultValueMin", "resultValueMax"),
        }
    ),
    "results": frozenset(
        {
            *_BASE,
            *("lineItem", "student", "class", "scoreScale", "scoreStatus", "score", "textScore"),
            *("scoreDate", "comment", "inProgress", "incomplete", "late", "missing"),
        }
    ),
    "courseGrades": frozenset({*_BASE, "class", "student", "academicSession", "letterGrade", "percent"}),
    "attendance": frozenset({*_BASE, "user", "class", "school", "date", "attendanceStatus"}),
}
"""Fields each collection's objects may have: what ``fields=`` and ``filter=`` may name."""

# OneRoster 1.1 users have one role from a shorter list.
_ROLE_1_1 = {
    "teacher": "teacher",
    "aide": "aide",
    "proctor": "proctor",
    "student": "student",
    "guardian": "guardian",
    "parent": "parent",
    "relative": "relative",
}
_RACES = (
    "americanIndianOrAlaskaNative",
    "asian",
    "blackOrAfricanAmerican",
    "nativeHawaiianOrOtherPacificIslander",
    "white",
    "demographicRaceTwoOrMoreRaces",
    "hispanicOrLatinoEthnicity",
)


@dataclass
class SimulatedDistrict:
    """Objects by collection name, in file order, and the people by role."""

    version: str
    collections: dict[str, list[Json]] = field(default_factory=dict)
    students: list[Json] = field(default_factory=list)
    teachers: list[Json] = field(default_factory=list)


def _rows(path: Path) -> Iterator[dict[str, str]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8", newline="") as stream:
        for row in csv.DictReader(stream):
            yield {key: (value or "").strip() for key, value in row.items() if key}


def _multi(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(",") if part.strip()]


class _Builder:
    def __init__(self, version: str, href_base: str, json_booleans: bool) -> None:
        self.version = version
        self.href_base = href_base.rstrip("/")
        self.json_booleans = json_booleans

    def ref(self, kind: str, sourced_id: str, collection: str) -> Json:
        return {"href": f"{self.href_base}/{collection}/{sourced_id}", "sourcedId": sourced_id, "type": kind}

    def flag(self, cell: str) -> Any:
        value = cell.lower() in ("true", "t", "1", "yes", "y")
        if self.json_booleans:
            return value
        return "true" if value else "false"

    def base(self, row: dict[str, str]) -> Json:
        return {
            "sourcedId": row["sourcedId"],
            "status": row.get("status") or "active",
            "dateLastModified": row.get("dateLastModified") or "2000-01-01T00:00:00Z",
        }


def _put(obj: Json, key: str, value: Any) -> None:
    """Set an optional field only when it has a value (the models forbid nulls)."""
    if value not in (None, "", []):
        obj[key] = value


def _number(cell: str) -> float | int | None:
    if not cell:
        return None
    try:
        value = float(cell)
    except ValueError:
        return None
    return int(value) if value.is_integer() else value


def load_district(
    data_dir: Path,
    version: str = "1.2",
    *,
    href_base: str = "https://sis.example",
    json_booleans: bool = False,
) -> SimulatedDistrict:
    """Read the CSV set in ``data_dir`` into ``version``'s JSON objects."""
    b = _Builder(version, href_base, json_booleans)
    district = SimulatedDistrict(version)
    c = district.collections

    c["orgs"] = []
    for row in _rows(data_dir / "orgs.csv"):
        obj = b.base(row) | {
            "name": row["name"],
            "type": row["type"],
            "identifier": row.get("identifier", ""),
        }
        if row.get("parentSourcedId"):
            obj["parent"] = b.ref("org", row["parentSourcedId"], "orgs")
        c["orgs"].append(obj)

    c["academicSessions"] = []
    for row in _rows(data_dir / "academicSessions.csv"):
        obj = b.base(row) | {
            "title": row["title"],
            "startDate": row["startDate"],
            "endDate": row["endDate"],
            "type": row["type"],
            "schoolYear": row.get("schoolYear", ""),
        }
        if row.get("parentSourcedId"):
            obj["parent"] = b.ref("academicSession", row["parentSourcedId"], "academicSessions")
        c["academicSessions"].append(obj)

    c["courses"] = []
    for row in _rows(data_dir / "courses.csv"):
        obj = b.base(row) | {"title": row["title"], "courseCode": row.get("courseCode", "")}
        if row.get("schoolYearSourcedId"):
            obj["schoolYear"] = b.ref("academicSession", row["schoolYearSourcedId"], "academicSessions")
        _put(obj, "grades", _multi(row.get("grades", "")))
        _put(obj, "subjects", _multi(row.get("subjects", "")))
        if row.get("orgSourcedId"):
            obj["org"] = b.ref("org", row["orgSourcedId"], "orgs")
        _put(obj, "subjectCodes", _multi(row.get("subjectCodes", "")))
        c["courses"].append(obj)

    c["classes"] = []
    for row in _rows(data_dir / "classes.csv"):
        obj = b.base(row) | {"title": row["title"]}
        _put(obj, "classCode", row.get("classCode"))
        _put(obj, "classType", row.get("classType"))
        _put(obj, "location", row.get("location"))
        _put(obj, "grades", _multi(row.get("grades", "")))
        _put(obj, "subjects", _multi(row.get("subjects", "")))
        obj["course"] = b.ref("course", row["courseSourcedId"], "courses")
        obj["school"] = b.ref("org", row["schoolSourcedId"], "orgs")
        obj["terms"] = [
            b.ref("academicSession", term, "academicSessions") for term in _multi(row["termSourcedIds"])
        ]
        _put(obj, "subjectCodes", _multi(row.get("subjectCodes", "")))
        _put(obj, "periods", _multi(row.get("periods", "")))
        c["classes"].append(obj)

    _load_people(data_dir, b, district)
    _load_gradebook(data_dir, b, district)
    return district


def _load_people(data_dir: Path, b: _Builder, district: SimulatedDistrict) -> None:
    c = district.collections
    v12 = b.version == "1.2"
    roles_of: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in _rows(data_dir / "roles.csv"):
        roles_of[row["userSourcedId"]].append(row)
    c["users"] = []
    for row in _rows(data_dir / "users.csv"):
        roles = roles_of.get(row["sourcedId"]) or [
            {
                "role": row.get("role", ""),
                "roleType": "primary" if i == 0 else "secondary",
                "orgSourcedId": org,
            }
            for i, org in enumerate(_multi(row.get("orgSourcedIds", "")))
        ]
        if not roles:
            continue
        obj = b.base(row)
        if v12:
            _put(obj, "userMasterIdentifier", row.get("userMasterIdentifier"))
        _put(obj, "username", row.get("username"))
        ids = []
        for token in _multi(row.get("userIds", "")):
            kind, _, identifier = token.strip("{}").partition(":")
            if kind and identifier:
                ids.append({"type": kind, "identifier": identifier})
        _put(obj, "userIds", ids)
        obj["enabledUser"] = b.flag(row.get("enabledUser") or "true")
        obj["givenName"] = row.get("givenName", "")
        obj["familyName"] = row.get("familyName", "")
        _put(obj, "middleName", row.get("middleName"))
        primary = next((r for r in roles if r.get("roleType") == "primary"), roles[0])
        if v12:
            _put(obj, "preferredFirstName", row.get("preferredGivenName"))
            _put(obj, "preferredMiddleName", row.get("preferredMiddleName"))
            _put(obj, "preferredLastName", row.get("preferredFamilyName"))
            _put(obj, "pronouns", row.get("pronouns"))
            obj["roles"] = [_role(b, role) for role in roles]
            if row.get("primaryOrgSourcedId"):
                obj["primaryOrg"] = b.ref("org", row["primaryOrgSourcedId"], "orgs")
        else:
            obj["role"] = _ROLE_1_1.get(primary["role"], "administrator")
            orgs = [primary["orgSourcedId"], *(r["orgSourcedId"] for r in roles if r is not primary)]
            obj["orgs"] = [b.ref("org", org, "orgs") for org in dict.fromkeys(orgs)]
        _put(obj, "identifier", row.get("identifier"))
        _put(obj, "email", row.get("email"))
        _put(obj, "sms", row.get("sms"))
        _put(obj, "phone", row.get("phone"))
        _put(
            obj, "agents", [b.ref("user", agent, "users") for agent in _multi(row.get("agentSourcedIds", ""))]
        )
        _put(obj, "grades", _multi(row.get("grades", "")))
        c["users"].append(obj)
        role_names = {r["role"] for r in roles}
        if "student" in role_names:
            district.students.append(obj)
        if "teacher" in role_names:
            district.teachers.append(obj)

    c["demographics"] = []
    for row in _rows(data_dir / "demographics.csv"):
        obj = b.base(row)
        _put(obj, "birthDate", row.get("birthDate"))
        _put(obj, "sex", row.get("sex"))
        for name in _RACES:
            if row.get(name):
                obj[name] = b.flag(row[name])
        for name in (
            "countryOfBirthCode",
            "stateOfBirthAbbreviation",
            "cityOfBirth",
            "publicSchoolResidenceStatus",
        ):
            _put(obj, name, row.get(name))
        metadata: Json = {}
        _put(metadata, "programs", _multi(row.get("metadata.programs", "")))
        if row.get("metadata.directoryOptOut"):
            metadata["directoryOptOut"] = b.flag(row["metadata.directoryOptOut"])
        _put(obj, "metadata", metadata)
        c["demographics"].append(obj)

    c["enrollments"] = []
    for row in _rows(data_dir / "enrollments.csv"):
        obj = b.base(row) | {
            "user": b.ref("user", row["userSourcedId"], "users"),
            "class": b.ref("class", row["classSourcedId"], "classes"),
            "school": b.ref("org", row["schoolSourcedId"], "orgs"),
            "role": row["role"],
        }
        if row.get("primary"):
            obj["primary"] = b.flag(row["primary"])
        _put(obj, "beginDate", row.get("beginDate"))
        _put(obj, "endDate", row.get("endDate"))
        c["enrollments"].append(obj)


def _role(b: _Builder, row: dict[str, str]) -> Json:
    role: Json = {"roleType": row.get("roleType") or "primary", "role": row["role"]}
    role["org"] = b.ref("org", row["orgSourcedId"], "orgs")
    _put(role, "beginDate", row.get("beginDate"))
    _put(role, "endDate", row.get("endDate"))
    return role


def _load_gradebook(data_dir: Path, b: _Builder, district: SimulatedDistrict) -> None:
    c = district.collections
    v12 = b.version == "1.2"
    c["categories"] = []
    for row in _rows(data_dir / "categories.csv"):
        obj = b.base(row) | {"title": row["title"]}
        if v12 and _number(row.get("weight", "")) is not None:
            obj["weight"] = _number(row["weight"])
        c["categories"].append(obj)

    school_of_class = {obj["sourcedId"]: obj["school"]["sourcedId"] for obj in c["classes"]}
    c["lineItems"] = []
    for row in _rows(data_dir / "lineItems.csv"):
        obj = b.base(row) | {
            "title": row["title"],
            "assignDate": row["assignDate"],
            "dueDate": row["dueDate"],
            "class": b.ref("class", row["classSourcedId"], "classes"),
        }
        _put(obj, "description", row.get("description"))
        school = row.get("schoolSourcedId") or school_of_class.get(row["classSourcedId"], "")
        if v12 and school:
            obj["school"] = b.ref("org", school, "orgs")
        obj["category"] = b.ref("category", row["categorySourcedId"], "categories")
        period = row.get("gradingPeriodSourcedId") or row.get("academicSessionSourcedId")
        if period:
            key = "academicSession" if v12 else "gradingPeriod"
            obj[key] = b.ref("academicSession", period, "academicSessions")
        for name in ("resultValueMin", "resultValueMax"):
            if _number(row.get(name, "")) is not None:
                obj[name] = _number(row[name])
        c["lineItems"].append(obj)

    c["results"] = []
    for row in _rows(data_dir / "results.csv"):
        obj = b.base(row) | {
            "lineItem": b.ref("lineItem", row["lineItemSourcedId"], "lineItems"),
            "student": b.ref("user", row["studentSourcedId"], "users"),
        }
        if v12 and row.get("classSourcedId"):
            obj["class"] = b.ref("class", row["classSourcedId"], "classes")
        obj["scoreStatus"] = row["scoreStatus"]
        if _number(row.get("score", "")) is not None:
            obj["score"] = _number(row["score"])
        obj["scoreDate"] = row["scoreDate"]
        _put(obj, "comment", row.get("comment"))
        if v12:
            _put(obj, "textScore", row.get("textScore"))
            for name in ("inProgress", "incomplete", "late", "missing"):
                if row.get(name):
                    obj[name] = b.flag(row[name])
        c["results"].append(obj)

    c["courseGrades"] = []
    for row in _rows(data_dir / "courseGrades.csv"):
        obj = b.base(row) | {
            "class": b.ref("class", row["classSourcedId"], "classes"),
            "student": b.ref("user", row["studentSourcedId"], "users"),
        }
        if row.get("academicSessionSourcedId"):
            obj["academicSession"] = b.ref(
                "academicSession", row["academicSessionSourcedId"], "academicSessions"
            )
        _put(obj, "letterGrade", row.get("letterGrade"))
        if _number(row.get("percent", "")) is not None:
            obj["percent"] = _number(row["percent"])
        c["courseGrades"].append(obj)

    c["attendance"] = []
    for row in _rows(data_dir / "attendance.csv"):
        obj = b.base(row) | {"user": b.ref("user", row["userSourcedId"], "users")}
        if row.get("classSourcedId"):
            obj["class"] = b.ref("class", row["classSourcedId"], "classes")
        if row.get("schoolSourcedId"):
            obj["school"] = b.ref("org", row["schoolSourcedId"], "orgs")
        obj["date"] = row["date"]
        obj["attendanceStatus"] = row["attendanceStatus"]
        c["attendance"].append(obj)
