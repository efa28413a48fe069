"""Migrations from an empty database, revision checks, and engine set-up, on both engines."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from hub.store import (
    DatabaseBehind,
    StoreError,
    UnknownRevision,
    alembic_config,
    create_engine,
    current_revision,
    ensure_up_to_date,
    head_revision,
    is_up_to_date,
    redact_url,
    resolve_url,
    store_url,
    upgrade,
)
from hub.store.migrate import VERSION_TABLE
from hub.store.tables import GENESIS_HASH, metadata

TABLES = {
    "audit_events",
    "audit_event_students",
    "audit_chain",
    "audit_checkpoints",
    "identity_links",
    "policy_reloads",
    VERSION_TABLE,
}


async def test_upgrade_from_empty(store_url: str) -> None:
    assert await current_revision(store_url) is None
    assert not await is_up_to_date(store_url)
    with pytest.raises(DatabaseBehind) as caught:
        await ensure_up_to_date(store_url, Path("site/homeroom.toml"))
    message = str(caught.value)
    assert "empty" in message
    assert "run `homeroom db upgrade --config site/homeroom.toml`" in message

    before, after = await upgrade(store_url)
    assert (before, after) == (None, head_revision())
    assert await is_up_to_date(store_url)
    assert await ensure_up_to_date(store_url) == head_revision()
    # A second upgrade is a no-op.
    assert await upgrade(store_url) == (head_revision(), head_revision())

    engine = create_engine(store_url)
    try:
        async with engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            head = (await conn.execute(text("SELECT head_seq, head_hash FROM audit_chain"))).all()
    finally:
        await engine.dispose()
    assert tables >= TABLES
    assert [tuple(row) for row in head] == [(0, GENESIS_HASH)]


async def test_migrations_match_the_table_classes(migrated_url: str) -> None:
    engine = create_engine(migrated_url)

    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(
            connection, opts={"version_table": VERSION_TABLE, "compare_type": True}
        )
        return list(compare_metadata(context, metadata))

    try:
        async with engine.connect() as conn:
            differences = await conn.run_sync(diff)
    finally:
        await engine.dispose()
    assert differences == []


async def test_downgrade_to_empty_and_back(migrated_url: str) -> None:
    engine = create_engine(migrated_url)

    def downgrade(connection: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "base")

    try:
        async with engine.begin() as conn:
            await conn.run_sync(downgrade)
        assert await current_revision(engine) is None
        assert await upgrade(engine) == (None, head_revision())
    finally:
        await engine.dispose()


async def test_unknown_revision_is_named(migrated_url: str) -> None:
    engine = create_engine(migrated_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = 'fffffff'"))
        with pytest.raises(UnknownRevision, match=r"fffffff.*newer homeroom"):
            await ensure_up_to_date(engine)
    finally:
        await engine.dispose()


async def test_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'absent.db'}"
    assert await current_revision(url) is None
    assert not (tmp_path / "absent.db").exists()


async def test_sqlite_runs_in_wal_with_a_busy_timeout(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}")
    try:
        async with engine.connect() as conn:
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar()
            timeout = (await conn.execute(text("PRAGMA busy_timeout"))).scalar()
            keys = (await conn.execute(text("PRAGMA foreign_keys"))).scalar()
    finally:
        await engine.dispose()
    assert (mode, keys) == ("wal", 1)
    assert timeout is not None and int(timeout) >= 5000


def test_unsupported_urls_are_refused() -> None:
    with pytest.raises(StoreError, match="sqlite\\+aiosqlite"):
        create_engine("sqlite:///x.db")
    with pytest.raises(StoreError, match="postgresql\\+asyncpg"):
        create_engine("postgresql://u@h/db")
    with pytest.raises(StoreError, match="unsupported database 'mysql'"):
        create_engine("mysql+aiomysql://u:secret@h/db")
    with pytest.raises(StoreError) as caught:
        create_engine("not a url with secret")
    assert "secret" not in str(caught.value)


def test_store_url_comes_from_settings_env_or_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Store:
        url = "sqlite+aiosqlite:///data/hub.db"

    class Settings:
        store = Store()
        base_dir = tmp_path

    class Bare:
        base_dir = tmp_path

    monkeypatch.delenv("HOMEROOM_STORE_URL", raising=False)
    assert store_url(Settings()) == f"sqlite+aiosqlite:///{tmp_path / 'data' / 'hub.db'}"
    assert store_url(Bare()) == f"sqlite+aiosqlite:///{tmp_path / 'homeroom.db'}"
    monkeypatch.setenv("HOMEROOM_STORE_URL", "postgresql+asyncpg://hub:s3cret@db/homeroom")
    assert store_url(Settings()) == "postgresql+asyncpg://hub:s3cret@db/homeroom"
    assert redact_url(store_url(Settings())) == "postgresql+asyncpg://hub:***@db/homeroom"
    assert resolve_url("sqlite+aiosqlite:////abs/h.db", tmp_path) == "sqlite+aiosqlite:////abs/h.db"
    assert resolve_url("sqlite+aiosqlite://", tmp_path) == "sqlite+aiosqlite://"


def test_database_behind_message_without_config() -> None:
    message = str(DatabaseBehind("postgresql+asyncpg://u:pw@h/db", "0001", "0002"))
    assert "pw" not in message
    assert "at revision 0001" in message and "needs revision 0002" in message
    assert "`homeroom db upgrade --config FILE`" in message
