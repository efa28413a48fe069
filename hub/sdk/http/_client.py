"""One vendor, one client: pooled connections, auth, politeness, deadlines,
and every failure turned into the SDK's typed errors."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import httpx

from hub.logsafe import safe_text
from hub.sdk._background import background_deadline
from hub.sdk._errors import BadVendorData, SourceAuthFailed, SourceError, SourceUnavailable
from hub.sdk.http import _observe
from hub.sdk.http._auth import SourceAuth
from hub.sdk.http._config import HttpSourceConfig
from hub.sdk.http._errors import RequestRejected, summarise_error_body
from hub.sdk.http._oauth2 import TokenEndpointUnavailable
from hub.sdk.http._throttle import RetryBudget, Throttle, backoff_delay, requested_delay
from hub.sdk.http._timing import Timing

__all__ = ["QueryParams", "VendorClient"]

log = logging.getLogger("homeroom.sources.http")

QueryParams = Mapping[str, str | int | float]
"""Query parameters of a request: names to strings or numbers (encoded by httpx)."""

# Statuses worth another attempt: the vendor is busy or briefly broken.
_RETRYABLE = frozenset({408, 425, 429, 500, 502, 503, 504})
_USER_AGENT = "Homeroom (school district hub)"


@dataclass(frozen=True, slots=True)
class _Transient:
    """A failed attempt that may succeed later; ``delay`` is the vendor's wish."""

    reason: str
    delay: float | None = None


