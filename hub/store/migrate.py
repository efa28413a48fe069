"""Schema migrations: apply them, and tell whether a database is current.

The Alembic script directory ships inside the package (``migrations/``), so an
installed hub can migrate its database without an ``alembic.ini``. ``serve``
calls :func:`ensure_up_to_date` and refuses to start on a database that is
behind, naming the command that fixes it.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.store.engine import StoreError, create_engine, redact_url, sqlite_path

__all__ = [
    "MIGRATIONS_DIR",
    "VERSION_TABLE",
    "DatabaseBehind",
    "UnknownRevision",
    "alembic_config",
    "current_revision",
    "ensure_up_to_date",
    "head_revision",
    "is_up_to_date",
    "upgrade",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Not Alembic's default name: the store may share a PostgreSQL database with
# other applications that keep their own ``alembic_version``.
VERSION_TABLE = "homeroom_schema_version"


class DatabaseBehind(StoreError):
    """The database's schema is older than this version of the hub needs."""

    def __init__(self, url: str, current: str | None, head: str, config: Path | str | None = None) -> None:
        self.url = redact_url(url)
        self.current = current
        self.head = head
        where = f"--config {config}" if config is not None else "--config FILE"
        state = f"at revision {current}" if current else "empty (no tables yet)"
        super().__init__(
            f"the database {self.url} is {state}; this version of homeroom needs revision {head}: "
            f"run `homeroom db upgrade {where}`"
        )


class UnknownRevision(StoreError):
    """The database was migrated by a version of the hub that this one does not know."""

    def __init__(self, url: str, current: str, head: str) -> None:
        self.url = redact_url(url)
        self.current = current
        self.head = head
        super().__init__(
            f"the database {self.url} is at revision {current}, which this version of homeroom "
            f"does not know (it needs {head}): was it migrated by a newer homeroom?"
        )


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration for the shipped migrations (no ini file needed).

    With ``url``, Alembic's own commands (``command.revision(cfg, autogenerate=True)``
    for a developer adding a migration) open that database themselves.
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # ConfigParser interpolation would read "%" in a password as a reference.
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    """The newest revision shipped with this version of the hub."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships a revision
        raise StoreError("no migrations are shipped with this installation")
    return head


async def _with_engine(url: str | URL | AsyncEngine) -> tuple[AsyncEngine, bool]:
    if isinstance(url, AsyncEngine):
        return url, False
    return create_engine(url), True


async def upgrade(url: str | URL | AsyncEngine, revision: str = "head") -> tuple[str | None, str | None]:
    """Migrate the database to ``revision`` (default: the newest); returns
    (revision before, revision after). An engine passed in is left open."""
    engine, owned = await _with_engine(url)
    try:
        before = await current_revision(engine)

        def run(connection: Connection) -> None:
            cfg = alembic_config()
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)

        async with engine.begin() as conn:
            await conn.run_sync(run)
        return before, await current_revision(engine)
    finally:
        if owned:
            await engine.dispose()


async def current_revision(url: str | URL | AsyncEngine) -> str | None:
    """The revision the database is at; ``None`` when it has never been migrated.

    A SQLite file that does not exist is reported as ``None`` without creating it.
    """
    if not isinstance(url, AsyncEngine):
        path = sqlite_path(url)
        if path is not None and not path.exists():
            return None
    engine, owned = await _with_engine(url)
    try:

        def read(connection: Connection) -> str | None:
            if not inspect(connection).has_table(VERSION_TABLE):
                return None
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            return context.get_current_revision()

        async with engine.connect() as conn:
            return await conn.run_sync(read)
    finally:
        if owned:
            await engine.dispose()


async def is_up_to_date(url: str | URL | AsyncEngine) -> bool:
    """Whether the database is at the newest shipped revision."""
    return await current_revision(url) == head_revision()


async def ensure_up_to_date(url: str | URL | AsyncEngine, config: Path | str | None = None) -> str:
    """Return the current revision, or raise :class:`DatabaseBehind` (its
    message names ``homeroom db upgrade --config CONFIG``) or
    :class:`UnknownRevision`."""
    head = head_revision()
    current = await current_revision(url)
    if current == head:
        return head
    shown = str(url.url) if isinstance(url, AsyncEngine) else str(url)
    known = {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if current is not None and current not in known:
        raise UnknownRevision(shown, current, head)
    raise DatabaseBehind(shown, current, head, config)
