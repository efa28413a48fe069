"""Limits on one caller's subscriptions, the same over WebSocket and Server-Sent Events."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from graphql import GraphQLError

__all__ = ["MAX_SUBSCRIPTIONS_PER_CALLER", "STARTS_BURST", "STARTS_PER_SECOND", "SubscriptionLimits"]

MAX_SUBSCRIPTIONS_PER_CALLER = 40
"""Open operations of one caller (token subject) over all its sockets in this process."""
STARTS_PER_SECOND = 5.0
STARTS_BURST = MAX_SUBSCRIPTIONS_PER_CALLER
"""Subscriptions one caller may start: as many as it may hold at once, then
``STARTS_PER_SECOND`` (each start plans a document and works out relations;
a client that keeps closing and reopening is slowed, never one that opens its set)."""


class _StartRate:
    """A token bucket per caller (subject): ``burst`` starts, refilled at ``rate`` a second.
    Buckets full again are forgotten, so the table holds only callers starting now."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, subject: str) -> bool:
        now = time.monotonic()
        if len(self._buckets) > 10_000:
            full = self.burst / self.rate
            self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full}
        tokens, since = self._buckets.get(subject, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - since) * self.rate)
        if tokens < 1.0:
            self._buckets[subject] = (tokens, now)
            return False
        self._buckets[subject] = (tokens - 1.0, now)
        return True


class SubscriptionLimits:
    """Per caller (token subject), in this process: subscriptions open, and how fast they start."""

    def __init__(self) -> None:
        self.open_by_subject: dict[str, int] = {}
        self.starts = _StartRate(STARTS_PER_SECOND, STARTS_BURST)

    def refusal(self, subject: str) -> GraphQLError | None:
        """Why ``subject`` may not start one more now (``None``: it may; a start is counted)."""
        if self.open_by_subject.get(subject, 0) >= MAX_SUBSCRIPTIONS_PER_CALLER:
            return GraphQLError(
                f"at most {MAX_SUBSCRIPTIONS_PER_CALLER} open subscriptions per caller",
                extensions={"code": "TOO_MANY_SUBSCRIPTIONS"},
            )
        if not self.starts.take(subject):
            return GraphQLError(
                f"at most {STARTS_PER_SECOND:g} subscriptions started per second per caller; "
                "try again shortly",
                extensions={"code": "RATE_LIMITED"},
            )
        return None

    @contextlib.contextmanager
    def holding(self, subject: str) -> Iterator[None]:
        """One subscription of ``subject`` open while the block runs."""
        open_now = self.open_by_subject
        open_now[subject] = open_now.get(subject, 0) + 1
        try:
            yield
        finally:
            open_now[subject] -= 1
            if not open_now[subject]:
                del open_now[subject]
