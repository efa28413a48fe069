"""Reading a OneRoster CSV set: a folder or a zip, its manifest, and its rows.

The reader knows files and columns, not records: it finds each file whatever
the case of its name (and under one wrapping folder in a zip), decodes it,
normalises the header (case, whitespace, BOM, known misspellings) and yields
rows as ``{column: stripped cell}`` with the 1-based line the row starts on.
"""

from __future__ import annotations

import csv
import io
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "ALIASES",
    "COLUMNS",
    "MULTI_VALUED",
    "RACE_COLUMNS",
    "REQUIRED",
    "CsvSet",
    "CsvTable",
    "Manifest",
    "SetUnreadable",
    "read_manifest",
]

_RACES = (
    "americanIndianOrAlaskaNative",
    "asian",
    "blackOrAfricanAmerican",
    "nativeHawaiianOrOtherPacificIslander",
    "white",
    "demographicRaceTwoOrMoreRaces",
)


def _columns(names: str) -> tuple[str, ...]:
    return ("sourcedId", "status", "dateLastModified", *names.split())


# Every column OneRoster 1.1 and 1.2 define for the files Homeroom reads, plus
# the Homeroom extension files. A column outside this list is reported once.
COLUMNS: dict[str, tuple[str, ...]] = {
    "orgs": _columns("name type identifier parentSourcedId"),
    "academicSessions": _columns("title type startDate endDate parentSourcedId schoolYear"),
    "courses": _columns("schoolYearSourcedId title courseCode grades orgSourcedId subjects subjectCodes"),
    "classes": _columns(
        "title grades courseSourcedId classCode classType location schoolSourcedId termSourcedIds"
        " subjects subjectCodes periods"
    ),
    "users": _columns(
        "enabledUser orgSourcedIds role username userIds givenName familyName middleName identifier"
        " email sms phone agentSourcedIds grades password userMasterIdentifier preferredGivenName"
        " preferredMiddleName preferredFamilyName primaryOrgSourcedId pronouns"
    ),
    "roles": _columns("userSourcedId roleType role beginDate endDate orgSourcedId userProfileSourcedId"),
    "enrollments": _columns("classSourcedId schoolSourcedId userSourcedId role primary beginDate endDate"),
    "demographics": _columns(
        "birthDate sex " + " ".join(_RACES) + " hispanicOrLatinoEthnicity countryOfBirthCode"
        " stateOfBirthAbbreviation cityOfBirth publicSchoolResidenceStatus"
        " metadata.programs metadata.directoryOptOut"
    ),
    "categories": _columns("title weight"),
    "lineItems": _columns(
        "title description assignDate dueDate classSourcedId categorySourcedId gradingPeriodSourcedId"
        " academicSessionSourcedId resultValueMin resultValueMax schoolSourcedId"
    ),
    "results": _columns(
        "lineItemSourcedId studentSourcedId scoreStatus score scoreDate comment textScore"
        " classSourcedId inProgress incomplete late missing"
    ),
    "courseGrades": _columns("classSourcedId studentSourcedId academicSessionSourcedId letterGrade percent"),
    "attendance": _columns("userSourcedId classSourcedId schoolSourcedId date attendanceStatus"),
}

RACE_COLUMNS = _RACES

# Columns a row cannot do without: a row shorter than its header is padded
# with blanks only when the cells it lacks are not among these.
REQUIRED: dict[str, frozenset[str]] = {
    stem: frozenset(("sourcedId", *names.split()))
    for stem, names in {
        "orgs": "",
        "academicSessions": "startDate endDate",
        "courses": "",
        "classes": "",
        "users": "",
        "roles": "userSourcedId role",
        "enrollments": "classSourcedId userSourcedId role",
        "demographics": "",
        "categories": "",
        "lineItems": "classSourcedId",
        "results": "lineItemSourcedId studentSourcedId",
        "courseGrades": "classSourcedId studentSourcedId",
        "attendance": "userSourcedId date attendanceStatus",
    }.items()
}

# Columns holding comma-separated lists: the ones an unquoted list spills out of.
MULTI_VALUED: dict[str, frozenset[str]] = {
    "courses": frozenset({"grades", "subjects", "subjectCodes"}),
    "classes": frozenset({"grades", "termSourcedIds", "subjects", "subjectCodes", "periods"}),
    "users": frozenset({"orgSourcedIds", "userIds", "agentSourcedIds", "grades"}),
    "demographics": frozenset({"metadata.programs"}),
}

