"""A generated district (OneRoster CSV) rewritten as Ed-Fi resources, for the simulator.

The CSV set is read through the ``oneroster-csv`` adapter's public API, so
the simulator serves exactly what that adapter serves, reshaped the way an
Ed-Fi ODS would hold it:

- orgs -> ``localEducationAgencies`` / ``schools`` (ids from ``identifier``);
- sessions -> per school: ``sessions`` (year, semesters, terms) and
  ``gradingPeriods``; courses -> ``courses``; a class -> a ``courseOffering``
  (its course in its first term) and a ``section``;
- users -> ``students`` (+ ``studentEducationOrganizationAssociations`` for
  demographics, e-mail, login, FRL/504/ELL and the directory opt-out,
  ``studentSchoolAssociations``, ``studentSpecialEducationProgramAssociations``
  for IEP), ``staffs`` (+ ``staffEducationOrganizationAssignmentAssociations``),
  ``contacts`` or ``parents`` (+ their student associations);
- enrollments -> ``studentSectionAssociations`` / ``staffSectionAssociations``;
- line items and results -> ``gradebookEntries`` / ``studentGradebookEntries``;
- course grades -> ``grades``; attendance -> ``studentSchoolAttendanceEvents``
  or ``studentSectionAttendanceEvents``.

Unique ids are the people's ``identifier`` when set and unique, else their
sourcedId. What Ed-Fi cannot hold is left out (a class's second term, course
grades for a term that is not a grading period).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from adapters.edfi._identity import key_values
from hub.sdk import (
    RECORD_TYPES,
    AcademicSession,
    Assignment,
    AttendanceEvent,
    Course,
    CourseGrade,
    Entity,
    FetchRequest,
    Guardian,
    Organization,
    Record,
    Score,
    Section,
    Student,
    Teacher,
    data_fields,
)
from hub.sdk import Enrollment as EnrollmentRecord

__all__ = ["NAMESPACE", "SimulatedDistrict", "load_district", "served"]

Json = dict[str, Any]
ED_FI = "uri://ed-fi.org"
NAMESPACE = "uri://homeroom.example/gradebook"
_STAMP = "2000-01-01T00:00:00Z"

_SEX = {"female": "Female", "male": "Male", "unspecified": "Not Selected", "other": "Non-binary"}
_RACE = {
    "americanIndianOrAlaskaNative": "American Indian - Alaska Native",
    "asian": "Asian",
    "blackOrAfricanAmerican": "Black - African American",
    "nativeHawaiianOrOtherPacificIslander": "Native Hawaiian - Pacific Islander",
    "white": "White",
}
_ORDINAL_WORDS = (
    *("First", "Second", "Third", "Fourth", "Fifth", "Sixth"),
    *("Seventh", "Eighth", "Ninth", "Tenth", "Eleventh", "Twelfth"),
)
_GRADE = {
    "IT": "Infant/toddler",
    "PR": "Early Education",
    "PK": "Preschool/Prekindergarten",
    "TK": "Transitional Kindergarten",
    "KG": "Kindergarten",
    **{f"{n:02d}": f"{name} grade" for n, name in enumerate(_ORDINAL_WORDS, start=1)},
    "13": "Grade 13",
    "PS": "Postsecondary",
    "UG": "Ungraded",
}
_ROLE = {
    "teacher": "Teacher",
    "aide": "Instructional Aide",
    "principal": "Principal",
    "counselor": "Counselor",
    "districtAdministrator": "LEA Administrator",
    "siteAdministrator": "School Administrator",
    "systemAdministrator": "LEA System Administrator",
}
_RELATION = {"parent": "Parent", "guardian": "Guardian", "relative": "Relative"}
_ATTENDANCE = {
    "PRESENT": "In Attendance",
    "ABSENT": "Unexcused Absence",
    "TARDY": "Tardy",
    "EXCUSED": "Excused Absence",
    "EARLY_DEPARTURE": "Early departure",
}
_SCORE_STATUS = {
    "FULLY_GRADED": "Fully Graded",
    "PARTIALLY_GRADED": "Partially Graded",
    "SUBMITTED": "Submitted",
    "NOT_SUBMITTED": "Not Submitted",
    "EXEMPT": "Exempt",
}
_ORDINALS = ("First", "Second", "Third", "Fourth")
_PROGRAM_CHARACTERISTICS = {"FRL": "Economic Disadvantaged", "504": "Section 504 Handicapped"}


def descriptor(kind: str, code: str) -> str:
    """``uri://ed-fi.org/{kind}Descriptor#{code}``."""
    return f"{ED_FI}/{kind}Descriptor#{code}"


