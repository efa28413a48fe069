"""Loading a whole OneRoster set: which files to read, in which order, and the report.

Files are read in reference order (orgs before classes before enrollments...)
so every reference can be checked against what was loaded. The checks every
file shares live here: cell count, sourcedId, status, duplicates. What a row
means lives in ``_mapping`` and ``_people``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import TypeVar

from adapters.oneroster_csv._mapping import (
    ASSIGNMENTS,
    ATTENDANCE,
    CATEGORIES,
    COURSE_GRADES,
    COURSES,
    ENROLLMENTS,
    ORGS,
    SCORES,
    SECTIONS,
    SESSIONS,
    Cells,
    FileLog,
    Refs,
    Rejected,
    RowMapper,
)
from adapters.oneroster_csv._people import PeopleBuilder
from adapters.oneroster_csv._reader import COLUMNS, CsvSet, CsvTable, Manifest, read_manifest
from hub.sdk import AcademicSession, Entity, LoadReport, Organization, Record, RowProblem

__all__ = ["SKIPPED", "LoadedSet", "load_set"]

T = TypeVar("T")

# The key of ``LoadReport.counts`` for rows skipped because their status says
# they are gone (``tobedeleted``, ``inactive``): not problems, but counted.
SKIPPED = "skipped"
_GONE = frozenset({"tobedeleted", "inactive"})
_KNOWN_VERSIONS = ("1.1", "1.2")
_MANIFEST = "manifest.csv"


@dataclass(slots=True)
class LoadedSet:
    """Everything read from one set: records per entity (file order) and the report."""

    version: str | None
    records: dict[Entity, list[Record]]
    report: LoadReport


def load_set(path: Path) -> LoadedSet:
    """Read the folder or zip at ``path``; raises ``SetUnreadable`` only for the whole set."""
    files = CsvSet(path)
    try:
        return _SetLoader(files).load()
    finally:
        files.close()


class _SetLoader:
    def __init__(self, files: CsvSet) -> None:
        self.files = files
        self.problems: list[RowProblem] = []
        self.skipped = 0
        self.refs = Refs()
        self.manifest_log = FileLog(_MANIFEST, self.problems)

    def load(self) -> LoadedSet:
        manifest = read_manifest(self.files)
        to_read = self._files_to_read(manifest)
        version = manifest.version or self._guess_version(to_read)
        if version not in _KNOWN_VERSIONS:
            self.manifest_log.warn(0, "unknown OneRoster version; read as 1.1/1.2", "oneroster.version")
        refs = self.refs
        records: dict[Entity, list[Record]] = {entity: [] for entity in Entity}

        if "orgs" in to_read:
            orgs = self._records("orgs", ORGS, check_parents=True)
            refs.orgs = {org.vendor_id: org for org in orgs}
            records[Entity.ORGANIZATION] = list(orgs)
        if "academicSessions" in to_read:
            sessions = self._records("academicSessions", SESSIONS, check_parents=True)
            refs.sessions = {session.vendor_id: session for session in sessions}
            records[Entity.ACADEMIC_SESSION] = list(sessions)
        if "courses" in to_read:
            courses = self._records("courses", COURSES)
            refs.courses = {course.vendor_id: course for course in courses}
            records[Entity.COURSE] = list(courses)
        if "classes" in to_read:
            sections = self._records("classes", SECTIONS)
            refs.sections = {section.vendor_id: section for section in sections}
            records[Entity.SECTION] = list(sections)
        if "users" in to_read:
            self._load_people(to_read, records)
        if "enrollments" in to_read:
            records[Entity.ENROLLMENT] = list(self._records("enrollments", ENROLLMENTS))
        if "categories" in to_read:
            refs.categories = dict(self._records("categories", CATEGORIES))
        if "lineItems" in to_read:
            assignments = self._records("lineItems", ASSIGNMENTS)
            refs.assignments = {assignment.vendor_id: assignment for assignment in assignments}
            records[Entity.ASSIGNMENT] = list(assignments)
        if "results" in to_read:
            records[Entity.SCORE] = list(self._records("results", SCORES))
        if "courseGrades" in to_read:
            records[Entity.COURSE_GRADE] = list(self._records("courseGrades", COURSE_GRADES))
        if "attendance" in to_read:
            records[Entity.ATTENDANCE_EVENT] = list(self._records("attendance", ATTENDANCE))

        counts = {entity.value: len(rows) for entity, rows in records.items()}
        counts[SKIPPED] = self.skipped
        return LoadedSet(version, records, LoadReport(counts=counts, problems=self.problems))

    def _load_people(self, to_read: set[str], records: dict[Entity, list[Record]]) -> None:
        builder = PeopleBuilder(self.refs)
        users_log = self._consume("users", builder.USER_COLUMNS, builder.add_user)
        if "roles" in to_read:
            self._consume("roles", builder.ROLE_COLUMNS, builder.add_role)
        if "demographics" in to_read:
            self._consume("demographics", builder.DEMOGRAPHIC_COLUMNS, builder.add_demographics)
        people = builder.build(users_log)
        self.refs.students = {student.vendor_id: student for student in people.students}
        self.refs.people = {
            **self.refs.students,
            **{teacher.vendor_id: teacher for teacher in people.teachers},
            **{guardian.vendor_id: guardian for guardian in people.guardians},
        }
        records[Entity.STUDENT] = list(people.students)
        records[Entity.TEACHER] = list(people.teachers)
        records[Entity.GUARDIAN] = list(people.guardians)

    # -- which files -------------------------------------------------------

    def _files_to_read(self, manifest: Manifest) -> set[str]:
        log = self.manifest_log
        if not manifest.present:
            log.warn(0, "no manifest.csv; every known file present is read")
            return {stem for stem in COLUMNS if self.files.has(f"{stem}.csv")}
        to_read: set[str] = set()
        for stem in COLUMNS:
            file_name = f"{stem}.csv"
            mode = manifest.modes.get(stem.lower())
            line = manifest.lines.get(stem.lower(), 0)
            present = self.files.has(file_name)
            if mode == "absent":
                if present:
                    log.warn(line, f"{file_name} is marked absent; not read", f"file.{stem}")
                continue
            if mode is None:
                if present:
                    FileLog(file_name, self.problems).warn(0, "file not listed in manifest.csv; read anyway")
                    to_read.add(stem)
                continue
            if not present:
                log.reject(line, f"{file_name} is marked {mode} but missing from the set", f"file.{stem}")
                continue
            if mode == "delta":
                log.warn(line, f"{file_name} is a delta file; read as the whole set", f"file.{stem}")
            elif mode != "bulk":
                log.warn(line, f"unknown file mode for {file_name}; read as bulk", f"file.{stem}")
            to_read.add(stem)
        return to_read

    def _guess_version(self, to_read: set[str]) -> str:
        if "roles" in to_read:
            return "1.2"
        if "users" in to_read:
            table = self._table("users")
            return "1.1" if "role" in table.header else "1.2"
        return "1.1"

    # -- rows ----------------------------------------------------------------

    def _table(self, stem: str) -> CsvTable:
        file_name = self._file_name(stem)
        text, guessed = self.files.read_text(file_name)
        table = CsvTable.parse(f"{stem}.csv", text, COLUMNS[stem])
        log = FileLog(table.file_name, self.problems)
        if guessed:
            log.warn(0, "not UTF-8; read as Windows-1252")
        for name in table.unknown:
            log.warn(1, "unknown column ignored", name)
        for name in table.duplicates:
            log.warn(1, "column appears twice; the first one is read", name)
        return table

    def _file_name(self, stem: str) -> str:
        wanted = f"{stem}.csv".lower()
        return next(name for name in self.files.names() if name.lower() == wanted)

    def _rows(self, table: CsvTable, log: FileLog, columns: tuple[str, ...]) -> Iterator[tuple[int, Cells]]:
        """``(line, cells of columns)`` of the rows every file would accept."""
        header = table.header
        width = len(header)
        if "sourcedId" not in header:
            log.reject(1, "no sourcedId column; file not read", "sourcedId")
            return
        # A column the file lacks points one past the row, at an appended "".
        pick = itemgetter(*(header.index(name) if name in header else width for name in columns))
        id_at = header.index("sourcedId")
        status_at = header.index("status") if "status" in header else width
        append_blank = status_at == width or any(name not in header for name in columns)
        first_line: dict[str, int] = {}
        remember = first_line.setdefault
        padded_rows, first_padded = 0, 0
        for line, cells in table.rows():
            if isinstance(cells, str):
                log.reject(line, cells)
                continue
            if len(cells) != width:
                # Trailing commas (the LMS-Toolkit sample's staff rows) add only
                # empty cells: harmless, so note them once for the file.
                if len(cells) < width or any(cells[width:]):
                    log.reject(line, f"row has {len(cells)} cells, the header has {width}")
                    continue
                del cells[width:]
                padded_rows += 1
                first_padded = first_padded or line
            if append_blank:
                cells.append("")
            sourced_id = cells[id_at]
            if not sourced_id:
                log.reject(line, "sourcedId is blank", "sourcedId")
                continue
            status = cells[status_at]
            if status and status != "active":
                folded = status.lower()
                if folded in _GONE:
                    self.skipped += 1
                    continue
                if folded != "active":
                    log.warn(line, "unknown status; row read as active", "status")
            first = remember(sourced_id, line)
            if first != line:
                log.reject(line, f"duplicate sourcedId (first at line {first})", "sourcedId")
                continue
            yield line, pick(cells)
        if padded_rows:
            log.warn(first_padded, f"{padded_rows} rows end in extra empty cells; those cells are ignored")

    def _consume(
        self, stem: str, columns: tuple[str, ...], add: Callable[[Cells, int, FileLog], None]
    ) -> FileLog:
        table = self._table(stem)
        log = FileLog(table.file_name, self.problems)
        for line, cells in self._rows(table, log, columns):
            try:
                add(cells, line, log)
            except Rejected as exc:
                log.reject(line, exc.reason, exc.column)
        return log

    def _records(self, stem: str, mapper: RowMapper[T], *, check_parents: bool = False) -> list[T]:
        table = self._table(stem)
        log = FileLog(table.file_name, self.problems)
        refs, build = self.refs, mapper.build
        mapped: list[T] = []
        lines: list[int] = []
        for line, cells in self._rows(table, log, mapper.columns):
            try:
                mapped.append(build(cells, line, log, refs))
            except Rejected as exc:
                log.reject(line, exc.reason, exc.column)
                continue
            lines.append(line)
        if check_parents:
            _drop_unknown_parents(mapped, lines, log)
        return mapped


def _drop_unknown_parents(mapped: list[T], lines: list[int], log: FileLog) -> None:
    # A parent may come after its child in the file, so check once all are read.
    ids = {record.vendor_id for record in mapped if isinstance(record, Record)}
    for line, record in zip(lines, mapped, strict=True):
        if (
            isinstance(record, Organization | AcademicSession)
            and record.parent_id
            and (record.parent_id not in ids or record.parent_id == record.vendor_id)
        ):
            log.warn(line, "no such parent; left empty", "parentSourcedId")
            record.parent_id = None
