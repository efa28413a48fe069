"""The hub's log: text or JSON lines, a request id on every line, an access log.

Every line written while a request is answered carries its ``request_id``,
made here and sent back in the response's ``X-Request-ID`` (a caller's own
``X-Request-ID`` is not taken: it would be caller input in every line, and
would let one request pass for another in the log). The access log (logger ``homeroom.access``) says the
method, the route (one of the hub's own paths, else ``other``: never the
path asked for, nor its query string), the status and the time; never a
header, so never a token.
"""

from __future__ import annotations

import contextvars
import logging
import os
import secrets
import sys
import time
from typing import Literal

from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["LogFormat", "RequestIds", "configure_logging", "request_id"]

LogFormat = Literal["text", "json"]

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("homeroom_request_id", default="-")
"""The id of the request being answered (``-`` outside one)."""

_ROUTES = frozenset({"/graphql", "/healthz", "/livez", "/readyz", "/metrics"})
_NOISY = ("casbin", "httpx", "httpcore", "alembic")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

access_log = logging.getLogger("homeroom.access")


class _WithRequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


def configure_logging(fmt: LogFormat = "text", level: str | None = None) -> None:
    """Send the hub's log to stderr as text or JSON lines, each with its request id."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_WithRequestId())
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s")
        )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level or os.environ.get("HOMEROOM_LOG_LEVEL", "INFO"))
    # pycasbin logs its whole model at INFO each time an enforcer is built;
    # httpx logs every URL at INFO, and a URL may carry a filter value (an
    # e-mail, an id): neither belongs in the hub's log.
    for noisy in _NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # uvicorn's own loggers write through the hub's handler (their access log is off).
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True


class RequestIds:
    """Gives each HTTP request and WebSocket its id, and writes the access log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        rid = secrets.token_hex(8)
        token = request_id.set(rid)
        status = 500
        started = time.perf_counter()

        async def with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (b"x-request-id", rid.encode())],
                }
            await send(message)

        try:
            await self.app(scope, receive, with_id)
        finally:
            path = scope.get("path", "")
            access_log.info(
                "%s %s %s %.1f ms",
                (scope.get("method") if scope.get("method") in _METHODS else "OTHER")
                if scope["type"] == "http"
                else "WEBSOCKET",
                path if path in _ROUTES else "other",
                status if scope["type"] == "http" else "-",
                (time.perf_counter() - started) * 1000,
            )
            request_id.reset(token)
