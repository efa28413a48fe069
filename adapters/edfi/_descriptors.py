"""Ed-Fi descriptors mapped onto the unified vocabulary.

A descriptor is a URI whose text after ``#`` is its code value
(``uri://ed-fi.org/SexDescriptor#Female``). Districts may publish their own
namespaces, so only the code value is read, compared without case, spaces,
hyphens, commas or underscores. The tables hold the Ed-Fi default code values
(and common district spellings); a value not in a table maps to ``None``
(unknown), never to a guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from adapters.edfi._keys import code_value

__all__ = [
    "ATTENDANCE",
    "CLASSROOM_POSITIONS",
    "GRADE_LEVELS",
    "PROGRAM_CHARACTERISTICS",
    "RACES",
    "RACE_ORDER",
    "RELATIONS",
    "SCORE_STATUSES",
    "SEXES",
    "STAFF_ROLES",
    "TWO_OR_MORE_RACES",
    "fold",
    "lookup",
    "term_type",
]


def fold(text: str) -> str:
    """The comparison key of a code value: ``Early departure`` == ``early-departure``."""
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _table(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {fold(spelling): value for spelling, value in pairs}


def lookup(table: Mapping[str, str], descriptor: object) -> str | None:
    """The unified value of ``descriptor`` in ``table`` (``None`` when unknown or absent)."""
    code = code_value(descriptor)
    return table.get(fold(code)) if code else None


SEXES = _table(
    [
        ("Female", "female"),
        ("Male", "male"),
        ("Not Selected", "unspecified"),
        ("Unknown", "unspecified"),
        ("Non-binary", "other"),
        ("Other", "other"),
    ]
)
"""SexDescriptor -> ``sex`` (lower case, as OneRoster's demographics)."""

# OneRoster's race flag names, in the order the other adapters list them.
RACE_ORDER = (
    "americanIndianOrAlaskaNative",
    "asian",
    "blackOrAfricanAmerican",
    "nativeHawaiianOrOtherPacificIslander",
    "white",
    "demographicRaceTwoOrMoreRaces",
)
TWO_OR_MORE_RACES = "demographicRaceTwoOrMoreRaces"
RACES = _table(
    [
        ("American Indian - Alaska Native", "americanIndianOrAlaskaNative"),
        ("American Indian or Alaska Native", "americanIndianOrAlaskaNative"),
        ("Asian", "asian"),
        ("Black - African American", "blackOrAfricanAmerican"),
        ("Black or African American", "blackOrAfricanAmerican"),
        ("Native Hawaiian - Pacific Islander", "nativeHawaiianOrOtherPacificIslander"),
        ("Native Hawaiian or Other Pacific Islander", "nativeHawaiianOrOtherPacificIslander"),
        ("White", "white"),
        ("Two or More Races", TWO_OR_MORE_RACES),
    ]
)
"""RaceDescriptor -> OneRoster race flag name ("Choose Not to Respond", "Other": none)."""

GRADE_LEVELS = _table(
    [
        ("Infant/toddler", "IT"),
        ("Preschool/Prekindergarten", "PK"),
        ("Prekindergarten", "PK"),
        ("Early Education", "PR"),
        ("Transitional Kindergarten", "TK"),
        ("Kindergarten", "KG"),
        ("First grade", "01"),
        ("Second grade", "02"),
        ("Third grade", "03"),
        ("Fourth grade", "04"),
        ("Fifth grade", "05"),
        ("Sixth grade", "06"),
        ("Seventh grade", "07"),
        ("Eighth grade", "08"),
        ("Ninth grade", "09"),
        ("Tenth grade", "10"),
        ("Eleventh grade", "11"),
        ("Twelfth grade", "12"),
        ("Grade 13", "13"),
        ("Postsecondary", "PS"),
        ("Adult Education", "AE"),
        ("Ungraded", "UG"),
        ("Other", "Other"),
    ]
)
"""GradeLevelDescriptor -> CEDS grade level code (``KG``, ``01`` ... ``12``)."""

ATTENDANCE = _table(
    [
        ("In Attendance", "PRESENT"),
        ("Present", "PRESENT"),
        ("Unexcused Absence", "ABSENT"),
        ("Absent", "ABSENT"),
        ("Excused Absence", "EXCUSED"),
        ("Tardy", "TARDY"),
        ("Early departure", "EARLY_DEPARTURE"),
    ]
)
"""AttendanceEventCategoryDescriptor -> ``AttendanceEvent.status`` ("Partial": unknown)."""

STAFF_ROLES = _table(
    [
        ("Teacher", "teacher"),
        ("Substitute Teacher", "teacher"),
        ("Instructional Aide", "aide"),
        ("Principal", "principal"),
        ("Assistant Principal", "principal"),
        ("School Leader", "principal"),
        ("School Administrator", "siteAdministrator"),
        ("Counselor", "counselor"),
        ("Superintendent", "districtAdministrator"),
        ("Assistant Superintendent", "districtAdministrator"),
        ("LEA Administrator", "districtAdministrator"),
        ("LEA System Administrator", "systemAdministrator"),
    ]
)
"""StaffClassificationDescriptor -> ``Teacher.role`` (OneRoster role names)."""

CLASSROOM_POSITIONS: dict[str, tuple[str, bool]] = {
    fold("Teacher of Record"): ("teacher", True),
    fold("Assistant Teacher"): ("teacher", False),
    fold("Support Teacher"): ("teacher", False),
    fold("Substitute Teacher"): ("teacher", False),
    fold("Aide"): ("aide", False),
    fold("Instructional Aide"): ("aide", False),
    fold("Paraprofessional"): ("aide", False),
}
"""ClassroomPositionDescriptor -> (enrollment role, primary)."""

RELATIONS = _table(
    [
        ("Parent", "parent"),
        ("Mother", "parent"),
        ("Father", "parent"),
        ("Mother, step", "parent"),
        ("Father, step", "parent"),
        ("Mother, foster", "parent"),
        ("Father, foster", "parent"),
        ("Stepmother", "parent"),
        ("Stepfather", "parent"),
        ("Guardian", "guardian"),
        ("Court appointed guardian", "guardian"),
        ("Relative", "relative"),
        ("Other relative", "relative"),
        ("Grandparent", "relative"),
        ("Grandmother", "relative"),
        ("Grandfather", "relative"),
        ("Great Grandparent", "relative"),
        ("Aunt", "relative"),
        ("Uncle", "relative"),
        ("Brother", "relative"),
        ("Sister", "relative"),
        ("Sibling", "relative"),
        ("Cousin", "relative"),
        ("Nephew", "relative"),
        ("Niece", "relative"),
    ]
)
"""RelationDescriptor -> ``Guardian.relationship`` (parent | guardian | relative)."""

SCORE_STATUSES = _table(
    [
        ("Fully Graded", "FULLY_GRADED"),
        ("Graded", "FULLY_GRADED"),
        ("Partially Graded", "PARTIALLY_GRADED"),
        ("Submitted", "SUBMITTED"),
        ("Turned In", "SUBMITTED"),
        ("Not Submitted", "NOT_SUBMITTED"),
        ("Missing", "NOT_SUBMITTED"),
        ("Exempt", "EXEMPT"),
        ("Excused", "EXEMPT"),
    ]
)
"""SubmissionStatusDescriptor -> ``Score.score_status``."""

PROGRAM_CHARACTERISTICS = _table(
    [
        ("Economic Disadvantaged", "FRL"),
        ("Free and Reduced Lunch", "FRL"),
        ("Section 504 Handicapped", "504"),
        ("Section 504", "504"),
        ("Limited English Proficiency", "ELL"),
        ("English Learner", "ELL"),
    ]
)
"""StudentCharacteristicDescriptor -> program code (``FRL``, ``504``, ``ELL``)."""


def term_type(descriptor: object) -> str:
    """TermDescriptor -> ``AcademicSession.type``: a year, a semester, else a term."""
    code = fold(code_value(descriptor) or "")
    if code in ("yearround", "year", "schoolyear", "fullyear"):
        return "schoolYear"
    if "semester" in code:
        return "semester"
    return "term"
