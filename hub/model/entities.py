"""The entities a source can serve, and the record class of each."""

from __future__ import annotations

from enum import StrEnum

from hub.model.records import (
    AcademicSession,
    Assignment,
    AttendanceEvent,
    Course,
    CourseGrade,
    Enrollment,
    Guardian,
    Organization,
    Record,
    Score,
    Section,
    Student,
    Teacher,
)


class Entity(StrEnum):
    """Names of unified entities, equal to their GraphQL type names."""

    ORGANIZATION = "Organization"
    ACADEMIC_SESSION = "AcademicSession"
    COURSE = "Course"
    SECTION = "Section"
    STUDENT = "Student"
    TEACHER = "Teacher"
    GUARDIAN = "Guardian"
    ENROLLMENT = "Enrollment"
    ASSIGNMENT = "Assignment"
    SCORE = "Score"
    COURSE_GRADE = "CourseGrade"
    ATTENDANCE_EVENT = "AttendanceEvent"


RECORD_TYPES: dict[Entity, type[Record]] = {
    Entity.ORGANIZATION: Organization,
    Entity.ACADEMIC_SESSION: AcademicSession,
    Entity.COURSE: Course,
    Entity.SECTION: Section,
    Entity.STUDENT: Student,
    Entity.TEACHER: Teacher,
    Entity.GUARDIAN: Guardian,
    Entity.ENROLLMENT: Enrollment,
    Entity.ASSIGNMENT: Assignment,
    Entity.SCORE: Score,
    Entity.COURSE_GRADE: CourseGrade,
    Entity.ATTENDANCE_EVENT: AttendanceEvent,
}

ENTITY_OF: dict[type[Record], Entity] = {cls: entity for entity, cls in RECORD_TYPES.items()}
