"""The Starlette application: ``/graphql``, ``/healthz`` and the GraphiQL page."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from strawberry.schema.exceptions import CannotGetOperationTypeError
from strawberry.types import ExecutionResult

from hub import metrics
from hub.audit import AuditLog, purpose_from, run_retention
from hub.auth import IdentityProviderUnavailable, Principal, TokenRejected, authenticate
from hub.edge import edge_middleware
from hub.federation.registry import SourceRegistry, SourceState
from hub.graphiql import PersonaSwitcher, graphiql_page
from hub.graphql_request import BadRequest, read_graphql_request
from hub.health import livez, readyz
from hub.logs import RequestIds
from hub.logsafe import safe_exception
from hub.mirror.progress import show_first_syncs
from hub.mirror.wiring import first_syncs_attempted, follow_policy, mirror_rows
from hub.operation_choice import NO_OPERATION, NOT_FOUND, ambiguous_operation
from hub.realtime.socket import SubscriptionSocket, token_expiry
from hub.realtime.sse import accepts_event_stream, event_stream
from hub.runtime import Hub
from hub.schema import HubSchema, build_schema
from hub.schema.context import HubContext
from hub.schema.disclosure import audit_answer
from hub.store import create_engine
from hub.store.reloads import record_reload
from hub.tracing import safe_tracing_extension

__all__ = ["create_app"]

log = logging.getLogger("homeroom.http")
STATIC_DIR = Path(__file__).parent / "static"


def _error_body(message: str, code: str) -> dict[str, Any]:
    return {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}


def _unauthenticated(reason: str) -> JSONResponse:
    return JSONResponse(
        _error_body(f"not signed in: {reason}", "UNAUTHENTICATED"),
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="homeroom"'},
    )


def _bad_request(reason: str, status: int = 400) -> JSONResponse:
    return JSONResponse(_error_body(reason, "BAD_REQUEST"), status_code=status)


# HTTP-level refusals (no route, wrong method) in the same JSON shape as the rest.
_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 400
    headers = exc.headers if isinstance(exc, HTTPException) else None
    code = _HTTP_CODES.get(status, "BAD_REQUEST")
    message = code.lower().replace("_", " ")
    return JSONResponse(_error_body(message, code), status_code=status, headers=headers)


Endpoint = Callable[[Request], Awaitable[Response]]


def _guarded(endpoint: Endpoint, route: str) -> Endpoint:
    """``endpoint`` answering an unexpected failure with a bare 500 and one safe
    log line: the default traceback would quote exception text, which can hold
    the caller's input (an operation name, a header) or a record's values."""

    async def guarded(request: Request) -> Response:
        try:
            return await endpoint(request)
        except HTTPException:
            raise
        except Exception as exc:
            log.error("%s failed: %s", route, safe_exception(exc))
            return JSONResponse(_error_body("internal error", "INTERNAL"), status_code=500)

    return guarded


def _only_caller_errors(errors: list[dict[str, Any]]) -> bool:
    """Whether nothing was answered because of the request itself alone (a bad
    cursor or argument): a 4xx, like any other malformed request."""
    codes = {error.get("extensions", {}).get("code") for error in errors}
    return bool(codes) and codes <= {"BAD_USER_INPUT"}


def _format_error(error: GraphQLError) -> dict[str, Any]:
    original = error.original_error
    if original is not None and not isinstance(original, GraphQLError):
        # An unexpected failure: its message may carry anything; say nothing.
        out: dict[str, Any] = {"message": "internal error", "extensions": {"code": "INTERNAL"}}
        if error.path:
            out["path"] = list(error.path)
        return out
    formatted = error.formatted
    formatted.setdefault("extensions", {})
    return dict(formatted)


async def _authenticate(hub: Hub, request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise TokenRejected("missing bearer token")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenRejected("expected 'Authorization: Bearer <token>'")
    return await authenticate(hub.signers, token.strip())


def _request_errors(result: ExecutionResult, planned: bool) -> list[dict[str, Any]] | None:
    """The errors of a request refused before any resolver ran, each with a
    code (graphql-core gives parse, validation and variable errors none), or
    ``None`` when the operation ran or the policy gate refused it (a GraphQL
    answer: HTTP 200)."""
    if result.data is not None or not result.errors:
        return None
    if not planned:  # parse, validation and limit failures
        errors = [_format_error(e) for e in result.errors]
        for error in errors:
            extensions = error.setdefault("extensions", {})
            if "code" not in extensions:
                syntax = str(error.get("message", "")).startswith("Syntax Error")
                extensions["code"] = "GRAPHQL_PARSE_FAILED" if syntax else "GRAPHQL_VALIDATION_FAILED"
        return errors
    if any(e.path or (e.extensions or {}).get("code") for e in result.errors):
        return None
    # Planned, yet nothing ran and no field failed: graphql-core refused the
    # variables (a wrong type, a missing required one) before executing. Its
    # message names the variable and the expected type; a scalar's own
    # complaint (an invalid date) is not an internal error here.
    return [
        {**e.formatted, "extensions": {**(e.extensions or {}), "code": "BAD_USER_INPUT"}}
        for e in result.errors
    ]


def _record_rejected_token(hub: Hub, request: Request) -> None:
    """A refused token is a security event an admin can review: counted per
    client (peer address) and minute, one event each, so a flood of bad tokens
    cannot grow the chain one event a request (best effort: the request is
    refused whether or not it can be written). Nothing the unauthenticated
    caller sent, its purpose header included, is kept."""
    if hub.audit is None:
        return
    peer = f"ip:{request.client.host}" if request.client else None
    hub.audit.rejected_tokens.note(peer)


def _reload_history(engine: Any) -> Any:
    """A callback writing each policy reload attempt to the store (when there is one)."""
    if engine is None:
        return None
    tasks: set[asyncio.Task[None]] = set()

    def note(outcome: Any) -> None:
        if outcome.swapped or outcome.reason:
            task = asyncio.ensure_future(
                record_reload(
                    engine,
                    at=outcome.at,
                    version=outcome.version,
                    accepted=outcome.swapped,
                    reason=outcome.reason,
                )
            )
            tasks.add(task)  # keep a reference until it is written
            task.add_done_callback(tasks.discard)

    return note


def _mirror_health(state: SourceState, rows: dict[str, int] | None) -> dict[str, Any]:
    """What ``/healthz`` adds for a mirrored source: how fresh it is, rows held per entity."""
    return {
        "mode": state.mode,
        "lastSyncAt": state.last_sync_at.isoformat() if state.last_sync_at else None,
        "lagSeconds": state.lag_seconds,
        "rows": rows,
    }


async def _ready_after_first_syncs(hub: Hub, store_url: str | None) -> None:
    """Identities are matched over the mirrors' records: once their first sync was tried."""
    await first_syncs_attempted(hub.registry.adapters.values())
    await hub.match_identities(store_url)
    hub.ready = True
    log.info("every mirrored source finished its first sync; serving queries")


