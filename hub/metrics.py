"""``/metrics``: the hub's counters and histograms in the Prometheus format (prometheus-client).

Labels are fixed words, HTTP status codes, GraphQL error codes the hub
itself gives, source and entity names from the configuration: never an id,
a person's name, a query's text or an operation name (a caller chooses
those; as labels they would also grow without bound).

Several worker processes: set ``PROMETHEUS_MULTIPROC_DIR`` to an empty
folder for them all (prometheus-client's multiprocess mode); each scrape
then sums the workers' counters. The values read at scrape time (mirror
rows and lag, subscriptions open) are those of the process that answers.
"""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.sdk.http import observe_requests

if TYPE_CHECKING:  # a leaf module: the audit log and the mirror count into it
    from hub.runtime import Hub

__all__ = [
    "AUDIT_WRITE_FAILURES",
    "AUDIT_WRITE_SECONDS",
    "ERROR_CODES",
    "GRAPHQL_OPERATIONS",
    "HTTP_REQUESTS",
    "HTTP_SECONDS",
    "SYNC_SECONDS",
    "MetricsMiddleware",
    "metrics_endpoint",
    "note_answer",
]

ROUTES = frozenset({"/graphql", "/healthz", "/livez", "/readyz", "/metrics"})
"""Paths counted by name; any other is counted as ``other`` (never the path itself)."""

ERROR_CODES = frozenset(
    {
        "FORBIDDEN",
        "UNAUTHENTICATED",
        "BAD_USER_INPUT",
        "BAD_REQUEST",
        "GRAPHQL_VALIDATION_FAILED",
        "GRAPHQL_PARSE_FAILED",
        "TOO_COMPLEX",
        "AUDIT_UNAVAILABLE",
        "NOT_READY",
        "SOURCE_UNAVAILABLE",
        "TOO_MANY_SUBSCRIPTIONS",
        "RATE_LIMITED",
    }
)
"""Error codes counted by name; any other is counted as ``OTHER``."""

HTTP_REQUESTS = Counter("homeroom_http_requests", "HTTP requests answered", ["route", "method", "status"])
HTTP_SECONDS = Histogram("homeroom_http_request_seconds", "Time to answer an HTTP request", ["route"])
GRAPHQL_OPERATIONS = Counter(
    "homeroom_graphql_operations", "GraphQL answers by outcome (ok, partial, error, refused)", ["outcome"]
)
GRAPHQL_ERRORS = Counter("homeroom_graphql_errors", "Errors in GraphQL answers, by code", ["code"])
POLICY_REFUSALS = Counter(
    "homeroom_policy_refusals", "Refusals by reason (a denied field, a token refused)", ["reason"]
)
AUDIT_WRITE_SECONDS = Histogram("homeroom_audit_write_seconds", "Time to commit one group of audit events")
AUDIT_WRITE_FAILURES = Counter(
    "homeroom_audit_write_failures", "Groups of audit events that could not be written"
)
UPSTREAM_REQUESTS = Counter(
    "homeroom_upstream_requests", "Requests to vendors by outcome", ["source", "outcome"]
)
UPSTREAM_RETRIES = Counter("homeroom_upstream_retries", "Vendor requests tried again", ["source"])
UPSTREAM_WAIT_SECONDS = Counter(
    "homeroom_upstream_throttle_wait_seconds", "Time requests waited for a rate limit or pause", ["source"]
)
SYNC_SECONDS = Histogram(
    "homeroom_mirror_sync_seconds", "Time of one mirror sync of one entity", ["source", "kind"]
)


def _route(path: str) -> str:
    return path if path in ROUTES else "other"


class MetricsMiddleware:
    """Counts and times every HTTP request (by route, method and status)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = _route(scope.get("path", ""))
        method = scope.get("method", "GET") if scope.get("method") in ("GET", "POST", "HEAD") else "OTHER"
        status = "500"
        started = time.perf_counter()

        async def counting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = str(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, counting)
        finally:
            HTTP_REQUESTS.labels(route, method, status).inc()
            HTTP_SECONDS.labels(route).observe(time.perf_counter() - started)


def note_answer(errors: list[dict[str, Any]], *, answered: bool, refused: bool) -> None:
    """Count one GraphQL answer: its outcome and its errors' codes."""
    outcome = "refused" if refused else "error" if not answered else "partial" if errors else "ok"
    GRAPHQL_OPERATIONS.labels(outcome).inc()
    for error in errors:
        code = str((error.get("extensions") or {}).get("code") or "OTHER")
        code = code if code in ERROR_CODES else "OTHER"
        GRAPHQL_ERRORS.labels(code).inc()
        if code == "FORBIDDEN":
            POLICY_REFUSALS.labels("forbidden_field").inc()


