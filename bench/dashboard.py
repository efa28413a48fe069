"""A teacher's dashboard served by a real hub: the workload of the audit
benchmark (``python -m bench.audit``), with auditing on or off.

The district is generated once per process; each factory call assembles a hub
over it, served on a loopback port.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bench.audit import DashboardTarget
from hub.app import create_app
from hub.assemble import assemble
from hub.auth import DevSigner
from hub.federation.clock import Clock
from hub.personas import pick_personas
from hub.settings import load_settings
from hub.store import upgrade
from hub.testing import DistrictSpec, generate_district
from hub.testing.server import serving

STUDENTS = 1_000
TODAY = dt.date(2026, 11, 18)
QUERY = """query TeacherDashboard {
  viewer { sections { edges { node { id title
    students { edges { node { id givenName familyName preferredName gradeLevel
      scores(first: 10) { edges { node { score scoreStatus late missing } } }
      attendance(from: "2026-11-10") { date status } } } }
  } } } }
}"""


@functools.cache
def _district() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="homeroom-bench-")) / "district"
    generate_district(folder, DistrictSpec(students=STUDENTS, seed=5, today=TODAY))
    return folder


@asynccontextmanager
async def teacher_dashboard(store_url: str | None) -> AsyncIterator[DashboardTarget]:
    """Serve a hub (auditing into ``store_url``, or off when ``None``) and
    yield the teacher persona's dashboard request."""
    signer = DevSigner(secrets.token_bytes(32))
    settings = load_settings(
        None, sources=({"name": "sis", "kind": "oneroster-csv", "path": str(_district())},)
    )
    hub = assemble(settings, [signer], clock=Clock(fixed=TODAY))
    await hub.registry.open()
    hub.ready = True
    teacher = (await pick_personas(hub.registry, hub.clock, settings.policy.grace_days))["teacher"]
    if store_url is not None:
        await upgrade(store_url)
    app = create_app(hub, store_url=store_url, watch_policy=False)
    # uvicorn runs the app on its own loop in a thread.
    server = serving(app)
    base = await asyncio.to_thread(server.__enter__)
    try:
        yield DashboardTarget(
            url=base + "/graphql",
            headers={"Authorization": f"Bearer {teacher.token(signer)}"},
            query=QUERY,
        )
    finally:
        await asyncio.to_thread(server.__exit__, None, None, None)
