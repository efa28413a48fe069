"""Log lines never carry raw caller text: control characters are escaped,
lengths capped, exception messages left out (issue #9, finding 6)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from hub.logsafe import safe_exception, safe_text
from hub.sdk import SourceUnavailable
from tests.hardening.edge_hubs import edge_hub, make_faulty
from tests.support import make_district, running_hub

MARK = "FORGED-LINE"
FORGED = f"Dash\n2026-11-18 12:00:00 INFO homeroom.http: {MARK} admin signed in"
LINE_BREAKS = ("\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


# -- the helper ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("Dashboard", "Dashboard"),
        ("Zoë's class", "Zoë's class"),
        ("a\nb", "a\\nb"),
        ("a\r\nb", "a\\r\\nb"),
        ("\x1b[2Jcleared", "\\x1b[2Jcleared"),
        ("next\x85line", "next\\x85line"),
        ("para\u2028graph", "para\\u2028graph"),
        ("\u202etxt.exe", "\\u202etxt.exe"),
        ("a\\nb", "a\\\\nb"),  # a literal backslash-n stays told apart from a newline
        ("tab\there", "tab\\there"),
    ],
)
def test_control_characters_are_escaped(raw: str, shown: str) -> None:
    assert safe_text(raw) == shown


def test_length_is_capped_without_cutting_an_escape() -> None:
    assert safe_text("x" * 500) == "x" * 80 + "…"
    assert safe_text("x" * 10, limit=10) == "x" * 10
    cut = safe_text("x" * 9 + "\n", limit=10)
    assert cut == "x" * 9 + "…"  # "\\n" would not fit whole: left out
    assert len(safe_text("\n" * 500)) <= 81
    assert safe_text(12345, limit=3) == "123…"


def test_an_exception_is_summarised_without_its_message() -> None:
    try:
        {}[FORGED]
    except KeyError as exc:
        summary = safe_exception(exc)
    assert summary.startswith("KeyError at tests/hardening/test_log_safety.py:")
    assert MARK not in summary
    assert "\n" not in summary
    assert safe_exception(ValueError(FORGED)) == "ValueError"  # never raised: no frames


# -- over HTTP ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_district(tmp_path_factory.mktemp("district"), 50)


def _assert_safe(records: list[logging.LogRecord]) -> None:
    formatter = logging.Formatter()
    for record in records:
        message = record.getMessage()
        assert not any(brk in message for brk in LINE_BREAKS), message
        assert MARK not in message, message
        if record.exc_info:
            assert MARK not in formatter.formatException(record.exc_info)


async def test_a_forged_operation_name_and_purpose_write_no_line(
    district: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running_hub(district) as running:
        bearer = {"Authorization": f"Bearer {running.token('teacher')}"}
        purposes = [FORGED, f"grading\r{MARK}", f"grading\x1b[1A\x1b[2K{MARK}"]
        for purpose in purposes:
            for operation in (FORGED, "Dash"):
                response = await running.client.post(
                    "/graphql",
                    json={"query": "query Dash { viewer { subject } }", "operationName": operation},
                    headers={**bearer, "Homeroom-Purpose": purpose},
                )
                assert response.status_code in (200, 400)
                assert MARK not in response.text
            # A refused token with the same purpose.
            refused = await running.client.post(
                "/graphql",
                json={"query": "{ viewer { subject } }", "operationName": FORGED},
                headers={"Authorization": "Bearer not-a-token", "Homeroom-Purpose": purpose},
            )
            assert refused.status_code == 401
        # Latin-1 bytes: NEL (\x85) breaks a line for str.splitlines and some viewers.
        await running.client.post(
            "/graphql",
            json={"query": "query Dash { viewer { subject } }"},
            headers={**bearer, "Homeroom-Purpose": f"a\x85{MARK}".encode("latin-1")},
        )
    _assert_safe(caplog.records)


class ExplodingSchema:
    """A schema whose execution fails with the caller's text in the message,
    as strawberry's did for an unknown operationName."""

    async def execute(self, query: str, **kwargs: Any) -> Any:
        raise RuntimeError(f"Can't get GraphQL operation {kwargs.get('operation_name')}")


async def test_an_unexpected_failure_is_logged_without_its_message(
    district: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with edge_hub(district, schema=ExplodingSchema()) as (client, token):
        response = await client.post(
            "/graphql",
            json={"query": "query Dash { viewer { subject } }", "operationName": FORGED},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 500
    assert response.json()["errors"][0]["extensions"]["code"] == "INTERNAL"
    assert MARK not in response.text
    logged = [r.getMessage() for r in caplog.records if r.name == "homeroom.http"]
    assert any("RuntimeError at " in line for line in logged), logged
    _assert_safe(caplog.records)


async def test_an_adapter_error_is_logged_without_its_message(
    district: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running_hub(district) as running:
        faulty = make_faulty(running.hub)
        # An adapter bug whose message quotes what it was asked (or a record).
        faulty.fault = KeyError(FORGED)
        body = await running.query("{ viewer { students(first: 2) { totalCount } } }")
        assert any(e["extensions"]["code"] == "SOURCE_UNAVAILABLE" for e in body["errors"])
        faulty.fault = SourceUnavailable("sis", "timed out")
        await running.query("{ viewer { students(first: 2) { totalCount } } }")
    logged = [r.getMessage() for r in caplog.records if r.name == "homeroom.sources"]
    assert any("KeyError at " in line for line in logged), logged
    assert MARK not in str(body)
    _assert_safe(caplog.records)
