"""Natural-key vendor ids: built from records and from references alike."""

from __future__ import annotations

import json

from adapters.edfi._keys import code_value, grading_period_id, make_id, parse_id, section_id, session_id
from tests.conftest import shared_path


def test_ids_round_trip_with_slashes_and_percent_signs() -> None:
    vendor_id = make_id("gradebookEntry", "uri://canvas.com", "50%/done")
    assert vendor_id == "gradebookEntry/uri:%2F%2Fcanvas.com/50%25%2Fdone"
    assert parse_id(vendor_id) == ("gradebookEntry", ("uri://canvas.com", "50%/done"))
    assert make_id("student", None) is None
    assert parse_id("no-kind") == ("", ())


def test_descriptor_code_values() -> None:
    assert code_value("uri://ed-fi.org/SexDescriptor#Female") == "Female"
    assert code_value("Female") == "Female"
    assert code_value("") is None and code_value(None) is None


def test_a_session_id_is_the_same_from_the_session_and_from_a_reference() -> None:
    session = {
        "sessionName": "2021-2022 Fall Semester",
        "schoolReference": {"schoolId": 255901001},
        "schoolYearTypeReference": {"schoolYear": 2022},
    }
    reference = {"schoolId": 255901001, "schoolYear": 2022, "sessionName": "2021-2022 Fall Semester"}
    assert session_id(session) == session_id(reference) == "session/255901001/2022/2021-2022 Fall Semester"


def test_grading_periods_are_named_in_ds5_and_numbered_in_ds4() -> None:
    descriptor = "uri://ed-fi.org/GradingPeriodDescriptor#First Six Weeks"
    ds5 = {
        "gradingPeriodDescriptor": descriptor,
        "gradingPeriodName": "Q1",
        "schoolId": 1,
        "schoolYear": 2022,
    }
    ds4 = {"gradingPeriodDescriptor": descriptor, "periodSequence": 1, "schoolId": 1, "schoolYear": 2022}
    assert grading_period_id(ds5) == "gradingPeriod/1/2022/First Six Weeks/Q1"
    assert grading_period_id(ds4) == "gradingPeriod/1/2022/First Six Weeks/1"


def test_lmsx_section_reference_gives_the_core_section_id() -> None:
    """The LMS Toolkit sends ``schoolId`` as a string; the id is the same as from an integer."""
    sample = json.loads(
        shared_path("data", "edfi", "lmsx_sample-assignment.json").read_text(encoding="utf-8")
    )
    core = {
        "localCourseCode": "ALG-1",
        "schoolId": 255901001,
        "schoolYear": 2011,
        "sectionIdentifier": "25590100102Trad220ALG112011",
        "sessionName": "2010-2011 Fall Semester",
    }
    assert section_id(sample["sectionReference"]) == section_id(core)
    assert (
        section_id(core) == "section/ALG-1/255901001/2011/2010-2011 Fall Semester/25590100102Trad220ALG112011"
    )
