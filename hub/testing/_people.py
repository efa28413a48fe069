"""People of the synthetic district: students, their families, and staff.

Everything here is drawn from a caller's seeded ``random.Random``; nothing
reads the clock or global random state, so the same seed gives the same people.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import itertools
import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from hub.testing._calendar import SchoolCalendar
from hub.testing._catalog import ALL_GRADES, SchoolLevel
from hub.testing._names import (
    AREA_CODES,
    FAMILY_NAMES,
    FEMALE_GIVEN_NAMES,
    FOREIGN_BIRTH_PLACES,
    MALE_GIVEN_NAMES,
    NICKNAMES,
    US_BIRTH_PLACES,
)

__all__ = [
    "RACE_COLUMNS",
    "GuardianRecord",
    "IdSequence",
    "Mailboxes",
    "Person",
    "School",
    "StaffMember",
    "StudentRecord",
    "form_families",
    "make_staff_member",
    "make_students",
]

# demographics.csv race columns, in header order.
RACE_COLUMNS: tuple[str, ...] = (
    "americanIndianOrAlaskaNative",
    "asian",
    "blackOrAfricanAmerican",
    "nativeHawaiianOrOtherPacificIslander",
    "white",
)
# Rough US public-school shares; the remainder reports two or more races.
_RACE_CUMULATIVE_WEIGHTS: tuple[float, ...] = tuple(itertools.accumulate((0.01, 0.055, 0.15, 0.004, 0.73)))
_SINGLE_RACE_FLAGS: tuple[tuple[bool, ...], ...] = tuple(
    tuple(column == chosen for column in range(len(RACE_COLUMNS))) for chosen in range(len(RACE_COLUMNS))
)
_TWO_OR_MORE_SHARE = 0.05
_HISPANIC_SHARE = 0.28

_IEP_SHARE = 0.08
_SECTION_504_SHARE = 0.025
_ELL_SHARE = 0.05  # with IEP/504 gives ~15% of students in at least one of the three
_FRL_SHARE = 0.40
_OPT_OUT_SHARE = 0.03
_PREFERRED_NAME_SHARE = 0.05
_MIDDLE_NAME_SHARE = 0.7
_RETAINED_SHARE = 0.02
_CHRONIC_ABSENCE_SHARE = 0.10

_FAMILY_SIZES: tuple[int, ...] = (1, 2, 3, 4)
_FAMILY_SIZE_CUMULATIVE_WEIGHTS: tuple[float, ...] = tuple(itertools.accumulate((0.60, 0.30, 0.08, 0.02)))
_TWO_GUARDIAN_SHARE = 0.7
_OTHER_SURNAME_GUARDIAN_SHARE = 0.12
_RELATIONSHIPS: tuple[str, ...] = ("parent", "guardian", "relative")
_RELATIONSHIP_CUMULATIVE_WEIGHTS: tuple[float, ...] = tuple(itertools.accumulate((0.90, 0.07, 0.03)))
_GUARDIAN_MAIL_DOMAINS: tuple[str, ...] = ("example.com", "example.net", "example.org")


@dataclass(slots=True)
class School:
    """A school org of the district."""

    number: int
    sourced_id: str
    name: str
    level: SchoolLevel
    identifier: str


@dataclass(slots=True, kw_only=True)
class Person:
    """What users.csv holds for anyone: names, contact, ids."""

    sourced_id: str
    sis_id: int
    given_name: str = ""
    middle_name: str = ""
    family_name: str = ""
    preferred_given_name: str = ""
    email: str = ""
    username: str = ""
    identifier: str = ""
    phone: str = ""
    sms: str = ""
    primary_org_id: str = ""
    agent_ids: list[str] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class StudentRecord(Person):
    """A student with demographics and the hidden traits that drive their grades."""

    index: int
    grade: str
    school: School
    sex: str
    birth_date: dt.date
    race_flags: tuple[bool, ...]
    two_or_more_races: bool
    hispanic: bool
    programs: tuple[str, ...]
    directory_opt_out: bool
    birth_country: str
    birth_state: str
    birth_city: str
    ability: float  # typical fraction of points earned
    absence_rate: float


@dataclass(slots=True, kw_only=True)
class GuardianRecord(Person):
    """A parent, guardian or relative; ``agent_ids`` lists the children."""

    relationship: str
    school_ids: list[str] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class StaffMember(Person):
    """A teacher, principal, counselor or district administrator."""

    role: str
    org_id: str
    room: str = ""


class IdSequence:
    """Unique, increasing numbers with small random gaps, like real SIS ids."""

    def __init__(self, rng: random.Random, start: int, max_gap: int) -> None:
        self._rng = rng
        self._last = start
        self._max_gap = max_gap

    def next(self) -> int:
        """The next id."""
        self._last += 1 + int(self._rng.random() * self._max_gap)
        return self._last


class Mailboxes:
    """Hands out ``first.last<n>`` mailbox names, unique across all domains.

    Unique local parts, not just unique addresses, because usernames are the
    local part and a student and a teacher must not share one.
    """

    def __init__(self) -> None:
        self._taken: dict[str, int] = {}

    def address(self, given_name: str, family_name: str, domain: str) -> str:
        """``first.last@domain``, with a number from the second holder of a name on."""
        base = f"{_ascii_slug(given_name)}.{_ascii_slug(family_name)}"
        holders = self._taken.get(base, 0) + 1
        self._taken[base] = holders
        local = base if holders == 1 else f"{base}{holders}"
        return f"{local}@{domain}"


@functools.lru_cache(maxsize=4096)
def _ascii_slug(name: str) -> str:
    """Lower-case ASCII letters of ``name`` ("O'Brien" -> "obrien", "José" -> "jose")."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in decomposed.lower() if "a" <= ch <= "z")


