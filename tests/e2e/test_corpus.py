"""Every set of the OneRoster corpus (tests/data/oneroster) served through the hub over HTTP.

Each set's JSON names every student, teacher, class and enrollment the hub
must serve from it, the rows it skips as gone and the rows it rejects; the
hub is asked for all of them through GraphQL, and the load report must
explain every row it could not use.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hub.federation.ids import encode_id
from hub.sdk import Entity
from tests.adapters.oneroster_csv.csv_sets import copy_set, zip_set
from tests.support import READ_EVERYTHING, RunningHub, running_hub

CORPUS = Path(__file__).parents[1] / "data" / "oneroster"
SETS = sorted(path.stem for path in CORPUS.glob("*.json"))

STUDENTS = "{ students(first: 1000) { totalCount edges { node { sources { vendorId } } } } }"
SECTIONS = """{ sections(first: 1000) { totalCount edges { node {
    sources { vendorId } teachers { sources { vendorId } }
    students(first: 1000, includeInactive: true) { edges { node { sources { vendorId } } } }
} } } }"""
NODE = """query($id: ID!) { node(id: $id) {
    ... on Teacher { sources { vendorId } }
    ... on Enrollment { role section { sources { vendorId } } person { sources { vendorId } } }
} }"""


def expected(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CORPUS / f"{name}.json").read_text(encoding="utf-8"))
    return data


def vendor_ids(nodes: list[dict[str, Any]]) -> list[str]:
    return [node["sources"][0]["vendorId"] for node in nodes]


async def ask(running: RunningHub, query: str, **variables: str) -> dict[str, Any]:
    body = await running.query(query, variables=variables or None)
    assert body["_status"] == 200, body
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


async def check_served(running: RunningHub, want: dict[str, Any]) -> None:
    students = (await ask(running, STUDENTS))["students"]
    assert sorted(vendor_ids([edge["node"] for edge in students["edges"]])) == sorted(want["students"])
    assert students["totalCount"] == want["counts"]["students"] == len(want["students"])

    sections = (await ask(running, SECTIONS))["sections"]
    by_class = {vendor_ids([edge["node"]])[0]: edge["node"] for edge in sections["edges"]}
    assert sorted(by_class) == sorted(want["classes"])
    assert sections["totalCount"] == want["counts"]["classes"]

    for teacher in want["teachers"]:
        found = (await ask(running, NODE, id=encode_id(Entity.TEACHER.value, "sis", teacher)))["node"]
        assert found is not None, teacher
        assert vendor_ids([found]) == [teacher]
    assert len(want["teachers"]) == want["counts"]["teachers"]

    assert len(want["enrollments"]) == want["counts"]["enrollments"]
    for enrollment_id, class_id, person_id, role in want["enrollments"]:
        node = (await ask(running, NODE, id=encode_id(Entity.ENROLLMENT.value, "sis", enrollment_id)))["node"]
        assert node is not None, enrollment_id
        assert node["role"] == role.upper()
        assert vendor_ids([node["section"]]) == [class_id]
        section = by_class[class_id]
        if role == "student" and person_id in want["students"]:
            assert vendor_ids([node["person"]]) == [person_id]
            enrolled = vendor_ids([edge["node"] for edge in section["students"]["edges"]])
            assert person_id in enrolled
        elif role in ("teacher", "aide") and person_id in want["teachers"]:
            assert vendor_ids([node["person"]]) == [person_id]
            assert person_id in vendor_ids(section["teachers"])


def check_report(running: RunningHub, want: dict[str, Any]) -> None:
    report = running.hub.registry.states["sis"].report
    assert report is not None
    rejected = [[p.where, p.line, p.column] for p in report.rejected]
    assert rejected == want["rejected"]
    assert report.counts["skipped"] == want["skipped"]
    # Every row read is accounted for: accepted, skipped as gone, or rejected with a reason.
    for where, stats in report.files.items():
        assert stats.read == stats.accepted + stats.skipped + stats.rejected, where
        lines = {p.line for p in report.rejected if p.where == where and p.line > 1}
        assert len(lines) == stats.rejected, where
    assert sum(stats.skipped for stats in report.files.values()) == want["skipped"]


@pytest.mark.parametrize("name", SETS)
async def test_every_set_serves_all_its_people_classes_and_enrollments(name: str) -> None:
    want = expected(name)
    async with running_hub(CORPUS / name, server=READ_EVERYTHING) as running:
        await check_served(running, want)
        check_report(running, want)


async def test_a_set_zipped_inside_a_folder_serves_the_same(tmp_path: Path) -> None:
    want = expected("sis-export-messy")
    folder = copy_set(CORPUS / "sis-export-messy", tmp_path / "export")
    archive = zip_set(folder, tmp_path / "export.zip", wrap="Lakeside OneRoster Export")
    async with running_hub(archive, server=READ_EVERYTHING) as running:
        await check_served(running, want)
        check_report(running, want)


def test_the_corpus_has_real_and_messy_sets_of_both_versions() -> None:
    # Guards against the parametrised test passing over an emptied corpus.
    assert {"edfi-lms-toolkit-v1p1", "lms-plugin-v1p2-messy", "sis-export-messy"} <= set(SETS)
    for name in SETS:
        assert (CORPUS / name).is_dir(), name
        assert expected(name)["origin"]
