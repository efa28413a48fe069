"""A whole hub over a ``canvas`` source (and others). Until the entry point is
installed, the registry is built from the adapters' SPECs directly."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from adapters.canvas import SPEC
from adapters.oneroster_csv import SPEC as CSV_SPEC
from hub.app import create_app
from hub.assemble import policy_dir
from hub.auth import DevSigner
from hub.federation.clock import Clock
from hub.federation.registry import SourceRegistry, configure_source
from hub.personas import Persona, pick_personas
from hub.policy import PolicyStore, catalogue_from_schema
from hub.runtime import Hub
from hub.schema import build_schema
from hub.sdk import AdapterSpec
from hub.settings import load_settings
from tests.support import TODAY, RunningHub

from .conftest import TOKEN_ENV

KINDS: dict[str, AdapterSpec[Any]] = {SPEC.kind: SPEC, CSV_SPEC.kind: CSV_SPEC}


def canvas_table(base_url: str, **overrides: Any) -> dict[str, Any]:
    """The ``[[sources]]`` table of a Canvas LMS named ``lms``."""
    return {"name": "lms", "kind": "canvas", "base_url": base_url, "token_env": TOKEN_ENV, **overrides}


@asynccontextmanager
async def canvas_hub(
    *tables: dict[str, Any], identity: dict[str, Any] | None = None, personas: bool = True
) -> AsyncIterator[RunningHub]:
    """Open a hub whose sources are ``tables`` (as ``tests.support.running_hub`` does for CSV).

    ``personas=False`` skips choosing them from the data (a few hundred
    requests to Canvas): only the district admin, who needs no roster person.
    """
    signer = DevSigner(secrets.token_bytes(32))
    overrides: dict[str, Any] = {"sources": tables}
    if identity is not None:
        overrides["identity"] = identity
    settings = load_settings(None, **overrides)
    registry = SourceRegistry(
        [configure_source(table, KINDS) for table in tables],
        {table["name"]: table["kind"] for table in tables},
    )
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
        chosen = (
            await pick_personas(hub.registry, hub.clock, settings.policy.grace_days)
            if personas
            else {"district_admin": Persona("district_admin", ("district_admin",))}
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            yield RunningHub(hub, signer, client, chosen)
