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
from typing import Any, cast

import jwt
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.utils.aio import aclosing

from hub.auth import IdentityProviderUnavailable, Principal, TokenRejected, authenticate
from hub.realtime.limits import (
    MAX_SUBSCRIPTIONS_PER_CALLER,
    STARTS_BURST,
    STARTS_PER_SECOND,
    SubscriptionLimits,
)
from hub.runtime import Hub
from hub.schema import HubSchema
from hub.schema.context import HubContext

__all__ = [
    "MAX_SUBSCRIPTIONS_PER_CALLER",
    "MAX_SUBSCRIPTIONS_PER_SOCKET",
    "STARTS_BURST",
    "STARTS_PER_SECOND",
    "SubscriptionSocket",
    "token_expiry",
]

MAX_SUBSCRIPTIONS_PER_SOCKET = 20
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
        limits = cast("SubscriptionSocket", self.view).limits
        refusal = limits.refusal(subject)
        if refusal is not None:
            await operation.send_initial_errors([refusal])
            self.operations.pop(operation.id, None)
            return
        with limits.holding(subject):
            await self._run(operation, connection)

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

    def __init__(self, hub: Hub, schema: HubSchema, limits: SubscriptionLimits | None = None) -> None:
        super().__init__(
            schema,
            graphql_ide=None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=dt.timedelta(seconds=10),
            max_subscriptions_per_connection=MAX_SUBSCRIPTIONS_PER_SOCKET,
        )
        self.hub = hub
        self.limits = limits or SubscriptionLimits()

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
        expires = token_expiry(token.strip())
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


def token_expiry(token: str) -> float | None:
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
