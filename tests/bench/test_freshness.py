"""``python -m bench.freshness``: a smoke run of the whole benchmark (the simulator and
the hub in processes of their own; times are not checked), and its parts over
small folders and a stand-in hub on loopback HTTP."""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bench.dashboard_load import Simulator, cached_district, write_hub_config
from bench.freshness import (
    Arrival,
    BenchFailed,
    Watched,
    arrival_line,
    time_change,
    verdict_lines,
    write_score,
)
from hub.testing.server import serving

from .runs import Run, run_bench

TIMEOUT = 300  # seconds; the smoke run takes about half a minute on a quiet machine
STUDENTS, INTERVAL = 100, 2
HEADER = "sourcedId,status,lineItemSourcedId,studentSourcedId,score\n"
ROWS = "res-1,active,li-1,stu-1,85\nres-2,active,li-1,stu-2,70\n"


# --- the smoke run ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cached_results() -> Path:
    """The cached district's results.csv the run copies (generated now if missing)."""
    return cached_district(STUDENTS, dt.date.today()) / "results.csv"


@pytest.fixture(scope="module")
def smoke_run(cached_results: Path) -> Iterator[tuple[Run, bytes]]:
    """One run with one change, and the cached results.csv as it was before it."""
    before = cached_results.read_bytes()
    args = ["--students", str(STUDENTS), "--interval", str(INTERVAL), "--changes", "1"]
    yield run_bench("bench.freshness", args, TIMEOUT), before


def _line(out: str, pattern: str) -> re.Match[str]:
    found = re.search(pattern, out, flags=re.MULTILINE)
    assert found is not None, f"no line matching {pattern!r} in:\n{out}"
    return found


@pytest.mark.slow
def test_the_run_times_a_change_and_prints_its_lag_against_the_target(
    smoke_run: tuple[Run, bytes],
) -> None:
    run, _ = smoke_run
    assert run.status == 0, f"{run.out[-2000:]}\n{run.err[-2000:]}"
    _line(run.out, rf"^hub \(mirror, gradebook every {INTERVAL} s\) on http://127\.0\.0\.1:\d+: /healthz 200")
    watched = _line(
        run.out, r"^watching: a score on the dashboard of teacher \d+ of \d+ \(served as (\S+)\)$"
    )
    idle = _line(
        run.out, rf"^idle: \d+ upstream requests in {2 * INTERVAL} s with nothing changed \(\d+\.\d "
    )
    assert idle
    change = _line(
        run.out,
        r"^change 1/1: score (\S+) -> (\S+): served after \d+\.\d\d s "
        r"\(\d+ polls, (\d+) upstream requests while waiting\)$",
    )
    assert change[1] == watched[1], "the change did not start from the score served"
    assert float(change[2]) != float(change[1])
    assert int(change[3]) > 0, "the change arrived without the simulator being asked"
    _line(
        run.out,
        rf"^lag: max \d+\.\d\d s, median \d+\.\d\d s over 1 of 1 changes "
        rf"\(target <= {INTERVAL + 5} s, the interval plus 5 s: (met|MISSED)\)$",
    )
    _line(run.out, r"^upstream: \d+ requests during 1 waits \(\d+\.\d per change\)$")


@pytest.mark.slow
def test_the_run_leaves_the_cached_district_as_it_was(
    smoke_run: tuple[Run, bytes], cached_results: Path
) -> None:
    run, before = smoke_run
    assert run.status == 0, f"{run.out[-2000:]}\n{run.err[-2000:]}"
    assert cached_results.read_bytes() == before, "the run changed the cached district, not a copy"


@pytest.mark.slow
def test_the_run_stops_the_processes_it_started(smoke_run: tuple[Run, bytes]) -> None:
    run, _ = smoke_run
    urls = re.findall(r"^(?:simulator: |hub .* on )(http://127\.0\.0\.1:\d+)", run.out, flags=re.MULTILINE)
    assert len(urls) == 2, run.out
    for url in urls:
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/healthz", timeout=5)


# --- the folder -------------------------------------------------------------------------------


def _folder(tmp_path: Path) -> Path:
    (tmp_path / "results.csv").write_text(HEADER + ROWS, encoding="utf-8")
    return tmp_path