class VendorClient:
    """The one ``httpx.AsyncClient`` of one source, and the rules around it.

    :meth:`get_json` is what adapters call. Around each request it:

    - waits for the source's rate limit (``rate_limit_per_second``) and any
      pause a vendor asked for with ``Retry-After`` or a reset header;
    - holds one of ``max_concurrency`` slots while the request is in flight;
    - retries timeouts, connection errors, 408/425/429/5xx up to ``retries``
      times, after the vendor's requested delay or an exponential backoff
      with jitter, while the source's ``retry_budget`` lasts;
    - gives up once ``total_timeout`` has passed, or at once when the wait
      a vendor asks for would not fit in it.

    Failures come out as the SDK's errors, whose reasons name the request
    path (never its query, which may carry filter values) and summarise the
    vendor's error body without record contents: ``SourceAuthFailed`` (401
    after the auth helper's own retry, 403), :class:`RequestRejected` (other
    4xx), ``BadVendorData`` (a body that is not JSON, e.g. cut short) and
    ``SourceUnavailable`` (everything transient, once retries run out).

    ``transport`` replaces the network (``httpx.MockTransport`` in tests);
    ``timing`` replaces clocks and sleep.
    """

    def __init__(
        self,
        config: HttpSourceConfig,
        auth: httpx.Auth | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timing: Timing | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.config = config
        self.name = config.name
        self.timing = timing or Timing()
        self.base_url = httpx.URL(config.base_url + "/")
        self._auth = auth
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            auth=auth,
            transport=transport,
            timeout=httpx.Timeout(
                connect=config.connect_timeout,
                read=config.read_timeout,
                write=config.read_timeout,
                pool=config.total_timeout,
            ),
            limits=httpx.Limits(
                max_connections=config.max_connections,
                max_keepalive_connections=config.max_connections,
            ),
            headers={"Accept": "application/json", "User-Agent": _USER_AGENT, **(headers or {})},
            follow_redirects=False,
        )
        if isinstance(auth, SourceAuth):
            auth.bind(self._http, self.name, self.timing)
        self._hint = getattr(auth, "hint", "") or ""
        self._slots = asyncio.Semaphore(config.max_concurrency)
        self._throttle = Throttle(config.rate_limit_per_second, self.timing)
        self._budget = RetryBudget(config.retry_budget, self.timing)
        self.requests_sent = 0

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the auth helper and the connection pool."""
        if isinstance(self._auth, SourceAuth):
            await self._auth.aclose()
        await self._http.aclose()

    # -- URLs --

    def url(self, path: str | httpx.URL) -> httpx.URL:
        """``path`` resolved against ``base_url``; absolute URLs must stay on its origin.

        Links from a vendor (``Link`` headers, ``next`` URLs) are followed
        only on the origin the credentials were configured for: a link to
        another host would otherwise receive the source's token.
        """
        url = httpx.URL(path)
        if not url.is_absolute_url:
            text = str(path).lstrip("/")
            return self.base_url.join(text)
        if (url.scheme, url.host, url.port) != (self.base_url.scheme, self.base_url.host, self.base_url.port):
            raise BadVendorData(self.name, "the vendor linked to another host; not followed")
        return url

    # -- deadlines --

    @contextlib.asynccontextmanager
    async def deadline(self, seconds: float | None = None) -> AsyncIterator[Callable[[], float]]:
        """A block that must finish within ``seconds`` (default ``total_timeout``,
        or in a mirror's sync the longer ``mirror_read_seconds``).

        Yields a function giving the seconds left. Running out raises
        ``SourceUnavailable`` naming the timeout; adapters wrap a whole fetch
        (all its pages) in one, so a query never waits past it.
        """
        background = background_deadline()
        if seconds is not None:
            limit, key = seconds, "total_timeout"
        elif background is not None:
            # A mirror's sync: no dashboard waits for it (see hub.sdk.background_reads).
            limit, key = max(background, self.config.total_timeout), "mirror_read_seconds"
        else:
            limit, key = self.config.total_timeout, "total_timeout"
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(limit) as scope:

                def remaining() -> float:
                    when = scope.when()
                    return float("inf") if when is None else when - loop.time()

                yield remaining
        except TimeoutError:
            raise SourceUnavailable(self.name, f"no complete answer within {limit:g} s ({key})") from None

    # -- requests --

    async def get_json(
        self, path: str | httpx.URL, params: QueryParams | None = None, *, missing_ok: bool = False
    ) -> tuple[Any, httpx.Headers]:
        """GET ``path`` and return its decoded JSON body and the response headers.

        ``path`` is relative to ``base_url`` or an absolute URL on its origin
        (then sent verbatim, its query untouched, when ``params`` is None).
        With ``missing_ok`` a 404 returns ``(None, headers)`` instead of failing.
        """
        url = self.url(path)
        where = url.path
        async with self.deadline() as remaining:
            attempt = 0
            while True:
                waited = await self._throttle.wait()
                if waited:
                    _observe.waited(self.name, waited)
                try:
                    async with self._slots:
                        self.requests_sent += 1
                        response = await self._http.get(url, params=params)
                except TokenEndpointUnavailable as exc:
                    problem = _Transient(exc.reason)
                    _observe.answered(self.name, "error")
                except SourceError:
                    _observe.answered(self.name, "error")
                    raise
                except httpx.TimeoutException:
                    problem = _Transient(f"{where} timed out")
                    _observe.answered(self.name, "timeout")
                except httpx.TransportError as exc:
                    problem = _Transient(f"{where} unreachable ({type(exc).__name__})")
                    _observe.answered(self.name, "unreachable")
                except httpx.DecodingError:
                    _observe.answered(self.name, "error")
                    raise BadVendorData(
                        self.name, f"{where} answered a body that cannot be decoded"
                    ) from None
                except httpx.HTTPError as exc:
                    problem = _Transient(f"{where} failed ({type(exc).__name__})")
                    _observe.answered(self.name, "error")
                else:
                    _observe.answered(self.name, str(response.status_code))
                    if response.is_success:
                        return self._decode(response, where), response.headers
                    if response.status_code == 404 and missing_ok:
                        return None, response.headers
                    problem = self._problem(response, where)
                attempt += 1
                self._give_up_unless_retry(problem, attempt, remaining())
                if problem.delay is not None:
                    self._throttle.pause(problem.delay)
                else:
                    delay = backoff_delay(
                        attempt, self.config.backoff_base, self.config.backoff_max, self.timing.jitter()
                    )
                    await self.timing.sleep(min(delay, max(0.0, remaining())))

    def _give_up_unless_retry(self, problem: _Transient, attempt: int, remaining: float) -> None:
        if attempt > self.config.retries:
            tries = "attempt" if attempt == 1 else "attempts"
            raise SourceUnavailable(self.name, f"{problem.reason} ({attempt} {tries})")
        if problem.delay is not None and problem.delay >= remaining:
            raise SourceUnavailable(
                self.name,
                f"{problem.reason}; asked to wait {problem.delay:.0f} s, "
                f"beyond the {self.config.total_timeout:g} s total_timeout",
            )
        if not self._budget.spend():
            raise SourceUnavailable(
                self.name,
                f"{problem.reason}; retry budget ({self.config.retry_budget}/min) spent, not retrying",
            )
        _observe.retried(self.name)
        # The reason names the path, which may hold an id the caller chose.
        reason = safe_text(problem.reason, limit=200)
        log.warning("source %s: %s; retry %d of %d", self.name, reason, attempt, self.config.retries)

    def _problem(self, response: httpx.Response, where: str) -> _Transient:
        """The transient problem a failed response is, or raise its permanent error."""
        status = response.status_code
        summary, codes = summarise_error_body(response.content, response.headers.get("content-type", ""))
        said = f"{where} answered {status}: {summary}"
        if status in _RETRYABLE or _is_rate_limited(response):
            delay = None
            if status in (429, 503) or _is_rate_limited(response):
                delay = requested_delay(response.headers, self.timing.wall())
            return _Transient(said, delay)
        if status in (401, 403):
            hint = f"; {self._hint}" if self._hint else ""
            raise SourceAuthFailed(self.name, f"{said}{hint}")
        if 300 <= status < 400:
            raise BadVendorData(self.name, f"{where} redirected ({status}); check base_url")
        raise RequestRejected(self.name, said, status, codes)

    def _decode(self, response: httpx.Response, where: str) -> Any:
        try:
            return response.json()
        except (ValueError, UnicodeDecodeError):
            size = len(response.content)
            raise BadVendorData(
                self.name, f"{where} answered invalid JSON ({size} bytes; cut short?)"
            ) from None


def _is_rate_limited(response: httpx.Response) -> bool:
    # Canvas says "403 Forbidden (Rate Limit Exceeded)" with X-Rate-Limit-Remaining.
    if response.status_code != 403:
        return False
    headers = response.headers
    remaining = headers.get("X-Rate-Limit-Remaining") or headers.get("X-RateLimit-Remaining")
    return remaining is not None and remaining.strip() in ("0", "0.0")
