"""GraphQL subscriptions over WebSocket (graphql-transport-ws), strawberry's implementation on Starlette.

The token comes in ``connection_init`` as ``{"Authorization": "Bearer <token>"}``;
a missing or bad one closes the socket with 4401 (the refusal counted like
HTTP's), and the socket is closed when the token expires. Each operation on a
socket gets its own request context (strawberry shares one per socket), so
one subscription's plan and scope never serve another.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from typing import Any, cast

import jwt
from graphql import GraphQLError
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.utils.aio import aclosing

from hub.auth import IdentityProviderUnavailable, Principal, TokenRejected, authenticate
from hub.runtime import Hub
from hub.schema import HubSchema
from hub.schema.context import HubContext

__all__ = [
    "MAX_SUBSCRIPTIONS_PER_CALLER",
    "MAX_SUBSCRIPTIONS_PER_SOCKET",
    "STARTS_BURST",
    "STARTS_PER_SECOND",
    "SubscriptionSocket",
]

MAX_SUBSCRIPTIONS_PER_SOCKET = 20
MAX_SUBSCRIPTIONS_PER_CALLER = 40
"""Open operations of one caller (token subject) over all its sockets in this process."""
STARTS_PER_SECOND = 5.0
STARTS_BURST = MAX_SUBSCRIPTIONS_PER_CALLER
"""Subscriptions one caller may start: as many as it may hold at once, then
``STARTS_PER_SECOND`` (each start plans a document and works out relations;
a client that keeps closing and reopening is slowed, never one that opens its set)."""
UNAUTHORIZED = 4401


class _Refused(Exception):
    """The connection_init did not carry a token the hub accepts."""


class _Connection:
    """What one socket knows once it is acknowledged: who asks."""

    def __init__(self, hub: Hub, socket: Any) -> None:
        self.hub = hub
        self.socket = socket  # the Starlette WebSocket
        self.connection_params: dict[str, Any] = {}
        self.principal: Principal | None = None
        self.expiry: asyncio.TimerHandle | None = None

    async def operation_context(self) -> HubContext:
        principal = self.principal
        assert principal is not None  # operations start only after connection_ack
        person = await self.hub.caller_person(principal)
        return HubContext(
            hub=self.hub,
            principal=principal,
            caller=person,
            relationships=self.hub.relationships(principal, person),
        )


class _Handler(BaseGraphQLTransportWSHandler[Any, Any]):
    async def handle_connection_init(self, message: Any) -> None:
        try:
            await super().handle_connection_init(message)
        except _Refused:
            await self.websocket.close(code=UNAUTHORIZED, reason="Unauthorized")

    async def run_operation(self, operation: Any) -> None:
        # As strawberry's, with a context of the operation's own and the caller's limit.
        connection: _Connection = self.context
        assert connection.principal is not None  # operations start only after connection_ack
        subject = connection.principal.subject
        view = cast("SubscriptionSocket", self.view)
        open_now = view.open_by_subject
        refusal = None
        if open_now.get(subject, 0) >= MAX_SUBSCRIPTIONS_PER_CALLER:
            refusal = GraphQLError(
                f"at most {MAX_SUBSCRIPTIONS_PER_CALLER} open subscriptions per caller",
                extensions={"code": "TOO_MANY_SUBSCRIPTIONS"},
            )
        elif not view.starts.take(subject):
            refusal = GraphQLError(
                f"at most {STARTS_PER_SECOND:g} subscriptions started per second per caller; try again shortly",
                extensions={"code": "RATE_LIMITED"},
            )
        if refusal is not None:
            await operation.send_initial_errors([refusal])
            self.operations.pop(operation.id, None)
            return
        open_now[subject] = open_now.get(subject, 0) + 1
        try:
            await self._run(operation, connection)
        finally:
            open_now[subject] -= 1
            if not open_now[subject]:
                del open_now[subject]

    async def _run(self, operation: Any, connection: _Connection) -> None:
        try:
            result_source = await self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=await connection.operation_context(),
                root_value=self.root_value,
                operation_name=operation.operation_name,
            )
            async with aclosing(result_source):
                await self._send_result_stream(operation, result_source)
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if type(error).__name__ == "_OperationStreamClosed":
                return
            await self.handle_task_exception(error)
            with contextlib.suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)

    async def handle(self) -> None:
        try:
            await super().handle()
        finally:
            connection: _Connection = self.context
            if connection.expiry is not None:
                connection.expiry.cancel()


class SubscriptionSocket(GraphQL[Any, Any]):
    """The ``/graphql`` WebSocket endpoint of ``hub`` (graphql-transport-ws only)."""

    graphql_transport_ws_handler_class = _Handler

    def __init__(self, hub: Hub, schema: HubSchema) -> None:
        super().__init__(
            schema,
            graphql_ide=None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=dt.timedelta(seconds=10),
            max_subscriptions_per_connection=MAX_SUBSCRIPTIONS_PER_SOCKET,
        )
        self.hub = hub
        self.open_by_subject: dict[str, int] = {}
        self.starts = _StartRate(STARTS_PER_SECOND, STARTS_BURST)

    async def get_context(self, request: Any, response: Any) -> Any:
        return _Connection(self.hub, response)

    async def on_ws_connect(self, context: Any) -> Any:
        connection: _Connection = context
        hub = self.hub
        header = connection.connection_params.get("Authorization") or connection.connection_params.get(
            "authorization"
        )
        scheme, _, token = str(header or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            self._note_refusal(connection)
            raise _Refused
        try:
            connection.principal = await authenticate(hub.signers, token.strip())
        except (TokenRejected, IdentityProviderUnavailable):
            self._note_refusal(connection)
            raise _Refused from None
        expires = _expiry(token.strip())
        if expires is not None:
            loop = asyncio.get_running_loop()
            delay = max(expires - dt.datetime.now(dt.UTC).timestamp(), 0.0)
            connection.expiry = loop.call_later(delay, _close_expired, connection.socket)
        return None

    def _note_refusal(self, connection: _Connection) -> None:
        """Counted per client and minute, as HTTP's refused tokens (nothing the caller sent is kept)."""
        audit = self.hub.audit
        if audit is not None:
            client = getattr(connection.socket, "client", None)
            audit.rejected_tokens.note(f"ip:{client.host}" if client else None)


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


def _expiry(token: str) -> float | None:
    """The ``exp`` of an accepted token (its signature was checked by ``authenticate``)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    exp = claims.get("exp")
    return float(exp) if isinstance(exp, int | float) else None


def _close_expired(socket: Any) -> None:
    """The token's time is up: the socket goes, with the code of a refused sign-in."""
    task = asyncio.ensure_future(socket.close(code=UNAUTHORIZED, reason="token expired"))
    _closing.add(task)
    task.add_done_callback(_closing.discard)


_closing: set[asyncio.Future[None]] = set()
"""Closes under way (a reference each until done)."""
