"""Writing small OneRoster CSV sets into temporary folders for the tests."""

from __future__ import annotations

import shutil
import textwrap
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TypeVar

from adapters.oneroster_csv import OneRosterCsvAdapter, OneRosterCsvConfig
from hub.sdk import Entity, FetchRequest, Record

RecordT = TypeVar("RecordT", bound=Record)


def write_set(folder: Path, files: Mapping[str, str]) -> Path:
    """Write ``{file name: CSV text}`` into ``folder``; the text is dedented and stripped.

    Lines end in CRLF like most exports; a text ending in no newline stays so.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        body = textwrap.dedent(text).strip("\n")
        (folder / name).write_bytes(body.replace("\n", "\r\n").encode("utf-8") + b"\r\n")
    return folder


def copy_set(source: Path, folder: Path) -> Path:
    """A writable copy of the set at ``source`` (the shared sample is read-only)."""
    shutil.copytree(source, folder)
    for path in folder.iterdir():
        path.chmod(0o644)
    return folder


def zip_set(folder: Path, archive: Path, *, wrap: str | None = None) -> Path:
    """Zip every file of ``folder``; ``wrap`` puts them under one folder inside the zip."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted(folder.iterdir()):
            out.write(path, f"{wrap}/{path.name}" if wrap else path.name)
    return archive


def read_lines(path: Path) -> list[str]:
    """A CSV file's lines without line ends."""
    return path.read_text(encoding="utf-8-sig").splitlines()


def write_lines(path: Path, lines: list[str], *, bom: bool = False) -> None:
    """Write lines back with CRLF ends, optionally behind a UTF-8 BOM."""
    text = "\r\n".join(lines) + "\r\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))


def adapter_for(path: Path, name: str = "sis") -> OneRosterCsvAdapter:
    """An adapter over the set at ``path`` (not opened yet)."""
    return OneRosterCsvAdapter(OneRosterCsvConfig(name=name, kind="oneroster-csv", path=path))


async def fetch_all(adapter: OneRosterCsvAdapter, record_type: type[RecordT]) -> dict[str, RecordT]:
    """Every record of one type with every declared field, by vendor id, in file order."""
    entity = Entity(record_type.__name__)
    fields = adapter.capabilities().entities[entity].fields
    result = await adapter.fetch(FetchRequest(entity, fields))
    records: dict[str, RecordT] = {}
    for record in result.records:
        assert isinstance(record, record_type)
        records[record.vendor_id] = record
    return records


def of_type(records: Sequence[Record], record_type: type[RecordT]) -> list[RecordT]:
    """``records`` as ``record_type`` (asserting every one is)."""
    typed = [record for record in records if isinstance(record, record_type)]
    assert len(typed) == len(records)
    return typed
