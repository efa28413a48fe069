"""Store fixtures shared by tests/store and tests/audit: a fresh database per
test, on SQLite always and on PostgreSQL when ``HOMEROOM_TEST_POSTGRES_URL``
names a server (CI's .ci/run sets it to the server on these machines).

PostgreSQL: one throw-away database ``homeroom_test_<random>`` per test run,
dropped at the end; each test starts from an empty ``public`` schema in it.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.audit import AuditLog
from hub.store import create_engine, upgrade

PG_ENV = "HOMEROOM_TEST_POSTGRES_URL"
PG_SKIP_REASON = (
    f"PostgreSQL store tests need ${PG_ENV} "
    "(e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/postgres; .ci/run sets it)"
)
ENGINES = ("sqlite", "postgresql")

T = TypeVar("T")


def run_in_thread(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on its own loop in a fresh thread: safe from sync fixtures
    and from inside a running test loop alike."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


def _dsn(sa_url: str) -> str:
    """An asyncpg DSN from a SQLAlchemy URL."""
    return make_url(sa_url).set(drivername="postgresql").render_as_string(hide_password=False)


def pg_admin_url() -> str | None:
    """The server to test against, or ``None``."""
    return os.environ.get(PG_ENV) or None


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """URL of a database created for this test run (dropped afterwards)."""
    admin = pg_admin_url()
    if admin is None:
        pytest.skip(PG_SKIP_REASON)
    name = f"homeroom_test_{secrets.token_hex(4)}"

    async def create() -> None:
        conn = await asyncpg.connect(_dsn(admin))
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(_dsn(admin))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    try:
        run_in_thread(create())
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"${PG_ENV} is set but the server cannot be used: {type(exc).__name__}: {exc}")
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        run_in_thread(drop())


async def reset_postgres(url: str) -> None:
    """Empty the test database: a fresh ``public`` schema."""
    conn = await asyncpg.connect(_dsn(url))
    try:
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
    finally:
        await conn.close()


@pytest.fixture(params=ENGINES)
async def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database on each engine (PostgreSQL skipped without a server)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'homeroom.db'}"
        return
    if pg_admin_url() is None:
        pytest.skip(PG_SKIP_REASON)
    url: str = request.getfixturevalue("pg_database")
    await reset_postgres(url)
    yield url


@pytest.fixture
async def migrated_url(store_url: str) -> str:
    """``store_url`` migrated to the newest revision."""
    await upgrade(store_url)
    return store_url


@pytest.fixture
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a migrated, empty store."""
    eng = create_engine(migrated_url)
    try:
        yield eng
    finally:
        await eng.dispose()


@pytest.fixture
async def audit(engine: AsyncEngine) -> AsyncIterator[AuditLog]:
    """An audit log on a migrated, empty store."""
    log = AuditLog(engine)
    try:
        yield log
    finally:
        await log.aclose()