def note_token_refused() -> None:
    """A request's token was refused."""
    POLICY_REFUSALS.labels("token_refused").inc()


_STATUSES = frozenset(
    {"200", "201", "204", "301", "302", "304", "400", "401", "403", "404", "409", "410", "422", "429"}
    | {"500", "502", "503", "504", "timeout", "unreachable", "error"}
)


def _outcome(outcome: str) -> str:
    """The status as a label: the usual ones by number, any other by class (a vendor
    answering odd codes must not grow the label set)."""
    if outcome in _STATUSES:
        return outcome
    return f"{outcome[0]}xx" if len(outcome) == 3 and outcome[0] in "12345" else "other"


class _Upstream:
    """The SDK's request observer, counting into the metrics above."""

    def answered(self, source: str, outcome: str) -> None:
        UPSTREAM_REQUESTS.labels(source, _outcome(outcome)).inc()

    def retried(self, source: str) -> None:
        UPSTREAM_RETRIES.labels(source).inc()

    def waited(self, source: str, seconds: float) -> None:
        UPSTREAM_WAIT_SECONDS.labels(source).inc(seconds)


_upstream_observed = False


def observe_upstream() -> None:
    """Count vendor requests from now on (once per process)."""
    global _upstream_observed
    if not _upstream_observed:
        _upstream_observed = True
        observe_requests(_Upstream())


class _Now(Collector):
    """What is read when scraped: mirror rows and lag per source, subscriptions open."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from hub.mirror.wiring import mirror_rows

        registry = self.hub.registry
        rows = GaugeMetricFamily("homeroom_mirror_rows", "Rows held by a mirror", labels=["source", "entity"])
        lag = GaugeMetricFamily(
            "homeroom_mirror_lag_seconds", "Age of a mirror's oldest data", labels=["source"]
        )
        up = GaugeMetricFamily(
            "homeroom_source_up", "1 when a source is UP, 0.5 DEGRADED, 0 DOWN", labels=["source"]
        )
        registry.observe_mirrors()
        for name, state in registry.states.items():
            up.add_metric([name], {"UP": 1.0, "DEGRADED": 0.5}.get(state.state, 0.0))
            if state.mode != "mirror":
                continue
            if state.lag_seconds is not None:
                lag.add_metric([name], state.lag_seconds)
            for entity, count in (mirror_rows(registry.adapters[name]) or {}).items():
                rows.add_metric([name, entity], count)
        subscriptions = GaugeMetricFamily("homeroom_subscriptions_open", "Subscriptions open in this process")
        subscriptions.add_metric([], self.hub.changes.subscribers())
        yield from (rows, lag, up, subscriptions)


def clients_allowed(networks: Iterable[str]) -> Callable[[Request], bool]:
    """Whether a request comes from one of ``networks`` (CIDR; the connection's address,
    as uvicorn gives it: a trusted local proxy's ``X-Forwarded-For`` included)."""
    allowed = [ipaddress.ip_network(network, strict=False) for network in networks]

    def allows(request: Request) -> bool:
        host = request.client.host if request.client else ""
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in allowed)

    return allows


def metrics_endpoint(hub: Hub, insiders: Callable[[Request], bool]) -> Any:
    """The ``/metrics`` endpoint of ``hub`` (every worker's counters in multiprocess mode),
    for ``insiders`` only (``[server] metrics_clients``; others get 403)."""
    from prometheus_client import REGISTRY

    now = _Now(hub)

    async def endpoint(request: Request) -> Response:
        if not insiders(request):
            return JSONResponse(
                {"errors": [{"message": "forbidden", "extensions": {"code": "FORBIDDEN"}}]}, status_code=403
            )
        registry = CollectorRegistry()
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            registry.register(now)
            body = generate_latest(registry)
        else:
            registry.register(now)
            body = generate_latest(REGISTRY) + generate_latest(registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})

    return endpoint