def _weighted_index(rng: random.Random, cumulative_weights: Sequence[float]) -> int:
    """An index drawn with the given cumulative weights (``random.choices`` is slower)."""
    return bisect.bisect(cumulative_weights, rng.random() * cumulative_weights[-1])


def fake_phone(rng: random.Random, area_code: str) -> str:
    """A number in the 555-01xx range reserved for fiction."""
    return f"({area_code}) 555-01{int(rng.random() * 100):02d}"


def _given_name(rng: random.Random, sex: str) -> str:
    if sex == "female":
        return rng.choice(FEMALE_GIVEN_NAMES)
    if sex == "male":
        return rng.choice(MALE_GIVEN_NAMES)
    return rng.choice(FEMALE_GIVEN_NAMES if rng.random() < 0.5 else MALE_GIVEN_NAMES)


def _draw_sex(rng: random.Random) -> str:
    draw = rng.random()
    if draw < 0.49:
        return "female"
    if draw < 0.99:
        return "male"
    return "unspecified" if draw < 0.997 else "other"


def make_students(
    rng: random.Random, schools: Sequence[School], count: int, calendar: SchoolCalendar, sis_ids: IdSequence
) -> list[StudentRecord]:
    """``count`` students spread evenly over grades KG..12 and the schools serving them.

    Names, emails and guardians come later, from :func:`form_families`.
    """
    serving = {grade: [s for s in schools if grade in s.level.grades] for grade in ALL_GRADES}
    state_ids = IdSequence(rng, rng.randrange(1_000_000_000, 2_000_000_000), 97)
    school_year_start = calendar.year.start.year
    students: list[StudentRecord] = []
    for index in range(count):
        # Round-robin over grades, then over the schools of that grade, so every
        # grade and every school is populated evenly.
        grade = ALL_GRADES[index % len(ALL_GRADES)]
        schools_of_grade = serving[grade]
        school = schools_of_grade[(index // len(ALL_GRADES)) % len(schools_of_grade)]
        students.append(_make_student(rng, index, grade, school, school_year_start, sis_ids, state_ids))
    return students


def _make_student(
    rng: random.Random,
    index: int,
    grade: str,
    school: School,
    school_year_start: int,
    sis_ids: IdSequence,
    state_ids: IdSequence,
) -> StudentRecord:
    race_flags, two_or_more = _draw_races(rng)
    programs = _draw_programs(rng)
    country, state, city = _draw_birth_place(rng, is_english_learner="ELL" in programs)
    state_id = str(state_ids.next())
    chronic = rng.random() < _CHRONIC_ABSENCE_SHARE
    return StudentRecord(
        sourced_id=f"stu-{index + 1:06d}",
        sis_id=sis_ids.next(),
        identifier=state_id,
        primary_org_id=school.sourced_id,
        index=index,
        grade=grade,
        school=school,
        sex=_draw_sex(rng),
        birth_date=_draw_birth_date(rng, grade, school_year_start),
        race_flags=race_flags,
        two_or_more_races=two_or_more,
        hispanic=rng.random() < _HISPANIC_SHARE,
        programs=programs,
        directory_opt_out=rng.random() < _OPT_OUT_SHARE,
        birth_country=country,
        birth_state=state,
        birth_city=city,
        ability=min(0.99, max(0.35, rng.gauss(0.82, 0.09))),
        absence_rate=0.12 if chronic else 0.02,
    )


def _draw_birth_date(rng: random.Random, grade: str, school_year_start: int) -> dt.date:
    """A birth date giving the usual age for ``grade`` on September 1 (KG: 5)."""
    age = 5 if grade == "KG" else 5 + int(grade)
    if rng.random() < _RETAINED_SHARE:
        age += 1
    earliest = dt.date(school_year_start - age - 1, 9, 2)
    return earliest + dt.timedelta(days=int(rng.random() * 365))


def _draw_races(rng: random.Random) -> tuple[tuple[bool, ...], bool]:
    if rng.random() < _TWO_OR_MORE_SHARE:
        first, second = rng.sample(range(len(RACE_COLUMNS)), 2)
        return tuple(i in (first, second) for i in range(len(RACE_COLUMNS))), True
    return _SINGLE_RACE_FLAGS[_weighted_index(rng, _RACE_CUMULATIVE_WEIGHTS)], False


def _draw_programs(rng: random.Random) -> tuple[str, ...]:
    """IEP or 504 (never both: an IEP covers what a 504 plan would), ELL, FRL."""
    programs: list[str] = []
    disability_draw = rng.random()
    if disability_draw < _IEP_SHARE:
        programs.append("IEP")
    elif disability_draw < _IEP_SHARE + _SECTION_504_SHARE:
        programs.append("504")
    if rng.random() < _ELL_SHARE:
        programs.append("ELL")
    if rng.random() < _FRL_SHARE:
        programs.append("FRL")
    return tuple(programs)


def _draw_birth_place(rng: random.Random, is_english_learner: bool) -> tuple[str, str, str]:
    """Country, state and city of birth; blank for about a fifth of students."""
    if rng.random() < (0.7 if is_english_learner else 0.03):
        country, city = rng.choice(FOREIGN_BIRTH_PLACES)
        return country, "", city
    if rng.random() < 0.2:
        return "", "", ""
    state, city = rng.choice(US_BIRTH_PLACES)
    return "US", state, city


def form_families(
    rng: random.Random,
    students: Sequence[StudentRecord],
    student_domain: str,
    area_code: str,
    mailboxes: Mailboxes,
    sis_ids: IdSequence,
) -> list[GuardianRecord]:
    """Group students into families, name them, and create their guardians.

    The first family always has two children, so a guardian with two children
    exists. Every student gets one or two guardians.
    """
    order = list(range(len(students)))
    rng.shuffle(order)
    guardians: list[GuardianRecord] = []
    position = 0
    while position < len(order):
        size = _FAMILY_SIZES[_weighted_index(rng, _FAMILY_SIZE_CUMULATIVE_WEIGHTS)]
        if position == 0 and len(order) >= 2:
            size = 2
        children = [students[i] for i in order[position : position + size]]
        position += size
        family_name = rng.choice(FAMILY_NAMES)
        for child in children:
            _name_student(rng, child, family_name, student_domain, mailboxes)
        guardians.extend(
            _make_guardians(rng, children, family_name, area_code, mailboxes, sis_ids, len(guardians))
        )
    return guardians


def _name_student(
    rng: random.Random, student: StudentRecord, family_name: str, domain: str, mailboxes: Mailboxes
) -> None:
    student.given_name = _given_name(rng, student.sex)
    student.family_name = family_name
    if rng.random() < _MIDDLE_NAME_SHARE:
        student.middle_name = _given_name(rng, student.sex)
    if rng.random() < _PREFERRED_NAME_SHARE:
        student.preferred_given_name = NICKNAMES.get(student.given_name) or _given_name(rng, student.sex)
    student.email = mailboxes.address(student.given_name, family_name, domain)
    student.username = student.email.split("@", 1)[0]


def _make_guardians(
    rng: random.Random,
    children: Sequence[StudentRecord],
    family_name: str,
    area_code: str,
    mailboxes: Mailboxes,
    sis_ids: IdSequence,
    guardians_so_far: int,
) -> list[GuardianRecord]:
    count = 2 if rng.random() < _TWO_GUARDIAN_SHARE else 1
    child_ids = [child.sourced_id for child in children]
    school_ids = list(dict.fromkeys(child.school.sourced_id for child in children))
    home_phone = fake_phone(rng, area_code)
    guardians: list[GuardianRecord] = []
    for number in range(count):
        # The first guardian listed is more often the mother.
        female_share = 0.6 if number == 0 else 0.4
        sex = "female" if rng.random() < female_share else "male"
        given_name = _given_name(rng, sex)
        own_family_name = (
            rng.choice(FAMILY_NAMES) if rng.random() < _OTHER_SURNAME_GUARDIAN_SHARE else family_name
        )
        email = mailboxes.address(given_name, own_family_name, rng.choice(_GUARDIAN_MAIL_DOMAINS))
        mobile = fake_phone(rng, area_code if rng.random() < 0.8 else rng.choice(AREA_CODES))
        relationship = _RELATIONSHIPS[_weighted_index(rng, _RELATIONSHIP_CUMULATIVE_WEIGHTS)]
        guardian = GuardianRecord(
            sourced_id=f"gdn-{guardians_so_far + number + 1:06d}",
            sis_id=sis_ids.next(),
            given_name=given_name,
            middle_name=_given_name(rng, sex) if rng.random() < 0.3 else "",
            family_name=own_family_name,
            email=email,
            username=email,
            phone=home_phone if number == 0 else mobile,
            sms=mobile if rng.random() < 0.6 else "",
            primary_org_id=school_ids[0],
            agent_ids=list(child_ids),
            relationship=relationship,
            school_ids=school_ids,
        )
        guardians.append(guardian)
    for child in children:
        child.agent_ids.extend(g.sourced_id for g in guardians)
    return guardians


def make_staff_member(
    rng: random.Random,
    sourced_id: str,
    role: str,
    org_id: str,
    domain: str,
    area_code: str,
    mailboxes: Mailboxes,
    sis_ids: IdSequence,
    employee_ids: IdSequence,
) -> StaffMember:
    """A staff member with a district mailbox and a work phone."""
    sex = _draw_sex(rng)
    given_name = _given_name(rng, sex)
    family_name = rng.choice(FAMILY_NAMES)
    email = mailboxes.address(given_name, family_name, domain)
    return StaffMember(
        sourced_id=sourced_id,
        sis_id=sis_ids.next(),
        given_name=given_name,
        middle_name=_given_name(rng, sex) if rng.random() < 0.4 else "",
        family_name=family_name,
        email=email,
        username=email.split("@", 1)[0],
        identifier=f"E{employee_ids.next():07d}",
        phone=fake_phone(rng, area_code),
        primary_org_id=org_id,
        role=role,
        org_id=org_id,
    )
