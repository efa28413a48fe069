"""The SQLite store (who read which student's record) is created readable by
its owner only, whatever the umask (issue #9, finding 6: it was 0644)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from hub.store import create_engine, upgrade

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask most servers run with, under which files are world-readable."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("usual_umask")
async def test_upgrade_creates_the_database_0600(tmp_path: Path) -> None:
    path = tmp_path / "homeroom.db"
    await upgrade(f"sqlite+aiosqlite:///{path}")
    assert _mode(path) == 0o600


@pytest.mark.usefixtures("usual_umask")
async def test_the_wal_and_shm_files_are_0600_too(tmp_path: Path) -> None:
    path = tmp_path / "homeroom.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x TEXT)"))
            await conn.execute(text("INSERT INTO t VALUES ('a')"))
        async with engine.connect() as conn:  # the WAL and its index exist while a connection is open
            await conn.execute(text("SELECT x FROM t"))
            files = {p.name: _mode(p) for p in tmp_path.iterdir()}
    finally:
        await engine.dispose()
    assert files == {"homeroom.db": 0o600, "homeroom.db-wal": 0o600, "homeroom.db-shm": 0o600}


@pytest.mark.usefixtures("usual_umask")
async def test_an_existing_database_is_used_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "homeroom.db"
    await upgrade(f"sqlite+aiosqlite:///{path}")
    os.chmod(path, 0o640)  # an administrator's own choice (a backup group)
    await upgrade(f"sqlite+aiosqlite:///{path}")
    assert _mode(path) == 0o640
