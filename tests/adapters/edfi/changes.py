"""Changing the Ed-Fi simulator's CSV folder from a test, and reading its Change Queries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from adapters.edfi.simulator import SimulatorConfig
from tests.csv_files import Row, csv_rows, rewrite_csv

API = "/data/v3/ed-fi"
VERSIONS = "/changeQueries/v1/availableChangeVersions"
PAGE = 500  # the simulator's largest page


@asynccontextmanager
async def signed_in(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``app`` holding a token."""
    defaults = SimulatorConfig()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://ods.test"
    ) as client:
        answer = await client.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=(defaults.key, defaults.secret)
        )
        client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        yield client


async def every(client: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of ``path`` (a collection, ``/deletes`` or ``/keyChanges``), page by page."""
    found: list[dict[str, Any]] = []
    while True:
        answer = await client.get(path, params={**params, "offset": len(found), "limit": PAGE})
        assert answer.status_code == 200, answer.text
        page = answer.json()
        found.extend(page)
        if len(page) < PAGE:
            return found


async def newest(client: httpx.AsyncClient) -> int:
    """The simulator's newest change version (DS 5 names)."""
    answer = await client.get(VERSIONS)
    assert answer.status_code == 200, answer.text
    return int(answer.json()["newestChangeVersion"])


def first_row(folder: Path, name: str) -> Row:
    """The first row of the CSV file ``name``."""
    return csv_rows(folder / name)[0]


def set_first(folder: Path, name: str, **values: str) -> Row:
    """Set ``values`` on the first row of ``name``; returns the row as it was."""
    before = first_row(folder, name)

    def change(rows: list[Row]) -> list[Row]:
        assert any(rows[0][key] != value for key, value in values.items()), "nothing would change"
        rows[0].update(values)
        return rows

    rewrite_csv(folder / name, change)
    return before


def drop_first(folder: Path, name: str) -> Row:
    """Remove the first row of ``name``; returns it."""
    gone = first_row(folder, name)
    rewrite_csv(folder / name, lambda rows: rows[1:])
    return gone


def put_back(folder: Path, name: str, row: Row) -> None:
    """Add ``row`` to ``name`` again, first."""
    rewrite_csv(folder / name, lambda rows: [row, *rows])


def unique_id(folder: Path, sourced_id: str) -> str:
    """The Ed-Fi unique id the simulator gives the person ``sourced_id`` (their identifier)."""
    (user,) = [row for row in csv_rows(folder / "users.csv") if row["sourcedId"] == sourced_id]
    assert user["identifier"], "the generated people all have an identifier"
    return user["identifier"]
