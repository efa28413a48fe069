"""What the synthetic district teaches: school levels, grade codes, course catalogue.

Each grade takes six core courses, one per schedule *slot*; a slot holds the
same subject in every grade of a level, so one teacher can take, say, the
mathematics sections of several grades without two of them meeting in the same
period. Electives are the optional seventh course and mix grades.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = [
    "ALL_GRADES",
    "CORE_SLOTS",
    "CourseOffering",
    "SchoolLevel",
    "core_courses",
    "elective_courses",
    "grade_label",
    "topics_for",
]

ALL_GRADES: tuple[str, ...] = ("KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12")
CORE_SLOTS = 6


class SchoolLevel(Enum):
    """A kind of school and the grades it serves."""

    ELEMENTARY = ("Elementary School", ALL_GRADES[0:6])
    MIDDLE = ("Middle School", ALL_GRADES[6:9])
    HIGH = ("High School", ALL_GRADES[9:13])
    # Only in districts too small for separate middle and high schools.
    SECONDARY = ("Junior/Senior High School", ALL_GRADES[6:13])

    def __init__(self, name_suffix: str, grades: tuple[str, ...]) -> None:
        self.name_suffix = name_suffix
        self.grades = grades


@dataclass(frozen=True, slots=True)
class CourseOffering:
    """A course as the catalogue describes it, before it is placed in a school."""

    code: str
    title: str
    subject: str
    grades: tuple[str, ...]
    semester_long: bool = False


def grade_label(grade: str) -> str:
    """``"Kindergarten"`` or ``"Grade 3"`` for a grade code."""
    return "Kindergarten" if grade == "KG" else f"Grade {int(grade)}"


_ELEMENTARY_SLOTS: tuple[tuple[str, str, str], ...] = (
    ("HR", "Homeroom", "Homeroom"),
    ("MATH", "Mathematics", "Mathematics"),
    ("READ", "Reading", "English Language Arts"),
    ("SCI", "Science", "Science"),
    ("ART", "Art", "Art"),
    ("PE", "Physical Education", "Physical Education"),
)

# Per slot: code, subject, title per grade. Middle and high share slot subjects
# so a junior/senior high can hand one teacher sections of both.
_SECONDARY_SLOTS: tuple[tuple[str, str, dict[str, str]], ...] = (
    (
        "MATH",
        "Mathematics",
        {"06": "Math 6", "07": "Math 7", "08": "Pre-Algebra"}
        | {"09": "Algebra I", "10": "Geometry", "11": "Algebra II", "12": "Precalculus"},
    ),
    (
        "ENG",
        "English Language Arts",
        {"06": "English 6", "07": "English 7", "08": "English 8"}
        | {"09": "English 9", "10": "English 10", "11": "English 11", "12": "English 12"},
    ),
    (
        "SCI",
        "Science",
        {"06": "Earth Science", "07": "Life Science", "08": "Physical Science"}
        | {"09": "Biology", "10": "Chemistry", "11": "Physics", "12": "Environmental Science"},
    ),
    (
        "SS",
        "Social Studies",
        {"06": "Ancient Civilizations", "07": "World Geography", "08": "U.S. History to 1877"}
        | {
            "09": "World Geography",
            "10": "World History",
            "11": "U.S. History",
            "12": "Government and Economics",
        },
    ),
    (
        "PE",
        "Physical Education",
        {"06": "Physical Education 6", "07": "Physical Education 7", "08": "Physical Education 8"}
        | {"09": "Physical Education 9", "10": "Health", "11": "Lifetime Fitness", "12": "Lifetime Fitness"},
    ),
    (
        "WL",
        "World Languages",
        {"06": "Exploratory Languages", "07": "Spanish 7", "08": "Spanish 8"}
        | {"09": "Spanish I", "10": "Spanish II", "11": "Spanish III", "12": "Spanish IV"},
    ),
)

_ELECTIVES: dict[SchoolLevel, tuple[tuple[str, str, str], ...]] = {
    SchoolLevel.ELEMENTARY: (
        ("MUS", "Music", "Music"),
        ("LIB", "Library Skills", "Library Media"),
        ("TECH", "Technology", "Computer Science"),
    ),
    SchoolLevel.MIDDLE: (
        ("BAND", "Band", "Music"),
        ("CHOIR", "Choir", "Music"),
        ("ART", "Art", "Art"),
        ("CSD", "Computer Science Discoveries", "Computer Science"),
    ),
    SchoolLevel.HIGH: (
        ("ART1", "Art I", "Art"),
        ("BAND", "Concert Band", "Music"),
        ("CSP", "Computer Science Principles", "Computer Science"),
        ("PSY", "Psychology", "Social Studies"),
        ("FIN", "Personal Finance", "Career and Technical Education"),
        ("JOUR", "Journalism", "English Language Arts"),
        ("THEA", "Theater Arts", "Performing Arts"),
    ),
    SchoolLevel.SECONDARY: (
        ("BAND", "Band", "Music"),
        ("ART", "Art", "Art"),
        ("CSP", "Computer Science", "Computer Science"),
        ("PSY", "Psychology", "Social Studies"),
    ),
}


def core_courses(level: SchoolLevel, grade: str) -> tuple[CourseOffering, ...]:
    """The six core courses of ``grade``, indexed by schedule slot."""
    grade_tag = grade if grade == "KG" else f"{int(grade):02d}"
    if level is SchoolLevel.ELEMENTARY:
        label = grade_label(grade)
        return tuple(
            CourseOffering(f"{code}-{grade_tag}", f"{label} {title}", subject, (grade,))
            for code, title, subject in _ELEMENTARY_SLOTS
        )
    return tuple(
        CourseOffering(f"{code}-{grade_tag}", titles[grade], subject, (grade,))
        for code, subject, titles in _SECONDARY_SLOTS
    )


def elective_courses(level: SchoolLevel) -> tuple[CourseOffering, ...]:
    """The electives a school of ``level`` offers; high-school electives last a semester."""
    return tuple(
        CourseOffering(code, title, subject, level.grades, semester_long=level is SchoolLevel.HIGH)
        for code, title, subject in _ELECTIVES[level]
    )


_TOPICS: dict[str, tuple[str, ...]] = {
    "Homeroom": ("Goal Setting", "Reading Log", "Class Meeting", "Agenda Check"),
    "Mathematics": (
        "Number Sense",
        "Problem Solving",
        "Patterns",
        "Measurement",
        "Data and Graphs",
        "Geometry",
        "Fractions",
        "Equations",
    ),
    "English Language Arts": (
        "Reading Response",
        "Vocabulary",
        "Narrative Writing",
        "Informational Text",
        "Poetry",
        "Grammar",
        "Book Report",
        "Persuasive Essay",
    ),
    "Science": (
        "Lab Report",
        "Scientific Method",
        "Ecosystems",
        "Energy",
        "Matter",
        "Weather",
        "Cells",
        "Forces and Motion",
    ),
    "Social Studies": (
        "Map Skills",
        "Primary Sources",
        "Timeline",
        "Civics",
        "Current Events",
        "Document Analysis",
        "Economics",
    ),
    "Physical Education": ("Fitness Log", "Teamwork", "Skills Check", "Fitness Assessment", "Nutrition"),
    "Art": ("Sketchbook", "Color Theory", "Self-Portrait", "Clay Project", "Perspective Drawing"),
    "Music": ("Rhythm", "Listening Journal", "Performance", "Music Theory", "Scales"),
    "World Languages": ("Vocabulary", "Dialogue", "Culture Project", "Listening", "Verb Conjugation"),
    "Computer Science": ("Algorithms", "Debugging", "Digital Citizenship", "Programming Project"),
    "Library Media": ("Research Skills", "Book Talk", "Citations"),
}
_GENERIC_TOPICS: tuple[str, ...] = ("Unit Review", "Reflection", "Practice", "Presentation")


def topics_for(subject: str) -> tuple[str, ...]:
    """Assignment topics that read naturally for ``subject``."""
    return _TOPICS.get(subject, _GENERIC_TOPICS)
