"""Mirror fixtures: a migrated store on each engine (see tests/store/fixtures.py),
emptied of mirror rows, since the PostgreSQL database is shared by a test run."""

from __future__ import annotations

import shutil
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete

from adapters.oneroster_rest.simulator import SimulatorConfig
from hub.mirror.store import MirrorStore
from hub.mirror.tables import MIRROR_LINK, MIRROR_STATE, MIRROR_SYNCER, entity_table
from hub.model import Entity
from hub.store import create_engine
from tests.mirror.hubs import CLIENT_ID_ENV, CLIENT_SECRET_ENV
from tests.store.fixtures import backend, migrated_url, pg_database, sqlite_template
from tests.support import make_district

__all__ = ["backend", "district", "folder", "migrated_url", "mirror", "pg_database", "sqlite_template", "url"]


@pytest.fixture
async def mirror(migrated_url: str) -> AsyncIterator[MirrorStore]:
    """An empty mirror store on each engine."""
    engine = create_engine(migrated_url)
    async with engine.begin() as conn:
        for table in (MIRROR_LINK, MIRROR_STATE, MIRROR_SYNCER, *(entity_table(e) for e in Entity)):
            await conn.execute(delete(table))
    store = MirrorStore(engine)
    try:
        yield store
    finally:
        await store.aclose()


@pytest.fixture
def simulator_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The OneRoster REST simulator's client credentials, where the sources table names them."""
    defaults = SimulatorConfig()
    monkeypatch.setenv(CLIENT_ID_ENV, defaults.client_id)
    monkeypatch.setenv(CLIENT_SECRET_ENV, defaults.client_secret)


@pytest.fixture(scope="module")
def fast_switching() -> Iterator[None]:
    """Simulators run in threads of the test process: hand the GIL over often."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    yield
    sys.setswitchinterval(previous)


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic district of 50 students, shared by a module's tests (a module may override it)."""
    return make_district(tmp_path_factory.mktemp("mirror"), 50)


@pytest.fixture
def folder(district: Path, tmp_path: Path) -> Path:
    """A copy of the district that a test may change (its simulator re-reads it)."""
    return Path(shutil.copytree(district, tmp_path / "district"))


@pytest.fixture
def url(tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated SQLite store of the test's own."""
    target = tmp_path / "homeroom.db"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite+aiosqlite:///{target}"
