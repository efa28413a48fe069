"""Which fields the schema's filter arguments compare.

Filtering on a field discloses something about it (a student listed under
``gradeLevel: "07"`` is in grade 7), so the policy decides those fields like
selected ones: a filter on a field the caller may read under no relation is
refused as FORBIDDEN, and a filter matches only rows on which the caller may
read the field. ``search`` compares a person's names: it is refused only when
the caller may read none of them, and matches on those it may read.
"""

from __future__ import annotations

from hub.policy import ArgumentReads

STUDENT_NAMES = ("givenName", "familyName", "middleName", "preferredName")

FILTER_READS: ArgumentReads = {
    ("Query", "students", "filter", "schoolId"): ("Student", ("school",)),
    ("Query", "students", "filter", "gradeLevel"): ("Student", ("gradeLevel",)),
    ("Query", "students", "filter", "search"): ("Student", STUDENT_NAMES),
    ("Query", "students", "filter", "sectionId"): ("Section", ("students",)),
    ("Query", "sections", "filter", "schoolId"): ("Section", ("school",)),
    ("Query", "sections", "filter", "termId"): ("Section", ("terms",)),
    ("Query", "sections", "filter", "teacherId"): ("Teacher", ("sections",)),
    ("Student", "sections", "termId", None): ("Section", ("terms",)),
    ("Teacher", "sections", "termId", None): ("Section", ("terms",)),
    ("Student", "courseGrades", "termId", None): ("CourseGrade", ("term",)),
    ("Student", "attendance", "from", None): ("AttendanceEvent", ("date",)),
    ("Student", "attendance", "to", None): ("AttendanceEvent", ("date",)),
    ("Section", "assignments", "dueAfter", None): ("Assignment", ("dueDate",)),
    # A score's section is its assignment's (Score.assignment reads both links).
    ("Student", "scores", "sectionId", None): ("Score", ("assignment",)),
    ("Subscription", "scoreChanged", "studentId", None): ("Score", ("student",)),
    ("Subscription", "scoreChanged", "sectionId", None): ("Score", ("assignment",)),
    ("Subscription", "attendanceChanged", "studentId", None): ("AttendanceEvent", ("student",)),
    ("Subscription", "attendanceChanged", "sectionId", None): ("AttendanceEvent", ("section",)),
    ("Subscription", "courseGradeChanged", "studentId", None): ("CourseGrade", ("student",)),
    ("Subscription", "courseGradeChanged", "sectionId", None): ("CourseGrade", ("section",)),
}

# Groups of which one readable field is enough for the filter to run.
ANY_OF: dict[str, frozenset[str]] = {"Student": frozenset(f"Student.{name}" for name in STUDENT_NAMES)}
