"""``/livez`` and ``/readyz`` over real HTTP: readiness follows the store, the policy and the
sources, and an unauthenticated answer carries states and fixed reasons only."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from hub.health import READINESS_SECONDS
from tests.mirror.conftest import fast_switching, simulator_credentials  # noqa: F401
from tests.realtime.test_subscriptions import live_hub
from tests.store.fixtures import PG_SKIP_REASON, pg_admin_execute, pg_admin_url
from tests.support import ServedHub, make_district, serving_hub

VENDOR_TEXT = "upstream said: student 123-45-6789 Jane Doe not found"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedHub]:
    with serving_hub(make_district(tmp_path_factory.mktemp("ready"), 50)) as hub:
        yield hub


def test_livez_answers_and_readyz_is_ready_when_all_is_well(served: ServedHub) -> None:
    live = httpx.get(f"{served.base_url}/livez")
    assert (live.status_code, live.json()) == (200, {"status": "alive"})
    ready = httpx.get(f"{served.base_url}/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready" and ready.json()["reasons"] == []
    assert ready.headers["cache-control"] == "no-store"


def test_a_down_or_stale_source_makes_readyz_503_with_a_fixed_reason(served: ServedHub) -> None:
    state = served.hub.registry.states["sis"]
    before = (state.state, state.last_error, state.mode, state.lag_seconds)
    try:
        state.state, state.last_error = "DOWN", VENDOR_TEXT
        time.sleep(READINESS_SECONDS + 0.1)  # one look answers for a second
        down = httpx.get(f"{served.base_url}/readyz")
        assert down.status_code == 503
        assert down.json()["reasons"] == ["source sis down"]
        assert "123-45" not in down.text and "Jane" not in down.text and "upstream" not in down.text
        state.state = "UP"
        time.sleep(READINESS_SECONDS + 0.1)
        assert httpx.get(f"{served.base_url}/readyz").status_code == 200
    finally:
        state.state, state.last_error, state.mode, state.lag_seconds = before


@pytest.mark.usefixtures("simulator_credentials", "fast_switching")
async def test_readyz_turns_503_when_the_store_goes_and_200_when_it_returns(tmp_path: Path) -> None:
    admin = pg_admin_url()
    if admin is None:
        pytest.skip(PG_SKIP_REASON)
    name = f"homeroom_ready_{secrets.token_hex(4)}"
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    await pg_admin_execute(f'CREATE DATABASE "{name}"')
    try:
        folder = make_district(tmp_path / "district", 50)
        async with live_hub(folder, url) as live, httpx.AsyncClient(timeout=10) as client:
            base = live.url.replace("ws://", "http://").removesuffix("/graphql")
            assert (await client.get(f"{base}/readyz")).status_code == 200
            # The database goes away (every connection to it ended, then it is gone).
            await pg_admin_execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            await asyncio.sleep(READINESS_SECONDS + 0.1)  # one look answers for a second
            gone = await client.get(f"{base}/readyz")
            assert gone.status_code == 503
            assert "store unreachable" in gone.json()["reasons"]
            assert gone.json()["store"] == "unreachable"
            assert name not in gone.text  # no driver message
            # It comes back: ready again, without a restart.
            await pg_admin_execute(f'CREATE DATABASE "{name}"')
            async with asyncio.timeout(15):
                while (await client.get(f"{base}/readyz")).status_code != 200:
                    await asyncio.sleep(0.2)
    finally:
        await pg_admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_outside_the_monitoring_networks_metrics_are_refused_and_readyz_says_only_its_status(
    served: ServedHub,
) -> None:
    from hub.app import create_app

    app = create_app(served.hub, watch_policy=False)
    outside = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))  # type: ignore[arg-type]
    inside = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=outside, base_url="http://127.0.0.1") as stranger:
        refused = await stranger.get("/metrics")
        assert refused.status_code == 403 and "homeroom_" not in refused.text
        ready = await stranger.get("/readyz")
        assert ready.status_code == 200 and ready.json() == {"status": "ready"}
    async with httpx.AsyncClient(transport=inside, base_url="http://127.0.0.1") as monitor:
        assert "homeroom_http_requests_total" in (await monitor.get("/metrics")).text
        assert "sources" in (await monitor.get("/readyz")).json()
