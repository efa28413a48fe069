"""Paging strategies: every page to the end, resumable, never looping, never leaving the host."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from hub.sdk import BadVendorData
from hub.sdk.http import (
    CursorPaging,
    LinkHeaderPaging,
    OffsetLimitPaging,
    Page,
    PageTokenPaging,
    Paging,
    VendorClient,
    parse_link_header,
)

from .conftest import BASE, FakeTime, make_config

ROWS = [{"id": f"r{i:03d}"} for i in range(250)]


async def collect(paging: Paging, client: VendorClient, path: str, **kwargs: Any) -> list[Page]:
    return [page async for page in paging.pages(client, path, **kwargs)]


def offset_answer(request: httpx.Request) -> httpx.Response:
    limit = int(request.url.params["limit"])
    offset = int(request.url.params["offset"])
    return httpx.Response(
        200, json={"users": ROWS[offset : offset + limit]}, headers={"X-Total-Count": str(len(ROWS))}
    )


async def test_offset_paging_reads_to_the_end_by_the_total_count(fake_time: FakeTime) -> None:
    paging = OffsetLimitPaging(items_of=lambda body: body["users"])
    async with VendorClient(make_config(), timing=fake_time.timing()) as client:
        with respx.mock:
            route = respx.get(f"{BASE}/users").mock(side_effect=offset_answer)
            pages = await collect(paging, client, "users", params={"filter": "role='student'"})
    assert [len(page.items) for page in pages] == [100, 100, 50]
    assert [page.position for page in pages] == ["0", "100", "200"]
    assert [page.next for page in pages] == ["100", "200", None]
    assert all(page.total == 250 for page in pages)
    assert [item["id"] for page in pages for item in page.items] == [row["id"] for row in ROWS]
    assert all(call.request.url.params["filter"] == "role='student'" for call in route.calls)
    assert route.call_count == 3


async def test_offset_paging_resumes_and_stops_on_a_short_page_without_a_total(fake_time: FakeTime) -> None:
    def no_total(request: httpx.Request) -> httpx.Response:
        response = offset_answer(request)
        del response.headers["X-Total-Count"]
        return response

    paging = OffsetLimitPaging(items_of=lambda body: body["users"])
    async with VendorClient(make_config(), timing=fake_time.timing()) as client:
        with respx.mock:
            route = respx.get(f"{BASE}/users").mock(side_effect=no_total)
            pages = await collect(paging, client, "users", resume="150", page_size=40)
    assert [page.position for page in pages] == ["150", "190", "230"]
    assert [len(page.items) for page in pages] == [40, 40, 20]
    assert pages[-1].next is None and pages[0].total is None
    assert route.call_count == 3


async def test_an_exact_multiple_without_total_ends_on_an_empty_page(fake_time: FakeTime) -> None:
    paging = OffsetLimitPaging(items_of=lambda body: body["users"], total_header=None)
    async with VendorClient(make_config(), timing=fake_time.timing()) as client:
        with respx.mock:
            respx.get(f"{BASE}/users").mock(side_effect=offset_answer)
            pages = await collect(paging, client, "users", page_size=125)
    assert [len(page.items) for page in pages] == [125, 125, 0]


async def test_a_body_without_the_list_is_bad_vendor_data(fake_time: FakeTime) -> None:
    paging = OffsetLimitPaging(items_of=lambda body: body["users"])
    async with VendorClient(make_config(), timing=fake_time.timing()) as client:
        with respx.mock:
            respx.get(f"{BASE}/users").respond(json={"orgs": []})
            with pytest.raises(BadVendorData, match="without the expected list"):
                await collect(paging, client, "users")


async def test_link_paging_follows_next_verbatim(fake_time: FakeTime) -> None:
    # Odd but valid encodings must reach the vendor exactly as it wrote them.
    second = f"{BASE}/courses?page=bookmark%3A2&per_page=2&filter=title%3D%27A%27%27s%27"
    third = "/api/courses?page=bookmark%3A3&per_page=2"
    answers = {
        f"{BASE}/courses?per_page=2": httpx.Response(
            200, json=[1, 2], headers={"Link": f'<{second}>; rel="next", <{BASE}/courses?page=9>; rel="last"'}
        ),
        second: httpx.Response(200, json=[3, 4], headers={"Link": f'<{third}>; rel="next"'}),
        f"https://vendor.example{third}": httpx.Response(200, json=[5]),
    }
    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        return answers[str(request.url)]

    paging = LinkHeaderPaging(items_of=lambda body: body)
    async with VendorClient(make_config(), timing=fake_time.timing()) as client:
        with respx.mock:
            respx.get(url__startswith=BASE).mock(side_effect=answer)
            pages = await collect(paging, client, "courses", page_size=2)
    assert [list(page.items) for page in pages] == [[1, 2], [3, 4], [5]]
    assert sent == list(answers)
    assert [page.position for page in pages] == ["", second, f"https://vendor.example{third}"]
    assert pages[-1].next is None


async def test_link_paging_refuses_loops_and_other_hosts(fake_time: FakeTime) -> None:
    paging = LinkHeaderPaging(items_of=lambda body: body, size_param=None)
    async with VendorClient(make_config(), timing=fake_time.timing()) as client:
        with respx.mock:
            respx.get(f"{BASE}/loop").respond(json=[], headers={"Link": f'<{BASE}/loop>; rel="next"'})
            with pytest.raises(BadVendorData, match="already read"):
                await collect(paging, client, "loop")
            respx.get(f"{BASE}/away").respond(
                json=[], headers={"Link": '<https://evil.example/x>; rel="next"'}
            )
            with pytest.raises(BadVendorData, match="another host"):
                await collect(paging, client, "away")


async def test_page_tokens_are_passed_until_none_is_given(fake_time: FakeTime) -> None:
    answers = {
        "": {"courses": [1, 2], "nextPageToken": "t2"},
        "t2": {"courses": [3], "nextPageToken": "t3"},
        "t3": {"courses": []},
    }

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.params["pageSize"] == "2"
        return httpx.Response(200, json=answers[request.url.params.get("pageToken", "")])

    paging = PageTokenPaging(items_of=lambda body: body["courses"])
    async with VendorClient(make_config(), timing=fake_time.timing()) as client:
        with respx.mock:
            respx.get(f"{BASE}/courses").mock(side_effect=answer)
            pages = await collect(paging, client, "courses", page_size=2)
            resumed = await collect(paging, client, "courses", page_size=2, resume="t3")
    assert [page.position for page in pages] == ["", "t2", "t3"]
    assert [page.next for page in pages] == ["t2", "t3", None]
    assert [len(page.items) for page in resumed] == [0]


async def test_cursors_ask_for_the_records_after_the_last_one(fake_time: FakeTime) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("starting_after")
        start = 0 if after is None else next(i for i, row in enumerate(ROWS) if row["id"] == after) + 1
        return httpx.Response(200, json={"data": ROWS[start : start + int(request.url.params["limit"])]})

    paging = CursorPaging(items_of=lambda body: body["data"])
    async with VendorClient(make_config(), timing=fake_time.timing()) as client:
        with respx.mock:
            route = respx.get(f"{BASE}/students").mock(side_effect=answer)
            pages = await collect(paging, client, "students", page_size=100)
    assert [len(page.items) for page in pages] == [100, 100, 50]
    assert [page.position for page in pages] == ["", "r099", "r199"]
    assert route.call_count == 3


def test_link_headers_parse_into_relations() -> None:
    header = '<https://a.example/x?o=2>; rel="next", <https://a.example/x?o=9>; rel="last first"'
    assert parse_link_header(header) == {
        "next": "https://a.example/x?o=2",
        "last": "https://a.example/x?o=9",
        "first": "https://a.example/x?o=9",
    }
    assert parse_link_header("") == {}
