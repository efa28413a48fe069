"""The simulator over time: a changed CSV folder is re-read, changed rows are
stamped, deleted rows come back as ``tobedeleted``, and ``dateLastModified>``
delta reads return just those rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.oneroster_rest._filter import instant
from tests.csv_files import Row, rewrite_csv

from .conftest import simulator
from .test_simulator import GRADEBOOK, ROSTERING, signed_in

BIG = 100_000  # one page holds a whole collection of the test district


@pytest.fixture
def folder(district: Path, tmp_path: Path) -> Path:
    """A copy of the package's district that a test may change."""
    return Path(shutil.copytree(district, tmp_path / "district"))


def rewrite(path: Path, change: Callable[[list[Row]], list[Row]]) -> None:
    """Rewrite the CSV file at ``path`` through ``change`` (see :func:`rewrite_csv`)."""
    rewrite_csv(path, change)


async def every(client: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    answer = await client.get(path, params={"limit": BIG, **params})
    assert answer.status_code == 200, answer.text
    (objects,) = answer.json().values()
    assert int(answer.headers["X-Total-Count"]) == len(objects)
    return list(objects)


def latest(objects: list[dict[str, Any]]) -> str:
    """The greatest ``dateLastModified`` served: the watermark a delta reader keeps."""
    moments = [(instant(obj["dateLastModified"]), obj["dateLastModified"]) for obj in objects]
    return max((moment, text) for moment, text in moments if moment is not None)[1]


def since(watermark: str) -> dict[str, str]:
    return {"filter": f"dateLastModified>'{watermark}'"}


async def test_a_changed_score_is_the_only_row_of_the_next_delta_read(folder: Path) -> None:
    app, _ = simulator(folder, max_page_size=BIG)
    async with signed_in(app) as client:
        results = await every(client, f"{GRADEBOOK}/results")
        watermark = latest(results)
        assert await every(client, f"{GRADEBOOK}/results", **since(watermark)) == []
        target = results[5]
        new_score = "12" if target.get("score") != 12 else "13"

        def rescore(rows: list[Row]) -> list[Row]:
            for row in rows:
                if row["sourcedId"] == target["sourcedId"]:
                    row["score"] = new_score
            return rows

        rewrite(folder / "results.csv", rescore)
        changed = await every(client, f"{GRADEBOOK}/results", **since(watermark))
        again = await every(client, f"{GRADEBOOK}/results")
    assert [obj["sourcedId"] for obj in changed] == [target["sourcedId"]]
    (row,) = changed
    assert row["score"] == int(new_score) and row["status"] == "active"
    # Later than every date served before, although the generated files carry dates of their own.
    stamp = instant(row["dateLastModified"])
    assert stamp is not None and stamp > instant(watermark)  # type: ignore[operator]
    assert row["dateLastModified"].endswith("Z")
    # Every other row kept its date: the folder was re-read, not re-stamped wholesale.
    unchanged = {obj["sourcedId"]: obj for obj in results if obj["sourcedId"] != target["sourcedId"]}
    assert [obj for obj in again if obj["sourcedId"] != target["sourcedId"]] == list(unchanged.values())


async def test_a_deleted_row_comes_back_as_tobedeleted(folder: Path) -> None:
    app, _ = simulator(folder, max_page_size=BIG)
    async with signed_in(app) as client:
        results = await every(client, f"{GRADEBOOK}/results")
        watermark = latest(results)
        gone = results[0]["sourcedId"]
        rewrite(folder / "results.csv", lambda rows: [row for row in rows if row["sourcedId"] != gone])
        changed = await every(client, f"{GRADEBOOK}/results", **since(watermark))
        single = await client.get(f"{GRADEBOOK}/results/{gone}")
        whole = await every(client, f"{GRADEBOOK}/results")
        # Read from the new watermark, nothing is new: the deletion is reported once.
        after = await every(client, f"{GRADEBOOK}/results", **since(latest(changed)))
    assert [(obj["sourcedId"], obj["status"]) for obj in changed] == [(gone, "tobedeleted")]
    assert single.json()["result"]["status"] == "tobedeleted"
    assert len(whole) == len(results) and after == []


async def test_a_deleted_student_is_listed_under_students_as_tobedeleted(folder: Path) -> None:
    app, _ = simulator(folder, max_page_size=BIG)
    async with signed_in(app) as client:
        students = await every(client, f"{ROSTERING}/students")
        watermark = latest(students)
        gone = students[3]["sourcedId"]
        rewrite(folder / "users.csv", lambda rows: [row for row in rows if row["sourcedId"] != gone])
        changed = await every(client, f"{ROSTERING}/students", **since(watermark))
        users = await every(client, f"{ROSTERING}/users", **since(watermark))
    assert [(obj["sourcedId"], obj["status"]) for obj in changed] == [(gone, "tobedeleted")]
    assert [(obj["sourcedId"], obj["status"]) for obj in users] == [(gone, "tobedeleted")]


async def test_deleted_rows_are_dropped_after_keep_deleted(folder: Path) -> None:
    app, _ = simulator(folder, max_page_size=BIG, keep_deleted=0)
    async with signed_in(app) as client:
        results = await every(client, f"{GRADEBOOK}/results")
        gone = results[0]["sourcedId"]
        rewrite(folder / "results.csv", lambda rows: [row for row in rows if row["sourcedId"] != gone])
        first = {obj["sourcedId"]: obj["status"] for obj in await every(client, f"{GRADEBOOK}/results")}
        later = {obj["sourcedId"] for obj in await every(client, f"{GRADEBOOK}/results")}
    assert first[gone] == "tobedeleted"
    assert gone not in later and len(later) == len(results) - 1


async def test_a_row_put_back_is_active_again_and_stamped(folder: Path) -> None:
    app, _ = simulator(folder, max_page_size=BIG)
    path = folder / "results.csv"
    original = path.read_text(encoding="utf-8")
    async with signed_in(app) as client:
        results = await every(client, f"{GRADEBOOK}/results")
        gone = results[0]["sourcedId"]
        rewrite(path, lambda rows: [row for row in rows if row["sourcedId"] != gone])
        deleted = await every(client, f"{GRADEBOOK}/results", **since(latest(results)))
        rewrite(path, lambda rows: list(csv.DictReader(io.StringIO(original))))
        back = await every(client, f"{GRADEBOOK}/results", **since(latest(deleted)))
    assert [(obj["sourcedId"], obj["status"]) for obj in back] == [(gone, "active")]


async def test_delta_filters_compare_instants_not_text(folder: Path) -> None:
    app, _ = simulator(folder, max_page_size=BIG)
    async with signed_in(app) as client:
        orgs = await every(client, f"{ROSTERING}/orgs")
        moment = instant(latest(orgs))
        assert moment is not None
        # The same instant written with an offset and with fractions: as text
        # these sort differently from the served "...Z" values.
        earlier = (moment - dt.timedelta(seconds=1)).astimezone(dt.timezone(dt.timedelta(hours=2)))
        at = moment.strftime("%Y-%m-%dT%H:%M:%S.000+00:00")
        after_earlier = await every(client, f"{ROSTERING}/orgs", **since(earlier.isoformat()))
        after_at = await every(client, f"{ROSTERING}/orgs", **since(at))
        from_at = await every(client, f"{ROSTERING}/orgs", filter=f"dateLastModified>='{at}'")
        # The same predicate inside AND goes the unindexed way and must agree.
        both = await every(
            client, f"{ROSTERING}/orgs", filter=f"dateLastModified>='{at}' AND status='active'"
        )
    newest = [obj for obj in orgs if instant(obj["dateLastModified"]) == moment]
    assert after_at == []
    assert from_at == both == newest
    assert {obj["sourcedId"] for obj in after_earlier} >= {obj["sourcedId"] for obj in newest}


async def test_an_unchanged_folder_is_not_read_again(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app, _ = simulator(folder, max_page_size=BIG)
    from adapters.oneroster_rest import simulator as module

    loads: list[Path] = []
    real = module.load_district
    monkeypatch.setattr(
        module,
        "load_district",
        lambda path, *args, **kwargs: loads.append(path) or real(path, *args, **kwargs),
    )
    async with signed_in(app) as client:
        for _ in range(3):
            await every(client, f"{ROSTERING}/orgs")
        rewrite(folder / "orgs.csv", lambda rows: rows[:-1])
        await every(client, f"{ROSTERING}/orgs")
        await every(client, f"{ROSTERING}/orgs")
    assert loads == [folder.resolve()]
