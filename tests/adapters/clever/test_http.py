"""The adapter against Clever's HTTP behaviour, replayed with respx: paging
along the body's ``links``, a 429 until ``X-RateLimit-Reset``, refused
tokens, ``{"message"}`` and HTML error bodies, bodies cut short, and links
that must not be followed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import respx

from adapters.clever import CleverAdapter
from hub.sdk import BadVendorData, Entity, FetchRequest, SourceAuthFailed, SourceUnavailable
from hub.sdk.http import Timing

from .conftest import TOKEN, TOKEN_ENV, clever_config, fetch_all

HOST = "api.clever.com"
WALL = 1_900_000_000.0  # a fixed "now" for reset headers
FIELDS = frozenset({"given_name", "grade_level"})


class FakeClock:
    """Monotonic time and sleep for the toolkit: sleeping advances the clock."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def timing(self) -> Timing:
        return Timing(
            monotonic=lambda: self.now, wall=lambda: WALL + self.now, sleep=self.sleep, jitter=lambda: 0.0
        )


def _student(user_id: str, grade: str = "1") -> dict[str, Any]:
    data = {"id": user_id, "name": {"first": f"S{user_id[-2:]}"}, "roles": {"student": {"grade": grade}}}
    return {"data": data, "uri": f"/v3.0/users/{user_id}"}


def _district() -> dict[str, Any]:
    return {"data": [{"data": {"id": "d" * 24, "name": "D"}}], "links": []}


@pytest.fixture
def clever() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        router.get(host=HOST, path="/v3.0/districts").respond(200, json=_district())
        yield router


@asynccontextmanager
async def adapter(clock: FakeClock | None = None, **config: Any) -> AsyncIterator[CleverAdapter]:
    timing = clock.timing() if clock else None
    source = CleverAdapter(clever_config("https://api.clever.com", **config), timing=timing)
    try:
        yield source
    finally:
        await source.aclose()