# Variant spellings seen in real feeds, each mapped onto the spec's name and
# reported once per file with the fix. Keys are lower-cased. Origins: Moodle's
# enrol_oneroster 1.2 fixtures (``dataLastModified``, ``prefferedGivenName``),
# the 1.2 JSON binding (``preferredFirstName``), OAT's oneroster-import 1.1
# samples (``grade``, ``schoolYearId``, ``userId``, ``agents``, demographics
# keyed by ``userSourcedId``) and OneRoster 1.0 (``birthdate``, ``orgSourcedId``).
ALIASES: dict[str, dict[str, str]] = {
    "*": {
        "datalastmodified": "dateLastModified",
        "datelastmodifed": "dateLastModified",
        "lastmodified": "dateLastModified",
        "sourceid": "sourcedId",
    },
    "users": {
        "prefferedgivenname": "preferredGivenName",
        "prefferedmiddlename": "preferredMiddleName",
        "prefferedfamilyname": "preferredFamilyName",
        "preferredfirstname": "preferredGivenName",
        "preferredlastname": "preferredFamilyName",
        "preferredname": "preferredGivenName",
        "firstname": "givenName",
        "lastname": "familyName",
        "userid": "userIds",
        "agents": "agentSourcedIds",
        "agentsourcedid": "agentSourcedIds",
        "grade": "grades",
        "orgsourcedid": "orgSourcedIds",
        "enabled": "enabledUser",
    },
    "courses": {"grade": "grades", "schoolyearid": "schoolYearSourcedId", "subject": "subjects"},
    "classes": {
        "grade": "grades",
        "termsourcedid": "termSourcedIds",
        "subject": "subjects",
        "period": "periods",
    },
    "demographics": {"usersourcedid": "sourcedId"},
    "academicSessions": {"schoolyearid": "schoolYear"},
}

# Extension columns: 1.0's ``ext_*`` and 1.1's ``metadata.*`` are the spec's
# ways to add columns, so they are ignored without a warning.
_EXTENSION_PREFIXES = ("metadata.", "ext_", "ext.")


class SetUnreadable(Exception):
    """The folder or zip cannot be read at all (not one bad row: the whole set)."""


