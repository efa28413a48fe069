"""A OneRoster CSV set (a generated district) as Clever v3 objects.

What the simulator serves, built once per folder and never changed after:

- Ids are Clever-style 24-hex strings derived from the OneRoster sourcedIds
  (so they are stable and distinct from them); ``sis_id`` carries the
  sourcedId, ``state_id`` the OneRoster ``identifier``.
- Users hold the Clever roles of their OneRoster roles: ``student``,
  ``teacher``, ``district_admin`` (districtAdministrator), ``staff`` (every
  other staff role, named in ``staff.roles``) and ``contact`` (parents,
  guardians, relatives, linked through ``student_relationships``).
- A student's ``dob`` is ``M/D/YYYY``; flags are ``"Y"``/``"N"``; ``race`` is
  one value (``Two or More Races`` when several are flagged). Program flags
  beyond ``ell_status`` (``iep_status``, ``section_504_status``,
  ``frl_status``) and ``preferred_name`` exist only in v3.1.
- A section lists the teachers and the students enrolled on ``today``
  (Clever rosters are the current ones; a student who left is gone).

Every list is in ascending id order, as Clever's are.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.sdk import parse_grade

__all__ = ["CleverDistrict", "clever_id", "load_district"]

Json = dict[str, Any]

_GRADES = {
    "IT": "InfantToddler",
    "PR": "Preschool",
    "PK": "PreKindergarten",
    "TK": "TransitionalKindergarten",
    "KG": "Kindergarten",
    "PS": "PostGraduate",
    "UG": "Ungraded",
    "OTHER": "Other",
}
_SUBJECTS = {
    "mathematics": "math",
    "englishlanguagearts": "english/language arts",
    "reading": "english/language arts",
    "science": "science",
    "socialstudies": "social studies",
    "worldlanguages": "language",
    "homeroom": "homeroom/advisory",
    "computerscience": "technology and engineering",
    "physicaleducation": "PE and health",
    "health": "PE and health",
    "art": "arts and music",
    "music": "arts and music",
}
_RACE_FLAGS = {
    "americanIndianOrAlaskaNative": "American Indian",
    "asian": "Asian",
    "blackOrAfricanAmerican": "Black or African American",
    "nativeHawaiianOrOtherPacificIslander": "Hawaiian or Other Pacific Islander",
    "white": "Caucasian",
}
_GENDERS = {"male": "M", "female": "F", "other": "X"}
# OneRoster guardian roles -> Clever (relationship, type).
_RELATIONSHIPS = {
    "parent": ("Parent", "Parent/Guardian"),
    "guardian": ("Other", "Parent/Guardian"),
    "relative": ("Grandparent", "Family"),
}
_STAFF = frozenset({"administrator", "principal", "counselor", "siteAdministrator", "proctor"})
_DISTRICT_ADMINS = frozenset({"districtAdministrator", "systemAdministrator"})
_TEACHERS = frozenset({"teacher", "aide"})
_CONTACTS = frozenset(_RELATIONSHIPS)


def clever_id(kind: str, sourced_id: str) -> str:
    """A stable 24-hex id for the OneRoster record ``sourced_id`` of ``kind``."""
    return hashlib.sha256(f"{kind}:{sourced_id}".encode()).hexdigest()[:24]


@dataclass
class CleverDistrict:
    """The served objects by collection (sorted by id), with the links the
    sub-resources need (``/schools/{id}/users``, ``/users/{id}/mycontacts``, ...)."""

    version: str
    today: dt.date
    collections: dict[str, list[Json]] = field(default_factory=dict)
    by_id: dict[str, dict[str, Json]] = field(default_factory=dict)
    contacts_of: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    students_of: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    sections_of: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def find(self, collection: str, object_id: str) -> Json | None:
        """One object of ``collection`` by id."""
        return self.by_id.get(collection, {}).get(object_id)

    def objects(self, collection: str, ids: list[str]) -> list[Json]:
        """The objects of ``collection`` with these ids, in id order."""
        found = self.by_id.get(collection, {})
        return [found[i] for i in sorted(set(ids)) if i in found]


def _rows(path: Path) -> Iterator[dict[str, str]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8", newline="") as stream:
        for row in csv.DictReader(stream):
            yield {key: (value or "").strip() for key, value in row.items() if key}


def _multi(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(",") if part.strip()]


def _stamp(cell: str) -> str:
    """A OneRoster ``dateLastModified`` in Clever's timestamp form (milliseconds, ``Z``)."""
    text = cell or "2000-01-01T00:00:00Z"
    return text.replace("Z", ".000Z") if "." not in text else text