async def test_pages_follow_the_body_links_verbatim(clever: respx.MockRouter) -> None:
    ids = [f"{n:024x}" for n in range(1, 6)]
    pages = {
        "": ([_student(i) for i in ids[:2]], "/v3.0/users?limit=2&role=student&starting_after=" + ids[1]),
        ids[1]: (
            [_student(i) for i in ids[2:4]],
            "/v3.0/users?limit=2&role=student&starting_after=" + ids[3],
        ),
        ids[3]: ([_student(ids[4])], None),
    }

    def answer(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("starting_after", "")
        data, following = pages[after]
        links = [{"rel": "self", "uri": str(request.url.raw_path, "ascii")}]
        if following:
            links.append({"rel": "next", "uri": following})
        return httpx.Response(200, json={"data": data, "links": links})

    route = clever.get(host=HOST, path="/v3.0/users").mock(side_effect=answer)
    async with adapter(page_size=2) as source:
        rows = await fetch_all(source, FetchRequest(entity=Entity.STUDENT, fields=FIELDS))
    assert [r.vendor_id for r in rows] == ids
    sent = [call.request.url for call in route.calls]
    assert [dict(url.params) for url in sent] == [
        {"role": "student", "limit": "2"},
        {"limit": "2", "role": "student", "starting_after": ids[1]},
        {"limit": "2", "role": "student", "starting_after": ids[3]},
    ]
    assert all(call.request.headers["Authorization"] == f"Bearer {TOKEN}" for call in route.calls)


async def test_a_page_cursor_resumes_with_starting_after(clever: respx.MockRouter) -> None:
    ids = [f"{n:024x}" for n in range(1, 5)]

    def answer(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("starting_after", "")
        data = [_student(i) for i in ids if i > after][: int(request.url.params["limit"])]
        return httpx.Response(200, json={"data": data, "links": []})

    route = clever.get(host=HOST, path="/v3.0/users").mock(side_effect=answer)
    async with adapter() as source:
        first = await source.fetch(FetchRequest(entity=Entity.STUDENT, fields=FIELDS, limit=2))
        assert first.next_cursor is not None
        second = await source.fetch(
            FetchRequest(entity=Entity.STUDENT, fields=FIELDS, limit=2, cursor=first.next_cursor)
        )
    assert [r.vendor_id for r in [*first.records, *second.records]] == ids
    assert second.next_cursor is None
    # One record more than asked tells whether another page exists.
    assert [call.request.url.params["limit"] for call in route.calls] == ["3", "3"]
    assert route.calls[1].request.url.params["starting_after"] == ids[1]


async def test_a_429_waits_until_the_reset_time(clever: respx.MockRouter) -> None:
    clock = FakeClock()
    reset = str(int(WALL) + 7)  # Clever's X-RateLimit-Reset: a Unix time, 7 s away
    clever.get(host=HOST, path="/v3.0/users").mock(
        side_effect=[
            httpx.Response(
                429, json={"message": "Rate limit exceeded"}, headers={"X-RateLimit-Reset": reset}
            ),
            httpx.Response(200, json={"data": [_student("a" * 24)], "links": []}),
        ]
    )
    async with adapter(clock) as source:
        result = await source.fetch(FetchRequest(entity=Entity.STUDENT, fields=FIELDS))
    assert [r.vendor_id for r in result.records] == ["a" * 24]
    assert clock.slept == [pytest.approx(7.0)]


async def test_a_reset_beyond_the_total_timeout_fails_at_once(clever: respx.MockRouter) -> None:
    clock = FakeClock()
    reset = str(int(WALL) + 600)
    clever.get(host=HOST, path="/v3.0/users").respond(429, headers={"X-RateLimit-Reset": reset})
    async with adapter(clock, total_timeout=30) as source:
        with pytest.raises(SourceUnavailable) as failure:
            await source.fetch(FetchRequest(entity=Entity.STUDENT, fields=FIELDS))
    assert "answered 429" in failure.value.reason and "asked to wait 600 s" in failure.value.reason
    assert clock.slept == []


async def test_a_refused_token_is_an_auth_failure_naming_where_it_comes_from(
    clever: respx.MockRouter,
) -> None:
    clever.get(host=HOST, path="/v3.0/districts").respond(401, json={"message": "Invalid token"})
    async with adapter() as source:
        with pytest.raises(SourceAuthFailed) as failure:
            await source.open()
    reason = failure.value.reason
    assert reason.startswith("/v3.0/districts answered 401: Invalid token")
    assert TOKEN_ENV in reason and TOKEN not in str(failure.value)
    assert failure.value.code == "SOURCE_AUTH_FAILED"


async def test_an_html_answer_to_the_wrong_token_type_is_summarised(clever: respx.MockRouter) -> None:
    page = "<html><body>Please log in, Jane Doe</body></html>"
    clever.get(host=HOST, path="/v3.0/districts").respond(
        401, text=page, headers={"Content-Type": "text/html"}
    )
    async with adapter() as source:
        with pytest.raises(SourceAuthFailed) as failure:
            await source.open()
    assert f"answered 401: unreadable body (text/html, {len(page)} bytes)" in failure.value.reason
    assert "Jane" not in str(failure.value)


async def test_error_messages_are_summarised_without_values(clever: respx.MockRouter) -> None:
    body = {"message": "Internal error reading user 'jane.doe@example.org' (id 5a25ffb0c1bc2a00360003ed)"}
    route = clever.get(host=HOST, path="/v3.0/users").respond(500, json=body)
    async with adapter(FakeClock(), retries=2) as source:
        with pytest.raises(SourceUnavailable) as failure:
            await source.fetch(FetchRequest(entity=Entity.STUDENT, fields=FIELDS))
    assert "/v3.0/users answered 500: Internal error reading user" in failure.value.reason
    assert "(3 attempts)" in failure.value.reason and route.call_count == 3
    assert "jane" not in failure.value.reason


async def test_a_body_cut_short_is_bad_vendor_data(clever: respx.MockRouter) -> None:
    clever.get(host=HOST, path="/v3.0/sections").respond(
        200, content=b'{"data": [{"data": {"id": "5a', headers={}
    )
    async with adapter() as source:
        with pytest.raises(BadVendorData) as failure:
            await source.fetch(FetchRequest(entity=Entity.SECTION, fields=frozenset({"title"})))
    assert "invalid JSON" in failure.value.reason and "cut short" in failure.value.reason


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("https://evil.example/v3.0/users?starting_after=x", "linked to another host"),
        ("/v3.0/users?limit=1000&role=student", "points back to a page already read"),
    ],
)
async def test_links_off_the_origin_or_in_a_loop_are_not_followed(
    clever: respx.MockRouter, link: str, expected: str
) -> None:
    page = {"data": [_student("b" * 24)], "links": [{"rel": "next", "uri": link}]}
    clever.get(host=HOST, path="/v3.0/users").respond(200, json=page)
    async with adapter() as source:
        with pytest.raises(BadVendorData) as failure:
            await source.fetch(FetchRequest(entity=Entity.STUDENT, fields=FIELDS))
    assert expected in failure.value.reason


async def test_a_look_up_of_a_missing_id_is_empty_not_an_error(clever: respx.MockRouter) -> None:
    clever.get(host=HOST, path__regex=r"^/v3.0/users/\w+$").respond(
        404, json={"message": "Resource not found"}
    )
    async with adapter() as source:
        result = await source.fetch(FetchRequest(entity=Entity.STUDENT, fields=FIELDS, ids=("c" * 24,)))
    assert list(result.records) == [] and result.total == 0
