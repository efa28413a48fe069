"""Simulator answers checked against Clever's official v3.0 description
(``../shared/reference/openapi/clever-v3.0.yml``, Swagger 2.0).

Every endpoint the simulator serves is a path of the description; its 200
answer is validated against the ``definitions`` the description names for
it, with ``jsonschema`` (types, enums, the ``dob`` pattern), and walked for
properties the description does not define (Swagger leaves extra properties
allowed, so ``jsonschema`` alone would not notice them).
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import shared_path

from .conftest import SIM_BASE, TOKEN, simulator

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read the Swagger description")


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    path = shared_path("reference", "openapi", "clever-v3.0.yml")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as stream:
        loaded: dict[str, Any] = yaml.load(stream, Loader=loader)
    assert loaded["swagger"] == "2.0" and loaded["basePath"] == "/v3.0"
    return loaded


@pytest.fixture(scope="module")
def answers(district: Path) -> dict[str, tuple[str, Any]]:
    """Path template -> (the request made, its JSON answer), for every endpoint served."""
    return asyncio.run(_answers(district))


async def _answers(district: Path) -> dict[str, tuple[str, Any]]:
    app, _ = simulator(district)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    transport = httpx.ASGITransport(app=app)
    found: dict[str, tuple[str, Any]] = {}
    async with httpx.AsyncClient(transport=transport, base_url=SIM_BASE, headers=headers) as client:

        async def get(template: str, path: str, **params: Any) -> Any:
            answer = await client.get(f"/v3.0{path}", params=params)
            assert answer.status_code == 200, (path, answer.text)
            found.setdefault(template, (path, answer.json()))
            return answer.json()

        sections = (await get("/sections", "/sections", limit=10_000))["data"]
        section = next(item["data"] for item in sections if item["data"]["students"])
        student, teacher = section["students"][0], section["teacher"]
        await get("/districts", "/districts")
        district_id = (await get("/districts", "/districts"))["data"][0]["data"]["id"]
        await get("/districts/{id}", f"/districts/{district_id}")
        for role in ("student", "teacher", "staff", "district_admin", "contact"):
            await get(f"/users?role={role}", "/users", role=role, limit=10_000)
        await get("/users/{id}", f"/users/{student}")
        await get("/users/{id}/sections", f"/users/{student}/sections")
        await get("/users/{id}/mycontacts", f"/users/{student}/mycontacts")
        await get("/users/{id}/myteachers", f"/users/{student}/myteachers")
        await get("/users/{id}/mystudents", f"/users/{teacher}/mystudents")
        await get("/sections/{id}", f"/sections/{section['id']}")
        await get("/sections/{id}/users", f"/sections/{section['id']}/users")
        await get("/schools", "/schools")
        await get("/schools/{id}", f"/schools/{section['school']}")
        await get("/schools/{id}/users", f"/schools/{section['school']}/users", limit=10_000)
        await get("/schools/{id}/sections", f"/schools/{section['school']}/sections")
        await get("/terms", "/terms")
        await get("/terms/{id}", f"/terms/{section['term_id']}")
        await get("/terms/{id}/sections", f"/terms/{section['term_id']}/sections")
        await get("/courses", "/courses", limit=10_000)
        await get("/courses/{id}", f"/courses/{section['course']}")
        await get("/courses/{id}/sections", f"/courses/{section['course']}/sections")
    return found


def _response_ref(spec: dict[str, Any], template: str) -> str:
    operation = spec["paths"][template.split("?")[0]]["get"]
    ref: str = operation["responses"]["200"]["schema"]["$ref"]
    return ref


def _undocumented(
    spec: dict[str, Any], schema: dict[str, Any], value: Any, where: str, out: list[str]
) -> None:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        _undocumented(spec, spec["definitions"][name], value, where, out)
        return
    if isinstance(value, dict) and "properties" in schema:
        properties = schema["properties"]
        out.extend(f"{where}.{name}" for name in value if name not in properties)
        for name, item in value.items():
            if name in properties:
                _undocumented(spec, properties[name], item, f"{where}.{name}", out)
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value[:50]):
            _undocumented(spec, schema["items"], item, f"{where}[{index}]", out)


# Real Clever answers (and the Go client's mocks) carry two things the description leaves out:
# each list item's "uri", and a single record's "links" (its self link).
_ALLOWED = re.compile(r"^[^.]+(\.data\[\d+\]\.uri|\.links)$")


def test_every_endpoint_served_is_in_the_description_and_defines_every_property(
    spec: dict[str, Any], answers: dict[str, tuple[str, Any]]
) -> None:
    assert len(answers) == 25
    problems: list[str] = []
    for template, (path, body) in answers.items():
        assert template.split("?")[0] in spec["paths"], template
        _undocumented(spec, {"$ref": _response_ref(spec, template)}, body, path, problems)
    problems = [p for p in problems if not _ALLOWED.match(p)]
    assert not problems, "\n".join(problems[:20])


def test_every_answer_validates_against_its_definition(
    spec: dict[str, Any], answers: dict[str, tuple[str, Any]]
) -> None:
    jsonschema = pytest.importorskip(
        "jsonschema", reason="jsonschema is not installed: add `jsonschema>=4` to the test extra to run this"
    )
    problems: list[str] = []
    for template, (path, body) in answers.items():
        schema = {"$ref": _response_ref(spec, template), "definitions": spec["definitions"]}
        validator = jsonschema.Draft4Validator(schema)
        problems.extend(
            f"{path}: {error.message} at {list(error.absolute_path)}" for error in validator.iter_errors(body)
        )
    assert not problems, "\n".join(problems[:20])
