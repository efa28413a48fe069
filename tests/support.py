"""Helpers for tests that drive a whole hub: build one over a data folder,
issue tokens, and post GraphQL operations in process or over HTTP."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import secrets
import shutil
import tempfile
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
from hub.personas import Persona, pick_personas
from hub.runtime import Hub
from hub.settings import load_settings
from hub.store import upgrade
from hub.testing import DistrictSpec, generate_district
from hub.testing.server import serving

TODAY = dt.date(2026, 11, 18)  # a Wednesday inside the generated school year

# Ground-truth tests read whole districts in one query on purpose: far above
# the query cost limit a dashboard is held to.
READ_EVERYTHING: dict[str, Any] = {"max_cost": 1_000_000_000}


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
    server: dict[str, Any] | None = None,
    mode: str = "live",
) -> AsyncIterator[RunningHub]:
    """Open a hub over the OneRoster CSV set in ``data_dir`` (``server``: keys of
    ``[server]`` to set, e.g. :data:`READ_EVERYTHING`; ``mode="mirror"``: the
    source answered from the read model, in a store of its own)."""
    signer = DevSigner(secrets.token_bytes(32))
    source: dict[str, Any] = {"name": "sis", "kind": "oneroster-csv", "path": str(data_dir)}
    if mode != "live":
        source["mode"] = mode
    overrides: dict[str, Any] = {"sources": (source,)}
    if server is not None:
        overrides["server"] = server
    with tempfile.TemporaryDirectory(prefix="homeroom-mirror-") as scratch:
        if mode == "mirror":
            mirror_url = f"sqlite+aiosqlite:///{Path(scratch) / 'mirror.db'}"
            overrides["store"] = {"url": store_url or mirror_url}
            await upgrade(store_url or mirror_url)
        async with _opened(overrides, policy_dir, today, store_url, signer) as running:
            yield running


@asynccontextmanager
async def _opened(
    overrides: dict[str, Any],
    policy_dir: Path | None,
    today: dt.date,
    store_url: str | None,
    signer: DevSigner,
) -> AsyncIterator[RunningHub]:
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
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            yield RunningHub(hub, signer, client, personas)


# The files of a OneRoster set that hold rows of one student, and the column naming them.
_STUDENT_ROWS: dict[str, str] = {
    "users.csv": "sourcedId",
    "roles.csv": "userSourcedId",
    "demographics.csv": "sourcedId",
    "enrollments.csv": "userSourcedId",
    "results.csv": "studentSourcedId",
    "courseGrades.csv": "studentSourcedId",
    "attendance.csv": "userSourcedId",
}


def district_without_student(source: Path, target: Path, student_id: str) -> Path:
    """A copy of the OneRoster set in ``source`` at ``target`` minus one student: their rows
    in every file and their id in other users' ``agentSourcedIds`` (the guardians' links).

    Rows are written back as the generator writes them (QUOTE_MINIMAL, ``\\n``), so the
    files differ from the originals only by what was removed.
    """
    shutil.copytree(source, target)
    removed = 0
    for file_name, column in _STUDENT_ROWS.items():
        path = target / file_name
        if not path.exists():
            continue
        with path.open(encoding="utf-8", newline="") as stream:
            header, *rows = list(csv.reader(stream))
        at = header.index(column)
        kept = [row for row in rows if row[at] != student_id]
        removed += len(rows) - len(kept)
        if file_name == "users.csv":
            agents_at = header.index("agentSourcedIds")
            for row in kept:
                agents = row[agents_at].split(",")
                if student_id in agents:
                    row[agents_at] = ",".join(a for a in agents if a != student_id)
        with path.open("w", encoding="utf-8", newline="") as stream:
            writer = csv.writer(stream, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(kept)
    if not removed:
        raise ValueError(f"no rows of student {student_id!r} in {source}")
    return target


@dataclass
class ServedHub:
    """A hub served over real HTTP on a loopback port, with its personas."""

    hub: Hub
    signer: DevSigner
    base_url: str
    personas: dict[str, Persona]

    def token(self, persona: str) -> str:
        return self.personas[persona].token(self.signer)

    def post(self, query: str, *, token: str, variables: dict[str, Any] | None = None) -> httpx.Response:
        """POST one GraphQL operation; the raw response (status, exact body text)."""
        return httpx.post(
            f"{self.base_url}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )


@contextmanager
def serving_hub(
    data_dir: Path, *, policy_dir: Path | None = None, today: dt.date = TODAY
) -> Iterator[ServedHub]:
    """Serve a hub over the OneRoster CSV set in ``data_dir`` with uvicorn on 127.0.0.1."""
    signer = DevSigner(secrets.token_bytes(32))
    overrides: dict[str, Any] = {
        "sources": ({"name": "sis", "kind": "oneroster-csv", "path": str(data_dir)},)
    }
    if policy_dir is not None:
        overrides["policy"] = {"dir": str(policy_dir), "watch": False}
    settings = load_settings(None, **overrides)
    hub = assemble(settings, [signer], clock=Clock(fixed=today))
    app = create_app(hub, watch_policy=False)
    with serving(app) as base_url:
        # The sources are open once /healthz answers; the in-memory CSV source may be
        # read from this thread too.
        personas = asyncio.run(pick_personas(hub.registry, hub.clock, settings.policy.grace_days))
        yield ServedHub(hub, signer, base_url, personas)
