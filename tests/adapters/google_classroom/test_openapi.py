"""Simulator answers validated against Google's own API description
(``../shared/reference/openapi/google-classroom-v1.openapi3.json``).

The description uses a small part of JSON Schema (type, format, enum,
properties, items, additionalProperties, $ref); the checker below implements
that part, refuses keywords it does not know, and also reports properties
the description does not define (JSON Schema alone would accept them). When
``jsonschema`` is installed the same bodies are validated by it too.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import shared_path

from .conftest import simulator

AUTH = {"Authorization": "Bearer homeroom-sim-token"}
_KNOWN = {"type", "format", "enum", "properties", "items", "additionalProperties", "$ref"}
_KNOWN |= {"description", "deprecated", "readOnly"}
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


def _check(spec: dict[str, Any], schema: dict[str, Any], value: Any, where: str, problems: list[str]) -> None:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        _check(spec, spec["components"]["schemas"][name], value, where, problems)
        return
    unknown = set(schema) - _KNOWN
    assert not unknown, f"the checker does not know {unknown}"
    kind = schema.get("type")
    wrong_kind = kind and not isinstance(value, _TYPES[kind])
    if wrong_kind or (kind in ("integer", "number") and isinstance(value, bool)):
        problems.append(f"{where}: not {kind}")
        return
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where}: {value!r} not in the enum")
    fmt = schema.get("format")
    if fmt == "google-datetime":
        try:
            dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            problems.append(f"{where}: not RFC 3339")
        if not value.endswith("Z"):
            problems.append(f"{where}: not UTC")
    elif fmt == "int32" and not -(2**31) <= value < 2**31:
        problems.append(f"{where}: not int32")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for name, item in value.items():
            if name in properties:
                _check(spec, properties[name], item, f"{where}.{name}", problems)
            elif isinstance(extra, dict):
                _check(spec, extra, item, f"{where}.{name}", problems)
            else:
                problems.append(f"{where}.{name}: not in the description")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            _check(spec, schema["items"], item, f"{where}[{index}]", problems)


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    path = shared_path("reference", "openapi", "google-classroom-v1.openapi3.json")
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def _schema(spec: dict[str, Any], path: str) -> dict[str, Any]:
    found: dict[str, Any] = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]
    return found


async def _bodies(district: Path) -> list[tuple[str, dict[str, Any]]]:
    """(OpenAPI path, body) of one answer of every endpoint the adapter reads."""
    app, state = simulator(district, max_page_size=1000, api_disabled_user=None)
    d = state.district
    course = next(c["id"] for c in d.courses if d.submissions.get(c["id"]))
    student = sorted(d.guardians)[0]
    asks = [
        ("/v1/courses", "/v1/courses"),
        ("/v1/courses/{id}", f"/v1/courses/{course}"),
        ("/v1/courses/{courseId}/students", f"/v1/courses/{course}/students"),
        ("/v1/courses/{courseId}/teachers", f"/v1/courses/{course}/teachers"),
        ("/v1/courses/{courseId}/aliases", f"/v1/courses/{course}/aliases"),
        ("/v1/courses/{courseId}/courseWork", f"/v1/courses/{course}/courseWork"),
        (
            "/v1/courses/{courseId}/courseWork/{courseWorkId}/studentSubmissions",
            f"/v1/courses/{course}/courseWork/-/studentSubmissions",
        ),
        ("/v1/userProfiles/{studentId}/guardians", "/v1/userProfiles/-/guardians"),
        ("/v1/userProfiles/{studentId}/guardians", f"/v1/userProfiles/{student}/guardians"),
    ]
    bodies = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://classroom.test") as http:
        for template, url in asks:
            response = await http.get(url, headers=AUTH)
            assert response.status_code == 200, url
            body = response.json()
            assert body, f"{url} answered nothing to check"
            bodies.append((template, body))
    return bodies


async def test_every_answer_the_adapter_reads_matches_the_description(
    spec: dict[str, Any], district: Path
) -> None:
    problems: list[str] = []
    for template, body in await _bodies(district):
        _check(spec, _schema(spec, template), body, template, problems)
    assert not problems, problems[:20]


async def test_the_checker_catches_a_wrong_shape(spec: dict[str, Any]) -> None:
    problems: list[str] = []
    bad = {"courseWork": [{"id": 7, "dueDate": {"year": "2026"}, "state": "OPEN", "colour": "red"}]}
    _check(spec, _schema(spec, "/v1/courses/{courseId}/courseWork"), bad, "cw", problems)
    assert problems == [
        "cw.courseWork[0].id: not string",
        "cw.courseWork[0].dueDate.year: not integer",
        "cw.courseWork[0].state: 'OPEN' not in the enum",
        "cw.courseWork[0].colour: not in the description",
    ]


async def test_the_answers_validate_with_jsonschema_too(spec: dict[str, Any], district: Path) -> None:
    jsonschema = pytest.importorskip(
        "jsonschema", reason="jsonschema is not installed (add jsonschema>=4.18 to the test extra)"
    )
    for template, body in await _bodies(district):
        schema = {**_schema(spec, template), "components": spec["components"]}
        jsonschema.validate(body, schema)
