"""``/livez`` and ``/readyz`` over real HTTP: readiness follows the store, the policy and the
sources, and an unauthenticated answer carries states and fixed reasons only."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.mirror.conftest import fast_switching, simulator_credentials  # noqa: F401
from tests.realtime.test_subscriptions import live_hub
from tests.store.fixtures import PG_SKIP_REASON, pg_admin_url
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
        down = httpx.get(f"{served.base_url}/readyz")
        assert down.status_code == 503
        assert down.json()["reasons"] == ["source sis down"]
        assert "123-45" not in down.text and "Jane" not in down.text and "upstream" not in down.text
        state.state = "UP"
        assert httpx.get(f"{served.base_url}/readyz").status_code == 200
    finally:
        state.state, state.last_error, state.mode, state.lag_seconds = before


async def _admin(sql: str) -> None:
    admin = pg_admin_url()
    assert admin is not None
    conn = await asyncpg.connect(
        make_url(admin).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.mark.usefixtures("simulator_credentials", "fast_switching")
async def test_readyz_turns_503_when_the_store_goes_and_200_when_it_returns(tmp_path: Path) -> None:
    admin = pg_admin_url()
    if admin is None:
        pytest.skip(PG_SKIP_REASON)
    name = f"homeroom_ready_{secrets.token_hex(4)}"
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        folder = make_district(tmp_path / "district", 50)
        async with live_hub(folder, url) as live, httpx.AsyncClient(timeout=10) as client:
            base = live.url.replace("ws://", "http://").removesuffix("/graphql")
            assert (await client.get(f"{base}/readyz")).status_code == 200
            # The database goes away (every connection to it ended, then it is gone).
            await _admin(f'DROP DATABASE "{name}" WITH (FORCE)')
            gone = await client.get(f"{base}/readyz")
            assert gone.status_code == 503
            assert "store unreachable" in gone.json()["reasons"]
            assert gone.json()["store"] == "unreachable"
            assert name not in gone.text  # no driver message
            # It comes back: ready again, without a restart.
            await _admin(f'CREATE DATABASE "{name}"')
            async with asyncio.timeout(15):
                while (await client.get(f"{base}/readyz")).status_code != 200:
                    await asyncio.sleep(0.2)
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
