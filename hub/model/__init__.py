"""Unified records and entity names shared by the hub and every adapter."""

from hub.model.entities import ENTITY_OF, RECORD_TYPES, Entity
from hub.model.records import (
    AcademicSession,
    Assignment,
    AttendanceEvent,
    Course,
    CourseGrade,
    Enrollment,
    Guardian,
    Organization,
    Person,
    Record,
    Score,
    Section,
    Student,
    Teacher,
    data_fields,
    of_type,
)

__all__ = [
    "ENTITY_OF",
    "RECORD_TYPES",
    "AcademicSession",
    "Assignment",
    "AttendanceEvent",
    "Course",
    "CourseGrade",
    "Enrollment",
    "Entity",
    "Guardian",
    "Organization",
    "Person",
    "Record",
    "Score",
    "Section",
    "Student",
    "Teacher",
    "data_fields",
    "of_type",
]
