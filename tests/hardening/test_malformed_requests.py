"""Every malformed request is a 4xx with a GraphQL-style body and a code,
never a 500; the operation to run is never guessed (issue #9, finding 6)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.operation_choice import NAME_REQUIRED, NO_OPERATION, NOT_FOUND
from tests.hardening.edge_hubs import Served, edge_hub, served_hub
from tests.support import make_district

VIEWER = "query Viewer { viewer { subject } }"
TWO = "query Subject { viewer { subject } } query Roles { viewer { roles } }"
FORGED = "Viewer\n2026-11-18 12:00:00 INFO homeroom.http: admin signed in"


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_district(tmp_path_factory.mktemp("district"), 50)


@pytest.fixture(scope="module")
def served(district: Path) -> Iterator[Served]:
    with served_hub(district) as hub:
        yield hub


def _refusal(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == code
    return body


# -- which operation runs ---------------------------------------------------------


def test_an_operation_name_not_in_the_document_is_a_400(served: Served) -> None:
    response = served.post(json={"query": VIEWER, "operationName": FORGED})
    body = _refusal(response, 400, "BAD_REQUEST")
    assert body["errors"][0]["message"] == NOT_FOUND
    assert "admin signed in" not in response.text


def test_an_operation_name_for_an_anonymous_operation_is_a_400(served: Served) -> None:
    response = served.post(json={"query": "{ viewer { subject } }", "operationName": "Viewer"})
    assert _refusal(response, 400, "BAD_REQUEST")["errors"][0]["message"] == NOT_FOUND


def test_several_operations_without_a_name_are_refused_not_guessed(served: Served) -> None:
    for query in (TWO, "query Subject { viewer { subject } }\nquery Roles { viewer { roles } }"):
        body = _refusal(served.post(json={"query": query}), 400, "BAD_REQUEST")
        assert body["errors"][0]["message"] == NAME_REQUIRED
    calls = served.hub.registry.calls
    _refusal(served.post(json={"query": TWO, "operationName": None}), 400, "BAD_REQUEST")
    assert served.hub.registry.calls == calls


def test_several_operations_with_a_name_run_the_named_one(served: Served) -> None:
    response = served.post(json={"query": TWO, "operationName": "Roles"})
    assert response.status_code == 200
    assert response.json() == {"data": {"viewer": {"roles": ["district_admin"]}}}


def test_one_operation_without_a_name_runs(served: Served) -> None:
    # The keyword "query" twice (once in a string) still leaves one operation.
    query = 'query Viewer { viewer { subject } student(id: "query") { id } }'
    response = served.post(json={"query": query})
    assert response.status_code == 200
    assert response.json()["data"]["viewer"]["subject"] == "admin"


def test_a_document_without_an_operation_is_a_400(served: Served) -> None:
    body = _refusal(
        served.post(json={"query": "fragment F on Query { viewer { subject } }"}), 400, "BAD_REQUEST"
    )
    assert body["errors"][0]["message"] == NO_OPERATION


# -- bodies that are not a GraphQL request -------------------------------------------

JSON = {"Content-Type": "application/json"}
DEEP = b'{"query": "{ viewer { subject } }", "variables": {"x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}}"


@pytest.mark.parametrize(
    ("request_", "status"),
    [
        pytest.param({"content": b"{not json", "headers": JSON}, 400, id="not JSON"),
        pytest.param({"content": b'{"query": "\xff"}', "headers": JSON}, 400, id="not UTF-8"),
        pytest.param(
            {"content": b'{"query": "{ viewer { subject } }", "x": NaN}', "headers": JSON}, 400, id="NaN"
        ),
        pytest.param({"content": DEEP, "headers": JSON}, 400, id="deeply nested"),
        pytest.param({"json": [{"query": VIEWER}]}, 400, id="array"),
        pytest.param({"json": "query"}, 400, id="string"),
        pytest.param({"json": {"query": 5}}, 400, id="query a number"),
        pytest.param({"json": {"query": "  "}}, 400, id="query blank"),
        pytest.param({"json": {"variables": {}}}, 400, id="no query"),
        pytest.param({"json": {"query": VIEWER, "variables": [1]}}, 400, id="variables a list"),
        pytest.param({"json": {"query": VIEWER, "operationName": 3}}, 400, id="operationName a number"),
        pytest.param(
            {"content": b"query=%7B%7D", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
            415,
            id="form",
        ),
        pytest.param(
            {"content": VIEWER.encode(), "headers": {"Content-Type": "application/graphql"}},
            415,
            id="graphql",
        ),
        pytest.param({"content": b"{" + b" " * 1_000_001 + b"}", "headers": JSON}, 413, id="body over 1 MB"),
    ],
)
def test_a_body_that_is_not_a_graphql_request(served: Served, request_: dict[str, Any], status: int) -> None:
    response = served.post(**request_)
    body = _refusal(response, status, "BAD_REQUEST")
    assert "Traceback" not in response.text
    assert len(body["errors"][0]["message"]) < 100


def test_a_chunked_body_over_the_limit_is_refused_while_read(served: Served) -> None:
    sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal sent
        yield b'{"query": "'
        for _ in range(40):  # 4 MB, without a Content-Length
            sent += 1
            yield b" " * 100_000
        yield b'"}'

    try:
        response = served.post(content=chunks(), headers=JSON)
    except httpx.HTTPError:
        # The hub may answer and close before the client has sent it all.
        pass
    else:
        _refusal(response, 413, "BAD_REQUEST")
    health = httpx.get(f"{served.base_url}/healthz", timeout=10)
    assert health.status_code == 200


# -- variables that do not fit the operation ----------------------------------------

STUDENT = "query One($id: ID!) { student(id: $id) { id } }"
PAGE = "query Page($n: Int) { viewer { students(first: $n) { totalCount } } }"
SINCE = (
    "query Since($since: Date) { viewer { students(first: 1) { edges { node { "
    "attendance(from: $since) { date } } } } } }"
)
FLAG = "query Flag($show: Boolean!) { viewer { subject @include(if: $show) } }"


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        pytest.param(STUDENT, {"id": {"nested": 1}}, id="ID an object"),
        pytest.param(STUDENT, None, id="required missing"),
        pytest.param(STUDENT, {"id": None}, id="required null"),
        pytest.param(PAGE, {"n": "ten"}, id="Int a string"),
        pytest.param(PAGE, {"n": 2**40}, id="Int over 32 bits"),
        pytest.param(SINCE, {"since": "last week"}, id="Date not a date"),
        pytest.param(FLAG, {"show": "yes"}, id="Boolean a string"),
    ],
)
def test_variables_of_the_wrong_type_are_a_400(
    served: Served, query: str, variables: dict[str, Any] | None
) -> None:
    calls = served.hub.registry.calls
    response = served.post(json={"query": query, "variables": variables})
    body = _refusal(response, 400, "BAD_USER_INPUT")
    assert body["errors"][0]["message"].startswith("Variable '$")
    assert served.hub.registry.calls == calls  # nothing was fetched


def test_good_variables_still_run(served: Served) -> None:
    response = served.post(json={"query": PAGE, "variables": {"n": 2}})
    assert response.status_code == 200
    assert response.json()["data"]["viewer"]["students"]["totalCount"] > 0


# -- methods and paths --------------------------------------------------------------


def test_another_method_is_a_405_with_a_code(served: Served) -> None:
    for method in ("PUT", "DELETE", "PATCH"):
        response = httpx.request(method, f"{served.base_url}/graphql", content=json.dumps({"query": VIEWER}))
        _refusal(response, 405, "METHOD_NOT_ALLOWED")
        assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}


def test_an_unknown_path_is_a_404_with_a_code(served: Served) -> None:
    _refusal(httpx.get(f"{served.base_url}/graphql/extra", timeout=10), 404, "NOT_FOUND")
    _refusal(httpx.get(f"{served.base_url}/static/graphiql/none.js", timeout=10), 404, "NOT_FOUND")


async def test_a_get_with_a_query_when_graphiql_is_off(district: Path) -> None:
    async with edge_hub(district, graphiql=False) as (client, token):
        response = await client.get(
            "/graphql", params={"query": VIEWER}, headers={"Authorization": f"Bearer {token}"}
        )
    _refusal(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "POST"
