"""A synthetic K-12 district written as a OneRoster 1.2 bulk CSV set.

The district feeds the vendor simulators, the demo and the tests. It is fully
determined by a :class:`DistrictSpec`: the same spec writes byte-identical
files, and the spec is recorded in ``manifest.csv`` so a folder can say which
district it holds (:func:`read_generated_spec`).

Besides the standard 1.2 files it writes two Homeroom extension files,
``courseGrades.csv`` and ``attendance.csv``, and two extension columns in
``demographics.csv``: ``metadata.programs`` and ``metadata.directoryOptOut``.
The school calendar rule is documented in :mod:`hub.testing._calendar`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from hub.testing._district import District, build_district, random_stream
from hub.testing._gradebook import Gradebook, attendance_rows, category_rows
from hub.testing._oneroster_csv import (
    ABSENT_FILES,
    HEADERS,
    MANIFEST_FILE,
    class_rows,
    course_rows,
    demographic_rows,
    enrollment_rows,
    org_rows,
    read_manifest,
    role_rows,
    session_rows,
    user_rows,
    write_csv,
)

__all__ = ["DistrictSpec", "GeneratedDistrict", "generate_district", "is_generated", "read_generated_spec"]

GENERATOR_ID = "synthetic/1"
SYSTEM_NAME = "Homeroom synthetic district"
SYSTEM_CODE = "homeroom-synthetic"
MIN_STUDENTS = 50
MAX_STUDENTS = 50_000
_MAX_ASSIGNMENTS_PER_SECTION = 100
_MAX_ATTENDANCE_DAYS = 200

Row = list[str]


@dataclass(frozen=True)
class DistrictSpec:
    """What to generate. Equal specs (with ``today`` set) give identical files.

    ``students`` is 50 .. 50,000. ``today`` defaults to the current date when
    the district is generated; the school year always contains it.
    ``attendance_days`` is how many of the most recent school days (weekdays of
    the school year, up to and including ``today``) carry a daily mark.
    """

    students: int = 500
    seed: int = 7
    today: dt.date | None = None
    assignments_per_section: int = 6
    attendance_days: int = 10

    def __post_init__(self) -> None:
        _check_range("students", self.students, MIN_STUDENTS, MAX_STUDENTS)
        _check_range("assignments_per_section", self.assignments_per_section, 0, _MAX_ASSIGNMENTS_PER_SECTION)
        _check_range("attendance_days", self.attendance_days, 0, _MAX_ATTENDANCE_DAYS)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise TypeError(f"DistrictSpec.seed must be an int, got {self.seed!r}")
        if self.today is not None and (
            isinstance(self.today, dt.datetime) or not isinstance(self.today, dt.date)
        ):
            raise TypeError(f"DistrictSpec.today must be a datetime.date or None, got {self.today!r}")


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"DistrictSpec.{name} must be an int, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"DistrictSpec.{name} must be between {low} and {high}, got {value}")


@dataclass(frozen=True)
class GeneratedDistrict:
    """Where a district was written, the spec it was written from (with ``today``
    resolved), and the number of data rows of each file by file name."""

    out_dir: Path
    spec: DistrictSpec
    counts: dict[str, int] = field(default_factory=dict)


def generate_district(out_dir: Path, spec: DistrictSpec = DistrictSpec()) -> GeneratedDistrict:
    """Write the district of ``spec`` into ``out_dir`` (created if missing).

    Existing files of the set are overwritten; ``manifest.csv`` is written
    last, so an interrupted run is not mistaken for a complete one.
    """
    today = spec.today if spec.today is not None else dt.date.today()
    resolved = DistrictSpec(
        students=spec.students,
        seed=spec.seed,
        today=today,
        assignments_per_section=spec.assignments_per_section,
        attendance_days=spec.attendance_days,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / MANIFEST_FILE).unlink(missing_ok=True)
    district = build_district(resolved.seed, resolved.students, today)
    stamp = f"{today.isoformat()}T23:30:00Z"  # a nightly export on the evening of today
    counts = {
        file_name: write_csv(out_dir / file_name, HEADERS[file_name], rows)
        for file_name, rows in _file_rows(district, resolved, stamp)
    }
    write_csv(out_dir / MANIFEST_FILE, ("propertyName", "value"), _manifest_rows(resolved))
    return GeneratedDistrict(out_dir=out_dir, spec=resolved, counts=counts)


def _file_rows(district: District, spec: DistrictSpec, stamp: str) -> Iterator[tuple[str, Iterator[Row]]]:
    """Each file name with its rows, in writing order.

    Lazily, because course grades are tallied while results are written.
    """
    roster: tuple[tuple[str, Callable[[District, str], Iterator[Row]]], ...] = (
        ("orgs.csv", org_rows),
        ("academicSessions.csv", session_rows),
        ("courses.csv", course_rows),
        ("classes.csv", class_rows),
        ("users.csv", user_rows),
        ("roles.csv", role_rows),
        ("demographics.csv", demographic_rows),
        ("enrollments.csv", enrollment_rows),
    )
    for file_name, rows_of in roster:
        yield file_name, rows_of(district, stamp)
    gradebook = Gradebook(
        district, random_stream(spec.seed, "gradebook"), spec.assignments_per_section, stamp
    )
    yield "categories.csv", category_rows(stamp)
    yield "lineItems.csv", gradebook.line_item_rows()
    yield "results.csv", gradebook.result_rows()
    yield "courseGrades.csv", gradebook.course_grade_rows()
    yield (
        "attendance.csv",
        attendance_rows(district, random_stream(spec.seed, "attendance"), spec.attendance_days, stamp),
    )


def _manifest_rows(spec: DistrictSpec) -> Iterator[Row]:
    assert spec.today is not None
    yield ["manifest.version", "1.0"]
    yield ["oneroster.version", "1.2"]
    for file_name in HEADERS:
        yield [f"file.{file_name.removesuffix('.csv')}", "bulk"]
    for name in ABSENT_FILES:
        yield [f"file.{name}", "absent"]
    yield ["source.systemName", SYSTEM_NAME]
    yield ["source.systemCode", SYSTEM_CODE]
    yield ["homeroom.generator", GENERATOR_ID]
    yield ["homeroom.seed", str(spec.seed)]
    yield ["homeroom.students", str(spec.students)]
    yield ["homeroom.today", spec.today.isoformat()]
    yield ["homeroom.assignmentsPerSection", str(spec.assignments_per_section)]
    yield ["homeroom.attendanceDays", str(spec.attendance_days)]


# Files whose presence says a folder holds a OneRoster CSV export, manifest or not
# (a real export may come without one; the CSV source reads it all the same).
_EXPORT_FILES = frozenset({"manifest.csv", "users.csv", "orgs.csv", "classes.csv", "enrollments.csv"})


def is_oneroster_set(dir: Path) -> bool:
    """Whether ``dir`` holds a OneRoster CSV set: its manifest, or any of the
    files every set has (names compared case-blind, as the CSV source reads them)."""
    try:
        names = {path.name.lower() for path in dir.iterdir() if path.is_file()}
    except (FileNotFoundError, NotADirectoryError):
        return False
    return bool(names & _EXPORT_FILES)


def is_generated(dir: Path) -> bool:
    """Whether ``dir/manifest.csv`` says this generator wrote the folder."""
    manifest = read_manifest(dir / MANIFEST_FILE)
    return manifest is not None and manifest.get("homeroom.generator") == GENERATOR_ID


def read_generated_spec(dir: Path) -> DistrictSpec | None:
    """The spec recorded in ``dir/manifest.csv``; None if this generator did not write it.

    Raises ValueError naming the property when our manifest holds a bad value.
    """
    manifest = read_manifest(dir / MANIFEST_FILE)
    if manifest is None or manifest.get("homeroom.generator") != GENERATOR_ID:
        return None

    def value(name: str) -> str:
        text = manifest.get(name)
        if text is None:
            raise ValueError(f"{dir / MANIFEST_FILE}: property {name!r} is missing; regenerate the district")
        return text

    try:
        return DistrictSpec(
            students=int(value("homeroom.students")),
            seed=int(value("homeroom.seed")),
            today=dt.date.fromisoformat(value("homeroom.today")),
            assignments_per_section=int(value("homeroom.assignmentsPerSection")),
            attendance_days=int(value("homeroom.attendanceDays")),
        )
    except (TypeError, ValueError) as error:
        raise ValueError(f"{dir / MANIFEST_FILE}: {error}; regenerate the district") from error
