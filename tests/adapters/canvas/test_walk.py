"""Link-header paging and resumable positions, on canvasapi's paged-list fixtures
and on nested collections."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from adapters.canvas._walk import Level, Mark, Stream, Walker, decode_position, encode_position
from hub.sdk import BadVendorData
from hub.sdk.http import VendorClient
from tests.conftest import shared_path

from .conftest import canvas_config

BASE = "https://example.com/api/v1/"


def paged_fixtures() -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = json.loads(
        shared_path("data", "canvas", "canvasapi_paginated_list.json").read_text(encoding="utf-8")
    )
    return {f["endpoint"]: f for f in data.values() if isinstance(f, dict)}


@pytest.fixture
def client() -> Iterator[VendorClient]:
    fixtures = paged_fixtures()

    def answer(request: httpx.Request) -> httpx.Response:
        # A first page is asked with per_page only; a later one at its next link, verbatim.
        path = request.url.path.removeprefix("/api/v1/")
        key = f"{path}?{request.url.query.decode()}" if "page" in request.url.params else path
        fixture = fixtures.get(key)
        if fixture is None:
            return httpx.Response(
                404, json={"errors": [{"message": "The specified resource does not exist."}]}
            )
        return httpx.Response(200, json=fixture["data"], headers=fixture.get("headers") or {})

    config = canvas_config("https://example.com").model_copy(update={"base_url": BASE.rstrip("/")})
    yield VendorClient(config, transport=httpx.MockTransport(answer))


def ids(chains: list[tuple[dict[str, Any], ...]]) -> list[str]:
    return [str(chain[-1]["id"]) for chain in chains]


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("empty_list", []),
        ("single_item", ["1"]),
        ("two_objects_one_page", ["1", "2"]),
        ("four_objects_two_pages", ["1", "2", "3", "4"]),
        ("six_objects_three_pages", ["1", "2", "3", "4", "5", "6"]),
    ],
)
async def test_canvasapi_paged_lists(client: VendorClient, endpoint: str, expected: list[str]) -> None:
    walker = Walker(client, per_page=2)
    chains = await walker.collect([lambda chain: Level(streams=(Stream(endpoint),))])
    assert ids(chains) == expected
    assert walker.pages_read == max(1, -(-len(expected) // 2))


async def test_every_position_resumes_at_the_next_record(client: VendorClient) -> None:
    walker = Walker(client, per_page=2)
    levels = [lambda chain: Level(streams=(Stream("six_objects_three_pages"),))]
    walked = [(chain, after) async for chain, after in walker.walk(levels)]
    assert ids([chain for chain, _ in walked]) == ["1", "2", "3", "4", "5", "6"]
    for index, (_, after) in enumerate(walked):
        cursor = encode_position(after, BASE)
        resumed = [chain async for chain, _ in walker.walk(levels, decode_position(cursor, BASE) or ())]
        assert ids(resumed) == ["1", "2", "3", "4", "5", "6"][index + 1 :]


async def test_nested_levels_resume_inside_a_child_collection(client: VendorClient) -> None:
    walker = Walker(client, per_page=2)
    parents = ({"id": "a", "path": "four_objects_two_pages"}, {"id": "b", "path": "six_objects_three_pages"})
    levels = [
        lambda chain: Level(items=parents),
        lambda chain: Level(streams=(Stream(str(chain[0]["path"])),)),
    ]
    walked = [(chain, after) async for chain, after in walker.walk(levels)]
    assert [f"{c[0]['id']}{c[1]['id']}" for c, _ in walked] == [
        "a1",
        "a2",
        "a3",
        "a4",
        "b1",
        "b2",
        "b3",
        "b4",
        "b5",
        "b6",
    ]
    _, after_a3 = walked[2]
    assert after_a3 == (Mark(0, None, 0), Mark(0, BASE + "four_objects_two_pages?page=2&per_page=2", 1))
    rest = [f"{c[0]['id']}{c[1]['id']}" async for c, _ in walker.walk(levels, after_a3)]
    assert rest == ["a4", "b1", "b2", "b3", "b4", "b5", "b6"]


def test_cursors_keep_page_urls_relative_and_reject_garbage() -> None:
    position = (Mark(1, BASE + "courses?page=3&per_page=100", 7),)
    cursor = encode_position(position, BASE)
    assert b"example.com" not in base64.urlsafe_b64decode(cursor + "==")
    assert decode_position(cursor, BASE) == position
    for bad in ["", "!!", "bnVsbA", encode_position((), BASE), "W1sxLDIsM11d"]:
        assert decode_position(bad, BASE) is None


async def test_a_next_link_to_the_same_page_is_bad_data() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[{"id": 1}], headers={"Link": f'<{request.url}>; rel="next"'})

    config = canvas_config("https://example.com").model_copy(update={"base_url": BASE.rstrip("/")})
    walker = Walker(VendorClient(config, transport=httpx.MockTransport(answer)), per_page=2)
    with pytest.raises(BadVendorData, match="same page"):
        await walker.collect([lambda chain: Level(streams=(Stream("loop"),))])


async def test_a_next_link_to_another_host_is_not_followed() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json=[{"id": 1}], headers={"Link": '<https://evil.example/x?page=2>; rel="next"'}
        )

    config = canvas_config("https://example.com").model_copy(update={"base_url": BASE.rstrip("/")})
    walker = Walker(VendorClient(config, transport=httpx.MockTransport(answer)), per_page=2)
    with pytest.raises(BadVendorData, match="another host"):
        await walker.collect([lambda chain: Level(streams=(Stream("courses"),))])
