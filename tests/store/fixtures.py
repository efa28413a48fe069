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
import shutil
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.audit import AuditLog
from hub.store import create_engine, head_revision, upgrade
from hub.store.migrate import VERSION_TABLE
from hub.store.tables import GENESIS_HASH

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


async def pg_admin_execute(sql: str) -> None:
    """Run ``sql`` (CREATE / DROP DATABASE) on the test server's admin connection."""
    admin = pg_admin_url()
    assert admin is not None, PG_SKIP_REASON
    conn = await asyncpg.connect(_dsn(admin))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


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
            # The tests check the chain, not durability: skip waiting for the disk on commit.
            await conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
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


async def _clear_migrated_postgres(url: str) -> bool:
    """Empty every table of a database already at the head revision (much faster
    than migrating again); ``False`` when it is not at the head or lacks a trigger."""
    conn = await asyncpg.connect(_dsn(url))
    try:
        try:
            version, triggers = await conn.fetchrow(
                f"SELECT (SELECT version_num FROM {VERSION_TABLE}), "
                "(SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'audit_events_%')"
            )
        except asyncpg.UndefinedTableError:
            return False
        if version != head_revision() or triggers != 2:
            return False  # e.g. a test played the intruder and dropped a trigger
        # DELETE, not TRUNCATE: these tables hold a handful of rows, and
        # TRUNCATE replaces every table's files.
        await conn.execute(
            "BEGIN; DELETE FROM audit_event_students; DELETE FROM audit_events; "
            "DELETE FROM audit_checkpoints; DELETE FROM identity_links; DELETE FROM policy_reloads; "
            "DELETE FROM audit_chain; INSERT INTO audit_chain (id, head_seq, head_hash, updated_at) "
            f"VALUES (1, 0, '{GENESIS_HASH}', now()); COMMIT"
        )
        return True
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once per run; tests get a copy."""
    path = tmp_path_factory.mktemp("store") / "template.db"
    run_in_thread(upgrade(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(params=ENGINES)
def backend(request: pytest.FixtureRequest) -> str:
    """Each engine in turn; PostgreSQL skipped with the reason when no server is named."""
    if request.param == "postgresql" and pg_admin_url() is None:
        pytest.skip(PG_SKIP_REASON)
    return str(request.param)


@pytest.fixture
async def store_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database (never migrated) on each engine."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'homeroom.db'}"
    url: str = request.getfixturevalue("pg_database")
    await reset_postgres(url)
    return url


@pytest.fixture
async def migrated_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database at the newest revision on each engine."""
    if backend == "sqlite":
        target = tmp_path / "homeroom.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite+aiosqlite:///{target}"
    url: str = request.getfixturevalue("pg_database")
    if not await _clear_migrated_postgres(url):
        await reset_postgres(url)
        await upgrade(url)
    return url


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
