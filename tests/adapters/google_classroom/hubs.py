"""Whole hubs over a ``google-classroom`` source, alone or beside an SIS
(until the entry point is installed, the registry is built from the SPECs)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx

from adapters.google_classroom import SPEC
from adapters.oneroster_csv import SPEC as CSV_SPEC
from hub.app import create_app
from hub.assemble import policy_dir
from hub.auth import DevSigner
from hub.federation.clock import Clock
from hub.federation.registry import SourceRegistry, configure_source
from hub.personas import pick_personas
from hub.policy import PolicyStore, catalogue_from_schema
from hub.runtime import Hub
from hub.schema import build_schema
from hub.sdk import AdapterSpec
from hub.settings import load_settings
from tests.support import READ_EVERYTHING, TODAY, RunningHub

from .conftest import TOKEN_ENV

KINDS: dict[str, AdapterSpec[Any]] = {SPEC.kind: SPEC, CSV_SPEC.kind: CSV_SPEC}


def classroom_source(base_url: str, **overrides: Any) -> dict[str, Any]:
    """The ``[[sources]]`` table of a Classroom source: a base URL and a token variable."""
    return {
        "name": "lms",
        "kind": "google-classroom",
        "base_url": base_url,
        "token_env": TOKEN_ENV,
        **overrides,
    }


@asynccontextmanager
async def classroom_hub(
    tables: Sequence[dict[str, Any]], identity: dict[str, Any] | None = None
) -> AsyncIterator[RunningHub]:
    """Open a hub over ``tables`` (first = primary), matching identities as ``identity`` says."""
    signer = DevSigner(secrets.token_bytes(32))
    settings = load_settings(None, sources=tuple(tables), identity=identity or {}, server=READ_EVERYTHING)
    registry = SourceRegistry(
        [configure_source(table, KINDS) for table in tables], {t["name"]: t["kind"] for t in tables}
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
        personas = await pick_personas(hub.registry, hub.clock, settings.policy.grace_days)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            yield RunningHub(hub, signer, client, personas)
