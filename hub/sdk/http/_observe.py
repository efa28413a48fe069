"""Who is told of each vendor request (the hub's metrics): outcomes, retries, throttle waits.

Observers are told the source's name and fixed words or numbers only: never
a URL, a query string or a vendor's error text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

__all__ = ["RequestObserver", "observe_requests"]

log = logging.getLogger("homeroom.sdk")


class RequestObserver(Protocol):
    """Told of every request a :class:`~hub.sdk.http.VendorClient` makes."""

    def answered(self, source: str, outcome: str) -> None:
        """A request ended: ``outcome`` is the HTTP status (``"200"``, ``"429"``)
        or ``"timeout"``, ``"unreachable"``, ``"error"``."""

    def retried(self, source: str) -> None:
        """A failed request is tried again."""

    def waited(self, source: str, seconds: float) -> None:
        """A request waited ``seconds`` for the source's rate limit or a vendor's pause."""


_observers: list[RequestObserver] = []


def observe_requests(observer: RequestObserver) -> Callable[[], None]:
    """Tell ``observer`` of every vendor request from now; returns what stops it."""
    _observers.append(observer)

    def stop() -> None:
        if observer in _observers:
            _observers.remove(observer)

    return stop


def _tell(method: str, *args: object) -> None:
    for observer in tuple(_observers):
        try:
            getattr(observer, method)(*args)
        except Exception as exc:  # an observer's trouble never fails a request
            log.warning("request observer failed (%s)", type(exc).__name__)


def answered(source: str, outcome: str) -> None:
    _tell("answered", source, outcome)


def retried(source: str) -> None:
    _tell("retried", source)


def waited(source: str, seconds: float) -> None:
    _tell("waited", source, seconds)
