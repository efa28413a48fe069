"""The hub's HTTP edge, before any route: which ``Host`` it answers to and
which browser origins may call it.

A hub on loopback or an intranet is reachable from any web page its users
open: a page on ``evil.example`` whose name resolves to the hub's address (DNS
rebinding) would otherwise be answered as if it were the hub's own. The
``Host`` allow-list refuses that; CORS is off unless the district names the
origins of its dashboards.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["HostAllowList", "edge_middleware", "host_pattern", "origin"]

CORS_METHODS = ("GET", "POST")
CORS_HEADERS = ("Authorization", "Content-Type", "Homeroom-Purpose")
_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")  # "_": container and service names
_ADMITTED = "homeroom.host_admitted"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _is_host_name(value: str) -> bool:
    labels = value.split(".")
    return len(value) <= 253 and all(_LABEL.fullmatch(label) for label in labels)


def host_pattern(value: str) -> str:
    """One ``allowed_hosts`` entry, lower-cased: a host name, an IP address or
    ``*.domain`` (any sub-domain); raises ``ValueError`` saying what is wrong."""
    text = value.strip().lower()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    if text == "*":
        raise ValueError("'*' would answer any Host (DNS rebinding); list the hub's own names")
    name = text[2:] if text.startswith("*.") else text
    if not _is_host_name(name):
        raise ValueError(
            f"{value!r} is not a host name: write it without scheme, port or path, "
            "e.g. homeroom.district.org, 10.0.0.5 or *.district.org"
        )
    return text


def origin(value: str) -> str:
    """One ``cors_origins`` entry, lower-cased: ``scheme://host[:port]``, the
    way a browser sends it in ``Origin``; raises ``ValueError`` saying what is wrong."""
    parts = urlsplit(value.strip().lower())
    problem = ValueError(
        f"{value!r} is not an origin: write scheme and host (and port), without a path "
        "or a trailing slash, e.g. https://dashboard.district.org"
    )
    try:
        port = parts.port
    except ValueError:
        raise problem from None
    host = parts.hostname
    if (
        parts.scheme not in ("http", "https")
        or not host
        or "*" in host
        or parts.username is not None
        or parts.path
        or parts.query
        or parts.fragment
    ):
        raise problem
    host_pattern(host)
    if port == _DEFAULT_PORTS[parts.scheme]:
        port = None  # browsers leave the default port out of Origin
    netloc = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{netloc}" + (f":{port}" if port is not None else "")


def _header_form(pattern: str) -> str:
    """How ``pattern`` appears in a Host header: IPv6 literals in brackets."""
    try:
        address = ipaddress.ip_address(pattern)
    except ValueError:
        return pattern
    return f"[{address}]" if address.version == 6 else pattern


class HostAllowList:
    """Starlette's ``TrustedHostMiddleware`` deciding, with the refusal as a
    GraphQL-style JSON error (``extensions.code`` ``BAD_HOST``, HTTP 400).

    The Host header is not echoed: it is the caller's text.
    """

    def __init__(self, app: ASGIApp, allowed_hosts: Sequence[str]) -> None:
        self.app = app
        self.check = TrustedHostMiddleware(
            self._admit, allowed_hosts=[_header_form(h) for h in allowed_hosts], www_redirect=False
        )

    async def _admit(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[_ADMITTED] = True
        await self.app(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.check(scope, receive, send)
            return

        async def unless_refused(message: Message) -> None:
            # Starlette's own refusal (plain text) is dropped; ours is sent below.
            if scope.get(_ADMITTED):
                await send(message)

        await self.check(scope, receive, unless_refused)
        if not scope.get(_ADMITTED):
            body = {
                "data": None,
                "errors": [
                    {
                        "message": "this hub does not answer to that host name; see [server] allowed_hosts",
                        "extensions": {"code": "BAD_HOST"},
                    }
                ],
            }
            await JSONResponse(body, status_code=400)(scope, receive, send)


def edge_middleware(allowed_hosts: Sequence[str], cors_origins: Sequence[str]) -> list[Middleware]:
    """The middleware for ``create_app``, outermost first: the Host check, then
    CORS for ``cors_origins`` only (none: no CORS headers at all)."""
    stack = [Middleware(HostAllowList, allowed_hosts=allowed_hosts)]
    if cors_origins:
        stack.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(cors_origins),
                allow_methods=list(CORS_METHODS),
                allow_headers=list(CORS_HEADERS),
                allow_credentials=False,
            )
        )
    return stack
