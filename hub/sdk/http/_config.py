"""The keys every HTTP source's ``[[sources]]`` table shares."""

from __future__ import annotations

from typing import Literal, Self

import httpx
from pydantic import Field, field_validator, model_validator

from hub.sdk._config import SourceConfig

__all__ = ["HttpSourceConfig"]


class HttpSourceConfig(SourceConfig):
    """Connection, timing and politeness settings of one HTTP source.

    Adapters subclass it for their own keys. Every value has a default that
    suits a district-sized vendor; an administrator changes them per source::

        [[sources]]
        name = "sis"
        kind = "oneroster-rest"
        base_url = "https://sis.example.org/api"
        total_timeout = 20        # seconds for one question, retries included
        rate_limit_per_second = 5 # what the vendor's contract allows
        max_concurrency = 4

    - ``connect_timeout`` / ``read_timeout``: per attempt, in seconds.
    - ``total_timeout``: the most one call may take, waits and retries
      included; past it the call fails with ``SourceUnavailable`` so a query
      never hangs on a slow vendor.
    - ``max_connections``: the connection pool's size.
    - ``max_concurrency``: requests in flight at once (at most ``max_connections``).
    - ``rate_limit_per_second``: requests started per second; ``None`` for no limit.
    - ``retries``: further attempts after a transient failure (timeouts, 429, 5xx).
    - ``retry_budget``: retries per minute for the whole source; once spent,
      failures are reported at once instead of hammering a vendor that is down.
    - ``backoff_base`` / ``backoff_max``: exponential backoff (with jitter) in seconds.
    - ``page_size``: records asked per page.
    """

    # A vendor over HTTP is mirrored unless the district asks otherwise:
    # answering from the hub's database keeps vendor load independent of
    # how many people look at dashboards (docs/mirror.md).
    mode: Literal["live", "mirror"] = "mirror"
    base_url: str = Field(min_length=1)
    connect_timeout: float = Field(default=5.0, gt=0, le=300)
    read_timeout: float = Field(default=30.0, gt=0, le=600)
    total_timeout: float = Field(default=60.0, gt=0, le=3600)
    max_connections: int = Field(default=10, ge=1, le=1000)
    max_concurrency: int = Field(default=4, ge=1, le=1000)
    rate_limit_per_second: float | None = Field(default=None, gt=0)
    retries: int = Field(default=3, ge=0, le=20)
    retry_budget: int = Field(default=30, ge=0, le=100_000)
    backoff_base: float = Field(default=0.5, gt=0, le=60)
    backoff_max: float = Field(default=30.0, gt=0, le=600)
    page_size: int = Field(default=100, ge=1, le=10_000)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        try:
            url = httpx.URL(value.strip())
        except httpx.InvalidURL:
            raise ValueError("not a URL") from None
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("must be an http:// or https:// URL with a host")
        if url.query or url.fragment:
            raise ValueError("must not carry a query or a fragment")
        return str(url).rstrip("/")

    @model_validator(mode="after")
    def _concurrency_fits_pool(self) -> Self:
        if self.max_concurrency > self.max_connections:
            raise ValueError(
                f"max_concurrency ({self.max_concurrency}) exceeds max_connections ({self.max_connections})"
            )
        if self.backoff_base > self.backoff_max:
            raise ValueError("backoff_base must not exceed backoff_max")
        return self
