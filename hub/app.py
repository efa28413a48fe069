"""The Starlette application: ``/graphql``, ``/healthz`` and the GraphiQL page."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from hub.audit import AuditEvent, AuditLog, AuditUnavailable, EventKind, purpose_from, run_retention
from hub.auth import IdentityProviderUnavailable, Principal, TokenRejected, authenticate
from hub.graphiql import graphiql_page
from hub.runtime import Hub
from hub.schema import HubSchema, build_schema
from hub.schema.context import HubContext
from hub.store import create_engine
from hub.store.reloads import record_reload

__all__ = ["create_app"]

log = logging.getLogger("homeroom.http")
MAX_BODY_BYTES = 1_000_000
STATIC_DIR = Path(__file__).parent / "static"


def _error_body(message: str, code: str) -> dict[str, Any]:
    return {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}


def _unauthenticated(reason: str) -> JSONResponse:
    return JSONResponse(
        _error_body(f"not signed in: {reason}", "UNAUTHENTICATED"),
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="homeroom"'},
    )


def _bad_request(reason: str) -> JSONResponse:
    return JSONResponse(_error_body(reason, "BAD_REQUEST"), status_code=400)


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


async def _read_operation(request: Request) -> tuple[str, dict[str, Any] | None, str | None]:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ValueError("request body too large")
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type not in ("application/json", "application/graphql-response+json", ""):
        raise ValueError("send the operation as application/json")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ValueError("body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise ValueError("body must be a JSON object with a 'query'")
    query = payload.get("query")
    variables = payload.get("variables")
    operation = payload.get("operationName")
    if not isinstance(query, str) or not query.strip():
        raise ValueError("missing 'query'")
    if variables is not None and not isinstance(variables, dict):
        raise ValueError("'variables' must be an object")
    if operation is not None and not isinstance(operation, str):
        raise ValueError("'operationName' must be a string")
    return query, variables, operation


async def _record_rejected_token(hub: Hub, request: Request, purpose: str | None) -> None:
    """A refused token is a security event an admin can review (best effort:
    the request is refused whether or not it can be written)."""
    if hub.audit is None:
        return
    peer = f"ip:{request.client.host}" if request.client else None
    event = AuditEvent.create(
        EventKind.REJECTED_TOKEN, client=peer, purpose=purpose, outcome="UNAUTHENTICATED"
    )
    with contextlib.suppress(AuditUnavailable):
        await hub.audit.record(event)


def _note_response(context: HubContext) -> None:
    """What this response discloses, for the audit: taken from the scope that
    admitted the rows, so it names exactly the students whose rows left."""
    scope = context.data.scope if context.data is not None else None
    if scope is not None:
        for type_name, names in scope.disclosed_fields.items():
            if names:
                context.disclosures.fields(type_name, names)
        context.disclosures.students(scope.disclosed_students)


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


def create_app(
    hub: Hub,
    schema: HubSchema | None = None,
    *,
    personas: dict[str, Any] | None = None,
    store_url: str | None = None,
    watch_policy: bool = True,
) -> Starlette:
    """The ASGI app serving ``hub``. ``personas`` (demo only) feed the
    persona switcher of the GraphiQL page; ``store_url`` names the database of
    the disclosure audit log (without it nothing is audited: tests only)."""
    server = hub.settings.server
    schema = schema or build_schema(
        max_depth=server.max_depth, max_aliases=server.max_aliases, max_tokens=server.max_tokens
    )

    async def graphql_get(request: Request) -> Response:
        if not server.graphiql:
            return JSONResponse(_error_body("use POST with a JSON body", "BAD_REQUEST"), status_code=405)
        return HTMLResponse(graphiql_page(personas))

    async def graphql_post(request: Request) -> Response:
        if not hub.ready:
            return JSONResponse(_error_body("sources are still loading", "NOT_READY"), status_code=503)
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
            await _record_rejected_token(hub, request, purpose)
            return _unauthenticated(str(exc))
        try:
            query, variables, operation = await _read_operation(request)
        except ValueError as exc:
            return _bad_request(str(exc))
        person = await hub.caller_person(principal)
        context = HubContext(
            hub=hub, principal=principal, caller=person, relationships=hub.relationships(principal, person)
        )
        result = await schema.execute(
            query, variable_values=variables, context_value=context, operation_name=operation
        )
        errors = [_format_error(e) for e in result.errors or ()]
        rejected_before_execution = result.data is None and context.plan is None and bool(errors)
        if rejected_before_execution:
            for error in errors:
                # Parse, validation and limit failures carry no code from graphql-core.
                extensions = error.setdefault("extensions", {})
                if "code" not in extensions:
                    syntax = str(error.get("message", "")).startswith("Syntax Error")
                    extensions["code"] = "GRAPHQL_PARSE_FAILED" if syntax else "GRAPHQL_VALIDATION_FAILED"
        errors.extend(_format_error(e) for e in context.withheld)
        if context.data is not None:
            errors.extend(
                {
                    "message": f"source '{f.source}': {f.reason}",
                    "extensions": {"code": f.code, "source": f.source},
                }
                for f in context.data.failures
            )
        if hub.audit is not None:
            _note_response(context)
            events = context.disclosures.events(
                subject=principal.subject,
                roles=principal.roles,
                client=principal.client,
                operation=context.operation or operation,
                query=query,
                purpose=purpose,
                outcome="partial" if errors else "ok",
            )
            try:
                for event in events:
                    await hub.audit.record(event)
            except AuditUnavailable:
                if context.disclosures.discloses:
                    # Fail closed: what cannot be audited is not disclosed.
                    return JSONResponse(
                        _error_body("the audit log cannot be written; no data was sent", "AUDIT_UNAVAILABLE"),
                        status_code=503,
                    )
        body: dict[str, Any] = {"data": result.data}
        if errors:
            body["errors"] = errors
        return JSONResponse(body, status_code=400 if rejected_before_execution else 200)

    async def healthz(request: Request) -> Response:
        policy = hub.policy
        details = {
            "ready": hub.ready,
            "sources": {
                name: {
                    "state": s.state,
                    "error": s.last_error,
                    "rejectedRows": len(s.report.rejected) if s.report else None,
                }
                for name, s in hub.registry.states.items()
            },
            "policy": {
                "version": getattr(policy.current, "version", None),
                "lastReloadError": getattr(policy, "last_error", None),
            },
        }
        return JSONResponse(
            {"status": "ok" if hub.ready else "starting", **details}, status_code=200 if hub.ready else 503
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not hub.ready:  # the demo opens its sources before serving
            if not await hub.registry.open():
                log.warning("some sources failed to open; serving the others")
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
            watcher = asyncio.create_task(hub.policy.watch(stop, on_outcome=_reload_history(engine)))
        try:
            yield
        finally:
            stop.set()
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
            await hub.registry.aclose()
            for signer in hub.signers:
                close = getattr(signer, "aclose", None)
                if close is not None:
                    await close()

    routes = [
        Route("/graphql", graphql_get, methods=["GET"]),
        Route("/graphql", graphql_post, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
