"""Canvas throttling: a 403 "Rate Limit Exceeded" (or a 429) is retried after the
bucket refills, any other 403 is a permission error, and a low
X-Rate-Limit-Remaining slows the next requests down before the wall."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from adapters.canvas._throttle import CanvasThrottle, remaining_units
from hub.sdk import Entity, FetchRequest, SourceAuthFailed, SourceUnavailable
from hub.sdk.http import Timing

from .conftest import canvas_adapter, every_field, simulator

THROTTLED = b"403 Forbidden (Rate Limit Exceeded)\n"


@dataclasses.dataclass
class FakeClock:
    """A monotonic clock that only moves when someone sleeps."""

    now: float = 1000.0
    slept: list[float] = dataclasses.field(default_factory=list)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds

    def timing(self) -> Timing:
        return Timing(
            monotonic=lambda: self.now, wall=lambda: 1_700_000_000.0, sleep=self.sleep, jitter=lambda: 0.5
        )


def canvas_answers(*answers: httpx.Response) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """A transport answering requests with ``answers`` in turn (the last one from then on)."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers[min(len(seen), len(answers)) - 1]

    return httpx.MockTransport(handler), seen


def ok(remaining: str = "550.0") -> httpx.Response:
    return httpx.Response(200, json={"id": 1}, headers={"X-Rate-Limit-Remaining": remaining})


def throttled(remaining: str = "-12.5", status: int = 403) -> httpx.Response:
    headers = {"X-Rate-Limit-Remaining": remaining, "Content-Type": "text/plain; charset=utf-8"}
    return httpx.Response(status, content=THROTTLED, headers=headers)


def wrap(inner: httpx.AsyncBaseTransport, clock: FakeClock, **options: float) -> CanvasThrottle:
    settings = {"low_water": 100.0, "refill_per_second": 10.0, "max_pause": 30.0, **options}
    return CanvasThrottle(inner, timing=clock.timing(), **settings)


async def send(transport: CanvasThrottle, path: str = "/api/v1/courses") -> httpx.Response:
    async with httpx.AsyncClient(transport=transport, base_url="https://canvas.test") as client:
        response = await client.get(path)
        await response.aread()
        return response


@pytest.mark.parametrize("answer", [throttled(), throttled(status=429), throttled("0.0")])
async def test_throttling_becomes_a_429_with_the_refill_time(answer: httpx.Response) -> None:
    clock = FakeClock()
    inner, _ = canvas_answers(answer)
    throttle = wrap(inner, clock)
    response = await send(throttle)
    remaining = remaining_units(answer.headers) or 0.0
    assert response.status_code == 429
    assert float(response.headers["ratelimit-reset"]) == pytest.approx((100.0 - remaining) / 10.0)
    assert "Rate Limit Exceeded" in response.json()["errors"][0]["message"]
    assert throttle.throttled == 1


async def test_a_429_keeps_the_vendors_retry_after() -> None:
    inner, _ = canvas_answers(httpx.Response(429, headers={"Retry-After": "7"}))
    response = await send(wrap(inner, FakeClock()))
    assert response.status_code == 429 and response.headers["retry-after"] == "7"
    assert "ratelimit-reset" not in response.headers


async def test_any_other_403_passes_unchanged() -> None:
    body = b'{"status":"unauthorized","errors":[{"message":"user not authorized to perform that action"}]}'
    inner, _ = canvas_answers(httpx.Response(403, content=body, headers={"Content-Type": "application/json"}))
    throttle = wrap(inner, FakeClock())
    response = await send(throttle)
    assert (response.status_code, response.content) == (403, body)
    assert throttle.throttled == 0


async def test_a_low_bucket_slows_the_next_request_down() -> None:
    clock = FakeClock()
    inner, seen = canvas_answers(ok("40.0"), ok("300.0"), ok("300.0"))
    throttle = wrap(inner, clock)
    await send(throttle)
    clock.now += 2.0  # two seconds pass: 20 of the 60 missing units are back
    await send(throttle)
    await send(throttle)
    assert clock.slept == [4.0]  # (100 - 40) / 10 - 2
    assert throttle.paced == 1 and len(seen) == 3