class CsvSet:
    """The files of one OneRoster set, in a folder or a zip, found by name case-insensitively."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        self._members: dict[str, str] = {}
        try:
            if path.is_dir():
                for entry in path.iterdir():
                    if entry.is_file() and entry.suffix.lower() == ".csv":
                        self._members[entry.name.lower()] = entry.name
            else:
                self._zip = zipfile.ZipFile(path)
                self._index_zip(self._zip)
        except (OSError, zipfile.BadZipFile) as exc:
            raise SetUnreadable(f"cannot read {path.name}: {exc}") from None

    def _index_zip(self, archive: zipfile.ZipFile) -> None:
        # Zips made by "compress folder" wrap the files in one folder; accept
        # files at the top level or one folder down, top level first.
        for depth in (1, 2):
            for member in archive.namelist():
                parts = member.split("/")
                if len(parts) != depth or parts[0] == "__MACOSX" or not member.lower().endswith(".csv"):
                    continue
                self._members.setdefault(parts[-1].lower(), member)

    def names(self) -> list[str]:
        """File names in the set as they are spelled there (``Users.csv`` stays so)."""
        return sorted(member.rsplit("/", 1)[-1] for member in self._members.values())

    def has(self, file_name: str) -> bool:
        """Whether the set holds ``file_name`` (any case)."""
        return file_name.lower() in self._members

    def read_text(self, file_name: str) -> tuple[str, bool]:
        """The decoded text of a file and whether it had to be read as Windows-1252."""
        member = self._members[file_name.lower()]
        try:
            raw = self._zip.read(member) if self._zip is not None else (self.path / member).read_bytes()
        except (OSError, zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError) as exc:
            # RuntimeError: an encrypted member; NotImplementedError: an unknown compression.
            raise SetUnreadable(f"cannot read {file_name}: {exc}") from None
        try:
            return raw.decode("utf-8-sig"), False
        except UnicodeDecodeError:
            # Spreadsheet exports on Windows still produce cp1252; better read
            # than refuse, and the caller reports the guess.
            return raw.decode("cp1252", errors="replace").lstrip("\ufeff"), True

    def close(self) -> None:
        """Release the zip file handle, if any."""
        if self._zip is not None:
            self._zip.close()
            self._zip = None


def _padded_cells(text: str, delimiter: str) -> bool:
    # Stripping every cell costs as much as parsing the file; most exports
    # have no padding at all, which a few substring scans can prove. A tab
    # anywhere (when tab is not the delimiter) just makes us strip.
    if delimiter != "\t" and "\t" in text:
        return True
    edges = (delimiter, '"', "\n")
    return text[:1] == " " or " \r" in text or any(f"{e} " in text or f" {e}" in text for e in edges)


def _delimiter(header_line: str) -> str:
    # OneRoster says comma; some exports use tab or semicolon. Sniff the
    # header only: cells may contain any of these.
    counts = {sep: header_line.count(sep) for sep in (",", "\t", ";", "|")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > 0 else ","


@dataclass(slots=True)
class CsvTable:
    """One file: its canonical header, unknown and duplicate columns, and its rows.

    ``header[i]`` names ``cells[i]`` of every row ``rows()`` yields; checking
    the cell count is the caller's business.
    """

    file_name: str
    header: list[str]
    unknown: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    text: str = ""
    delimiter: str = ","

    @classmethod
    def parse(cls, file_name: str, text: str, known: tuple[str, ...]) -> CsvTable:
        """Read the header of ``text`` and map its names onto ``known`` columns.

        Names are trimmed and matched in any case; a known variant spelling
        is mapped (and listed in ``renamed``); empty cells at the end of the
        header (``...,orgSourcedId,,``) are dropped, so rows without them fit.
        """
        end = text.find("\n")
        delimiter = _delimiter(text[: end if end >= 0 else len(text)])
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            raw_header = next(reader, [])
        except csv.Error:
            raw_header = []  # no usable header: the loader refuses the file
        names = [raw.strip().lstrip("\ufeff").strip() for raw in raw_header]
        while names and not names[-1]:
            names.pop()
        by_key = {name.lower(): name for name in known}
        stem = file_name.rsplit(".", 1)[0]
        aliases = {**ALIASES["*"], **ALIASES.get(stem, {})}
        header: list[str] = []
        table = cls(file_name, header, text=text, delimiter=delimiter)
        for index, name in enumerate(names):
            key = name.lower()
            canonical = by_key.get(key)
            if canonical is None and key in aliases:
                canonical = aliases[key]
                table.renamed.append((name, canonical))
            if canonical is None:
                canonical = name
                if name and not key.startswith(_EXTENSION_PREFIXES):
                    table.unknown.append(name)
            if not name or canonical in header:
                if name:
                    table.duplicates.append(canonical)
                # Keep the first occurrence; a later one (or an unnamed
                # column) gets a name no mapping reads.
                canonical = f"#{index}"
            header.append(canonical)
        return table

    def rows(self) -> Iterator[tuple[int, list[str] | str]]:
        """``(line, stripped cells)`` of every non-blank data row, in file order.

        A row the CSV parser refuses (a cell over the parser's size limit)
        comes as ``(line, reason)`` instead, and reading goes on after it.
        """
        reader = csv.reader(io.StringIO(self.text, newline=""), delimiter=self.delimiter)
        next(reader, None)
        previous_end = reader.line_num
        strip = _padded_cells(self.text, self.delimiter)
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                # The csv module's messages describe the syntax, never the cell.
                yield previous_end + 1, f"not readable as CSV: {exc}"
                previous_end = reader.line_num
                continue
            line = previous_end + 1
            previous_end = reader.line_num
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue
            yield line, list(map(str.strip, cells)) if strip else cells


@dataclass(slots=True)
class Manifest:
    """What ``manifest.csv`` says: the OneRoster version and each file's mode.

    ``modes`` maps a file stem (``users``) to ``bulk``/``delta``/``absent``;
    ``lines`` remembers where each entry is, so problems can point at it.
    """

    version: str | None = None
    modes: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    present: bool = False


def read_manifest(files: CsvSet) -> Manifest:
    """Parse ``manifest.csv`` (``propertyName,value``); an empty manifest when absent."""
    manifest = Manifest()
    if not files.has("manifest.csv"):
        return manifest
    manifest.present = True
    text, _ = files.read_text("manifest.csv")
    table = CsvTable.parse("manifest.csv", text, ("propertyName", "value"))
    for line, cells in table.rows():
        if isinstance(cells, str) or len(cells) < 2:
            continue
        name, value = cells[0], cells[1]
        if name.lower() == "oneroster.version":
            manifest.version = value
        elif name.lower().startswith("file."):
            stem = name[5:]
            manifest.modes[stem.lower()] = value.lower()
            manifest.lines[stem.lower()] = line
    return manifest
