"""The data-quality report: ``homeroom sources check --details``/``--json``,
``homeroom demo``'s summary and ``/healthz`` counts, over the corpus sets.

The report names files, lines, columns and reasons only: a differential test
reads every cell of every set and checks none of its values reaches the report.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from typer.testing import CliRunner, Result

from adapters.oneroster_csv._reader import COLUMNS
from hub.sources_cli import sources_app
from hub.testing.server import free_port
from tests.cli import Process, needs_console_script, running

CORPUS = Path(__file__).parents[1] / "data" / "oneroster"
SETS = sorted(path.stem for path in CORPUS.glob("*.json"))

cli = typer.Typer()
cli.add_typer(sources_app, name="sources")
cli.command("noop")(lambda: None)  # a second command keeps "sources" a sub-command


def check(*args: str) -> Result:
    return CliRunner().invoke(cli, ["sources", "check", *args], catch_exceptions=False)


def cell_values(folder: Path) -> set[str]:
    """Every distinct cell value below the header of every file of the set.

    Values that are the spec's own words (enum values, booleans, grade codes,
    column names) or too short to mean anything alone are left out: a report
    may say "student" or "09" without naming anyone.
    """
    vocabulary = {name.lower() for names in COLUMNS.values() for name in names}
    values: set[str] = set()
    for path in folder.iterdir():
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("cp1252")
        rows = list(csv.reader(io.StringIO(text, newline="")))
        for row in rows[1:]:
            for cell in row:
                value = cell.strip()
                if len(value) >= 4 and value.lower() not in vocabulary and not _spec_word(value):
                    values.add(value)
    return values


_SPEC_WORDS = {
    *("active", "tobedeleted", "inactive", "true", "false", "bulk", "delta", "absent"),
    *("student", "teacher", "guardian", "parent", "aide", "administrator", "siteadministrator"),
    *("primary", "secondary", "school", "district", "department", "scheduled", "homeroom"),
    *("schoolyear", "semester", "term", "gradingperiod", "female", "male", "oneroster.version"),
    *("manifest.version",),
}


def _spec_word(value: str) -> bool:
    return value.lower() in _SPEC_WORDS or value.lower().startswith("file.")


# -- sources check -------------------------------------------------------------------


def test_details_show_rows_per_file_and_each_problem_with_its_fix() -> None:
    result = check("--data-dir", str(CORPUS / "sis-export-messy"), "--details")

    assert result.exit_code == 0, result.output
    out = result.output
    assert "source csv: data quality" in out
    table = {line.split()[0]: line.split()[1:] for line in out.splitlines() if ".csv " in line}
    # FILE READ ACCEPTED WITH-WARNINGS REJECTED SKIPPED
    assert table["enrollments.csv"] == ["10", "7", "1", "1", "2"]
    assert table["users.csv"] == ["8", "7", "2", "0", "1"]
    assert (
        "rejected  enrollments.csv:10 classSourcedId: no such class "
        "(use a sourcedId that exists in the referenced file, or add that row)"
    ) in out
    assert "warning   users.csv: not UTF-8; read as Windows-1252 (export the file as UTF-8)" in out
    assert "warning   enrollments.csv:3 beginDate: not a date (written day first" in out
    assert "users.csv:5 role: no role row; served as student (from enrollments.csv)" in out


def test_rows_sharing_a_problem_are_grouped_on_one_line(tmp_path: Path) -> None:
    folder = shutil.copytree(CORPUS / "import-tool-v1p1-ext", tmp_path / "set")
    result = check("--data-dir", str(folder), "--details")

    assert result.exit_code == 0, result.output
    # The three classes name an academic session the (empty) file does not hold.
    assert (
        "warning   classes.csv:2-4 termSourcedIds: no known academic session; the class has no term"
        " (fill the column with the sourcedId of a row of the referenced file) [3 rows]"
    ) in result.output
    assert "courses.csv:1 grades: column spelled grade; read as grades" in result.output


def test_json_holds_the_files_the_totals_and_the_grouped_problems() -> None:
    result = check("--data-dir", str(CORPUS / "lms-plugin-v1p2-messy"), "--json")

    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    report = body["sources"]["csv"]
    assert report["files"]["roles.csv"] == {
        "read": 7,
        "accepted": 7,
        "warned": 0,
        "rejected": 0,
        "skipped": 0,
    }
    assert report["files"]["enrollments.csv"]["skipped"] == 3  # their class is marked tobedeleted
    assert report["totals"]["rejected"] == 0
    assert report["counts"]["Student"] == 3
    renamed = [p for p in report["problems"] if p["reason"].startswith("column spelled")]
    assert {(p["file"], p["column"]) for p in renamed} == {
        ("roles.csv", "dateLastModified"),
        ("users.csv", "preferredGivenName"),
        ("users.csv", "preferredMiddleName"),
        ("users.csv", "preferredFamilyName"),
    }
    day_first = [
        p for p in report["problems"] if p["column"] == "dateLastModified" and p["file"] == "users.csv"
    ]
    assert [p["lines"] for p in day_first] == [[7]]  # 15/06/2023
    assert body["ok"] is True


def test_plain_check_points_at_details_when_rows_were_rejected() -> None:
    result = check("--data-dir", str(CORPUS / "sis-export-messy"))

    assert "degraded: 1 rows rejected while loading (--details: file and line)" in result.output
    assert "data quality" not in result.output


def test_a_missing_data_dir_is_an_error() -> None:
    result = CliRunner().invoke(cli, ["sources", "check", "--data-dir", "/nonexistent/x"])
    assert result.exit_code == 2
    assert "no such folder or zip" in result.output


@pytest.mark.parametrize("name", SETS)
def test_no_report_names_a_value_of_the_set(name: str) -> None:
    folder = CORPUS / name
    values = cell_values(folder)
    assert len(values) > 10  # the differential test has something to look for
    details = check("--data-dir", str(folder), "--details").output
    as_json = check("--data-dir", str(folder), "--json").output
    # What the CLI adds itself (paths, names of files and columns) is not data.
    report_text = (details + as_json).replace(str(folder), "")
    leaked = sorted(
        value for value in values if re.search(rf"(?<![\w-]){re.escape(value)}(?![\w-])", report_text)
    )
    assert leaked == []


# -- homeroom demo over a district's own (messy) export -------------------------------


@pytest.fixture(scope="module")
def messy_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Process, Path]]:
    root = tmp_path_factory.mktemp("messy-demo")
    data_dir = shutil.copytree(CORPUS / "lms-plugin-v1p2-messy", root / "export")
    port = free_port()
    args = ["demo", "--port", str(port), "--data-dir", str(data_dir), "--tokens-out", str(root / "t.json")]
    with running(args, cwd=root, port=port) as process:
        yield process, data_dir


@needs_console_script
def test_demo_prints_the_data_quality_summary_and_where_the_full_report_is(
    messy_demo: tuple[Process, Path],
) -> None:
    process, data_dir = messy_demo
    out = process.stdout()
    assert (
        "data quality: 27 rows read, 21 accepted (7 with warnings), 0 rejected, 6 skipped as deleted" in out
    )
    assert "roles.csv:1 dateLastModified: column spelled dataLastModified" in out
    assert f"full report: homeroom sources check --data-dir {data_dir} --details" in out


@needs_console_script
def test_demo_serves_every_person_of_the_messy_export_and_healthz_counts_rows(
    messy_demo: tuple[Process, Path],
) -> None:
    process, _ = messy_demo
    health: dict[str, Any] = httpx.get(f"{process.base_url}/healthz", timeout=10).json()
    assert health["dataQuality"]["sis"] == {
        "read": 27,
        "accepted": 21,
        "acceptedWithWarnings": 7,
        "rejected": 0,
        "skipped": 6,
    }
    tokens = json.loads((Path(process.stdout_path).parent / "t.json").read_text(encoding="utf-8"))
    data = process.query("{ students(first: 100) { totalCount } }", tokens["district_admin"]["token"])
    assert data["students"]["totalCount"] == 3


async def test_the_demo_serves_an_export_that_has_no_manifest(tmp_path: Path) -> None:
    # A real export may come without manifest.csv: the demo serves it, it does not
    # take the folder for a place to generate a district in (nor refuse it).
    from hub.auth import DevSigner
    from hub.demo import prepare_demo

    folder = Path(shutil.copytree(CORPUS / "sis-export-messy", tmp_path / "export"))
    assert not (folder / "manifest.csv").exists()
    before = sorted(path.name for path in folder.iterdir())
    prepared = await prepare_demo(folder, students=50, seed=7, signer=DevSigner(b"k" * 32), sources="csv")
    try:
        assert not prepared.generated
        expected = json.loads((CORPUS / "sis-export-messy.json").read_text(encoding="utf-8"))
        assert prepared.counts.get("Student") == len(expected["students"])
        assert sorted(path.name for path in folder.iterdir()) == before, "the export was written to"
    finally:
        prepared.close()


@needs_console_script
@pytest.mark.parametrize("name", SETS)
def test_homeroom_demo_serves_every_person_and_class_of_each_corpus_set(name: str, tmp_path: Path) -> None:
    # The district's first try, as a process over HTTP, for every set of the corpus
    # (tests/e2e/test_corpus.py checks each record; here: the command serves them all).
    expected = json.loads((CORPUS / f"{name}.json").read_text(encoding="utf-8"))
    data_dir = shutil.copytree(CORPUS / name, tmp_path / "export")
    port = free_port()
    tokens_path = tmp_path / "t.json"
    args = ["demo", "--port", str(port), "--data-dir", str(data_dir), "--tokens-out", str(tokens_path)]
    with running(args, cwd=tmp_path, port=port) as process:
        token = json.loads(tokens_path.read_text(encoding="utf-8"))["district_admin"]["token"]
        query = "{ students(first: 1000) { totalCount } sections(first: 1000) { totalCount } }"
        data = process.query(query, token)
    assert data["students"]["totalCount"] == len(expected["students"])
    assert data["sections"]["totalCount"] == len(expected["classes"])
