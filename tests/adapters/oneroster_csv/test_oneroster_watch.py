"""The CSV source re-reads its set when the files change: a score changed in
``results.csv`` reaches a GraphQL answer without a restart, a broken rewrite
keeps the last good set served, and ``watch = false`` leaves the set as loaded."""

from __future__ import annotations

import asyncio
import shutil
import zipfile
from pathlib import Path

import pytest

from adapters.oneroster_csv import OneRosterCsvAdapter, OneRosterCsvConfig
from hub.sdk import Entity, FetchRequest
from tests.mirror.folder import change_first_score
from tests.support import make_district, running_hub

WAIT = 20.0


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_district(tmp_path_factory.mktemp("csv-watch"), 50)


@pytest.fixture
def folder(district: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(district, tmp_path / "district"))


def _adapter(path: Path, **keys: object) -> OneRosterCsvAdapter:
    return OneRosterCsvAdapter(OneRosterCsvConfig(name="sis", kind="oneroster-csv", path=path, **keys))


async def _score(adapter: OneRosterCsvAdapter, vendor_id: str) -> float | None:
    request = FetchRequest(entity=Entity.SCORE, fields=frozenset({"score"}), ids=(vendor_id,))
    records = (await adapter.fetch(request)).records
    return getattr(records[0], "score", None) if records else None


def _zipped(folder: Path, archive: Path) -> Path:
    """``folder``'s CSV files as the zip ``archive`` (written beside and moved in, as an upload lands)."""
    partial = archive.with_suffix(".part")
    with zipfile.ZipFile(partial, "w") as out:
        for path in sorted(folder.glob("*.csv")):
            out.write(path, path.name)
    partial.replace(archive)
    return archive


async def _until(adapter: OneRosterCsvAdapter, vendor_id: str, score: float) -> None:
    async with asyncio.timeout(WAIT):
        while await _score(adapter, vendor_id) != score:
            await asyncio.sleep(0.05)


async def test_a_changed_score_is_served_without_a_restart(folder: Path) -> None:
    adapter = _adapter(folder)
    await adapter.open()
    try:
        changed = change_first_score(folder, "3.5")
        await _until(adapter, changed, 3.5)
        assert adapter.last_report is not None and adapter.last_report.counts["Score"] > 0
    finally:
        await adapter.aclose()


async def test_a_broken_export_keeps_the_last_good_set_until_a_good_one(folder: Path, tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    adapter = _adapter(_zipped(folder, archive))
    await adapter.open()
    try:
        changed = change_first_score(folder, "4.5")
        before = await _score(adapter, changed)
        archive.write_bytes(b"PK\x03\x04 cut short")  # an upload that stopped half way
        await asyncio.sleep(2.5)  # past the debounce: the re-read was tried and refused
        assert await _score(adapter, changed) == before != 4.5
        _zipped(folder, archive)
        await _until(adapter, changed, 4.5)
    finally:
        await adapter.aclose()


async def test_a_replaced_zip_is_read_again(folder: Path, tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    adapter = _adapter(_zipped(folder, archive))
    await adapter.open()
    try:
        changed = change_first_score(folder, "2.5")
        _zipped(folder, archive)
        await _until(adapter, changed, 2.5)
    finally:
        await adapter.aclose()


async def test_watch_false_keeps_the_set_as_loaded(folder: Path) -> None:
    adapter = _adapter(folder, watch=False)
    await adapter.open()
    try:
        changed = change_first_score(folder, "1.5")
        before = await _score(adapter, changed)
        await asyncio.sleep(2.0)
        assert await _score(adapter, changed) == before != 1.5
    finally:
        await adapter.aclose()


async def test_a_dashboard_answer_follows_the_files(folder: Path) -> None:
    async with running_hub(folder) as running:
        query = "{ students(first: 1) { edges { node { id } } } }"
        assert (await running.query(query))["_status"] == 200
        adapter = running.hub.registry.adapters["sis"]
        assert isinstance(adapter, OneRosterCsvAdapter)
        changed = change_first_score(folder, "0.5")
        await _until(adapter, changed, 0.5)
