"""Hubs for the HTTP-edge tests: in process with chosen ``[server]`` settings,
or served by uvicorn on a loopback port."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from hub.app import create_app
from hub.assemble import assemble
from hub.auth import DevSigner
from hub.federation.clock import Clock
from hub.runtime import Hub
from hub.settings import load_settings
from hub.testing.server import serving
from tests.support import TODAY

ADMIN_ROLES = ["district_admin"]


def _hub(district: Path, signer: DevSigner, server: dict[str, Any]) -> Hub:
    settings = load_settings(
        None, sources=({"name": "sis", "kind": "oneroster-csv", "path": str(district)},), server=server
    )
    return assemble(settings, [signer], clock=Clock(fixed=TODAY))


@asynccontextmanager
async def edge_hub(
    district: Path, schema: Any = None, **server: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A hub with ``[server]`` settings ``server`` (and ``schema`` instead of
    the real one), in process; yields a client (Host ``localhost``) and a
    district admin's token."""
    signer = DevSigner(secrets.token_bytes(32))
    app = create_app(_hub(district, signer, server), schema, watch_policy=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            yield client, signer.issue(subject="admin", roles=ADMIN_ROLES)


@dataclass
class Served:
    """A hub answering over real HTTP on 127.0.0.1."""

    hub: Hub
    base_url: str
    token: str

    def post(self, **request: Any) -> httpx.Response:
        """POST to /graphql as the district admin; ``request`` as for ``httpx.post``."""
        headers = {"Authorization": f"Bearer {self.token}", **request.pop("headers", {})}
        return httpx.post(f"{self.base_url}/graphql", headers=headers, timeout=30, **request)


@contextmanager
def served_hub(district: Path, **server: Any) -> Iterator[Served]:
    """A hub with ``[server]`` settings ``server`` served by uvicorn on a loopback port."""
    signer = DevSigner(secrets.token_bytes(32))
    hub = _hub(district, signer, server)
    with serving(create_app(hub, watch_policy=False)) as base_url:
        yield Served(hub, base_url, signer.issue(subject="admin", roles=ADMIN_ROLES))


class FaultyAdapter:
    """Wraps a source's adapter; while ``fault`` is set, every fetch raises it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name: str = inner.name
        self.fault: BaseException | None = None

    def capabilities(self) -> Any:
        return self.inner.capabilities()

    async def open(self) -> Any:
        return await self.inner.open()

    async def fetch(self, request: Any) -> Any:
        if self.fault is not None:
            raise self.fault
        return await self.inner.fetch(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def make_faulty(hub: Hub, source: str = "sis") -> FaultyAdapter:
    """Put a :class:`FaultyAdapter` in front of ``source`` of a running ``hub``."""
    faulty = FaultyAdapter(hub.registry.adapters[source])
    hub.registry.adapters[source] = faulty  # type: ignore[assignment]
    return faulty
