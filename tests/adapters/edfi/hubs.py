"""A hub over any ``[[sources]]`` tables, with the ``edfi`` kind registered
directly (the entry point is declared in pyproject.toml, which a test run from
a checkout may not have installed)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx

from adapters.edfi import SPEC
from hub.app import create_app
from hub.assemble import assemble
from hub.auth import DevSigner
from hub.federation import registry as registry_module
from hub.federation.clock import Clock
from hub.personas import pick_personas
from hub.settings import load_settings
from tests.support import TODAY, RunningHub


@contextmanager
def edfi_kind_installed() -> Iterator[None]:
    """``installed_kinds()`` with ``edfi`` added, for the block."""
    original = registry_module.installed_kinds

    def kinds() -> dict[str, Any]:
        return {**original(), SPEC.kind: SPEC}

    registry_module.installed_kinds = kinds
    try:
        yield
    finally:
        registry_module.installed_kinds = original


@asynccontextmanager
async def hub_over(*sources: dict[str, Any]) -> AsyncIterator[RunningHub]:
    """Open a hub over ``sources`` (``[[sources]]`` tables), as ``tests.support.running_hub`` does."""
    signer = DevSigner(secrets.token_bytes(32))
    settings = load_settings(None, sources=tuple(sources))
    with edfi_kind_installed():
        hub = assemble(settings, [signer], clock=Clock(fixed=TODAY))
    app = create_app(hub, watch_policy=False)
    async with app.router.lifespan_context(app):
        personas = await pick_personas(hub.registry, hub.clock, settings.policy.grace_days)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            yield RunningHub(hub, signer, client, personas)
