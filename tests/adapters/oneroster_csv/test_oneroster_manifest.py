"""manifest.csv rules, whole-file problems and reading a set from a zip."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.oneroster_csv import OneRosterCsvAdapter, OneRosterCsvConfig
from hub.sdk import BadVendorData, Entity, FetchRequest, SourceUnavailable, Student

from .conftest import V12_FILES
from .csv_sets import adapter_for, of_type, write_set, zip_set


def files_with(**changes: str | None) -> dict[str, str]:
    """The 1.2 set with some files replaced (text) or left out (``None``)."""
    files = dict(V12_FILES)
    for name, text in changes.items():
        file_name = f"{name}.csv"
        if text is None:
            del files[file_name]
        else:
            files[file_name] = text
    return files


def manifest_with(old: str, new: str) -> str:
    manifest = V12_FILES["manifest.csv"]
    assert old in manifest
    return manifest.replace(old, new)


async def test_a_file_marked_absent_is_not_read(tmp_path: Path) -> None:
    manifest = manifest_with("file.attendance,bulk", "file.attendance,absent")
    report = await adapter_for(write_set(tmp_path / "s", files_with(manifest=manifest))).open()

    assert report.counts["AttendanceEvent"] == 0
    [problem] = report.problems[:1]
    assert (problem.where, problem.line, problem.column, problem.rejected) == (
        "manifest.csv",
        19,
        "file.attendance",
        False,
    )


async def test_a_file_missing_from_the_manifest_is_read_with_a_warning(tmp_path: Path) -> None:
    manifest = manifest_with("file.courseGrades,bulk\n", "")
    report = await adapter_for(write_set(tmp_path / "s", files_with(manifest=manifest))).open()

    assert report.counts["CourseGrade"] == 3
    assert [(p.where, p.rejected) for p in report.problems if p.where == "courseGrades.csv"] == [
        ("courseGrades.csv", False)
    ]


async def test_a_bulk_file_missing_from_the_set_is_an_error(tmp_path: Path) -> None:
    report = await adapter_for(write_set(tmp_path / "s", files_with(results=None))).open()

    assert report.counts["Score"] == 0
    assert [(p.where, p.line, p.column) for p in report.rejected] == [("manifest.csv", 15, "file.results")]


async def test_without_a_manifest_every_known_file_is_read(tmp_path: Path) -> None:
    report = await adapter_for(write_set(tmp_path / "s", files_with(manifest=None))).open()

    assert report.counts["Score"] == 3
    assert report.rejected == []
    assert ("manifest.csv", False) in [(p.where, p.rejected) for p in report.problems]


async def test_a_delta_file_is_read_with_a_warning(tmp_path: Path) -> None:
    manifest = manifest_with("file.results,bulk", "file.results,delta")
    report = await adapter_for(write_set(tmp_path / "s", files_with(manifest=manifest))).open()

    assert report.counts["Score"] == 3
    assert any(p.column == "file.results" and not p.rejected for p in report.problems)


async def test_file_names_are_found_in_any_case(tmp_path: Path) -> None:
    folder = write_set(tmp_path / "s", V12_FILES)
    (folder / "users.csv").rename(folder / "Users.CSV")

    report = await adapter_for(folder).open()

    assert report.counts["Student"] == 3


async def test_a_file_without_sourced_id_column_is_rejected_whole(tmp_path: Path) -> None:
    categories = "id,title\ncat-hw,Homework\n"
    report = await adapter_for(write_set(tmp_path / "s", files_with(categories=categories))).open()

    assert [(p.where, p.line, p.column) for p in report.rejected] == [("categories.csv", 1, "sourcedId")]
    assert report.counts["Assignment"] == 2  # categories unknown: left unchecked, titles empty


async def test_windows_1252_text_is_read_with_a_warning(tmp_path: Path) -> None:
    folder = write_set(tmp_path / "s", V12_FILES)
    users = folder / "users.csv"
    users.write_bytes(users.read_bytes().replace("María".encode(), "María".encode("cp1252")))

    adapter = adapter_for(folder)
    report = await adapter.open()

    assert ("users.csv", 0, False) in [(p.where, p.line, p.rejected) for p in report.problems]
    result = await adapter.fetch(FetchRequest(Entity.STUDENT, frozenset({"middle_name"}), ids=("stu1",)))
    assert [student.middle_name for student in of_type(result.records, Student)] == ["María"]


async def test_tab_separated_files_are_read(tmp_path: Path) -> None:
    files = dict(V12_FILES)
    files["orgs.csv"] = files["orgs.csv"].replace(",", "\t")
    report = await adapter_for(write_set(tmp_path / "s", files)).open()

    assert report.counts["Organization"] == 3
    assert report.rejected == []


async def test_zip_with_the_files_in_a_folder(tmp_path: Path) -> None:
    folder = write_set(tmp_path / "s", V12_FILES)
    archive = zip_set(folder, tmp_path / "export.zip", wrap="export-2025")

    report = await adapter_for(archive).open()

    assert report.counts["Score"] == 3
    assert report.rejected == []


async def test_a_corrupt_zip_fails_open_with_a_source_error(tmp_path: Path) -> None:
    archive = zip_set(write_set(tmp_path / "s", V12_FILES), tmp_path / "export.zip")
    adapter = adapter_for(archive)
    archive.write_bytes(archive.read_bytes()[:200])

    with pytest.raises(BadVendorData, match="source 'sis'"):
        await adapter.open()


async def test_a_path_removed_after_start_up_fails_open(tmp_path: Path) -> None:
    folder = write_set(tmp_path / "s", V12_FILES)
    adapter = OneRosterCsvAdapter(OneRosterCsvConfig(name="sis", kind="oneroster-csv", path=folder))
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()

    with pytest.raises(SourceUnavailable, match="path"):
        await adapter.open()


async def test_a_row_the_csv_parser_refuses_costs_only_that_row(tmp_path: Path) -> None:
    huge = "x" * 200_000
    categories = (
        f"sourcedId,status,dateLastModified,title\ncat-hw,,,Homework\ncat-big,,,{huge}\ncat-test,,,Tests\n"
    )
    report = await adapter_for(write_set(tmp_path / "s", files_with(categories=categories))).open()

    assert [(p.where, p.line) for p in report.rejected] == [("categories.csv", 3)]
    assert "not readable as CSV" in report.rejected[0].reason
    assert report.counts["Assignment"] == 2