def test_write_score_changes_that_one_score_and_moves_the_time_on(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    path = folder / "results.csv"
    os.utime(path, ns=(4_000_000_000_000_000_000, 4_000_000_000_000_000_000))  # a time past the clock
    write_score(folder, "res-2", 69.5)
    assert (
        path.read_text(encoding="utf-8")
        == HEADER + "res-1,active,li-1,stu-1,85\nres-2,active,li-1,stu-2,69.5\n"
    )
    assert path.stat().st_mtime_ns >= 4_000_000_001_000_000_000
    assert sorted(p.name for p in folder.iterdir()) == ["results.csv"], "the partial file was left"


def test_write_score_refuses_an_id_not_in_the_file(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    with pytest.raises(BenchFailed, match="0 rows"):
        write_score(folder, "res-9", 1)
    assert (folder / "results.csv").read_text(encoding="utf-8") == HEADER + ROWS


# --- one change, against a stand-in hub -------------------------------------------------------


def _stand_in(folder: Path, follow: bool) -> Starlette:
    """A hub that serves res-1's score as the file has it now (``follow``) or as it was,
    and a simulator /healthz whose count moves by one per look."""
    initial = {"score": 85.0}
    looks = {"count": 0}

    async def graphql(request: Request) -> JSONResponse:
        body = await request.json()
        assert body["variables"] == {"id": "hub-1"}
        score = initial["score"]
        if follow:
            for line in (folder / "results.csv").read_text(encoding="utf-8").splitlines():
                if line.startswith("res-1,"):
                    score = float(line.rsplit(",", 1)[1])
        return JSONResponse({"data": {"node": {"score": score}}})

    async def healthz(request: Request) -> JSONResponse:
        looks["count"] += 1
        return JSONResponse({"status": "ok", "dataRequests": looks["count"]})

    return Starlette(routes=[Route("/graphql", graphql, methods=["POST"]), Route("/healthz", healthz)])


def _time_change(tmp_path: Path, follow: bool, timeout: float) -> Arrival:
    folder = _folder(tmp_path)
    watched = Watched(hub_id="hub-1", vendor_id="res-1", token="token", score=85.0)
    with serving(_stand_in(folder, follow)) as base, httpx.Client(timeout=5) as client:
        simulator = Simulator(sources_toml="", table={"base_url": base, "name": "sis"}, environment={})
        return time_change(client, f"{base}/graphql", watched, 85.0, simulator, folder, timeout)


def test_a_change_served_is_timed(tmp_path: Path) -> None:
    arrival = _time_change(tmp_path, follow=True, timeout=10)
    assert (arrival.before, arrival.after) == (85.0, 84.0)
    assert arrival.lag is not None and arrival.lag < 10 and arrival.polls == 1
    assert arrival.upstream == 1  # the stand-in's count moved once between the two looks
    assert re.fullmatch(
        r"change 1/3: score 85 -> 84: served after \d\.\d\d s \(1 polls, 1 upstream requests while waiting\)",
        arrival_line(1, 3, arrival, 10),
    )


def test_a_change_never_served_is_reported_after_the_timeout(tmp_path: Path) -> None:
    arrival = _time_change(tmp_path, follow=False, timeout=0.5)
    assert arrival.lag is None and arrival.polls >= 2
    assert arrival.last_answer == "85"
    line = arrival_line(2, 3, arrival, 0.5)
    assert line.startswith("change 2/3: score 85 -> 84: NOT served within 0.5 s (")
    assert line.endswith("; the hub served 85)")
    assert verdict_lines([arrival], 3, 2)[0] == "lag: no change arrived (target <= 7 s: MISSED)"


# --- the verdict and the hub's configuration --------------------------------------------------


def _arrival(lag: float | None) -> Arrival:
    return Arrival(before=85, after=84, lag=lag, upstream=4, polls=10, last_answer="84")


def test_the_verdict_holds_the_largest_lag_against_the_interval_plus_5_s() -> None:
    met = verdict_lines([_arrival(1.0), _arrival(6.9)], 2, 2)
    assert met == [
        "lag: max 6.90 s, median 3.95 s over 2 of 2 changes (target <= 7 s, the interval plus 5 s: met)",
        "upstream: 8 requests during 2 waits (4.0 per change)",
    ]
    assert verdict_lines([_arrival(1.0), _arrival(7.1)], 2, 2)[0].endswith(": MISSED)")
    # A change that never arrived misses the target, whatever the others' lags.
    assert verdict_lines([_arrival(1.0), _arrival(None)], 3, 2)[0].endswith(
        "over 1 of 3 changes (target <= 7 s, the interval plus 5 s: MISSED)"
    )


def test_the_hub_mirrors_the_source_at_the_interval(tmp_path: Path) -> None:
    table = {"name": "sis", "kind": "oneroster-rest", "base_url": "http://127.0.0.1:1"}
    text = '[[sources]]\nname = "sis"\nkind = "oneroster-rest"\nbase_url = "http://127.0.0.1:1"\n'
    simulator = Simulator(sources_toml=text, table=table, environment={})
    config = write_hub_config(tmp_path, 8080, simulator, "mirror", extra={"mirror_gradebook_seconds": 2.5})
    (source,) = tomllib.loads(config.read_text(encoding="utf-8"))["sources"]
    assert source == {
        "name": "sis",
        "kind": "oneroster-rest",
        "base_url": "http://127.0.0.1:1",
        "mirror_gradebook_seconds": 2.5,
        "mode": "mirror",
    }
