"""Loading a whole OneRoster set: which files to read, in which order, and the report.

Files are read in reference order (orgs before classes before enrollments...)
so every reference can be checked against what was loaded. The checks every
file shares live here: cell count, sourcedId, status, duplicates. What a row
means lives in ``_mapping`` and ``_people``.
"""

from __future__ import annotations

import re
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
    Missing,
    Refs,
    Rejected,
    RowMapper,
)
from adapters.oneroster_csv._people import PeopleBuilder
from adapters.oneroster_csv._reader import (
    COLUMNS,
    MULTI_VALUED,
    REQUIRED,
    CsvSet,
    CsvTable,
    Manifest,
    SetUnreadable,
    read_manifest,
)
from adapters.oneroster_csv._values import ENROLLMENT_ROLES, BadValue, parse_datetime
from hub.sdk import AcademicSession, Entity, FileStats, LoadReport, Organization, Record, RowProblem

__all__ = ["SKIPPED", "LoadedSet", "load_set"]

T = TypeVar("T")
K = TypeVar("K")

# The key of ``LoadReport.counts`` for rows skipped because their status says
# they are gone (``tobedeleted``, ``inactive``): not problems, but counted.
SKIPPED = "skipped"
_GONE = frozenset({"tobedeleted", "inactive"})
_KNOWN_VERSIONS = ("1.1", "1.2")
_COLUMN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.]{0,63}")
_MANIFEST = "manifest.csv"
# What a file's records are called in ``Missing.what``: a row referring to a
# record its file marks as gone is skipped with it, not rejected.
_WHAT = {
    "orgs": ("org",),
    "academicSessions": ("academic session",),
    "courses": ("course",),
    "classes": ("class",),
    "users": ("user", "student"),
    "lineItems": ("line item",),
}


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
        self.stats: dict[str, FileStats] = {}
        # sourcedIds of rows skipped as gone, by what they are ("class"...).
        self.gone: dict[str, set[str]] = {}
        # Files that could not be read at all: references into them stay unchecked.
        self.unreadable: set[str] = set()
        self.manifest_log = FileLog(_MANIFEST, self.problems)

    def load(self) -> LoadedSet:
        try:
            manifest = read_manifest(self.files)
        except SetUnreadable as exc:
            # Read as if absent: every file present is read.
            self.manifest_log.reject(0, f"{exc}; file not read")
            manifest = Manifest()
        to_read = self._files_to_read(manifest)
        version = manifest.version or self._guess_version(to_read)
        if version not in _KNOWN_VERSIONS:
            self.manifest_log.warn(0, "unknown OneRoster version; read as 1.1/1.2", "oneroster.version")
        refs = self.refs
        records: dict[Entity, list[Record]] = {entity: [] for entity in Entity}

        if "orgs" in to_read:
            orgs = self._records("orgs", ORGS, check_parents=True)
            refs.orgs = self._known("orgs", {org.vendor_id: org for org in orgs})
            records[Entity.ORGANIZATION] = list(orgs)
        if "academicSessions" in to_read:
            sessions = self._records("academicSessions", SESSIONS, check_parents=True)
            refs.sessions = self._known("academicSessions", {s.vendor_id: s for s in sessions})
            records[Entity.ACADEMIC_SESSION] = list(sessions)
        if "courses" in to_read:
            courses = self._records("courses", COURSES)
            refs.courses = self._known("courses", {course.vendor_id: course for course in courses})
            records[Entity.COURSE] = list(courses)
        if "classes" in to_read:
            sections = self._records("classes", SECTIONS)
            refs.sections = self._known("classes", {s.vendor_id: s for s in sections})
            records[Entity.SECTION] = list(sections)
        if "users" in to_read:
            self._load_people(to_read, records)
        if "enrollments" in to_read:
            records[Entity.ENROLLMENT] = list(self._records("enrollments", ENROLLMENTS))
        if "categories" in to_read:
            refs.categories = self._known("categories", dict(self._records("categories", CATEGORIES)))
        if "lineItems" in to_read:
            assignments = self._records("lineItems", ASSIGNMENTS)
            refs.assignments = self._known("lineItems", {a.vendor_id: a for a in assignments})
            records[Entity.ASSIGNMENT] = list(assignments)
        if "results" in to_read:
            records[Entity.SCORE] = list(self._records("results", SCORES))
        if "courseGrades" in to_read:
            records[Entity.COURSE_GRADE] = list(self._records("courseGrades", COURSE_GRADES))
        if "attendance" in to_read:
            records[Entity.ATTENDANCE_EVENT] = list(self._records("attendance", ATTENDANCE))

        counts = {entity.value: len(rows) for entity, rows in records.items()}
        counts[SKIPPED] = self.skipped
        self._tally()
        report = LoadReport(counts=counts, problems=self.problems, files=self.stats)
        return LoadedSet(version, records, report)

    def _tally(self) -> None:
        """Rows accepted, accepted with a warning and rejected, per file, from the problems."""
        rejected: dict[str, set[int]] = {}
        warned: dict[str, set[int]] = {}
        for problem in self.problems:
            if problem.line <= 1:
                continue  # the header or the file as a whole, not a row
            lines = rejected if problem.rejected else warned
            lines.setdefault(problem.where, set()).add(problem.line)
        for where, stats in self.stats.items():
            bad = rejected.get(where, set())
            stats.rejected = len(bad)
            stats.warned = len(warned.get(where, set()) - bad)
            stats.accepted = stats.read - stats.rejected - stats.skipped

    def _load_people(self, to_read: set[str], records: dict[Entity, list[Record]]) -> None:
        builder = PeopleBuilder(self.refs)
        users_log = self._consume("users", builder.USER_COLUMNS, builder.add_user)
        if "roles" in to_read:
            self._consume("roles", builder.ROLE_COLUMNS, builder.add_role)
        if "demographics" in to_read:
            self._consume("demographics", builder.DEMOGRAPHIC_COLUMNS, builder.add_demographics)
        hints = self._role_hints(builder.without_roles()) if "enrollments" in to_read else {}
        people = builder.build(users_log, hints)
        students = {student.vendor_id: student for student in people.students}
        self.refs.students = self._known("users", students)
        self.refs.people = self._known(
            "users",
            {
                **students,
                **{teacher.vendor_id: teacher for teacher in people.teachers},
                **{guardian.vendor_id: guardian for guardian in people.guardians},
            },
        )
        records[Entity.STUDENT] = list(people.students)
        records[Entity.TEACHER] = list(people.teachers)
        records[Entity.GUARDIAN] = list(people.guardians)

    def _known(self, stem: str, records: dict[str, K]) -> dict[str, K] | None:
        """``records`` for checking references, or ``None`` when the file could not
        be read: a file that cannot be read costs its own entity, not its referrers."""
        return None if stem in self.unreadable else records

    def _role_hints(self, users: set[str]) -> dict[str, str]:
        """The enrollment role of each of ``users`` (users with no role): a
        teacher's enrollments say they teach. Read only when some user lacks a role."""
        if not users:
            return {}
        try:
            table = self._table("enrollments", report=False)
        except SetUnreadable:
            return {}  # reported when the file is read for its rows
        header = table.header
        if "userSourcedId" not in header or "role" not in header:
            return {}
        user_at, role_at = header.index("userSourcedId"), header.index("role")
        hints: dict[str, str] = {}
        for _, cells in table.rows():
            if isinstance(cells, str) or len(cells) <= max(user_at, role_at):
                continue
            user_id = cells[user_at]
            if user_id in users:
                try:
                    role = ENROLLMENT_ROLES(cells[role_at])
                except ValueError:
                    continue
                # Any staff enrollment makes the person staff; students only learn.
                if hints.get(user_id, "student") == "student":
                    hints[user_id] = role
        return hints

    # -- which files -------------------------------------------------------

    def _files_to_read(self, manifest: Manifest) -> set[str]:
        known = {f"{stem}.csv".lower() for stem in COLUMNS} | {_MANIFEST}
        for name in self.files.names():
            if name.lower() not in known:
                FileLog(name, self.problems).warn(0, "not a file Homeroom reads; ignored")
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
            try:
                table = self._table("users", report=False)
            except SetUnreadable:
                return "1.2"  # reported when the file is read for its rows
            return "1.1" if "role" in table.header else "1.2"
        return "1.1"

    # -- rows ----------------------------------------------------------------

    def _table(self, stem: str, *, report: bool = True) -> CsvTable:
        """The file's table; its header's problems are reported unless ``report`` is false
        (a peek at the header, before the file is read for its rows)."""
        file_name = self._file_name(stem)
        text, guessed = self.files.read_text(file_name)
        table = CsvTable.parse(f"{stem}.csv", text, COLUMNS[stem])
        if not report:
            return table
        log = FileLog(table.file_name, self.problems)
        if guessed:
            log.warn(0, "not UTF-8; read as Windows-1252")
        if "sourcedId" not in table.header:
            # No header at all, perhaps: its "names" would be a row's values.
            return table
        for found, canonical in table.renamed:
            log.warn(1, f"column spelled {found}; read as {canonical}", canonical)
        for position, name in enumerate(table.unknown):
            # A name that is not spelled like a column may be a value typed
            # into the header: point at it by position instead.
            shown = name if _COLUMN_NAME.fullmatch(name) else f"#{position + 1} of the unknown columns"
            log.warn(1, "unknown column ignored", shown)
        for name in table.duplicates:
            log.warn(1, "column appears twice; the first one is read", name)
        return table

    def _readable_table(self, stem: str) -> CsvTable | None:
        """The file's table, or ``None`` (reported) when the file cannot be read."""
        try:
            return self._table(stem)
        except SetUnreadable as exc:
            # A damaged zip member: the message names the file and the damage only.
            FileLog(f"{stem}.csv", self.problems).reject(0, f"{exc}; file not read")
            self.unreadable.add(stem)
            self.stats[f"{stem}.csv"] = FileStats()
            return None

    def _file_name(self, stem: str) -> str:
        wanted = f"{stem}.csv".lower()
        return next(name for name in self.files.names() if name.lower() == wanted)

    def _rows(self, table: CsvTable, log: FileLog, columns: tuple[str, ...]) -> Iterator[tuple[int, Cells]]:
        """``(line, cells of columns)`` of the rows every file would accept."""
        header = table.header
        width = len(header)
        stats = self.stats[table.file_name] = FileStats()
        if "sourcedId" not in header:
            log.reject(1, "no sourcedId column; file not read", "sourcedId")
            self.unreadable.add(table.file_name.rsplit(".", 1)[0])
            return
        stem = table.file_name.rsplit(".", 1)[0]
        # A row may lack trailing cells when none of them is required.
        required = REQUIRED.get(stem, frozenset({"sourcedId"}))
        shortest = max((header.index(name) + 1 for name in required if name in header), default=1)
        # An unquoted list spills into the next cells; with one list column
        # in the file there is only one place the extra cells can belong.
        lists = [index for index, name in enumerate(header) if name in MULTI_VALUED.get(stem, ())]
        spill_at = lists[0] if len(lists) == 1 else None
        # A column the file lacks points one past the row, at an appended "".
        pick = itemgetter(*(header.index(name) if name in header else width for name in columns))
        id_at = header.index("sourcedId")
        status_at = header.index("status") if "status" in header else width
        # Homeroom does not use dateLastModified, but an unreadable one shows
        # how the export writes its dates (day first?): say so, keep the row.
        modified_at = header.index("dateLastModified") if "dateLastModified" in header else width
        append_blank = status_at == width or any(name not in header for name in columns)
        first_line: dict[str, int] = {}
        remember = first_line.setdefault
        padded: list[int] = []
        short: list[int] = []
        spilled: list[int] = []
        gone = self.gone
        for line, cells in table.rows():
            stats.read += 1
            if isinstance(cells, str):
                log.reject(line, cells)
                continue
            if len(cells) != width:
                if len(cells) < width:
                    if len(cells) < shortest:
                        log.reject(line, f"row has {len(cells)} cells, the header has {width}")
                        continue
                    cells.extend([""] * (width - len(cells)))
                    short.append(line)
                elif not any(cells[width:]):
                    # Trailing commas (the LMS-Toolkit sample's staff rows) add only
                    # empty cells: harmless, so note them once for the file.
                    del cells[width:]
                    padded.append(line)
                elif spill_at is not None:
                    extra = len(cells) - width
                    cells[spill_at : spill_at + extra + 1] = [
                        ",".join(cells[spill_at : spill_at + extra + 1])
                    ]
                    spilled.append(line)
                else:
                    log.reject(line, f"row has {len(cells)} cells, the header has {width}")
                    continue
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
                    stats.skipped += 1
                    for what in _WHAT.get(stem, ()):
                        gone.setdefault(what, set()).add(sourced_id)
                    continue
                if folded != "active":
                    log.warn(line, "unknown status; row read as active", "status")
            modified = cells[modified_at]
            if modified:
                try:
                    parse_datetime(modified)
                except BadValue as exc:
                    log.warn(line, f"{exc}; ignored", "dateLastModified")
            first = remember(sourced_id, line)
            if first != line:
                log.reject(line, f"duplicate sourcedId (first at line {first})", "sourcedId")
                continue
            yield line, pick(cells)
        if padded:
            log.warn(0, f"{len(padded)} rows end in extra empty cells (first at line {padded[0]}); ignored")
        if short:
            log.warn(
                0,
                f"{len(short)} rows have fewer cells than the header (first at line {short[0]}); "
                "the missing cells are read as blank",
            )
        for line in spilled:
            log.warn(
                line, "row holds an unquoted list; its extra cells were read into it", header[spill_at or 0]
            )

    def _gone(self, exc: Rejected) -> bool:
        """Whether ``exc`` refers to a record its file marks as gone (the row is skipped)."""
        return isinstance(exc, Missing) and exc.target in self.gone.get(exc.what, ())

    def _skip(self, where: str) -> None:
        self.skipped += 1
        self.stats[where].skipped += 1

    def _consume(
        self, stem: str, columns: tuple[str, ...], add: Callable[[Cells, int, FileLog], None]
    ) -> FileLog:
        table = self._readable_table(stem)
        log = FileLog(f"{stem}.csv", self.problems)
        if table is None:
            return log
        for line, cells in self._rows(table, log, columns):
            try:
                add(cells, line, log)
            except Rejected as exc:
                if self._gone(exc):
                    self._skip(table.file_name)
                else:
                    log.reject(line, exc.reason, exc.column)
        return log

    def _records(self, stem: str, mapper: RowMapper[T], *, check_parents: bool = False) -> list[T]:
        table = self._readable_table(stem)
        if table is None:
            return []
        log = FileLog(table.file_name, self.problems)
        refs, build = self.refs, mapper.build
        mapped: list[T] = []
        lines: list[int] = []
        for line, cells in self._rows(table, log, mapper.columns):
            try:
                mapped.append(build(cells, line, log, refs))
            except Rejected as exc:
                if self._gone(exc):
                    self._skip(table.file_name)
                else:
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