@dataclass
class SimulatedDistrict:
    """Ed-Fi items by collection name, in the order they are served."""

    data_standard: str
    collections: dict[str, list[Json]] = field(default_factory=dict)
    _keys_seen: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def add(self, resource: str, item: Json) -> Json:
        """Append ``item`` with the ``id``, ``_etag`` and ``_lastModifiedDate`` every resource has.

        The ``id`` is derived from the item's natural key, so a fresh read of
        changed files gives an unchanged item the same ``id`` (an ODS keeps an
        item's ``id`` for its life); the ``_etag`` from its content, so it
        moves when the item does.
        """
        key = key_values(resource, item, self.data_standard)
        seed = json.dumps(
            [resource, key or len(self.collections.get(resource, []))], sort_keys=True, default=str
        )
        repeats = self._keys_seen.get(seed, 0)
        self._keys_seen[seed] = repeats + 1
        if repeats:  # two items with one key (the ODS would refuse the second): still two ids
            seed = f"{seed}#{repeats}"
        digest = hashlib.sha256(seed.encode()).digest()
        content = hashlib.sha256(json.dumps(item, sort_keys=True, default=str).encode()).digest()
        full = {"id": uuid.UUID(bytes=digest[:16]).hex, **item, "_etag": str(int.from_bytes(content[:8]))}
        full["_lastModifiedDate"] = _STAMP
        self.collections.setdefault(resource, []).append(full)
        return full


R = TypeVar("R", bound=Record)


async def _read(data_dir: Path) -> dict[Entity, list[Record]]:
    from adapters.oneroster_csv import SPEC  # the CSV adapter's public face only

    adapter = SPEC.create(SPEC.config(name="simulated", kind="oneroster-csv", path=data_dir))
    await adapter.open()
    try:
        found: dict[Entity, list[Record]] = {}
        for entity, record_type in RECORD_TYPES.items():
            fields = frozenset(data_fields(record_type))
            result = await adapter.fetch(FetchRequest(entity=entity, fields=fields))
            found[entity] = list(result.records)
        return found
    finally:
        await adapter.aclose()


def _of(rows: Sequence[Record], record_type: type[R]) -> list[R]:
    return [row for row in rows if isinstance(row, record_type)]


def _weekdays(begin: dt.date | None, end: dt.date | None) -> int:
    if begin is None or end is None or end < begin:
        return 0
    return sum(1 for n in range((end - begin).days + 1) if (begin + dt.timedelta(days=n)).weekday() < 5)


def _put(obj: Json, key: str, value: Any) -> None:
    if value not in (None, "", [], ()):
        obj[key] = value


def _unique_ids(people: Sequence[Record]) -> dict[str, str]:
    """vendor id -> unique id: the person's identifier when set and unique, else the vendor id."""
    counts: dict[str, int] = {}
    for person in people:
        identifier = getattr(person, "identifier", None)
        if identifier:
            counts[identifier] = counts.get(identifier, 0) + 1
    chosen = {}
    for person in people:
        identifier = getattr(person, "identifier", None)
        chosen[person.vendor_id] = identifier if identifier and counts[identifier] == 1 else person.vendor_id
    return chosen


def served(data_standard: str) -> tuple[str, ...]:
    """The collections the simulator serves (possibly empty) for a data standard."""
    guardians = (
        ("parents", "studentParentAssociations")
        if data_standard == "4"
        else (
            "contacts",
            "studentContactAssociations",
        )
    )
    return (
        *("localEducationAgencies", "schools", "gradingPeriods", "sessions", "courses", "courseOfferings"),
        *("sections", "students", "studentEducationOrganizationAssociations", "studentSchoolAssociations"),
        *("studentSpecialEducationProgramAssociations", "staffs"),
        *("staffEducationOrganizationAssignmentAssociations", *guardians, "staffSectionAssociations"),
        *("studentSectionAssociations", "gradebookEntries", "studentGradebookEntries", "grades"),
        *("studentSchoolAttendanceEvents", "studentSectionAttendanceEvents"),
    )