def _grade(cell: str) -> str:
    """A OneRoster grade cell as Clever writes it: ``09`` -> ``9``, ``KG`` -> ``Kindergarten``.

    The cell is first read as the ``oneroster-csv`` adapter reads it, so
    ``K``, ``0`` and ``PreK`` reach Clever as the grades they name.
    """
    code = parse_grade(cell) if cell else ""
    if code.isdigit():
        return str(int(code))
    return _GRADES.get(code, "")


def _subject(cell: str) -> str:
    first = _multi(cell)[0] if _multi(cell) else ""
    folded = "".join(ch for ch in first.lower() if ch.isalnum())
    return _SUBJECTS.get(folded, "other" if first else "")


def _put(obj: Json, key: str, value: Any) -> None:
    """Set an optional field only when it has a value."""
    if value not in (None, "", [], {}):
        obj[key] = value


def _today(data_dir: Path) -> dt.date:
    for row in _rows(data_dir / "manifest.csv"):
        if row.get("propertyName") == "homeroom.today":
            try:
                return dt.date.fromisoformat(row.get("value", ""))
            except ValueError:
                break
    return dt.date.today()


def load_district(data_dir: Path, version: str = "v3.0", today: dt.date | None = None) -> CleverDistrict:
    """The CSV set in ``data_dir`` as ``version``'s objects, rostered on ``today``
    (default: the generated district's own today, else the current date)."""
    district = CleverDistrict(version, today or _today(data_dir))
    builder = _Builder(data_dir, district)
    builder.organisations()
    builder.catalogue()
    builder.people()
    builder.sections()
    for name, objects in district.collections.items():
        objects.sort(key=lambda obj: str(obj["id"]))
        district.by_id[name] = {str(obj["id"]): obj for obj in objects}
    return district


