"""Simulator responses validated against the official Ed-Fi DS 5.0 resource API
description (``../shared/reference/openapi/edfi-resources-ds-5.0.yml``).

The description uses a small part of JSON Schema (type, format, required,
properties, items, $ref, lengths, minimum/maximum, x-nullable); the checker
below implements exactly that part, refuses any keyword it does not know, and
also reports properties the description does not define. ``jsonschema`` is
not needed (and not a dependency).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from starlette.applications import Starlette

from adapters.edfi._sim_data import served
from tests.conftest import shared_path

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read the OpenAPI description")

_KNOWN = {"type", "format", "required", "properties", "items", "$ref", "maxLength", "minLength", "minimum"}
_KNOWN |= {"maximum", "description", "x-nullable", "x-Ed-Fi-isIdentity", "x-Ed-Fi-isDeprecated"}
_KNOWN |= {"x-Ed-Fi-deprecatedReasons"}
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
    if value is None:
        if not schema.get("x-nullable"):
            problems.append(f"{where}: null")
        return
    kind = schema.get("type")
    if kind and (
        not isinstance(value, _TYPES[kind]) or (kind in ("integer", "number") and isinstance(value, bool))
    ):
        problems.append(f"{where}: not {kind}")
        return
    fmt = schema.get("format")
    if fmt == "date":
        dt.date.fromisoformat(value)
    elif fmt == "date-time":
        dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    elif fmt == "int32" and not -(2**31) <= value < 2**31:
        problems.append(f"{where}: not int32")
    if isinstance(value, str) and not schema.get("minLength", 0) <= len(value) <= schema.get(
        "maxLength", 1 << 30
    ):
        problems.append(f"{where}: length {len(value)}")
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number and not schema.get("minimum", float("-inf")) <= value <= schema.get("maximum", float("inf")):
        problems.append(f"{where}: out of range")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        problems.extend(
            f"{where}.{name}: required" for name in schema.get("required", ()) if name not in value
        )
        problems.extend(f"{where}.{name}: not in the description" for name in value if name not in properties)
        for name, item in value.items():
            if name in properties:
                _check(spec, properties[name], item, f"{where}.{name}", problems)
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            _check(spec, schema["items"], item, f"{where}[{index}]", problems)


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    path = shared_path("reference", "openapi", "edfi-resources-ds-5.0.yml")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as stream:
        loaded: dict[str, Any] = yaml.load(stream, Loader=loader)
    return loaded


def test_every_served_collection_matches_the_ds5_description(
    spec: dict[str, Any], sim_ds5: Starlette
) -> None:
    collections = sim_ds5.state.simulator.district.collections
    problems: list[str] = []
    for name in served("5"):
        operation = spec["paths"][f"/ed-fi/{name}"]["get"]
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        parameters = {p["name"] for p in operation["parameters"] if "name" in p}
        items = collections[name]
        assert items or name == "studentSectionAttendanceEvents", f"{name} is empty"
        _check(spec, schema, items[:200], name, problems)
        # Every search the adapter pushes down is a documented parameter.
        searchable = sim_ds5.state.simulator._parameters[name] if items else frozenset()
        pushed = {
            "studentUniqueId",
            "staffUniqueId",
            "contactUniqueId",
            "schoolId",
            "educationOrganizationId",
        }
        pushed |= {
            "localCourseCode",
            "schoolYear",
            "sessionName",
            "sectionIdentifier",
            "beginDate",
            "eventDate",
        }
        pushed |= {"namespace", "gradebookEntryIdentifier", "gradingPeriodSchoolYear"}
        undocumented = (searchable & pushed) - parameters
        assert not undocumented, f"{name}: {undocumented} are not search parameters"
    assert not problems, "\n".join(problems[:20])
