"""The simulator's Change Queries: a changed CSV folder is read again, changed
items get a new change version and ``_lastModifiedDate``, removed rows are
listed by ``/deletes`` with their natural key, and version ranges select."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from adapters.edfi._sim_data import NAMESPACE

from .changes import API, VERSIONS, drop_first, every, newest, put_back, set_first, signed_in, unique_id
from .conftest import simulator

SCORES = f"{API}/studentGradebookEntries"


@pytest.fixture
def folder(district: Path, tmp_path: Path) -> Path:
    """A copy of the package's district that a test may change."""
    return Path(shutil.copytree(district, tmp_path / "district"))


async def test_every_item_has_a_version_and_the_ods_version_names_them(folder: Path) -> None:
    app, state = simulator(folder)
    items = sum(len(found) for found in state.district.collections.values())
    async with signed_in(app) as client:
        assert (await client.get(VERSIONS)).json() == {"oldestChangeVersion": 0, "newestChangeVersion": items}
        scores = await every(client, SCORES)
        ranged = await every(client, SCORES, minChangeVersion=0, maxChangeVersion=items)
        assert sorted(item["id"] for item in ranged) == sorted(item["id"] for item in scores)
        # The version is kept beside the item, never served in it.
        assert not any("changeVersion" in item or "ChangeVersion" in item for item in scores)
    app4, _ = simulator(folder, data_standard="4")
    async with signed_in(app4) as client:
        # ODS/API 5.x (Data Standard 4) writes the names in Pascal case.
        assert (await client.get(VERSIONS)).json() == {"OldestChangeVersion": 0, "NewestChangeVersion": items}


async def test_a_changed_score_alone_gets_the_next_version(folder: Path) -> None:
    app, _ = simulator(folder)
    async with signed_in(app) as client:
        before = {item["id"]: item for item in await every(client, SCORES)}
        version = await newest(client)
        assert await every(client, SCORES, minChangeVersion=version + 1) == []
        set_first(folder, "results.csv", score="12.5")
        assert await newest(client) == version + 1
        changed = await every(client, SCORES, minChangeVersion=version + 1)
        assert [item["pointsEarned"] for item in changed] == [12.5]
        (item,) = changed
        old = before[item["id"]]  # the same id: the item was updated, not replaced
        assert old["pointsEarned"] != 12.5
        assert item["_lastModifiedDate"] > old["_lastModifiedDate"] and item["_etag"] != old["_etag"]
        assert {key: value for key, value in item.items() if key not in ("pointsEarned", "_etag")} == {
            key: value for key, value in old.items() if key not in ("pointsEarned", "_etag")
        } | {"_lastModifiedDate": item["_lastModifiedDate"]}
        # Ranges are inclusive at both ends and select by version.
        assert (
            await every(client, SCORES, minChangeVersion=version + 1, maxChangeVersion=version + 1) == changed
        )
        assert await every(client, SCORES, minChangeVersion=version + 2) == []
        older = await every(client, SCORES, maxChangeVersion=version)
        assert len(older) == len(before) - 1 and item["id"] not in {each["id"] for each in older}
        # Every other item is served as it was, under the id it had.
        after = {each["id"]: each for each in await every(client, SCORES)}
        assert after.keys() == before.keys()
        assert [key for key in after if after[key] != before[key]] == [item["id"]]
        assert (await client.get(f"{SCORES}/{item['id']}")).json() == item


async def test_a_removed_row_is_listed_in_deletes_with_its_natural_key(folder: Path) -> None:
    app, _ = simulator(folder)
    async with signed_in(app) as client:
        before = await every(client, SCORES)
        version = await newest(client)
        gone = drop_first(folder, "results.csv")
        deletes = await every(client, f"{SCORES}/deletes")
        key = {
            "gradebookEntryIdentifier": gone["lineItemSourcedId"],
            "namespace": NAMESPACE,
            "studentUniqueId": unique_id(folder, gone["studentSourcedId"]),
        }
        (old,) = [
            item
            for item in before
            if item["gradebookEntryReference"]["gradebookEntryIdentifier"] == key["gradebookEntryIdentifier"]
            and item["studentReference"]["studentUniqueId"] == key["studentUniqueId"]
        ]
        assert deletes == [{"id": old["id"], "changeVersion": version + 1, "keyValues": key}]
        assert await newest(client) == version + 1
        assert (await client.get(f"{SCORES}/{old['id']}")).status_code == 404
        assert old["id"] not in {item["id"] for item in await every(client, SCORES)}
        assert await every(client, SCORES, minChangeVersion=version + 1) == []  # gone, not changed
        # /deletes honours the range; no key ever changes in the simulator.
        assert await every(client, f"{SCORES}/deletes", minChangeVersion=version + 1) == deletes
        assert await every(client, f"{SCORES}/deletes", minChangeVersion=version + 2) == []
        assert await every(client, f"{SCORES}/deletes", maxChangeVersion=version) == []
        assert await every(client, f"{SCORES}/keyChanges") == []
        assert await every(client, f"{API}/students/deletes") == []
        # Put back, the item is live again under its id, with a new version, and no longer listed.
        put_back(folder, "results.csv", gone)
        (back,) = await every(client, SCORES, minChangeVersion=version + 2)
        assert back["id"] == old["id"] and back["pointsEarned"] == old["pointsEarned"]
        assert await every(client, f"{SCORES}/deletes") == []
        assert await newest(client) == version + 2


async def test_a_purge_moves_the_oldest_version_past_the_deletes_it_forgot(folder: Path) -> None:
    app, state = simulator(folder)
    async with signed_in(app) as client:
        version = await newest(client)
        drop_first(folder, "results.csv")
        assert len(await every(client, f"{SCORES}/deletes")) == 1
        assert state.changes is not None
        state.changes.purge(version + 2)
        assert (await client.get(VERSIONS)).json() == {
            "oldestChangeVersion": version + 2,
            "newestChangeVersion": version + 1,
        }
        assert await every(client, f"{SCORES}/deletes") == []


async def test_bad_ranges_are_refused_and_the_feature_can_be_off(folder: Path) -> None:
    app, _ = simulator(folder)
    async with signed_in(app) as client:
        for bad in ("-1", "one", "1.5"):
            answer = await client.get(SCORES, params={"minChangeVersion": bad})
            assert answer.status_code == 400, bad
            assert (
                await client.get(f"{SCORES}/deletes", params={"maxChangeVersion": bad})
            ).status_code == 400
        assert (await client.get(f"{SCORES}/deletes", params={"schoolId": "1"})).status_code == 400
        assert (await client.get(f"{API}/widgets/deletes")).status_code == 404
    off, _ = simulator(folder, change_queries=False)
    async with signed_in(off) as client:
        assert (await client.get(VERSIONS)).status_code == 404
        assert (await client.get(f"{SCORES}/deletes")).status_code == 404
        assert (await client.get(f"{SCORES}/keyChanges")).status_code == 404
        assert (await client.get(SCORES, params={"minChangeVersion": "1"})).status_code == 400
        assert (await client.get(SCORES, params={"limit": 1})).status_code == 200


async def test_the_files_are_read_again_only_when_one_changed(folder: Path) -> None:
    app, state = simulator(folder)
    served = state.district
    async with signed_in(app) as client:
        version = await newest(client)
        await every(client, SCORES)
        assert state.district is served and await newest(client) == version
        set_first(folder, "users.csv", givenName="Zelda")
        assert await newest(client) > version
        assert state.district is not served