def _on_reload(history: Any, registry: SourceRegistry) -> Any:
    """The reload callback: the reload history, then mirrors follow the new policy."""
    mirrors = follow_policy(lambda: registry.adapters.values(), registry.refresh_capabilities)

    def note(outcome: Any) -> None:
        if history is not None:
            history(outcome)
        mirrors(outcome)

    return note


def create_app(
    hub: Hub,
    schema: HubSchema | None = None,
    *,
    personas: PersonaSwitcher | None = None,
    store_url: str | None = None,
    watch_policy: bool = True,
    sync_progress: bool = False,
) -> Starlette:
    """The ASGI app serving ``hub``. ``personas`` (demo only) feed the
    persona switcher of the GraphiQL page, for the demo's own origin only;
    ``store_url`` names the database of the disclosure audit log (without it
    nothing is audited: tests only); ``sync_progress`` draws the mirrors'
    first sync on the terminal (``homeroom serve`` on a terminal). Only requests for ``[server]
    allowed_hosts`` are answered; CORS is on for ``cors_origins`` alone."""
    server = hub.settings.server
    schema = schema or build_schema(
        max_depth=server.max_depth,
        max_aliases=server.max_aliases,
        max_tokens=server.max_tokens,
        extra_extensions=[safe_tracing_extension()] if server.tracing else (),
    )

    metrics.observe_upstream()
    # Who may read the counters and the readiness details (a district's monitoring).
    insiders = metrics.clients_allowed(server.metrics_clients)
    # One set of per-caller subscription limits for WebSocket and SSE alike.
    subscriptions = SubscriptionSocket(hub, schema)

    async def graphql_get(request: Request) -> Response:
        if not server.graphiql:
            return JSONResponse(
                _error_body("use POST with a JSON body", "METHOD_NOT_ALLOWED"),
                status_code=405,
                headers={"Allow": "POST"},
            )
        shown = personas.personas_for(request.headers) if personas is not None else None
        # The page may carry tokens: no cache may keep it.
        return HTMLResponse(graphiql_page(shown), headers={"Cache-Control": "no-store"})

    async def graphql_post(request: Request) -> Response:
        if not hub.ready:
            return JSONResponse(
                _error_body("sources are still loading", "NOT_READY"),
                status_code=503,
                headers={"Retry-After": "10"},
            )
        purpose = purpose_from(request.headers)
        try:
            principal = await _authenticate(hub, request)
        except IdentityProviderUnavailable as exc:
            return JSONResponse(
                _error_body(f"sign-in unavailable: {exc}", "UNAVAILABLE"),
                status_code=503,
                headers={"Retry-After": "30"},
            )
        except TokenRejected as exc:
            _record_rejected_token(hub, request)
            metrics.note_token_refused()
            return _unauthenticated(str(exc))
        try:
            asked = await read_graphql_request(request)
        except BadRequest as exc:
            return _bad_request(exc.reason, exc.status)
        query, variables, operation = asked.query, asked.variables, asked.operation_name
        ambiguity = ambiguous_operation(query, operation, max_tokens=server.max_tokens)
        if ambiguity is not None:
            return _bad_request(ambiguity)
        person = await hub.caller_person(principal)
        context = HubContext(
            hub=hub, principal=principal, caller=person, relationships=hub.relationships(principal, person)
        )
        if accepts_event_stream(request.headers.get("accept", "")):
            # A subscription over Server-Sent Events (docs/api.md).
            token = request.headers.get("authorization", "").partition(" ")[2].strip()
            return event_stream(
                schema,
                context,
                subscriptions.limits,
                (query, variables, operation),
                expires=token_expiry(token),
                format_error=_format_error,
            )
        try:
            result = await schema.execute(
                query, variable_values=variables, context_value=context, operation_name=operation
            )
        except CannotGetOperationTypeError:
            # Strawberry's message quotes the name: answer without it.
            return _bad_request(NOT_FOUND if operation is not None else NO_OPERATION)
        request_errors = _request_errors(result, planned=context.plan is not None)
        rejected_before_execution = request_errors is not None
        errors = request_errors or [_format_error(e) for e in result.errors or ()]
        errors.extend(_format_error(e) for e in context.withheld)
        if context.data is not None:
            errors.extend(
                {
                    "message": f"source '{f.source}': {f.reason}",
                    "extensions": {"code": f.code, "source": f.source},
                }
                for f in context.data.failures
            )
        if not await audit_answer(
            context, operation=operation, query=query, purpose=purpose, partial=bool(errors)
        ):
            return JSONResponse(
                _error_body("the audit log cannot be written; no data was sent", "AUDIT_UNAVAILABLE"),
                status_code=503,
            )
        body: dict[str, Any] = {"data": result.data}
        if errors:
            body["errors"] = errors
        # How old each mirrored source's data is. Given for every answer that
        # ran (not only for sources the answer happened to read): whether a
        # source was read can depend on rows the caller cannot see.
        freshness = hub.registry.freshness_of(hub.registry.adapters) if context.data is not None else {}
        if freshness:
            body["extensions"] = {"freshness": freshness}
        caller_error = result.data is None and _only_caller_errors(errors)
        metrics.note_answer(
            errors, answered=result.data is not None, refused=rejected_before_execution or caller_error
        )
        return JSONResponse(body, status_code=400 if rejected_before_execution or caller_error else 200)

    async def graphql(request: Request) -> Response:
        return await (graphql_post(request) if request.method == "POST" else graphql_get(request))

    async def healthz(request: Request) -> Response:
        policy = hub.policy
        hub.registry.observe_mirrors()
        syncing = hub.registry.mirrors_syncing()
        details = {
            "ready": hub.ready,
            "sources": {
                name: {
                    "state": s.state,
                    "error": s.last_error,
                    "rejectedRows": len(s.report.rejected) if s.report else None,
                    **(
                        _mirror_health(s, mirror_rows(hub.registry.adapters[name]))
                        if s.mode == "mirror"
                        else {}
                    ),
                }
                for name, s in hub.registry.states.items()
            },
            # Rows read/accepted/rejected per file-reading source: counts only, no data.
            "dataQuality": {
                n: s.report.totals() for n, s in hub.registry.states.items() if s.report and s.report.files
            },
            "policy": {
                "version": getattr(policy.current, "version", None),
                "lastReloadError": getattr(policy, "last_error", None),
            },
        }
        # "syncing": a mirrored source has not finished its first full read.
        status = "syncing" if syncing else "starting" if not hub.ready else "ok"
        return JSONResponse({"status": status, **details}, status_code=200 if status == "ok" else 503)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        starting: asyncio.Task[None] | None = None
        drawing: asyncio.Task[None] | None = None
        relay = hub.mirrors.relay if hub.mirrors is not None else None
        if relay is not None and hub.mirrors is not None:
            # Before the sources open: the first sync's writes reach the other processes too.
            await relay.start(hub.mirrors.follow, hub.mirrors.follow_all)
        if not hub.ready:  # the demo opens its sources before serving
            if not await hub.registry.open():
                log.warning("some sources failed to open; serving the others")
            if hub.registry.mirrors_syncing():
                # A first sync runs in the background: /healthz says "syncing", /graphql NOT_READY.
                starting = asyncio.create_task(_ready_after_first_syncs(hub, store_url))
                if sync_progress:
                    drawing = asyncio.create_task(show_first_syncs(hub.registry.adapters.values()))
            else:
                await hub.match_identities(store_url)
                hub.ready = True
        # Records loaded at start live as long as the process: keep them out of
        # every garbage-collection pass (large districts hold millions of objects).
        gc.freeze()
        for signer in hub.signers:
            prefetch = getattr(signer, "prefetch", None)
            if prefetch is not None:
                try:
                    await prefetch()
                except TokenRejected as exc:
                    log.warning("sign-in: %s; its tokens are refused until it answers", exc)
        stop = asyncio.Event()
        engine = create_engine(store_url) if store_url else None
        retention: asyncio.Task[None] | None = None
        if engine is not None:
            # The engine belongs to the serving loop, so it is made here.
            hub.audit = AuditLog(engine)
            retention = asyncio.create_task(run_retention(hub.audit, hub.settings.audit.retention_days, stop))
        watcher: asyncio.Task[None] | None = None
        if watch_policy and hub.settings.policy.watch and hasattr(hub.policy, "watch"):
            watcher = asyncio.create_task(
                hub.policy.watch(stop, on_outcome=_on_reload(_reload_history(engine), hub.registry))
            )
        try:
            yield
        finally:
            stop.set()
            for task in (starting, drawing):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await watcher
            if retention is not None:
                retention.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await retention
            if hub.audit is not None and engine is not None:
                await hub.audit.aclose()
                hub.audit = None
                await engine.dispose()
            if relay is not None:
                await relay.aclose()
            await hub.registry.aclose()
            for signer in hub.signers:
                close = getattr(signer, "aclose", None)
                if close is not None:
                    await close()

    routes = [
        # One route for both methods, so a PUT is told "Allow: GET, HEAD, POST".
        Route("/graphql", _guarded(graphql, "/graphql"), methods=["GET", "POST"]),
        # Subscriptions: graphql-transport-ws on the same path (docs/api.md).
        WebSocketRoute("/graphql", subscriptions),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/livez", livez, methods=["GET"]),
        Route("/readyz", _guarded(readyz(hub, insiders), "/readyz"), methods=["GET"]),
        Route("/metrics", _guarded(metrics.metrics_endpoint(hub, insiders), "/metrics"), methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        # Every request gets its id and is counted, those the edge refuses included.
        middleware=[
            Middleware(RequestIds),
            Middleware(metrics.MetricsMiddleware),
            *edge_middleware(server.allowed_hosts, server.cors_origins),
        ],
        exception_handlers={HTTPException: _http_error},
    )
