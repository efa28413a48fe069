"""Where the toolkit reads time and randomness, so tests can replace both."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

__all__ = ["Timing"]


@dataclass(frozen=True, slots=True)
class Timing:
    """Clocks, sleep and jitter used by :class:`VendorClient` and the auth helpers.

    - ``monotonic``: seconds for intervals (rate limit, retry budget, token expiry).
    - ``wall``: Unix time, to read reset headers that carry a timestamp.
    - ``sleep``: how to wait; tests pass a fake that advances a fake clock.
    - ``jitter``: a number in [0, 1) spreading backoff delays.

    The total timeout is kept by the event loop's own clock, not by these:
    a fake clock can speed a test up but never disable the deadline.
    """

    monotonic: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    jitter: Callable[[], float] = random.random
