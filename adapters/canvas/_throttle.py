"""Canvas's throttling, made legible to the toolkit's retry rules.

Canvas meters every token with a leaky bucket (600 units, leaking 10 per
second by default) and reports what is left in ``X-Rate-Limit-Remaining``
(negative once over). A request that finds the bucket full gets
``403 Forbidden (Rate Limit Exceeded)`` as plain text (newer documentation
says 429), which :class:`~hub.sdk.http.VendorClient` would take for a
permission error unless the remaining header reads exactly ``0``.

:class:`CanvasThrottle` sits between the client and the network (the
``transport`` the client accepts) and does two things for every request of
the source:

- before sending, it estimates the bucket: the units the last answer left,
  plus what leaked since, minus what the requests still in flight hold
  (Canvas reserves 50 units per request in flight, or the last
  ``X-Request-Cost`` if higher). Below ``low_water`` it waits for the bucket
  to refill to that mark, letting requests go one at a time, so a busy hub
  slows down before the wall instead of running into it;
- after receiving, it turns a throttling answer (429, or a 403 whose body
  says ``Rate Limit Exceeded``) into a 429 carrying ``RateLimit-Reset``: the
  seconds until the bucket is back at ``low_water``. The client then pauses
  the whole source that long and retries, within its retry budget and
  ``total_timeout``, as for any vendor that says 429.
"""

from __future__ import annotations

import asyncio
import json
import math

import httpx

from hub.sdk.http import Timing

__all__ = ["CanvasThrottle", "remaining_units"]

_REMAINING = "X-Rate-Limit-Remaining"
_COST = "X-Request-Cost"
# Canvas holds 50 units of the bucket for every request in flight ("pre-flight
# penalty"): what a request about to leave must assume the others still hold.
_UP_FRONT = 50.0
_MARKER = b"rate limit exceeded"
_MAX_BODY = 4096  # a throttling answer is one line; never hold more of a 403 body than this


def remaining_units(headers: httpx.Headers) -> float | None:
    """The bucket's remaining units from ``X-Rate-Limit-Remaining``, if readable."""
    return _units(headers.get(_REMAINING))


def _units(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


class CanvasThrottle(httpx.AsyncBaseTransport):
    """A transport wrapper that paces requests by ``X-Rate-Limit-Remaining``
    and reports Canvas's throttling as a 429 with a reset time.

    ``max_pause`` caps one pacing wait (the client's ``total_timeout`` still
    bounds the whole call). ``timing`` supplies the clock and sleep.
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        low_water: float,
        refill_per_second: float,
        max_pause: float,
        timing: Timing | None = None,
    ) -> None:
        self._inner = inner
        self._low_water = low_water
        self._refill = refill_per_second
        self._max_pause = max_pause
        self._timing = timing or Timing()
        self._remaining: float | None = None
        self._seen_at = 0.0
        self._cost = _UP_FRONT
        self._in_flight = 0
        self._gate = asyncio.Lock()
        self.throttled = 0
        self.paced = 0

    def refill_delay(self, remaining: float) -> float:
        """Seconds until a bucket with ``remaining`` units is back at the low-water mark."""
        return max(0.0, self._low_water - remaining) / self._refill

    def pending_delay(self) -> float:
        """How long the next request should wait: until the bucket, as the last
        answer left it plus what leaked since, minus what the requests still in
        flight hold, is back at the low-water mark."""
        if self._remaining is None:
            return 0.0
        elapsed = self._timing.monotonic() - self._seen_at
        projected = self._remaining + elapsed * self._refill - self._in_flight * self._cost
        return min(self._max_pause, self.refill_delay(projected))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Wait if the bucket is low, send, learn the remaining units, translate throttling."""
        # One request at a time through the gate: while the bucket is low,
        # requests leave one by one, each after its wait (Canvas charges
        # parallel requests extra, so running them in parallel then only hurts).
        async with self._gate:
            delay = self.pending_delay()
            if delay > 0:
                self.paced += 1
                await self._timing.sleep(delay)
            self._in_flight += 1
        try:
            response = await self._inner.handle_async_request(request)
        finally:
            self._in_flight -= 1
        remaining = remaining_units(response.headers)
        if remaining is not None:
            self._remaining, self._seen_at = remaining, self._timing.monotonic()
        cost = _units(response.headers.get(_COST))
        if cost is not None:
            self._cost = max(_UP_FRONT, cost)
        if response.status_code == 429:
            return await self._as_throttled(request, response, remaining)
        if response.status_code == 403:
            body = await _head(response)
            if _MARKER in body.lower():
                return await self._as_throttled(request, response, remaining)
            # Not throttling: hand the (already read) answer on, decoded.
            return httpx.Response(
                403, headers=_without_framing(response.headers), content=body, request=request
            )
        return response

    async def _as_throttled(
        self, request: httpx.Request, response: httpx.Response, remaining: float | None
    ) -> httpx.Response:
        self.throttled += 1
        await response.aclose()
        headers = _without_framing(response.headers, "content-type")
        if "retry-after" not in headers:
            # Never "come back at once": at least the time one unit takes to leak.
            wait = max(self.refill_delay(remaining if remaining is not None else 0.0), 1.0 / self._refill)
            headers["ratelimit-reset"] = f"{wait:.3f}"
        said = f"Rate Limit Exceeded (Canvas answered {response.status_code})"
        content = json.dumps({"errors": [{"message": said}]}).encode()
        headers["content-type"] = "application/json"
        return httpx.Response(429, headers=headers, content=content, request=request)

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self._inner.aclose()


def _without_framing(headers: httpx.Headers, *also: str) -> dict[str, str]:
    """Headers minus those describing the old body's bytes (a new body follows)."""
    dropped = {"content-length", "content-encoding", "transfer-encoding", *also}
    return {key.lower(): value for key, value in headers.items() if key.lower() not in dropped}


async def _head(response: httpx.Response) -> bytes:
    """Up to ``_MAX_BODY`` bytes of a body (decoded), read and closed."""
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size >= _MAX_BODY:
                break
    finally:
        await response.aclose()
    return b"".join(chunks)[:_MAX_BODY]
