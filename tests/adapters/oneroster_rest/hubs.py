"""A whole hub over an oneroster-rest source (until the entry point is
installed, the registry is built from the adapter's SPEC directly)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from adapters.oneroster_rest import SPEC
from hub.app import create_app
from hub.assemble import policy_dir
from hub.auth import DevSigner
from hub.federation.clock import Clock
from hub.federation.registry import SourceRegistry, configure_source
from hub.personas import pick_personas
from hub.policy import PolicyStore, catalogue_from_schema
from hub.runtime import Hub
from hub.schema import build_schema
from hub.settings import load_settings
from tests.support import TODAY, RunningHub

from .conftest import CLIENT_ID_ENV, CLIENT_SECRET_ENV


def rest_source(base_url: str, **overrides: Any) -> dict[str, Any]:
    """The ``[[sources]]`` table of the issue: base_url, version, token_url and the two secrets."""
    return {
        "name": "sis",
        "kind": "oneroster-rest",
        "base_url": base_url,
        "version": "1.2",
        "token_url": f"{base_url}/token",
        "client_id_env": CLIENT_ID_ENV,
        "client_secret_env": CLIENT_SECRET_ENV,
        **overrides,
    }


@asynccontextmanager
async def rest_hub(table: dict[str, Any]) -> AsyncIterator[RunningHub]:
    """Open a hub whose one source is ``table`` (as ``tests.support.running_hub`` does for CSV)."""
    signer = DevSigner(secrets.token_bytes(32))
    settings = load_settings(None, sources=(table,))
    registry = SourceRegistry([configure_source(table, {SPEC.kind: SPEC})], {table["name"]: table["kind"]})
    catalogue = catalogue_from_schema(build_schema(gate=False)._schema)
    hub = Hub(
        settings=settings,
        registry=registry,
        policy=PolicyStore(policy_dir(settings), catalogue),
        catalogue=catalogue,
        signers=[signer],
        clock=Clock(fixed=TODAY),
    )
    app = create_app(hub, watch_policy=False)
    async with app.router.lifespan_context(app):
        personas = await pick_personas(hub.registry, hub.clock, settings.policy.grace_days)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            yield RunningHub(hub, signer, client, personas)
