"""Ed-Fi resources -> unified records.

Pure functions: each takes one item as the API sent it (and, for people and
sections, the associated items the adapter read for it) and returns a record
with every attribute it can fill, or ``None`` when the item lacks its key.
The adapter then keeps only the attributes a request asked for. Nothing here
raises on odd values: an unreadable optional value becomes ``None``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from adapters.edfi import _descriptors as d
from adapters.edfi._keys import (
    code_value,
    course_id,
    edorg_id,
    grading_period_id,
    make_id,
    section_id,
    section_parts,
    session_id,
)
from hub.sdk import (
    AcademicSession,
    Assignment,
    AttendanceEvent,
    Course,
    CourseGrade,
    Enrollment,
    Guardian,
    Organization,
    Score,
    Section,
    Student,
    Teacher,
)

__all__ = [
    "Json",
    "assignment",
    "attendance_event",
    "course",
    "course_grade",
    "gradebook_entry_id",
    "grading_period",
    "group_by",
    "guardian",
    "local_datetime",
    "organization",
    "read_date",
    "ref",
    "score",
    "section",
    "session",
    "staff_enrollment",
    "student",
    "student_enrollment",
    "teacher",
]

Json = Mapping[str, Any]


def ref(obj: Json, name: str) -> Json:
    """The reference object ``name`` of ``obj`` (empty when absent)."""
    value = obj.get(name)
    return value if isinstance(value, Mapping) else {}


def _str(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if number == number and abs(number) != float("inf") else None


def read_date(value: Any) -> dt.date | None:
    """An ISO date (or the date of an ISO datetime); ``None`` when unreadable.

    Not the shared ``parse_date``: the ODS validates every date as
    ``YYYY-MM-DD`` (``format: date``) and only the first ten characters are
    read, so whatever follows a date (a time, even an unreadable one) is
    ignored, where the shared parser would refuse the whole value.
    """
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def local_datetime(day: Any, time: Any, zone: dt.tzinfo) -> dt.datetime | None:
    """A local Ed-Fi date and optional time (``HH:MM[:SS]``) as a UTC datetime."""
    date = read_date(day)
    if date is None:
        return None
    clock = dt.time()
    if isinstance(time, str) and time.strip():
        try:
            clock = dt.time.fromisoformat(time.strip()[:8])
        except ValueError:
            clock = dt.time()
    return dt.datetime.combine(date, clock, tzinfo=zone).astimezone(dt.UTC)


PersonT = TypeVar("PersonT", Student, Teacher, Guardian)


def _named(record: PersonT, obj: Json) -> PersonT:
    record.given_name = _str(obj.get("firstName"))
    record.family_name = _str(obj.get("lastSurname"))
    record.middle_name = _str(obj.get("middleName"))
    record.preferred_name = _str(obj.get("preferredFirstName"))
    return record


def _rank(value: Any, default: int = 1_000_000) -> int:
    """An ``orderOfPriority``-like number for sorting; missing ones sort last."""
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _list(obj: Json, name: str) -> list[Json]:
    value = obj.get(name)
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _email(obj: Json) -> str | None:
    mails = _list(obj, "electronicMails")
    chosen = next((m for m in mails if m.get("primaryEmailAddressIndicator") is True), None)
    return _str((chosen or (mails[0] if mails else {})).get("electronicMailAddress"))


def _phone(obj: Json) -> str | None:
    phones = _list(obj, "telephones")
    ranked = sorted(phones, key=lambda phone: _rank(phone.get("orderOfPriority")))
    return _str(ranked[0].get("telephoneNumber")) if ranked else None


# -- organizations and calendar ---------------------------------------------------


def organization(obj: Json, kind: str) -> Organization | None:
    """A school (``kind="school"``) or a local education agency (``"district"``)."""
    if kind == "school":
        number = obj.get("schoolId")
        parent = ref(obj, "localEducationAgencyReference").get("localEducationAgencyId")
    else:
        number = obj.get("localEducationAgencyId")
        parent = ref(obj, "parentLocalEducationAgencyReference").get("localEducationAgencyId")
    vendor_id = edorg_id(number)
    if vendor_id is None:
        return None
    return Organization(
        vendor_id=vendor_id,
        name=_str(obj.get("nameOfInstitution")),
        type=kind,
        identifier=str(number),
        parent_id=edorg_id(parent),
    )


def session(obj: Json, parent_id: str | None) -> AcademicSession | None:
    """A session; its type from ``termDescriptor``, its parent given by the adapter."""
    vendor_id = session_id(obj)
    if vendor_id is None:
        return None
    year = ref(obj, "schoolYearTypeReference").get("schoolYear")
    return AcademicSession(
        vendor_id=vendor_id,
        title=_str(obj.get("sessionName")),
        type=d.term_type(obj.get("termDescriptor")),
        start_date=read_date(obj.get("beginDate")),
        end_date=read_date(obj.get("endDate")),
        school_year=str(year) if year is not None else None,
        parent_id=parent_id,
    )


def grading_period(obj: Json, parent_id: str | None) -> AcademicSession | None:
    """A grading period; titled by its name (DS 5) or its descriptor (DS 4)."""
    vendor_id = grading_period_id(obj)
    if vendor_id is None:
        return None
    year = ref(obj, "schoolYearTypeReference").get("schoolYear")
    return AcademicSession(
        vendor_id=vendor_id,
        title=_str(obj.get("gradingPeriodName")) or code_value(obj.get("gradingPeriodDescriptor")),
        type="gradingPeriod",
        start_date=read_date(obj.get("beginDate")),
        end_date=read_date(obj.get("endDate")),
        school_year=str(year) if year is not None else None,
        parent_id=parent_id,
    )


def _grades(obj: Json, name: str = "offeredGradeLevels") -> tuple[str, ...]:
    # Ed-Fi grade levels are descriptors ("Ninth grade"), not the codes the shared
    # parse_grade reads ("9", "K"): they go through the descriptor table, and an
    # unknown descriptor is dropped rather than kept upper-cased.
    found = (d.lookup(d.GRADE_LEVELS, item.get("gradeLevelDescriptor")) for item in _list(obj, name))
    return tuple(dict.fromkeys(grade for grade in found if grade))


def _subjects(obj: Json) -> tuple[str, ...]:
    found = (code_value(item.get("academicSubjectDescriptor")) for item in _list(obj, "academicSubjects"))
    return tuple(dict.fromkeys(subject for subject in found if subject))


def course(obj: Json) -> Course | None:
    """A course of the catalogue (``courses``)."""
    vendor_id = course_id(obj)
    if vendor_id is None:
        return None
    org = ref(obj, "educationOrganizationReference").get("educationOrganizationId")
    return Course(
        vendor_id=vendor_id,
        title=_str(obj.get("courseTitle")),
        course_code=_str(obj.get("courseCode")),
        grades=_grades(obj),
        subjects=_subjects(obj),
        org_id=edorg_id(org),
    )


def section(obj: Json, offering: Json | None, catalogue_course: Json | None) -> Section | None:
    """A section; its course comes from its course offering, its subjects from that course."""
    offering_ref = ref(obj, "courseOfferingReference")
    key = {**offering_ref, "sectionIdentifier": obj.get("sectionIdentifier")}
    vendor_id = section_id(key)
    if vendor_id is None:
        return None
    periods = (
        _str(ref(item, "classPeriodReference").get("classPeriodName")) for item in _list(obj, "classPeriods")
    )
    term = session_id(offering_ref)
    return Section(
        vendor_id=vendor_id,
        title=_str(obj.get("sectionName")) or _str((offering or {}).get("localCourseTitle")),
        class_code=_str(obj.get("sectionIdentifier")),
        location=_str(ref(obj, "locationReference").get("classroomIdentificationCode")),
        periods=tuple(period for period in periods if period),
        subjects=_subjects(catalogue_course) if catalogue_course else (),
        grades=_grades(obj),
        course_id=course_id(ref(offering, "courseReference")) if offering else None,
        school_id=edorg_id(offering_ref.get("schoolId")),
        term_ids=(term,) if term else (),
    )


# -- people -----------------------------------------------------------------------


def _races(seoa: Json) -> tuple[str, ...]:
    found = {d.lookup(d.RACES, item.get("raceDescriptor")) for item in _list(seoa, "races")}
    found.discard(None)
    if len(found - {d.TWO_OR_MORE_RACES}) >= 2:
        found.add(d.TWO_OR_MORE_RACES)
    return tuple(name for name in d.RACE_ORDER if name in found)


def _programs(seoas: Sequence[Json], special_education: bool) -> tuple[str, ...]:
    found: set[str] = {"IEP"} if special_education else set()
    for seoa in seoas:
        for item in _list(seoa, "studentCharacteristics"):
            program = d.lookup(d.PROGRAM_CHARACTERISTICS, item.get("studentCharacteristicDescriptor"))
            if program:
                found.add(program)
        proficiency = d.fold(code_value(seoa.get("limitedEnglishProficiencyDescriptor")) or "")
        if proficiency.startswith("limited"):
            found.add("ELL")
    order = ["IEP", "504", "ELL", "FRL"]
    return tuple(sorted(found, key=lambda name: (order.index(name) if name in order else len(order), name)))


def _opt_out(seoas: Sequence[Json], indicator_name: str) -> bool | None:
    if not indicator_name or not seoas:
        return None
    wanted = d.fold(indicator_name)
    for seoa in seoas:
        for item in _list(seoa, "studentIndicators"):
            if d.fold(str(item.get("indicatorName") or "")) == wanted:
                return d.fold(str(item.get("indicator") or "")) in ("yes", "true", "y", "1", "optedout")
    return False


def _first(seoas: Sequence[Json], name: str) -> Any:
    return next((seoa[name] for seoa in seoas if seoa.get(name) not in (None, "", [])), None)


def _enrolled_schools(ssas: Sequence[Json]) -> list[Json]:
    """A student's school associations without an exit (all, when every one has
    ended), primary first, then the newest entry first."""
    current = [ssa for ssa in ssas if read_date(ssa.get("exitWithdrawDate")) is None] or list(ssas)
    return sorted(
        current,
        key=lambda ssa: (
            ssa.get("primarySchool") is not True,
            -(read_date(ssa.get("entryDate")) or dt.date.min).toordinal(),
        ),
    )


def student(
    obj: Json,
    *,
    seoas: Sequence[Json] | None,
    ssas: Sequence[Json] | None,
    contact_links: Sequence[Json] | None,
    special_education: bool | None,
    guardian_kind: str,
    opt_out_indicator: str,
) -> Student | None:
    """A student; ``None`` for associations that were not read (their fields stay empty)."""
    unique_id = obj.get("studentUniqueId")
    vendor_id = make_id("student", unique_id)
    if vendor_id is None:
        return None
    record = _named(
        Student(vendor_id=vendor_id, identifier=str(unique_id), birth_date=read_date(obj.get("birthDate"))),
        obj,
    )
    if seoas is not None:
        record.sex = d.lookup(d.SEXES, _first(seoas, "sexDescriptor"))
        record.races = _races(next((s for s in seoas if _list(s, "races")), {})) if seoas else None
        hispanic = _first(seoas, "hispanicLatinoEthnicity")
        record.hispanic_or_latino = hispanic if isinstance(hispanic, bool) else None
        record.email = next((mail for s in seoas if (mail := _email(s))), None)
        record.username = _str(_first(seoas, "loginId"))
        record.programs = _programs(seoas, bool(special_education)) if seoas or special_education else None
        record.directory_opt_out = _opt_out(seoas, opt_out_indicator)
    elif special_education is not None:
        record.programs = ("IEP",) if special_education else ()
    if ssas is not None:
        schools = _enrolled_schools(ssas)
        if schools:
            record.grade_level = d.lookup(d.GRADE_LEVELS, schools[0].get("entryGradeLevelDescriptor"))
            record.school_id = edorg_id(ref(schools[0], "schoolReference").get("schoolId"))
        ids = (edorg_id(ref(ssa, "schoolReference").get("schoolId")) for ssa in schools)
        record.school_ids = tuple(dict.fromkeys(school for school in ids if school))
    if contact_links is not None:
        ids = (
            make_id(guardian_kind, ref(link, f"{guardian_kind}Reference").get(f"{guardian_kind}UniqueId"))
            for link in contact_links
        )
        record.guardian_ids = tuple(dict.fromkeys(guardian for guardian in ids if guardian))
    return record


def teacher(obj: Json, assignments: Sequence[Json] | None) -> Teacher | None:
    """A staff member; role and schools from their education organization assignments."""
    unique_id = obj.get("staffUniqueId")
    vendor_id = make_id("staff", unique_id)
    if vendor_id is None:
        return None
    record = _named(
        Teacher(
            vendor_id=vendor_id,
            identifier=str(unique_id),
            email=_email(obj),
            username=_str(obj.get("loginId")),
            phone=_phone(obj),
        ),
        obj,
    )
    if assignments is not None:
        current = [a for a in assignments if read_date(a.get("endDate")) is None]
        ranked = sorted(
            current or list(assignments),
            key=lambda a: _rank(a.get("orderOfAssignment")),
        )
        roles = (d.lookup(d.STAFF_ROLES, a.get("staffClassificationDescriptor")) for a in ranked)
        record.role = next((role for role in roles if role), None)
        orgs = (
            edorg_id(ref(a, "educationOrganizationReference").get("educationOrganizationId")) for a in ranked
        )
        record.school_ids = tuple(dict.fromkeys(org for org in orgs if org))
    return record


def guardian(obj: Json, kind: str, links: Sequence[Json] | None) -> Guardian | None:
    """A contact (DS 5) or parent (DS 4, ``kind="parent"``) and the students they are linked to."""
    unique_id = obj.get(f"{kind}UniqueId")
    vendor_id = make_id(kind, unique_id)
    if vendor_id is None:
        return None
    record = _named(
        Guardian(
            vendor_id=vendor_id,
            identifier=str(unique_id),
            email=_email(obj),
            username=_str(obj.get("loginId")),
            phone=_phone(obj),
        ),
        obj,
    )
    if links is not None:
        ranked = sorted(links, key=lambda link: link.get("primaryContactStatus") is not True)
        relations = (d.lookup(d.RELATIONS, link.get("relationDescriptor")) for link in ranked)
        record.relationship = next((relation for relation in relations if relation), None)
        if record.relationship is None and any(link.get("legalGuardian") is True for link in links):
            record.relationship = "guardian"
        ids = (make_id("student", ref(link, "studentReference").get("studentUniqueId")) for link in links)
        record.student_ids = tuple(dict.fromkeys(student for student in ids if student))
    return record


# -- enrollments ------------------------------------------------------------------


def student_enrollment(obj: Json) -> Enrollment | None:
    """A studentSectionAssociation as a student enrollment."""
    section_ref = ref(obj, "sectionReference")
    student_ref = ref(obj, "studentReference")
    unique_id = student_ref.get("studentUniqueId")
    vendor_id = make_id(
        "studentSectionAssociation", unique_id, *section_parts(section_ref), obj.get("beginDate")
    )
    if vendor_id is None:
        return None
    return Enrollment(
        vendor_id=vendor_id,
        role="student",
        begin_date=read_date(obj.get("beginDate")),
        end_date=read_date(obj.get("endDate")),
        section_id=section_id(section_ref),
        person_id=make_id("student", unique_id),
        school_id=edorg_id(section_ref.get("schoolId")),
    )


def staff_enrollment(obj: Json) -> Enrollment | None:
    """A staffSectionAssociation as a teacher (or aide) enrollment."""
    section_ref = ref(obj, "sectionReference")
    unique_id = ref(obj, "staffReference").get("staffUniqueId")
    vendor_id = make_id(
        "staffSectionAssociation", unique_id, *section_parts(section_ref), obj.get("beginDate")
    )
    if vendor_id is None:
        return None
    position = d.CLASSROOM_POSITIONS.get(d.fold(code_value(obj.get("classroomPositionDescriptor")) or ""))
    role, primary = position if position else ("teacher", None)
    return Enrollment(
        vendor_id=vendor_id,
        role=role,
        primary=primary,
        begin_date=read_date(obj.get("beginDate")),
        end_date=read_date(obj.get("endDate")),
        section_id=section_id(section_ref),
        person_id=make_id("staff", unique_id),
        school_id=edorg_id(section_ref.get("schoolId")),
    )


# -- gradebook, grades, attendance --------------------------------------------------


def gradebook_entry_id(reference: Json) -> str | None:
    """The id of a gradebook entry from the entry or a ``gradebookEntryReference``."""
    return make_id("gradebookEntry", reference.get("namespace"), reference.get("gradebookEntryIdentifier"))


def assignment(obj: Json, zone: dt.tzinfo) -> Assignment | None:
    """A gradebook entry. Ed-Fi assigns on a date: ``assign_date`` is its local midnight."""
    vendor_id = gradebook_entry_id(obj)
    if vendor_id is None:
        return None
    period = ref(obj, "gradingPeriodReference")
    return Assignment(
        vendor_id=vendor_id,
        title=_str(obj.get("title")) or _str(obj.get("gradebookEntryTitle")),
        description=_str(obj.get("description")),
        assign_date=local_datetime(obj.get("dateAssigned"), None, zone),
        due_date=local_datetime(obj.get("dueDate"), obj.get("dueTime"), zone),
        category=code_value(obj.get("gradebookEntryTypeDescriptor")),
        points_possible=_float(obj.get("maxPoints")),
        section_id=section_id(ref(obj, "sectionReference")),
        grading_period_id=grading_period_id(period) if period else None,
    )


def score(obj: Json, entry_sections: Mapping[str, str | None], zone: dt.tzinfo) -> Score | None:
    """A studentGradebookEntry; its section is its gradebook entry's (``entry_sections``)."""
    entry = ref(obj, "gradebookEntryReference")
    unique_id = ref(obj, "studentReference").get("studentUniqueId")
    vendor_id = make_id(
        "studentGradebookEntry", entry.get("namespace"), entry.get("gradebookEntryIdentifier"), unique_id
    )
    assignment_id = gradebook_entry_id(entry)
    if vendor_id is None or assignment_id is None:
        return None
    late_status = d.fold(code_value(obj.get("assignmentLateStatusDescriptor")) or "")
    late = missing = None
    if late_status:
        late, missing = late_status == "late", late_status == "missing"
    points = _float(obj.get("pointsEarned"))
    return Score(
        vendor_id=vendor_id,
        assignment_id=assignment_id,
        student_id=make_id("student", unique_id),
        section_id=entry_sections.get(assignment_id),
        score=points if points is not None else _float(obj.get("numericGradeEarned")),
        score_status=d.lookup(d.SCORE_STATUSES, obj.get("submissionStatusDescriptor")),
        late=late,
        missing=missing,
        submitted_at=local_datetime(obj.get("dateFulfilled"), obj.get("timeFulfilled"), zone),
        comment=_str(obj.get("diagnosticStatement")),
    )


