"""``/livez`` and ``/readyz``: whether the process answers, and whether it should be sent traffic.

Both are unauthenticated, so they say only states and fixed reasons: never
personal data, a vendor's error text or a driver's message (a source is
named by its configured name). ``/readyz`` is 503, with its reasons, while
the hub is starting or its first syncs run, when its store does not answer,
when no policy is loaded, when a source is down, or when a mirrored
source's data is older than ``[server] ready_max_lag_seconds``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hub.runtime import Hub

__all__ = ["READINESS_SECONDS", "STORE_CHECK_SECONDS", "livez", "readiness", "readyz"]

STORE_CHECK_SECONDS = 2.0
"""How long the store may take to answer ``SELECT 1`` before the hub is not ready."""

_NO_CACHE = {"Cache-Control": "no-store"}


async def livez(request: Request) -> Response:
    """The process answers (nothing else is checked: a restart would not help a store that is down)."""
    return JSONResponse({"status": "alive"}, headers=_NO_CACHE)


async def _store_answers(engine: AsyncEngine | None) -> bool:
    if engine is None:
        return True  # no store (tests, benchmarks): nothing to wait for
    try:
        async with asyncio.timeout(STORE_CHECK_SECONDS), engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:  # whatever the driver says stays out of an unauthenticated answer
        return False
    return True


async def readiness(hub: Hub) -> tuple[list[str], dict[str, Any]]:
    """The reasons not to send the hub traffic now (none: ready), and the states seen."""
    reasons: list[str] = []
    if not hub.ready:
        syncing = hub.registry.mirrors_syncing()
        reasons.append("first syncs running" if syncing else "starting")
    audit = hub.audit
    store_ok = await _store_answers(audit.engine if audit is not None else None)
    if not store_ok:
        reasons.append("store unreachable")
    policy_version = getattr(getattr(hub.policy, "current", None), "version", None)
    if getattr(hub.policy, "current", None) is None:
        reasons.append("no policy loaded")
    hub.registry.observe_mirrors()
    max_lag = hub.settings.server.ready_max_lag_seconds
    sources: dict[str, Any] = {}
    for name, state in hub.registry.states.items():
        entry: dict[str, Any] = {"state": state.state, "mode": state.mode}
        if state.state == "DOWN":
            reasons.append(f"source {name} down")
        if state.mode == "mirror":
            entry["lagSeconds"] = state.lag_seconds
            if state.lag_seconds is not None and state.lag_seconds > max_lag:
                reasons.append(f"source {name} stale")
        sources[name] = entry
    checks = {
        "store": "ok" if store_ok else "unreachable",
        "policyVersion": policy_version,
        "sources": sources,
    }
    return reasons, checks


READINESS_SECONDS = 1.0
"""How long one look at readiness answers every ``/readyz`` (a flood of probes opens
one store connection a second, not one each)."""


def readyz(hub: Hub, insiders: Callable[[Request], bool]) -> Any:
    """The ``/readyz`` endpoint of ``hub``: the status for anyone (a load balancer), the
    reasons and states only for ``insiders`` (``[server] metrics_clients``)."""
    last: list[Any] = []  # [when, reasons, checks]
    looking = asyncio.Lock()

    async def endpoint(request: Request) -> Response:
        async with looking:
            if not last or time.monotonic() - last[0] > READINESS_SECONDS:
                reasons, checks = await readiness(hub)
                last[:] = [time.monotonic(), reasons, checks]
            _, reasons, checks = last
        body: dict[str, Any] = {"status": "not ready" if reasons else "ready"}
        if insiders(request):
            body.update(reasons=reasons, **checks)
        return JSONResponse(body, status_code=503 if reasons else 200, headers=_NO_CACHE)

    return endpoint