def load_district(data_dir: Path, data_standard: str = "5") -> SimulatedDistrict:
    """Read the CSV set in ``data_dir`` into Ed-Fi collections (``data_standard`` "4" or "5")."""
    with ThreadPoolExecutor(1) as pool:  # runs whether or not the caller has an event loop
        records = pool.submit(asyncio.run, _read(Path(data_dir))).result()
    district = _Builder(records, data_standard).build()
    for name in served(data_standard):
        district.collections.setdefault(name, [])
    return district


class _Builder:
    def __init__(self, records: dict[Entity, list[Record]], data_standard: str) -> None:
        self.r = records
        self.ds = data_standard
        self.out = SimulatedDistrict(data_standard)
        self.edorg: dict[str, int] = {}
        self.lea_of: dict[str, int] = {}
        self.sessions: dict[str, AcademicSession] = {}
        self.section_ref: dict[str, Json] = {}
        self.section_school: dict[str, int] = {}
        self.periods: dict[tuple[str, int], Json] = {}
        self.student_uid: dict[str, str] = {}
        self.enrolled: dict[tuple[str, str], str] = {}

    def build(self) -> SimulatedDistrict:
        self._orgs()
        self._calendar()
        self._courses()
        self._people()
        self._enrollments()
        self._gradebook()
        self._grades()
        self._attendance()
        return self.out

    # -- orgs and calendar ---------------------------------------------------------

    def _orgs(self) -> None:
        orgs = _of(self.r[Entity.ORGANIZATION], Organization)
        for index, org in enumerate(orgs):
            number = (
                org.identifier if org.identifier and org.identifier.isdigit() else str(255_900_000 + index)
            )
            self.edorg[org.vendor_id] = int(number)
        grades_of: dict[str, set[str]] = {}
        for course in _of(self.r[Entity.COURSE], Course):
            grades_of.setdefault(course.org_id or "", set()).update(course.grades)
        for org in orgs:
            if org.type != "school":
                self.out.add(
                    "localEducationAgencies",
                    {
                        "localEducationAgencyId": self.edorg[org.vendor_id],
                        "nameOfInstitution": org.name or org.vendor_id,
                        "localEducationAgencyCategoryDescriptor": descriptor(
                            "LocalEducationAgencyCategory", "Independent"
                        ),
                        "categories": [
                            {
                                "educationOrganizationCategoryDescriptor": descriptor(
                                    "EducationOrganizationCategory", "Local Education Agency"
                                )
                            }
                        ],
                    },
                )
        for org in orgs:
            if org.type != "school":
                continue
            lea = self.edorg.get(org.parent_id or "")
            item: Json = {
                "schoolId": self.edorg[org.vendor_id],
                "nameOfInstitution": org.name or org.vendor_id,
                "educationOrganizationCategories": [
                    {
                        "educationOrganizationCategoryDescriptor": descriptor(
                            "EducationOrganizationCategory", "School"
                        )
                    }
                ],
                "gradeLevels": [
                    {"gradeLevelDescriptor": descriptor("GradeLevel", _GRADE[g])}
                    for g in sorted(grades_of.get(org.vendor_id, ()))
                    if g in _GRADE
                ],
            }
            if lea is not None:
                item["localEducationAgencyReference"] = {"localEducationAgencyId": lea}
                self.lea_of[org.vendor_id] = lea
            self.out.add("schools", item)

    def _schools(self) -> list[str]:
        return [o.vendor_id for o in _of(self.r[Entity.ORGANIZATION], Organization) if o.type == "school"]

    def _calendar(self) -> None:
        sessions = _of(self.r[Entity.ACADEMIC_SESSION], AcademicSession)
        self.sessions = {s.vendor_id: s for s in sessions}
        terms = [s for s in sessions if s.type != "gradingPeriod"]
        periods = sorted(
            (s for s in sessions if s.type == "gradingPeriod"), key=lambda s: s.start_date or dt.date.min
        )
        sequence: dict[str, int] = {}
        for period in periods:
            year = self._year(period)
            sequence[period.vendor_id] = 1 + sum(
                1
                for p in periods
                if self._year(p) == year
                and p is not period
                and (p.start_date or dt.date.min) < (period.start_date or dt.date.min)
            )
        for school in self._schools():
            school_id = self.edorg[school]
            for period in periods:
                n = sequence[period.vendor_id]
                code = f"{_ORDINALS[n - 1]} Quarter" if n <= len(_ORDINALS) else f"Grading Period {n}"
                ref: Json = {"gradingPeriodDescriptor": descriptor("GradingPeriod", code)}
                if self.ds == "5":
                    ref["gradingPeriodName"] = period.title or period.vendor_id
                else:
                    ref["periodSequence"] = n
                ref |= {"schoolId": school_id, "schoolYear": self._year(period)}
                self.periods[(period.vendor_id, school_id)] = ref
                item: Json = {
                    "gradingPeriodDescriptor": ref["gradingPeriodDescriptor"],
                    **({"gradingPeriodName": ref["gradingPeriodName"]} if self.ds == "5" else {}),
                    "schoolReference": {"schoolId": school_id},
                    "schoolYearTypeReference": {"schoolYear": self._year(period)},
                    "beginDate": (period.start_date or dt.date.min).isoformat(),
                    "endDate": (period.end_date or dt.date.max).isoformat(),
                    "periodSequence": n,
                    "totalInstructionalDays": _weekdays(period.start_date, period.end_date),
                }
                self.out.add("gradingPeriods", item)
            for term in terms:
                children = [
                    self.periods[(p.vendor_id, school_id)] for p in periods if p.parent_id == term.vendor_id
                ]
                self.out.add(
                    "sessions",
                    {
                        "sessionName": term.title or term.vendor_id,
                        "schoolReference": {"schoolId": school_id},
                        "schoolYearTypeReference": {"schoolYear": self._year(term)},
                        "beginDate": (term.start_date or dt.date.min).isoformat(),
                        "endDate": (term.end_date or dt.date.max).isoformat(),
                        "termDescriptor": descriptor("Term", self._term_code(term)),
                        "totalInstructionalDays": _weekdays(term.start_date, term.end_date),
                        "gradingPeriods": [{"gradingPeriodReference": child} for child in children],
                    },
                )

    def _year(self, session: AcademicSession) -> int:
        if session.school_year and session.school_year.isdigit():
            return int(session.school_year)
        return (session.end_date or dt.date(2000, 6, 1)).year

    @staticmethod
    def _term_code(term: AcademicSession) -> str:
        if term.type == "schoolYear":
            return "Year Round"
        if term.type == "semester":
            return "Fall Semester" if term.start_date and term.start_date.month >= 7 else "Spring Semester"
        return "Other"

    def session_ref(self, session_vendor_id: str, school_id: int) -> Json | None:
        term = self.sessions.get(session_vendor_id)
        if term is None:
            return None
        return {
            "schoolId": school_id,
            "schoolYear": self._year(term),
            "sessionName": term.title or term.vendor_id,
        }

    def _year_session(self, school_id: int, day: dt.date | None) -> Json | None:
        terms = [s for s in self.sessions.values() if s.type != "gradingPeriod"]
        containing = [
            s
            for s in terms
            if day is None or (s.start_date and s.end_date and s.start_date <= day <= s.end_date)
        ] or terms
        containing.sort(key=lambda s: s.type != "schoolYear")
        return self.session_ref(containing[0].vendor_id, school_id) if containing else None

    # -- courses and sections ---------------------------------------------------------

    def _courses(self) -> None:
        courses = {c.vendor_id: c for c in _of(self.r[Entity.COURSE], Course)}
        for course in courses.values():
            self.out.add(
                "courses",
                {
                    "courseCode": course.course_code or course.vendor_id,
                    "identificationCodes": [],
                    "educationOrganizationReference": {
                        "educationOrganizationId": self.edorg[course.org_id or ""]
                    },
                    "courseTitle": (course.title or course.vendor_id)[:60],
                    "numberOfParts": 1,
                    "academicSubjects": [
                        {"academicSubjectDescriptor": descriptor("AcademicSubject", s)}
                        for s in course.subjects
                    ],
                    "offeredGradeLevels": [
                        {"gradeLevelDescriptor": descriptor("GradeLevel", _GRADE[g])}
                        for g in course.grades
                        if g in _GRADE
                    ],
                },
            )
        offerings: set[tuple[Any, ...]] = set()
        for section in _of(self.r[Entity.SECTION], Section):
            found = courses.get(section.course_id or "")
            school_id = self.edorg.get(section.school_id or "")
            session = (
                self.session_ref(section.term_ids[0], school_id) if section.term_ids and school_id else None
            )
            if found is None or school_id is None or session is None:
                continue
            course = found
            code = course.course_code or course.vendor_id
            offering_ref = {"localCourseCode": code, **session}
            key = tuple(offering_ref.values())
            if key not in offerings:
                offerings.add(key)
                self.out.add(
                    "courseOfferings",
                    {
                        "localCourseCode": code,
                        "courseReference": {
                            "courseCode": code,
                            "educationOrganizationId": self.edorg[course.org_id or ""],
                        },
                        "schoolReference": {"schoolId": school_id},
                        "sessionReference": session,
                        "localCourseTitle": (course.title or code)[:60],
                    },
                )
            identifier = section.class_code or section.vendor_id
            item: Json = {"sectionIdentifier": identifier, "courseOfferingReference": offering_ref}
            _put(item, "sectionName", (section.title or "")[:100])
            if section.location:
                item["locationReference"] = {
                    "classroomIdentificationCode": section.location,
                    "schoolId": school_id,
                }
            _put(
                item,
                "classPeriods",
                [
                    {"classPeriodReference": {"classPeriodName": p, "schoolId": school_id}}
                    for p in section.periods
                ],
            )
            _put(
                item,
                "offeredGradeLevels",
                [
                    {"gradeLevelDescriptor": descriptor("GradeLevel", _GRADE[g])}
                    for g in section.grades
                    if g in _GRADE
                ],
            )
            self.out.add("sections", item)
            self.section_ref[section.vendor_id] = {
                "localCourseCode": code,
                "schoolId": school_id,
                "schoolYear": session["schoolYear"],
                "sectionIdentifier": identifier,
                "sessionName": session["sessionName"],
            }
            self.section_school[section.vendor_id] = school_id

    # -- people ------------------------------------------------------------------------

    def _people(self) -> None:
        students = _of(self.r[Entity.STUDENT], Student)
        staff = _of(self.r[Entity.TEACHER], Teacher)
        guardians = _of(self.r[Entity.GUARDIAN], Guardian)
        self.student_uid = _unique_ids(students)
        self.staff_uid = _unique_ids(staff)
        guardian_uid = _unique_ids(guardians)
        kind = "parent" if self.ds == "4" else "contact"
        for student in students:
            self._student(student)
        for member in staff:
            self._staff(member)
        relationship = {g.vendor_id: g.relationship for g in guardians}
        for guardian in guardians:
            item: Json = {f"{kind}UniqueId": guardian_uid[guardian.vendor_id]}
            self._names(item, guardian)
            self._contacts(item, guardian.email, getattr(guardian, "phone", None), "Home/Personal", "Home")
            _put(item, "loginId", (guardian.username or "")[:60])
            self.out.add("parents" if kind == "parent" else "contacts", item)
        links = "studentParentAssociations" if kind == "parent" else "studentContactAssociations"
        for student in students:
            for index, guardian_id in enumerate(student.guardian_ids):
                if guardian_id not in guardian_uid:
                    continue
                relation = _RELATION.get(relationship.get(guardian_id) or "", "Other")
                self.out.add(
                    links,
                    {
                        "studentReference": {"studentUniqueId": self.student_uid[student.vendor_id]},
                        f"{kind}Reference": {f"{kind}UniqueId": guardian_uid[guardian_id]},
                        "relationDescriptor": descriptor("Relation", relation),
                        "primaryContactStatus": index == 0,
                        "legalGuardian": relation == "Guardian",
                    },
                )

    @staticmethod
    def _names(item: Json, person: Student | Teacher | Guardian) -> None:
        item["firstName"] = person.given_name or "Unknown"
        item["lastSurname"] = person.family_name or "Unknown"
        _put(item, "middleName", person.middle_name)
        _put(item, "preferredFirstName", person.preferred_name)

    @staticmethod
    def _contacts(item: Json, email: str | None, phone: str | None, mail_type: str, phone_type: str) -> None:
        if email and len(email) >= 7:
            item["electronicMails"] = [
                {
                    "electronicMailTypeDescriptor": descriptor("ElectronicMailType", mail_type),
                    "electronicMailAddress": email,
                }
            ]
        if phone:
            item["telephones"] = [
                {
                    "telephoneNumberTypeDescriptor": descriptor("TelephoneNumberType", phone_type),
                    "telephoneNumber": phone,
                }
            ]

    def _year_start(self, school_id: int) -> str:
        session = self._year_session(school_id, None)
        term = next(
            (s for s in self.sessions.values() if session and s.title == session["sessionName"]), None
        )
        return (term.start_date if term and term.start_date else dt.date(2000, 8, 1)).isoformat()

    def _student(self, student: Student) -> None:
        uid = self.student_uid[student.vendor_id]
        reference = {"studentUniqueId": uid}
        item: Json = {"studentUniqueId": uid}
        self._names(item, student)
        item["birthDate"] = (student.birth_date or dt.date(2000, 1, 1)).isoformat()
        self.out.add("students", item)
        school = student.school_id or (student.school_ids[0] if student.school_ids else None)
        edorg = self.lea_of.get(school or "") or self.edorg.get(school or "")
        programs = set(student.programs or ())
        if edorg is not None:
            seoa: Json = {
                "educationOrganizationReference": {"educationOrganizationId": edorg},
                "studentReference": reference,
            }
            if student.sex in _SEX:
                seoa["sexDescriptor"] = descriptor("Sex", _SEX[student.sex or ""])
            if student.hispanic_or_latino is not None:
                seoa["hispanicLatinoEthnicity"] = student.hispanic_or_latino
            self._contacts(seoa, student.email, None, "Organization", "Home")
            _put(seoa, "loginId", (student.username or "")[:60])
            _put(
                seoa,
                "races",
                [{"raceDescriptor": descriptor("Race", _RACE[r])} for r in student.races or () if r in _RACE],
            )
            if "ELL" in programs:
                seoa["limitedEnglishProficiencyDescriptor"] = descriptor(
                    "LimitedEnglishProficiency", "Limited"
                )
            _put(
                seoa,
                "studentCharacteristics",
                [
                    {
                        "studentCharacteristicDescriptor": descriptor(
                            "StudentCharacteristic", _PROGRAM_CHARACTERISTICS[p]
                        )
                    }
                    for p in sorted(programs)
                    if p in _PROGRAM_CHARACTERISTICS
                ],
            )
            if student.directory_opt_out is not None:
                seoa["studentIndicators"] = [
                    {
                        "indicatorName": "Directory Opt Out",
                        "indicator": "Yes" if student.directory_opt_out else "No",
                    }
                ]
            self.out.add("studentEducationOrganizationAssociations", seoa)
        schools = list(
            dict.fromkeys([s for s in (student.school_id, *student.school_ids) if s in self.edorg])
        )
        for index, school_vendor_id in enumerate(schools):
            school_id = self.edorg[school_vendor_id]
            ssa: Json = {
                "studentReference": reference,
                "schoolReference": {"schoolId": school_id},
                "entryDate": self._year_start(school_id),
                "entryGradeLevelDescriptor": descriptor(
                    "GradeLevel", _GRADE.get(student.grade_level or "", "Ungraded")
                ),
                "primarySchool": index == 0,
            }
            session = self._year_session(school_id, None)
            if session is not None:
                ssa["schoolYearTypeReference"] = {"schoolYear": session["schoolYear"]}
            self.out.add("studentSchoolAssociations", ssa)
        if "IEP" in programs and edorg is not None:
            start = self._year_start(self.edorg[schools[0]]) if schools else "2000-08-01"
            self.out.add(
                "studentSpecialEducationProgramAssociations",
                {
                    "beginDate": start,
                    "educationOrganizationReference": {"educationOrganizationId": edorg},
                    "programReference": {
                        "educationOrganizationId": edorg,
                        "programName": "Special Education",
                        "programTypeDescriptor": descriptor("ProgramType", "Special Education"),
                    },
                    "studentReference": reference,
                    "ideaEligibility": True,
                    "iepBeginDate": start,
                },
            )

    def _staff(self, member: Teacher) -> None:
        uid = self.staff_uid[member.vendor_id]
        item: Json = {"staffUniqueId": uid}
        self._names(item, member)
        self._contacts(item, member.email, member.phone, "Work", "Work")
        _put(item, "loginId", (member.username or "")[:60])
        self.out.add("staffs", item)
        classification = _ROLE.get(member.role or "", "Other")
        for index, org in enumerate(member.school_ids):
            if org not in self.edorg:
                continue
            self.out.add(
                "staffEducationOrganizationAssignmentAssociations",
                {
                    "staffClassificationDescriptor": descriptor("StaffClassification", classification),
                    "beginDate": self._year_start(self.edorg[org]),
                    "educationOrganizationReference": {"educationOrganizationId": self.edorg[org]},
                    "staffReference": {"staffUniqueId": uid},
                    "orderOfAssignment": index + 1,
                },
            )

    # -- enrollments, gradebook, grades, attendance ------------------------------------

    def _enrollments(self) -> None:
        seen: set[tuple[str, str, str]] = set()
        for row in _of(self.r[Entity.ENROLLMENT], EnrollmentRecord):
            section = self.section_ref.get(row.section_id or "")
            if section is None or row.person_id is None:
                continue
            begin = row.begin_date.isoformat() if row.begin_date else self._year_start(section["schoolId"])
            if (row.person_id, row.section_id or "", begin) in seen:
                continue
            seen.add((row.person_id, row.section_id or "", begin))
            dates: Json = {"beginDate": begin}
            _put(dates, "endDate", row.end_date.isoformat() if row.end_date else None)
            if row.role == "student" and row.person_id in self.student_uid:
                self.enrolled[(row.person_id, row.section_id or "")] = begin
                self.out.add(
                    "studentSectionAssociations",
                    {
                        "beginDate": begin,
                        "sectionReference": section,
                        "studentReference": {"studentUniqueId": self.student_uid[row.person_id]},
                        **({"endDate": dates["endDate"]} if "endDate" in dates else {}),
                    },
                )
            elif row.role in ("teacher", "aide") and row.person_id in self.staff_uid:
                position = (
                    "Instructional Aide"
                    if row.role == "aide"
                    else ("Teacher of Record" if row.primary else "Assistant Teacher")
                )
                self.out.add(
                    "staffSectionAssociations",
                    {
                        "beginDate": begin,
                        "sectionReference": section,
                        "staffReference": {"staffUniqueId": self.staff_uid[row.person_id]},
                        "classroomPositionDescriptor": descriptor("ClassroomPosition", position),
                        **({"endDate": dates["endDate"]} if "endDate" in dates else {}),
                    },
                )

    def _gradebook(self) -> None:
        entries: dict[str, Json] = {}
        for row in _of(self.r[Entity.ASSIGNMENT], Assignment):
            section = self.section_ref.get(row.section_id or "")
            if section is None:
                continue
            assigned = row.assign_date or row.due_date
            item: Json = {
                "gradebookEntryIdentifier": row.vendor_id[:60],
                "namespace": NAMESPACE,
                "sectionReference": section,
                "sourceSectionIdentifier": section["sectionIdentifier"],
                "dateAssigned": (
                    assigned.astimezone(dt.UTC).date() if assigned else dt.date(2000, 1, 1)
                ).isoformat(),
                "title": (row.title or row.vendor_id)[:100],
            }
            period = self.periods.get((row.grading_period_id or "", section["schoolId"]))
            if period is not None:
                item["gradingPeriodReference"] = period
            _put(item, "description", (row.description or "")[:1024])
            if row.due_date is not None:
                due = row.due_date.astimezone(dt.UTC)
                item["dueDate"] = due.date().isoformat()
                item["dueTime"] = due.time().isoformat(timespec="seconds")
            if row.category:
                item["gradebookEntryTypeDescriptor"] = descriptor("GradebookEntryType", row.category)
            if row.points_possible is not None:
                item["maxPoints"] = row.points_possible
            entries[row.vendor_id] = self.out.add("gradebookEntries", item)
        for score in _of(self.r[Entity.SCORE], Score):
            entry = entries.get(score.assignment_id or "")
            uid = self.student_uid.get(score.student_id or "")
            if entry is None or uid is None:
                continue
            result: Json = {
                "gradebookEntryReference": {
                    "gradebookEntryIdentifier": entry["gradebookEntryIdentifier"],
                    "namespace": NAMESPACE,
                },
                "studentReference": {"studentUniqueId": uid},
            }
            if score.score is not None:
                result["pointsEarned"] = score.score
            if score.submitted_at is not None:
                moment = score.submitted_at.astimezone(dt.UTC)
                result["dateFulfilled"] = moment.date().isoformat()
                if moment.time() != dt.time():
                    result["timeFulfilled"] = moment.time().isoformat(timespec="seconds")
            _put(result, "diagnosticStatement", (score.comment or "")[:1024])
            if score.score_status in _SCORE_STATUS:
                result["submissionStatusDescriptor"] = descriptor(
                    "SubmissionStatus", _SCORE_STATUS[score.score_status or ""]
                )
            if score.late is not None or score.missing is not None:
                late = "Late" if score.late else "Missing" if score.missing else "On-time"
                result["assignmentLateStatusDescriptor"] = descriptor("AssignmentLateStatus", late)
            self.out.add("studentGradebookEntries", result)

    def _grades(self) -> None:
        for grade in _of(self.r[Entity.COURSE_GRADE], CourseGrade):
            section = self.section_ref.get(grade.section_id or "")
            uid = self.student_uid.get(grade.student_id or "")
            begin = self.enrolled.get((grade.student_id or "", grade.section_id or ""))
            if section is None or uid is None or begin is None:
                continue
            period = self.periods.get((grade.term_id or "", section["schoolId"]))
            if period is None:
                continue  # Ed-Fi grades belong to grading periods only
            item: Json = {
                "gradeTypeDescriptor": descriptor("GradeType", "Grading Period"),
                "gradingPeriodReference": period,
                "studentSectionAssociationReference": {"beginDate": begin, **section, "studentUniqueId": uid},
            }
            _put(item, "letterGradeEarned", grade.letter_grade)
            if grade.percent is not None:
                item["numericGradeEarned"] = grade.percent
            self.out.add("grades", item)

    def _attendance(self) -> None:
        for event in _of(self.r[Entity.ATTENDANCE_EVENT], AttendanceEvent):
            uid = self.student_uid.get(event.student_id or "")
            if uid is None or event.date is None or event.status not in _ATTENDANCE:
                continue
            base: Json = {
                "attendanceEventCategoryDescriptor": descriptor(
                    "AttendanceEventCategory", _ATTENDANCE[event.status or ""]
                ),
                "eventDate": event.date.isoformat(),
            }
            section = self.section_ref.get(event.section_id or "")
            if section is not None:
                self.out.add(
                    "studentSectionAttendanceEvents",
                    {**base, "sectionReference": section, "studentReference": {"studentUniqueId": uid}},
                )
                continue
            school_id = self.edorg.get(event.school_id or "")
            session = self._year_session(school_id, event.date) if school_id is not None else None
            if school_id is None or session is None:
                continue
            self.out.add(
                "studentSchoolAttendanceEvents",
                {
                    **base,
                    "schoolReference": {"schoolId": school_id},
                    "sessionReference": session,
                    "studentReference": {"studentUniqueId": uid},
                },
            )