def course_grade(obj: Json) -> CourseGrade | None:
    """A grade (term or final mark) of a student in a section."""
    enrolment = ref(obj, "studentSectionAssociationReference")
    period = ref(obj, "gradingPeriodReference")
    period_parts = (
        period.get("schoolId"),
        period.get("schoolYear"),
        code_value(period.get("gradingPeriodDescriptor")),
        period.get("gradingPeriodName")
        if period.get("gradingPeriodName") not in (None, "")
        else period.get("periodSequence"),
    )
    unique_id = enrolment.get("studentUniqueId")
    vendor_id = make_id(
        "grade",
        unique_id,
        *section_parts(enrolment),
        enrolment.get("beginDate"),
        *period_parts,
        code_value(obj.get("gradeTypeDescriptor")),
    )
    if vendor_id is None:
        return None
    return CourseGrade(
        vendor_id=vendor_id,
        student_id=make_id("student", unique_id),
        section_id=section_id(enrolment),
        term_id=grading_period_id(period),
        letter_grade=_str(obj.get("letterGradeEarned")),
        percent=_float(obj.get("numericGradeEarned")),
    )


def attendance_event(obj: Json, kind: str) -> AttendanceEvent | None:
    """A school-day (``kind="school"``) or section (``"section"``) attendance event."""
    unique_id = ref(obj, "studentReference").get("studentUniqueId")
    category = code_value(obj.get("attendanceEventCategoryDescriptor"))
    if kind == "school":
        session_ref = ref(obj, "sessionReference")
        school = ref(obj, "schoolReference").get("schoolId")
        vendor_id = make_id(
            "studentSchoolAttendanceEvent",
            unique_id,
            school,
            session_ref.get("schoolYear"),
            session_ref.get("sessionName"),
            obj.get("eventDate"),
            category,
        )
        section = None
    else:
        section_ref = ref(obj, "sectionReference")
        school = section_ref.get("schoolId")
        vendor_id = make_id(
            "studentSectionAttendanceEvent",
            unique_id,
            *section_parts(section_ref),
            obj.get("eventDate"),
            category,
        )
        section = section_id(section_ref)
    if vendor_id is None:
        return None
    return AttendanceEvent(
        vendor_id=vendor_id,
        student_id=make_id("student", unique_id),
        date=read_date(obj.get("eventDate")),
        status=d.lookup(d.ATTENDANCE, category),
        section_id=section,
        school_id=edorg_id(school),
    )


def group_by(items: Iterable[Json], key: str, field: str) -> dict[str, list[Json]]:
    """Items grouped by ``item[key][field]`` (as text), in order."""
    grouped: dict[str, list[Json]] = {}
    for item in items:
        value = ref(item, key).get(field)
        if value not in (None, ""):
            grouped.setdefault(str(value), []).append(item)
    return grouped