class _Builder:
    def __init__(self, data_dir: Path, district: CleverDistrict) -> None:
        self.dir = data_dir
        self.d = district
        self.v31 = district.version != "v3.0"
        self.district_id = ""
        self.school_ids: set[str] = set()
        self.users: dict[str, Json] = {}
        self.roles: dict[str, list[dict[str, str]]] = defaultdict(list)
        for row in _rows(data_dir / "roles.csv"):
            self.roles[row["userSourcedId"]].append(row)

    def organisations(self) -> None:
        c = self.d.collections
        c["districts"], c["schools"] = [], []
        for row in _rows(self.dir / "orgs.csv"):
            stamp = _stamp(row.get("dateLastModified", ""))
            if row.get("type") == "district" and not self.district_id:
                self.district_id = clever_id("district", row["sourcedId"])
                obj: Json = {
                    "id": self.district_id,
                    "name": row["name"],
                    "state": "running",
                    "sis_type": "oneroster",
                    "error": "",
                    "last_sync": stamp,
                    "launch_date": self.d.today.replace(month=1, day=1).isoformat(),
                    "login_methods": ["Clever Passwords"],
                    "portal_url": f"https://clever.com/in/{self.district_id}",
                }
                _put(obj, "nces_id", row.get("identifier"))
                c["districts"].append(obj)
        for row in _rows(self.dir / "orgs.csv"):
            if row.get("type") != "school":
                continue
            identifier = row.get("identifier", "")
            obj = {
                "id": clever_id("school", row["sourcedId"]),
                "district": self.district_id,
                "name": row["name"],
                "school_number": identifier[-5:] or row["sourcedId"],
                "sis_id": row["sourcedId"],
                "created": _stamp(row.get("dateLastModified", "")),
                "last_modified": _stamp(row.get("dateLastModified", "")),
            }
            _put(obj, "state_id", identifier)
            _put(obj, "nces_id", identifier)
            c["schools"].append(obj)
            self.school_ids.add(obj["id"])

    def catalogue(self) -> None:
        c = self.d.collections
        c["terms"] = [
            {
                "id": clever_id("term", row["sourcedId"]),
                "district": self.district_id,
                "name": row["title"],
                "start_date": row["startDate"],
                "end_date": row["endDate"],
            }
            for row in _rows(self.dir / "academicSessions.csv")
        ]
        c["courses"] = []
        for row in _rows(self.dir / "courses.csv"):
            obj: Json = {"id": clever_id("course", row["sourcedId"]), "district": self.district_id}
            _put(obj, "name", row.get("title"))
            _put(obj, "number", row.get("courseCode"))
            c["courses"].append(obj)

    # -- people ---------------------------------------------------------------

    def people(self) -> None:
        demographics = {row["sourcedId"]: row for row in _rows(self.dir / "demographics.csv")}
        self.d.collections["users"] = []
        for row in _rows(self.dir / "users.csv"):
            roles = self.roles.get(row["sourcedId"], [])
            kinds = {role["role"] for role in roles}
            user_id = clever_id("user", row["sourcedId"])
            stamp = _stamp(row.get("dateLastModified", ""))
            clever_roles: Json = {}
            if "student" in kinds:
                clever_roles["student"] = self._student(row, roles, demographics.get(row["sourcedId"], {}))
            if kinds & _TEACHERS:
                clever_roles["teacher"] = self._teacher(row, roles, _TEACHERS)
            if kinds & _DISTRICT_ADMINS:
                clever_roles["district_admin"] = {"title": "District Administrator"}
            if kinds & _STAFF:
                clever_roles["staff"] = self._staff(row, roles)
            if kinds & _CONTACTS:
                clever_roles["contact"] = self._contact(row)
            if not clever_roles:
                continue
            name: Json = {}
            for key, column in (("first", "givenName"), ("middle", "middleName"), ("last", "familyName")):
                _put(name, key, row.get(column))
            user: Json = {
                "id": user_id,
                "district": self.district_id,
                "name": name,
                "created": stamp,
                "last_modified": stamp,
                "roles": clever_roles,
            }
            _put(user, "email", row.get("email"))
            self.d.collections["users"].append(user)
            self.users[row["sourcedId"]] = user
        self._link_contacts()

    def _schools(self, roles: list[dict[str, str]], kinds: frozenset[str], primary: str) -> list[str]:
        orgs = [primary] + [r["orgSourcedId"] for r in roles if r["role"] in kinds]
        return [clever_id("school", org) for org in dict.fromkeys(orgs) if org and self._is_school(org)]

    def _is_school(self, sourced_id: str) -> bool:
        return clever_id("school", sourced_id) in self.school_ids

    @staticmethod
    def _sis_number(row: dict[str, str]) -> str:
        for token in _multi(row.get("userIds", "")):
            kind, _, value = token.strip("{}").partition(":")
            if kind.upper() == "SIS" and value:
                return value
        return ""

    def _student(self, row: dict[str, str], roles: list[dict[str, str]], demo: dict[str, str]) -> Json:
        stamp = _stamp(row.get("dateLastModified", ""))
        schools = self._schools(roles, frozenset({"student"}), row.get("primaryOrgSourcedId", ""))
        grades = _multi(row.get("grades", ""))
        obj: Json = {
            "created": stamp,
            "last_modified": stamp,
            "sis_id": row["sourcedId"],
            "school": schools[0] if schools else "",
            "schools": schools,
            "enrollments": [
                {
                    "school": clever_id("school", r["orgSourcedId"]),
                    "start_date": r["beginDate"],
                    "end_date": r["endDate"],
                }
                for r in roles
                if r["role"] == "student" and r.get("beginDate") and r.get("endDate")
            ],
        }
        _put(obj, "credentials", {"district_username": row["username"]} if row.get("username") else None)
        _put(obj, "state_id", row.get("identifier"))
        _put(obj, "student_number", self._sis_number(row))
        _put(obj, "grade", _grade(grades[0]) if grades else "")
        born = demo.get("birthDate", "")
        if born:
            day = dt.date.fromisoformat(born)
            obj["dob"] = f"{day.month}/{day.day}/{day.year}"
        _put(obj, "gender", _GENDERS.get(demo.get("sex", "")))
        flagged = [race for flag, race in _RACE_FLAGS.items() if _true(demo.get(flag))]
        several = len(flagged) > 1 or _true(demo.get("demographicRaceTwoOrMoreRaces"))
        _put(obj, "race", "Two or More Races" if several else (flagged[0] if flagged else ""))
        if demo.get("hispanicOrLatinoEthnicity"):
            obj["hispanic_ethnicity"] = _yes_no(_true(demo["hispanicOrLatinoEthnicity"]))
        programs = {p.upper() for p in _multi(demo.get("metadata.programs", ""))}
        if demo:
            obj["ell_status"] = _yes_no("ELL" in programs)
        if demo and self.v31:
            obj["iep_status"] = _yes_no("IEP" in programs)
            obj["section_504_status"] = _yes_no("504" in programs)
            obj["frl_status"] = "Free" if "FRL" in programs else "Paid"
        if self.v31 and row.get("preferredGivenName"):
            obj["preferred_name"] = {"first": row["preferredGivenName"]}
        return obj

    def _teacher(self, row: dict[str, str], roles: list[dict[str, str]], kinds: frozenset[str]) -> Json:
        stamp = _stamp(row.get("dateLastModified", ""))
        schools = self._schools(roles, kinds, row.get("primaryOrgSourcedId", ""))
        obj: Json = {
            "created": stamp,
            "last_modified": stamp,
            "district": self.district_id,
            "sis_id": row["sourcedId"],
            "school": schools[0] if schools else "",
            "schools": schools,
            "title": "Teacher",
        }
        _put(obj, "credentials", {"district_username": row["username"]} if row.get("username") else None)
        _put(obj, "state_id", row.get("identifier"))
        _put(obj, "teacher_number", self._sis_number(row))
        return obj

    def _staff(self, row: dict[str, str], roles: list[dict[str, str]]) -> Json:
        names = [r["role"] for r in roles if r["role"] in _STAFF]
        obj: Json = {
            "roles": list(dict.fromkeys(names)),
            "schools": self._schools(roles, _STAFF, row.get("primaryOrgSourcedId", "")),
            "title": names[0][:1].upper() + names[0][1:] if names else "",
            "staff_id": row["sourcedId"],
        }
        _put(obj, "credentials", {"district_username": row["username"]} if row.get("username") else None)
        return obj

    def _contact(self, row: dict[str, str]) -> Json:
        obj: Json = {"phone_type": "Cell", "sis_id": row["sourcedId"], "student_relationships": []}
        _put(obj, "phone", row.get("phone"))
        return obj

    def _link_contacts(self) -> None:
        """Fill ``student_relationships`` (from the contacts' agents) and the link indexes."""
        for row in _rows(self.dir / "users.csv"):
            contact = self.users.get(row["sourcedId"])
            role = contact["roles"].get("contact") if contact else None
            if contact is None or role is None:
                continue
            kinds = [r["role"] for r in self.roles.get(row["sourcedId"], []) if r["role"] in _CONTACTS]
            relationship, kind = _RELATIONSHIPS[kinds[0]]
            for student_sourced_id in _multi(row.get("agentSourcedIds", "")):
                student = self.users.get(student_sourced_id)
                if student is None or "student" not in student["roles"]:
                    continue
                role["student_relationships"].append(
                    {"student": student["id"], "relationship": relationship, "type": kind}
                )
                self.d.contacts_of[student["id"]].append(contact["id"])
                self.d.students_of[contact["id"]].append(student["id"])

    # -- sections -------------------------------------------------------------

    def sections(self) -> None:
        members: dict[str, list[tuple[str, bool, str]]] = defaultdict(list)
        for row in _rows(self.dir / "enrollments.csv"):
            end = row.get("endDate")
            if end and dt.date.fromisoformat(end) < self.d.today:
                continue  # Clever rosters are today's: who left is gone
            user = self.users.get(row["userSourcedId"])
            if user is not None:
                members[row["classSourcedId"]].append((row["role"], _true(row.get("primary")), user["id"]))
        self.d.collections["sections"] = []
        for row in _rows(self.dir / "classes.csv"):
            section_id = clever_id("section", row["sourcedId"])
            roster = members.get(row["sourcedId"], [])
            teachers = [uid for role, _, uid in roster if role in _TEACHERS]
            lead = next((uid for role, primary, uid in roster if role in _TEACHERS and primary), None)
            students = [uid for role, _, uid in roster if role == "student"]
            stamp = _stamp(row.get("dateLastModified", ""))
            obj: Json = {
                "id": section_id,
                "district": self.district_id,
                "school": clever_id("school", row["schoolSourcedId"]),
                "name": row["title"],
                "sis_id": row["sourcedId"],
                "teachers": list(dict.fromkeys(teachers)),
                "students": list(dict.fromkeys(students)),
                "created": stamp,
                "last_modified": stamp,
            }
            _put(
                obj,
                "course",
                clever_id("course", row["courseSourcedId"]) if row.get("courseSourcedId") else "",
            )
            terms = _multi(row.get("termSourcedIds", ""))
            _put(obj, "term_id", clever_id("term", terms[0]) if terms else "")
            _put(obj, "period", (_multi(row.get("periods", "")) or [""])[0])
            _put(obj, "section_number", row.get("classCode"))
            grades = _multi(row.get("grades", ""))
            _put(obj, "grade", _grade(grades[0]) if grades else "")
            _put(obj, "subject", _subject(row.get("subjects", "")))
            _put(obj, "teacher", lead or (teachers[0] if teachers else ""))
            self.d.collections["sections"].append(obj)
            for user_id in dict.fromkeys(teachers + students):
                self.d.sections_of[user_id].append(section_id)


def _true(cell: str | None) -> bool:
    return (cell or "").strip().lower() in ("true", "t", "1", "yes", "y")


def _yes_no(flag: bool) -> str:
    return "Y" if flag else "N"
