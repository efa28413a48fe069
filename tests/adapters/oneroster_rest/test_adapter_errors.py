"""Provider answers the adapter must survive, replayed with respx."""

from __future__ import annotations

import httpx
import pytest
import respx

from adapters.oneroster_rest import OneRosterRestAdapter
from hub.sdk import BadVendorData, Entity, FetchRequest, SourceUnavailable

from .conftest import rest_config

BASE = "https://sis.example/api"
USERS = f"{BASE}/ims/oneroster/rostering/v1p2/students"
GRADES = f"{BASE}/ims/oneroster/x-homeroom/v1/courseGrades"
STUDENT = {
    "sourcedId": "u1",
    "status": "active",
    "dateLastModified": "2025-01-01T00:00:00Z",
    "enabledUser": "true",
    "givenName": "Ada",
    "familyName": "Lovelace",
    "roles": [
        {"roleType": "primary", "role": "student", "org": {"href": "x", "sourcedId": "s1", "type": "org"}}
    ],
}


def imsx(minor: str) -> dict[str, object]:
    return {
        "imsx_codeMajor": "failure",
        "imsx_severity": "error",
        "imsx_CodeMinor": {
            "imsx_codeMinorField": [
                {"imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": minor}
            ]
        },
    }


@pytest.fixture
def adapter() -> OneRosterRestAdapter:
    return OneRosterRestAdapter(rest_config(BASE, retries=1, backoff_base=0.01))


@pytest.fixture
def token() -> respx.Route:
    return respx.post(f"{BASE}/token").respond(
        json={"access_token": "t", "token_type": "bearer", "expires_in": 600}
    )


@respx.mock
async def test_a_refused_fields_selection_is_dropped_and_remembered(
    adapter: OneRosterRestAdapter, token: respx.Route
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if "fields" in request.url.params:
            return httpx.Response(400, json=imsx("invalid_selection_field"))
        return httpx.Response(200, json={"users": [STUDENT]}, headers={"X-Total-Count": "1"})

    route = respx.get(USERS).mock(side_effect=answer)
    request = FetchRequest(Entity.STUDENT, frozenset({"given_name"}))
    first = await adapter.fetch(request)
    second = await adapter.fetch(request)
    await adapter.aclose()
    assert [r.vendor_id for r in first.records] == [r.vendor_id for r in second.records] == ["u1"]
    assert [("fields" in call.request.url.params) for call in route.calls] == [True, False, False]


@respx.mock
async def test_a_provider_without_the_extension_has_no_course_grades(
    adapter: OneRosterRestAdapter, token: respx.Route
) -> None:
    route = respx.get(GRADES).respond(404, json=imsx("unknownobject"))
    request = FetchRequest(Entity.COURSE_GRADE, frozenset({"letter_grade"}))
    assert (await adapter.fetch(request)).records == []
    assert (await adapter.fetch(request)).records == []
    await adapter.aclose()
    assert route.call_count == 1


@respx.mock
async def test_outages_and_garbage_are_typed_errors(
    adapter: OneRosterRestAdapter, token: respx.Route
) -> None:
    route = respx.get(USERS).respond(502, text="<html>Bad gateway</html>")
    outage = r"students answered 502: unreadable body \(text/plain, 24 bytes\) \(2 attempts\)"
    with pytest.raises(SourceUnavailable, match=outage):
        await adapter.fetch(FetchRequest(Entity.STUDENT, frozenset()))
    route.respond(200, json={"orgs": []})
    with pytest.raises(BadVendorData, match="without the expected list"):
        await adapter.fetch(FetchRequest(Entity.STUDENT, frozenset()))
    route.respond(200, json={"users": ["not an object", STUDENT]}, headers={"X-Total-Count": "2"})
    result = await adapter.fetch(FetchRequest(Entity.STUDENT, frozenset({"family_name"})))
    await adapter.aclose()
    assert [r.vendor_id for r in result.records] == ["u1"]


@respx.mock
async def test_a_wrong_base_url_or_version_is_named_at_open(token: respx.Route) -> None:
    adapter = OneRosterRestAdapter(rest_config(BASE, version="1.1"))
    respx.get(f"{BASE}/ims/oneroster/v1p1/orgs").respond(404, json=imsx("unknownobject"))
    with pytest.raises(
        SourceUnavailable, match=r"answered 404: unknownobject; check base_url and version \(1.1\)"
    ):
        await adapter.open()
    await adapter.aclose()
