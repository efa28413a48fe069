"""The ``oneroster-csv`` source: a OneRoster 1.1/1.2 bulk CSV set, served from memory."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pydantic import field_validator

from adapters.oneroster_csv._index import DATE_FROM, DATE_TO, RecordTable
from adapters.oneroster_csv._loader import load_set
from adapters.oneroster_csv._reader import SetUnreadable
from adapters.oneroster_csv._watch import SetWatcher, set_signature
from hub.sdk import (
    RECORD_TYPES,
    BadVendorData,
    Capabilities,
    Entity,
    EntitySupport,
    FetchRequest,
    FetchResult,
    LoadReport,
    Record,
    SourceConfig,
    SourceUnavailable,
    UnsupportedRequest,
    data_fields,
)

__all__ = ["CAPABILITIES", "OneRosterCsvAdapter", "OneRosterCsvConfig"]

log = logging.getLogger("homeroom.sources")

SEARCH = "search"
_NAME_PARTS = ("given_name", "preferred_name", "middle_name", "family_name")


def name_matches(record: Record, term: str) -> bool:
    """Whether every word of ``term`` occurs in the person's names (case-blind)."""
    text = " ".join(str(part) for name in _NAME_PARTS if (part := getattr(record, name, None))).casefold()
    return all(word in text for word in term.casefold().split())


_FILTERS: dict[Entity, frozenset[str]] = {
    Entity.ORGANIZATION: frozenset({"type", "parent_id"}),
    Entity.ACADEMIC_SESSION: frozenset({"type", "parent_id"}),
    Entity.COURSE: frozenset({"org_id"}),
    Entity.SECTION: frozenset({"school_id", "course_id", "term_ids"}),
    Entity.STUDENT: frozenset(
        {"school_id", "grade_level", "guardian_ids", "directory_opt_out", "email", SEARCH}
    ),
    Entity.TEACHER: frozenset({"school_ids", "role", "email", SEARCH}),
    Entity.GUARDIAN: frozenset({"student_ids", "email"}),
    Entity.ENROLLMENT: frozenset({"section_id", "person_id", "role", "school_id"}),
    Entity.ASSIGNMENT: frozenset({"section_id"}),
    Entity.SCORE: frozenset({"student_id", "assignment_id", "section_id"}),
    Entity.COURSE_GRADE: frozenset({"student_id", "section_id", "term_id"}),
    Entity.ATTENDANCE_EVENT: frozenset({"student_id", "section_id", "school_id", DATE_FROM, DATE_TO}),
}

CAPABILITIES = Capabilities(
    entities={
        entity: EntitySupport(
            fields=frozenset(data_fields(record_type)), filters=_FILTERS[entity], narrowing=True
        )
        for entity, record_type in RECORD_TYPES.items()
    }
)
"""Every entity, every field, statically: a file or column missing from a set
gives no records or empty values rather than a different declaration."""


class OneRosterCsvConfig(SourceConfig):
    """A ``[[sources]]`` table of kind ``oneroster-csv``.

    ``path`` is the set's folder or ``.zip`` file (checked when the config is
    read, so a wrong path fails at start-up naming the source and the key).
    ``watch`` re-reads the set when its files change (a new nightly export
    needs no restart); ``watch_polling`` polls instead of relying on the
    file system's change notifications (network shares, some container volumes).
    """

    path: Path
    watch: bool = True
    watch_polling: bool = False

    @field_validator("path")
    @classmethod
    def _path_is_a_set(cls, value: Path) -> Path:
        path = value.expanduser()
        if path.is_dir():
            return path
        if not path.exists():
            raise ValueError(f"{path} does not exist (give the folder or .zip of the OneRoster set)")
        if not zipfile.is_zipfile(path):
            raise ValueError(f"{path} is neither a folder nor a .zip file")
        return path


@dataclass(frozen=True, slots=True)
class _Loaded:
    version: str | None
    tables: dict[Entity, RecordTable]


def _load_tables(path: Path) -> tuple[_Loaded, LoadReport]:
    loaded = load_set(path)
    tables = {
        entity: RecordTable(RECORD_TYPES[entity], loaded.records[entity], _FILTERS[entity] - {SEARCH})
        for entity in RECORD_TYPES
    }
    return _Loaded(loaded.version, tables), loaded.report


