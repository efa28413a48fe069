"""VendorClient: retries, Retry-After, backoff, budget, rate limit, concurrency,
deadlines, and every failure mapped to a typed error without record contents."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest
import respx

from hub.sdk import BadVendorData, SourceAuthFailed, SourceUnavailable
from hub.sdk.http import BearerToken, RequestRejected, VendorClient, summarise_error_body

from .conftest import BASE, FakeTime, make_config

URL = f"{BASE}/users"


def imsx(minor: str, description: str) -> dict[str, object]:
    return {
        "imsx_codeMajor": "failure",
        "imsx_severity": "error",
        "imsx_description": description,
        "imsx_CodeMinor": {
            "imsx_codeMinorField": [
                {"imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": minor}
            ]
        },
    }


async def test_relative_paths_join_the_base_url_and_headers_come_back(fake_time: FakeTime) -> None:
    async with VendorClient(make_config(), timing=fake_time.timing()) as client:
        with respx.mock:
            route = respx.get(URL).respond(json={"users": []}, headers={"X-Total-Count": "0"})
            payload, headers = await client.get_json("users", {"limit": 5})
    assert payload == {"users": []}
    assert headers["X-Total-Count"] == "0"
    assert route.calls.last.request.url.params["limit"] == "5"
    assert fake_time.sleeps == []


async def test_429_waits_as_long_as_retry_after_says(fake_time: FakeTime) -> None:
    async with VendorClient(make_config(), timing=fake_time.timing()) as client:
        with respx.mock:
            respx.get(URL).mock(
                side_effect=[
                    httpx.Response(429, headers={"Retry-After": "7"}, json=imsx("server_busy", "slow down")),
                    httpx.Response(200, json={"users": [1]}),
                ]
            )
            payload, _ = await client.get_json("users")
    assert payload == {"users": [1]}
    assert fake_time.sleeps == [7.0]


async def test_retry_after_as_an_http_date_and_reset_headers(fake_time: FakeTime) -> None:
    when = datetime.fromtimestamp(fake_time.wall_now + 12, UTC)
    async with VendorClient(make_config(), timing=fake_time.timing()) as client:
        with respx.mock:
            respx.get(URL).mock(
                side_effect=[
                    httpx.Response(429, headers={"Retry-After": format_datetime(when, usegmt=True)}),
                    httpx.Response(
                        503, headers={"X-RateLimit-Reset": str(int(fake_time.wall_now + 30 + 12))}
                    ),
                    httpx.Response(429, headers={"RateLimit-Reset": "3"}),
                    httpx.Response(200, json={}),
                ]
            )
            await client.get_json("users")
    assert fake_time.sleeps == [pytest.approx(12, abs=1), pytest.approx(30, abs=1), 3.0]


async def test_5xx_backs_off_exponentially_then_succeeds(fake_time: FakeTime) -> None:
    config = make_config(backoff_base=1.0, backoff_max=30.0, retries=3)
    async with VendorClient(config, timing=fake_time.timing(jitter=0.5)) as client:
        with respx.mock:
            respx.get(URL).mock(
                side_effect=[
                    httpx.Response(500),
                    httpx.Response(502),
                    httpx.Response(504),
                    httpx.Response(200, json=[]),
                ]
            )
            payload, _ = await client.get_json("users")
    assert payload == []
    # Equal jitter: half fixed, half random (0.5 here) of 1, 2, 4 seconds.
    assert fake_time.sleeps == [0.75, 1.5, 3.0]


async def test_5xx_after_every_retry_is_unavailable_with_a_summary(fake_time: FakeTime) -> None:
    async with VendorClient(make_config(retries=2), timing=fake_time.timing()) as client:
        with respx.mock:
            route = respx.get(URL).respond(
                500, json=imsx("internal_server_error", "database 'sis_prod' is down")
            )
            with pytest.raises(SourceUnavailable) as caught:
                await client.get_json("users", {"filter": "givenName='Jane'"})
    assert route.call_count == 3
    reason = caught.value.reason
    assert "/api/users answered 500" in reason and "internal_server_error" in reason
    assert "(3 attempts)" in reason
    assert "sis_prod" not in reason and "Jane" not in reason


async def test_a_spent_retry_budget_stops_hammering_a_dead_vendor(fake_time: FakeTime) -> None:
    config = make_config(retries=5, retry_budget=3)
    async with VendorClient(config, timing=fake_time.timing()) as client:
        with respx.mock:
            route = respx.get(URL).respond(503)
            with pytest.raises(SourceUnavailable, match="retry budget"):
                await client.get_json("users")
            assert route.call_count == 4  # one attempt and the three retries of the budget
            with pytest.raises(SourceUnavailable, match="retry budget"):
                await client.get_json("users")
            assert route.call_count == 5  # budget spent: one attempt, no retry
            fake_time.advance(61)
            with pytest.raises(SourceUnavailable):
                await client.get_json("users")
            assert route.call_count == 9  # a minute later the budget is back


async def test_a_wait_longer_than_the_deadline_fails_at_once(fake_time: FakeTime) -> None:
    async with VendorClient(make_config(total_timeout=10), timing=fake_time.timing()) as client:
        with respx.mock:
            respx.get(URL).respond(429, headers={"Retry-After": "3600"})
            with pytest.raises(SourceUnavailable, match="asked to wait 3600 s"):
                await client.get_json("users")
    assert fake_time.sleeps == []


async def test_a_truncated_body_is_bad_vendor_data(fake_time: FakeTime) -> None:
    body = json.dumps({"users": [{"sourcedId": "u1", "givenName": "Ada"}]}).encode()
    async with VendorClient(make_config(), timing=fake_time.timing()) as client:
        with respx.mock:
            respx.get(URL).respond(
                200, content=body[: len(body) // 2], headers={"Content-Type": "application/json"}
            )
            with pytest.raises(BadVendorData) as caught:
                await client.get_json("users")
    assert "invalid JSON" in caught.value.reason
    assert "Ada" not in str(caught.value)


async def test_a_hanging_vendor_fails_within_the_total_timeout() -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        return httpx.Response(200, json={})

    config = make_config(total_timeout=0.3, read_timeout=10)
    async with VendorClient(config) as client:
        with respx.mock:
            respx.get(URL).mock(side_effect=hang)
            started = time.monotonic()
            with pytest.raises(SourceUnavailable, match=r"within 0.3 s \(total_timeout\)"):
                await client.get_json("users")
    assert time.monotonic() - started < 2


async def test_read_timeouts_and_connection_errors_are_retried(fake_time: FakeTime) -> None:
    async with VendorClient(make_config(retries=2), timing=fake_time.timing()) as client:
        with respx.mock:
            route = respx.get(URL).mock(
                side_effect=[
                    httpx.ReadTimeout("slow"),
                    httpx.ConnectError("refused"),
                    httpx.Response(200, json={}),
                ]
            )
            await client.get_json("users")
            assert route.call_count == 3
            route.mock(side_effect=httpx.ConnectError("refused"))
            with pytest.raises(SourceUnavailable, match=r"unreachable \(ConnectError\)"):
                await client.get_json("users")


async def test_401_and_403_are_auth_failures_naming_what_to_check(fake_time: FakeTime) -> None:
    auth = BearerToken("t0ken", hint="check SIS_TOKEN")
    async with VendorClient(make_config(), auth, timing=fake_time.timing()) as client:
        with respx.mock:
            route = respx.get(URL).respond(401, json=imsx("unauthorisedrequest", "bad token"))
            with pytest.raises(SourceAuthFailed) as caught:
                await client.get_json("users")
            assert route.calls.last.request.headers["Authorization"] == "Bearer t0ken"
            assert caught.value.reason.endswith("check SIS_TOKEN")
            assert route.call_count == 1
            route.respond(403, json=imsx("forbidden", "scope missing"))
            with pytest.raises(SourceAuthFailed, match="403"):
                await client.get_json("users")


async def test_a_refused_request_is_not_retried_and_names_the_vendor_code(fake_time: FakeTime) -> None:
    async with VendorClient(make_config(), timing=fake_time.timing()) as client:
        with respx.mock:
            route = respx.get(URL).respond(
                400, json=imsx("invalid_filter_field", "cannot filter users by 'shoeSize'")
            )
            with pytest.raises(RequestRejected) as caught:
                await client.get_json("users")
    assert route.call_count == 1
    assert caught.value.status == 400
    assert caught.value.vendor_codes == ("invalid_filter_field",)
    assert "shoeSize" not in caught.value.reason


async def test_missing_ok_turns_404_into_none(fake_time: FakeTime) -> None:
    async with VendorClient(make_config(), timing=fake_time.timing()) as client:
        with respx.mock:
            respx.get(f"{URL}/u9").respond(404, json=imsx("unknownobject", "no such user"))
            payload, _ = await client.get_json("users/u9", missing_ok=True)
            assert payload is None
            with pytest.raises(RequestRejected):
                await client.get_json("users/u9")


async def test_the_rate_limit_spaces_request_starts(fake_time: FakeTime) -> None:
    async with VendorClient(make_config(rate_limit_per_second=2), timing=fake_time.timing()) as client:
        with respx.mock:
            respx.get(URL).respond(json={})
            for _ in range(3):
                await client.get_json("users")
    assert fake_time.sleeps == [0.5, 0.5]


async def test_at_most_max_concurrency_requests_are_in_flight() -> None:
    in_flight = peak = 0

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return httpx.Response(200, json={})

    config = make_config(max_concurrency=2, max_connections=4)
    async with VendorClient(config, transport=httpx.MockTransport(slow)) as client:
        await asyncio.gather(*(client.get_json("users") for _ in range(8)))
    assert peak == 2
    assert client.requests_sent == 8


async def test_links_to_another_host_are_not_followed(fake_time: FakeTime) -> None:
    async with VendorClient(make_config(), timing=fake_time.timing()) as client:
        with pytest.raises(BadVendorData, match="another host"):
            await client.get_json("https://evil.example/api/users")
        assert str(client.url("/users")) == URL
        assert str(client.url(f"{BASE}/users?offset=5")) == f"{URL}?offset=5"


@pytest.mark.parametrize(
    ("body", "expected", "absent"),
    [
        (imsx("unknownobject", "no user 'Jane Doe' at jane@school.org"), "unknownobject", ["Jane", "jane@"]),
        (
            {"error": "invalid_client", "error_description": "client 12345678 unknown"},
            "invalid_client",
            ["12345678"],
        ),
        ({"title": "Bad Request", "detail": 'value "Smith" is not allowed'}, "Bad Request", ["Smith"]),
        ({"errors": [{"message": "user 'Ana' not found"}]}, "user '…' not found", ["Ana"]),
    ],
)
def test_error_summaries_keep_codes_and_drop_values(
    body: dict[str, object], expected: str, absent: list[str]
) -> None:
    summary, _ = summarise_error_body(json.dumps(body).encode(), "application/json")
    assert expected in summary
    for text in absent:
        assert text not in summary
    assert len(summary) <= 160


def test_a_non_json_error_body_is_described_not_copied() -> None:
    summary, codes = summarise_error_body(b"<html>Student Jane Doe</html>", "text/html; charset=utf-8")
    assert summary == "unreadable body (text/html, 29 bytes)"
    assert codes == ()
