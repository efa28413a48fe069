"""Engines for the store: SQLite (the zero set-up default) and PostgreSQL.

Both are used through SQLAlchemy's asyncio layer. A SQLite file is created
readable by its owner only (0600; SQLite gives its -wal and -shm files the
same mode), as it holds who read which student's record. SQLite runs in WAL
mode with a busy timeout, so readers never block the single writer and a second process
(``homeroom audit verify`` beside ``serve``) waits instead of failing. Writers
that must be serialised (the audit chain) open their transaction with
``BEGIN IMMEDIATE``: the write lock is taken before anything is read, so two
writers cannot both read the same chain head.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

__all__ = [
    "DEFAULT_URL",
    "STORE_URL_ENV",
    "StoreError",
    "create_engine",
    "is_postgres",
    "is_sqlite",
    "redact_url",
    "resolve_url",
    "sqlite_path",
    "store_url",
    "write_transaction",
    "writer_connection",
]

DEFAULT_URL = "sqlite+aiosqlite:///homeroom.db"
STORE_URL_ENV = "HOMEROOM_STORE_URL"

# Execution option read by the SQLite ``begin`` hook: DEFERRED (default) or IMMEDIATE.
_BEGIN_OPTION = "homeroom_sqlite_begin"
_BEGIN_MODES = frozenset({"DEFERRED", "IMMEDIATE", "EXCLUSIVE"})
SQLITE_BUSY_TIMEOUT_MS = 10_000


class StoreError(Exception):
    """The store cannot be used as configured; the message says why and what to do."""


def _parse(url: str | URL) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        # The text may hold a password: do not echo it.
        raise StoreError(
            "the store URL is not a database URL, e.g. sqlite+aiosqlite:///homeroom.db"
        ) from None


def redact_url(url: str | URL) -> str:
    """``url`` with any password replaced by ``***`` (safe for messages and logs)."""
    try:
        return _parse(url).render_as_string(hide_password=True)
    except StoreError:
        return "<invalid URL>"


def sqlite_path(url: str | URL) -> Path | None:
    """The file of a SQLite URL, or ``None`` (in-memory, URI form, or not SQLite)."""
    parsed = _parse(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        return None
    return Path(database)


def resolve_url(url: str | URL, base_dir: Path) -> str:
    """``url`` with a relative SQLite path made absolute against ``base_dir``
    (the folder of homeroom.toml), so the database does not move with the
    working directory."""
    parsed = _parse(url)
    path = sqlite_path(parsed)
    if path is not None and not path.is_absolute():
        parsed = parsed.set(database=str((base_dir / path).resolve()))
    return parsed.render_as_string(hide_password=False)


def store_url(settings: Any) -> str:
    """The store URL for ``settings``: ``$HOMEROOM_STORE_URL`` (keeps a password
    out of the file), else ``[store] url``, else the SQLite default; relative
    SQLite paths are taken from the config file's folder."""
    url = os.environ.get(STORE_URL_ENV) or getattr(getattr(settings, "store", None), "url", None)
    base_dir = Path(getattr(settings, "base_dir", Path(".")))
    return resolve_url(url or DEFAULT_URL, base_dir)


def is_sqlite(engine: AsyncEngine) -> bool:
    """Whether ``engine`` talks to SQLite."""
    return engine.dialect.name == "sqlite"


def is_postgres(engine: AsyncEngine) -> bool:
    """Whether ``engine`` talks to PostgreSQL."""
    return engine.dialect.name == "postgresql"


def create_engine(url: str | URL, **kwargs: Any) -> AsyncEngine:
    """An async engine for ``url``: ``sqlite+aiosqlite://`` or ``postgresql+asyncpg://``.

    Bound parameters are never put into exception messages (``hide_parameters``):
    audit rows carry subjects and student ids, which must stay in the database.
    """
    parsed = _parse(url)
    backend = parsed.get_backend_name()
    kwargs.setdefault("hide_parameters", True)
    if backend == "sqlite":
        if parsed.get_driver_name() != "aiosqlite":
            raise StoreError(f"use the async driver: sqlite+aiosqlite://... (got {redact_url(parsed)})")
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        path = sqlite_path(parsed)
        if path is None:
            kwargs.pop("pool_timeout", None)  # one shared in-memory connection: no pool to wait for
        engine = create_async_engine(parsed, connect_args=connect_args, **kwargs)
        _configure_sqlite(engine, in_memory=path is None)
        if path is not None:
            _create_private_on_connect(engine, path)
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() != "asyncpg":
            raise StoreError(f"use the async driver: postgresql+asyncpg://... (got {redact_url(parsed)})")
        # A pooled connection may have died with a server restart; checking
        # costs one round trip and saves failing (closed) an audited request.
        kwargs.setdefault("pool_pre_ping", True)
        return create_async_engine(parsed, **kwargs)
    raise StoreError(
        f"unsupported database {backend!r} in {redact_url(parsed)}: "
        "use sqlite+aiosqlite:///FILE or postgresql+asyncpg://USER@HOST/DB"
    )


def _create_private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 unless it exists (its mode is then
    left alone). A missing folder is left for SQLite to report."""
    with contextlib.suppress(FileExistsError, FileNotFoundError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _create_private_on_connect(engine: AsyncEngine, path: Path) -> None:
    # Before the driver opens the file, so SQLite never creates it with the
    # process's umask (0644 usually: readable by every local user).
    @event.listens_for(engine.sync_engine, "do_connect")
    def _before_connect(_dialect: Any, _record: Any, _cargs: Any, _cparams: Any) -> None:
        _create_private_file(path)


def _configure_sqlite(engine: AsyncEngine, *, in_memory: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (below): the driver's legacy mode
        # starts no transaction for SELECT or DDL, which breaks both the
        # read-then-append of the chain and transactional migrations.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            # An audit event is a legal record that must survive a power cut
            # once the response has gone: sync the WAL on every commit.
            cursor.execute("PRAGMA synchronous=FULL")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        if mode not in _BEGIN_MODES:
            raise ValueError(f"unknown SQLite BEGIN mode {mode!r}")
        conn.exec_driver_sql(f"BEGIN {mode}")


async def writer_connection(engine: AsyncEngine) -> AsyncConnection:
    """A connection whose transactions take the write lock at BEGIN on SQLite
    (``BEGIN IMMEDIATE``); an ordinary connection elsewhere. The caller closes it."""
    conn = await engine.connect()
    if is_sqlite(engine):
        try:
            await conn.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
        except BaseException:
            await conn.close()
            raise
    return conn


@asynccontextmanager
async def write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A transaction on a :func:`writer_connection`: commits when the block
    ends, rolls back on an exception."""
    conn = await writer_connection(engine)
    try:
        async with conn.begin():
            yield conn
    finally:
        await conn.close()
