"""Smoke test of ``python -m bench.dashboard_load --quick``: it starts the simulator
and the hub in processes of their own, loads the hub with teachers' dashboards,
prints its table, and stops both processes when it is done. Times are not checked."""

from __future__ import annotations

import re

import httpx
import pytest

from .runs import Run, run_bench

TIMEOUT = 420  # seconds; the quick run (three hubs) takes about two on a quiet machine
HEADER = ["hub", "phase", "dashboards", "p50", "ms", "p95", "ms", "max", "ms", "upstream", "per", "dash"]
PHASES = {"first dashboard": 1, "1 teacher": 1, "5 teachers": 5}  # --quick: 5 teachers, 1 round
MODES = ("mirror", "csv", "live")  # the hubs of this tree, one after another


@pytest.fixture(scope="module")
def quick_run() -> Run:
    """One ``--quick`` run, shared by the tests (it takes the better part of a minute)."""
    return run_bench("bench.dashboard_load", ["--quick"], TIMEOUT)


@pytest.mark.slow
def test_the_quick_run_prints_its_table_and_every_request_succeeds(quick_run: Run) -> None:
    quick_run.check_status()
    lines = quick_run.out.splitlines()
    headers = [line.split() for line in lines if line.split()[:2] == ["hub", "phase"]]
    assert len(headers) == 1 and headers[0][: len(HEADER)] == HEADER, quick_run.out
    rows = {}
    for line in lines:
        cells = re.split(r"\s{2,}", line)
        if cells[0] in MODES and len(cells) == 10:
            rows[cells[0], cells[1]] = cells
    assert set(rows) == {(mode, phase) for mode in MODES for phase in PHASES}, quick_run.out
    for (mode, phase), cells in rows.items():
        _, _, sent, p50, p95, high, upstream, per_dashboard, students, errors = cells
        assert int(sent) == PHASES[phase]
        assert float(p50) <= float(p95) <= float(high)
        if mode == "live":
            assert int(upstream) > 0 and float(per_dashboard) > 0, "the simulator counted no request"
        elif mode == "csv":
            assert int(upstream) == 0, "the CSV source asked the simulator"
        assert int(students) > 0, "a teacher's dashboard showed no student"
        assert errors == "0 errors"
    total = sum(PHASES.values()) * len(MODES)
    assert f"requests: {total} sent, {total} ok, 0 failed" in quick_run.out
    targets = quick_run.out.split("targets (issue #10):\n", 1)[1]
    assert re.search(
        r"^mirror / csv, 5 teachers: p95 \d+\.\d\d \(target <= 1\.50: (met|MISSED)\)$", targets, re.M
    )
    assert re.search(r"^live: at most \d+\.\d upstream requests per dashboard", targets, re.M)
    assert "errors: 0 (target 0: met)" in targets


@pytest.mark.slow
def test_the_quick_run_stops_the_processes_it_started(quick_run: Run) -> None:
    quick_run.check_status()
    pattern = r"^(?:simulator: |hub .* on )(http://127\.0\.0\.1:\d+)"
    urls = re.findall(pattern, quick_run.out, flags=re.MULTILINE)
    assert len(urls) == 1 + len(MODES), quick_run.out
    for url in urls:
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/healthz", timeout=5)
