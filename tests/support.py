"""Helpers for tests that drive a whole hub: build one over a data folder,
issue tokens, and post GraphQL operations in process or over HTTP."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from hub.app import create_app
from hub.assemble import assemble
from hub.auth import DevSigner
from hub.federation.clock import Clock
from hub.personas import Persona, pick_personas
from hub.runtime import Hub
from hub.settings import load_settings
from hub.store import upgrade
from hub.testing import DistrictSpec, generate_district

TODAY = dt.date(2026, 11, 18)  # a Wednesday inside the generated school year


def make_district(path: Path, students: int, seed: int = 7, **spec: Any) -> Path:
    """A synthetic district with a fixed "today" so tests never depend on the date."""
    generate_district(path, DistrictSpec(students=students, seed=seed, today=TODAY, **spec))
    return path


@dataclass
class RunningHub:
    """A hub opened in process, with personas and an HTTP client."""

    hub: Hub
    signer: DevSigner
    client: httpx.AsyncClient
    personas: dict[str, Persona]

    def token(self, persona: str) -> str:
        return self.personas[persona].token(self.signer)

    async def query(
        self,
        query: str,
        *,
        persona: str | None = None,
        token: str | None = None,
        variables: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        bearer = token if token is not None else self.token(persona or "district_admin")
        response = await self.client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {bearer}"},
        )
        body: dict[str, Any] = response.json()
        body["_status"] = response.status_code
        return body


@asynccontextmanager
async def running_hub(
    data_dir: Path,
    *,
    policy_dir: Path | None = None,
    today: dt.date = TODAY,
    store_url: str | None = None,
) -> AsyncIterator[RunningHub]:
    """Open a hub over the OneRoster CSV set in ``data_dir``."""
    signer = DevSigner(secrets.token_bytes(32))
    overrides: dict[str, Any] = {
        "sources": ({"name": "sis", "kind": "oneroster-csv", "path": str(data_dir)},)
    }
    if policy_dir is not None:
        overrides["policy"] = {"dir": str(policy_dir), "watch": False}
    settings = load_settings(None, **overrides)
    hub = assemble(settings, [signer], clock=Clock(fixed=today))
    if store_url is not None:
        await upgrade(store_url)
    app = create_app(hub, watch_policy=False, store_url=store_url)
    async with app.router.lifespan_context(app):
        personas = await pick_personas(hub.registry, hub.clock, settings.policy.grace_days)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            yield RunningHub(hub, signer, client, personas)
