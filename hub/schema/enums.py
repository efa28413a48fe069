"""GraphQL enums. Values equal the strings unified records hold, so records
serialise without conversion."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum
class OrgType(Enum):
    DISTRICT = "district"
    SCHOOL = "school"
    DEPARTMENT = "department"
    STATE = "state"
    LOCAL = "local"
    NATIONAL = "national"


@strawberry.enum
class SessionType(Enum):
    SCHOOL_YEAR = "schoolYear"
    SEMESTER = "semester"
    TERM = "term"
    GRADING_PERIOD = "gradingPeriod"


@strawberry.enum
class EnrollmentRole(Enum):
    STUDENT = "student"
    TEACHER = "teacher"
    AIDE = "aide"
    ADMINISTRATOR = "administrator"
    PROCTOR = "proctor"


@strawberry.enum
class ScoreStatus(Enum):
    NOT_SUBMITTED = "NOT_SUBMITTED"
    SUBMITTED = "SUBMITTED"
    PARTIALLY_GRADED = "PARTIALLY_GRADED"
    FULLY_GRADED = "FULLY_GRADED"
    EXEMPT = "EXEMPT"


@strawberry.enum
class AttendanceStatus(Enum):
    PRESENT = "PRESENT"
    ABSENT = "ABSENT"
    TARDY = "TARDY"
    EXCUSED = "EXCUSED"
    EARLY_DEPARTURE = "EARLY_DEPARTURE"


@strawberry.enum
class SourceState(Enum):
    UP = "UP"
    DEGRADED = "DEGRADED"
    DOWN = "DOWN"
