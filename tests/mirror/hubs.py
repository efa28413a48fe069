"""A whole hub over a OneRoster REST simulator, live or mirrored, assembled as
``homeroom serve`` assembles it (entry points, the store in ``[store] url``)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from hub.app import create_app
from hub.assemble import assemble
from hub.auth import DevSigner
from hub.federation.clock import Clock
from hub.model import RECORD_TYPES, Entity, data_fields
from hub.personas import pick_personas
from hub.runtime import Hub
from hub.settings import load_settings
from hub.store import upgrade
from tests.support import TODAY, RunningHub

CLIENT_ID_ENV = "HOMEROOM_TEST_MIRROR_OR_ID"
CLIENT_SECRET_ENV = "HOMEROOM_TEST_MIRROR_OR_SECRET"


def every_field(entity: Entity) -> frozenset[str]:
    """Every attribute of ``entity``: a mirror that keeps whatever its vendor serves."""
    return frozenset(data_fields(RECORD_TYPES[entity]))


def rest_table(base_url: str, **overrides: Any) -> dict[str, Any]:
    """A ``[[sources]]`` table for the simulator at ``base_url``."""
    return {
        "name": "sis",
        "kind": "oneroster-rest",
        "base_url": base_url,
        "version": "1.2",
        "token_url": f"{base_url}/token",
        "client_id_env": CLIENT_ID_ENV,
        "client_secret_env": CLIENT_SECRET_ENV,
        # An outage is found out quickly, not after the default retries.
        "retries": 1,
        "backoff_base": 0.01,
        "backoff_max": 0.02,
        "total_timeout": 10,
        **overrides,
    }


async def until_ready(hub: Hub, timeout: float = 60.0) -> None:
    """Wait for the mirrors' first sync, run in the background (the hub answers NOT_READY meanwhile)."""
    async with asyncio.timeout(timeout):
        while not hub.ready:
            await asyncio.sleep(0.02)


@asynccontextmanager
async def rest_hub(
    table: dict[str, Any], store_url: str, policy_dir: Path | None = None
) -> AsyncIterator[RunningHub]:
    """Open a hub whose one source is ``table``, its store (audit, mirror) at ``store_url``."""
    signer = DevSigner(secrets.token_bytes(32))
    overrides: dict[str, Any] = {"sources": (table,), "store": {"url": store_url}}
    if policy_dir is not None:
        overrides["policy"] = {"dir": str(policy_dir), "watch": False}
    settings = load_settings(None, **overrides)
    await upgrade(store_url)
    hub = assemble(settings, [signer], clock=Clock(fixed=TODAY))
    app = create_app(hub, watch_policy=False, store_url=store_url)
    async with app.router.lifespan_context(app):
        await until_ready(hub)
        personas = await pick_personas(hub.registry, hub.clock, settings.policy.grace_days)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            yield RunningHub(hub, signer, client, personas)