async def test_a_pause_is_capped() -> None:
    clock = FakeClock()
    inner, _ = canvas_answers(ok("-5000"), ok())
    throttle = wrap(inner, clock, max_pause=3.0)
    await send(throttle)
    await send(throttle)
    assert clock.slept == [3.0]


def not_found(count: int) -> httpx.Response:
    return httpx.Response(404, json={"errors": []})


def route(answers: dict[str, Callable[[int], httpx.Response]]) -> tuple[httpx.MockTransport, list[str]]:
    """A Canvas of a few endpoints; each answer is chosen by how often its path was asked."""
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        calls.append(path)
        count = calls.count(path)
        return answers.get(path, not_found)(count)

    return httpx.MockTransport(handler), calls


ACCOUNT = "/api/v1/accounts/self"
TERMS = "/api/v1/accounts/self/terms"


async def test_the_adapter_waits_out_throttling_and_answers() -> None:
    clock = FakeClock()
    transport, calls = route(
        {
            ACCOUNT: lambda n: ok(),
            TERMS: lambda n: (
                throttled("-20.0") if n <= 2 else httpx.Response(200, json={"enrollment_terms": []})
            ),
        }
    )
    async with canvas_adapter(transport, timing=clock.timing()) as adapter:
        result = await adapter.fetch(FetchRequest(Entity.ACADEMIC_SESSION, frozenset({"title"})))
    assert result.records == [] and calls.count(TERMS) == 3
    # Each throttled answer paused the source for the refill time: (100 + 20) / 10 s.
    assert clock.slept.count(12.0) == 2


async def test_throttling_that_outlasts_the_retries_is_unavailable_not_forbidden() -> None:
    clock = FakeClock()
    transport, _ = route({ACCOUNT: lambda n: ok(), TERMS: lambda n: throttled("-1.0")})
    async with canvas_adapter(transport, timing=clock.timing(), retries=2) as adapter:
        with pytest.raises(SourceUnavailable) as caught:
            await adapter.fetch(FetchRequest(Entity.ACADEMIC_SESSION, frozenset({"title"})))
    assert "Rate Limit Exceeded" in caught.value.reason and "3 attempts" in caught.value.reason


async def test_a_403_that_is_not_throttling_names_the_token_to_check() -> None:
    denied = httpx.Response(
        403, json={"status": "unauthorized", "errors": [{"message": "user not authorized"}]}
    )
    transport, calls = route({ACCOUNT: lambda n: ok(), TERMS: lambda n: denied})
    async with canvas_adapter(transport, timing=FakeClock().timing()) as adapter:
        with pytest.raises(SourceAuthFailed) as caught:
            await adapter.fetch(FetchRequest(Entity.ACADEMIC_SESSION, frozenset({"title"})))
    assert calls.count(TERMS) == 1
    assert "answered 403" in caught.value.reason and "check HOMEROOM_TEST_CANVAS_TOKEN" in caught.value.reason


async def test_against_the_simulators_bucket_the_answer_is_complete(district: Path) -> None:
    # 8 requests fill the bucket; it drains 40 requests' worth a second. Canvas's
    # real leak rate is in units, so the adapter is told the simulator's.
    app, state = simulator(district, rate_limit_per_second=40, rate_limit_burst=8)
    units_per_second = 600 / 8 * 40
    async with canvas_adapter(app, throttle_refill_per_second=units_per_second, max_concurrency=4) as adapter:
        fields = every_field(Entity.SECTION, adapter)
        sections = await adapter.fetch(FetchRequest(Entity.SECTION, fields))
        paced, throttled_seen = adapter.throttle.paced, adapter.throttle.throttled
    assert len(sections.records) == 91
    assert paced > 0  # slowed down before the wall...
    assert state.throttled == throttled_seen  # ...and every wall it hit was waited out
    assert min(state.remaining) > -600
