"""Politeness towards one vendor: a request rate, pauses the vendor asks for,
backoff between retries and a budget of retries per minute."""

from __future__ import annotations

import collections
import email.utils
from collections.abc import Mapping

from hub.sdk.http._timing import Timing

__all__ = ["RetryBudget", "Throttle", "backoff_delay", "requested_delay"]

# Headers by which vendors say when to come back, in order of trust.
_RESET_HEADERS = ("RateLimit-Reset", "X-RateLimit-Reset", "X-Rate-Limit-Reset")
# A reset value above this is a Unix timestamp, not a number of seconds.
_EPOCH_THRESHOLD = 1_000_000_000
_WINDOW = 60.0


class Throttle:
    """Spaces request starts at ``per_second`` and holds them during a vendor's pause.

    Starts are handed out as reservations (the next free slot), not by
    polling, so waiting costs one sleep and the order is first come first
    served. A pause (from ``Retry-After``) delays every request of the source,
    not just the one that was told: the vendor throttles the client, not a URL.
    """

    def __init__(self, per_second: float | None, timing: Timing) -> None:
        self._interval = 1.0 / per_second if per_second else 0.0
        self._timing = timing
        self._next_start = 0.0
        self._paused_until = 0.0

    def pause(self, seconds: float) -> None:
        """Hold every request of the source for ``seconds`` from now."""
        self._paused_until = max(self._paused_until, self._timing.monotonic() + seconds)

    async def wait(self) -> float:
        """Return when this request may start; how long it waited (seconds)."""
        now = self._timing.monotonic()
        start = max(now, self._paused_until, self._next_start)
        if self._interval:
            self._next_start = start + self._interval
        if start > now:
            await self._timing.sleep(start - now)
            return start - now
        return 0.0


class RetryBudget:
    """At most ``per_minute`` retries in any 60 s for one source.

    When a vendor is down every call would retry several times; the budget
    turns that into one failed attempt per call once it is spent, so a dead
    vendor sees a trickle, not a multiple of the hub's traffic.
    """

    def __init__(self, per_minute: int, timing: Timing) -> None:
        self._limit = per_minute
        self._timing = timing
        self._spent: collections.deque[float] = collections.deque()

    def spend(self) -> bool:
        """Take one retry from the budget; ``False`` when none is left."""
        now = self._timing.monotonic()
        while self._spent and self._spent[0] <= now - _WINDOW:
            self._spent.popleft()
        if len(self._spent) >= self._limit:
            return False
        self._spent.append(now)
        return True


def backoff_delay(attempt: int, base: float, cap: float, jitter: float) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based).

    Exponential with "equal jitter": half of the capped delay is fixed, half
    random, so retries of many callers spread out but never come back at once.
    """
    ceiling: float = min(cap, base * 2.0 ** (attempt - 1))
    return ceiling / 2 + ceiling / 2 * jitter


def requested_delay(headers: Mapping[str, str], wall_now: float) -> float | None:
    """Seconds the vendor asked us to wait, from ``Retry-After`` or a reset header.

    ``Retry-After`` is seconds or an HTTP date (RFC 9110); reset headers are
    seconds, or a Unix timestamp (Clever's ``X-RateLimit-Reset``) in seconds
    or milliseconds. Unreadable values are ignored (``None``); past times give 0.
    """
    value = headers.get("Retry-After")
    if value is not None:
        seconds = _seconds_or_date(value.strip(), wall_now)
        if seconds is not None:
            return seconds
    for name in _RESET_HEADERS:
        value = headers.get(name)
        if value is None:
            continue
        try:
            number = float(value.strip())
        except ValueError:
            continue
        if number != number or number in (float("inf"), float("-inf")):
            continue
        if number > _EPOCH_THRESHOLD * 1000:
            number /= 1000  # milliseconds since the epoch
        if number > _EPOCH_THRESHOLD:
            number -= wall_now
        return max(0.0, number)
    return None


def _seconds_or_date(value: str, wall_now: float) -> float | None:
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - wall_now)