class OneRosterCsvAdapter:
    """Serves a OneRoster CSV set from memory, loaded by :meth:`open`.

    ``open`` reads the whole set and swaps it in at once, so concurrent
    fetches see either the old set or the new one; with ``watch`` (the
    default) the set is read again the same way whenever its files change.
    Paging cursors are decimal offsets into the matching rows, in file order.
    """

    def __init__(self, config: OneRosterCsvConfig) -> None:
        self.name = config.name
        self._path = config.path
        self._loaded: _Loaded | None = None
        self.last_report: LoadReport | None = None
        """The report of the last successful read (``open``'s, or a re-read's)."""
        self._watcher = (
            SetWatcher(config.name, config.path, self._reread, force_polling=config.watch_polling)
            if config.watch
            else None
        )

    @property
    def version(self) -> str | None:
        """The OneRoster version of the loaded set (from the manifest, else guessed)."""
        return self._loaded.version if self._loaded else None

    def capabilities(self) -> Capabilities:
        """Every entity with all its fields; filters as declared in ``_FILTERS``."""
        return CAPABILITIES

    async def open(self) -> LoadReport:
        """Load the set in a worker thread and start watching its files; return
        counts and row problems."""
        report = await self._read()
        if self._watcher is not None:
            self._watcher.start()
        return report

    async def _read(self) -> LoadReport:
        if not self._path.exists():
            raise SourceUnavailable(self.name, f"{self._path} does not exist; check key 'path'")
        # Taken before reading: a file changed during the read differs from it.
        signature = set_signature(self._path)
        try:
            loaded, report = await asyncio.to_thread(_load_tables, self._path)
        except SetUnreadable as exc:
            raise BadVendorData(self.name, str(exc)) from None
        self._loaded = loaded
        self.last_report = report
        if self._watcher is not None:
            self._watcher.read_signature = signature
        return report

    async def _reread(self) -> None:
        report = await self._read()
        log.info(
            "source %s: files changed; read again: %s",
            self.name,
            ", ".join(f"{entity} {count}" for entity, count in sorted(report.counts.items())),
        )

    async def fetch(self, request: FetchRequest) -> FetchResult:
        """Answer from the indexes; only ``vendor_id`` and ``request.fields`` are filled."""
        loaded = self._loaded
        if loaded is None:
            raise SourceUnavailable(self.name, "the set is not loaded (open() was not called or failed)")
        support = CAPABILITIES.entities.get(request.entity)
        if support is None:
            raise UnsupportedRequest(self.name, f"entity {request.entity} is not served")
        unknown_fields = request.fields - support.fields - {"vendor_id"}
        if unknown_fields:
            names = ", ".join(sorted(unknown_fields))
            raise UnsupportedRequest(self.name, f"{request.entity} fields not served: {names}")
        unknown_filters = set(request.filters) - support.filters
        if unknown_filters:
            names = ", ".join(sorted(unknown_filters))
            raise UnsupportedRequest(self.name, f"{request.entity} cannot be filtered by {names}")
        filters = {
            name: tuple(values)
            for name, values in request.filters.items()
            if name not in (DATE_FROM, DATE_TO, SEARCH)
        }
        date_from = self._date_filter(request, DATE_FROM)
        date_to = self._date_filter(request, DATE_TO)
        offset = self._offset(request.cursor)
        if request.limit is not None and request.limit < 0:
            raise UnsupportedRequest(self.name, "limit must not be negative")

        table = loaded.tables[request.entity]
        positions = table.select(request.ids, filters, date_from, date_to)
        if request.visible_if:
            positions = table.narrow(positions, request.visible_if)
        terms = request.filters.get(SEARCH)
        if terms:
            records_by_position = table.records
            positions = [p for p in positions if name_matches(records_by_position[p], terms[0])]
        total = len(positions)
        end = total if request.limit is None else min(total, offset + request.limit)
        records = table.project(positions[offset:end], request.fields)
        next_cursor = str(end) if end < total else None
        return FetchResult(records=records, next_cursor=next_cursor, total=total)

    async def aclose(self) -> None:
        """Stop watching the files and drop the loaded set."""
        if self._watcher is not None:
            await self._watcher.stop()
        self._loaded = None

    def _date_filter(self, request: FetchRequest, name: str) -> dt.date | None:
        values = request.filters.get(name)
        if values is None:
            return None
        try:
            (value,) = values
            return dt.date.fromisoformat(value)
        except ValueError:
            raise UnsupportedRequest(self.name, f"{name} takes one ISO date (YYYY-MM-DD)") from None

    def _offset(self, cursor: str | None) -> int:
        if cursor is None:
            return 0
        if not (cursor.isascii() and cursor.isdigit()):
            raise UnsupportedRequest(self.name, "unknown paging cursor (not one this source returned)")
        return int(cursor)
