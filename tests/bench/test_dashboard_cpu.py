"""Smoke test of ``python -m bench.dashboard_cpu``: the hub answers the teacher
dashboard from the mirror, the bare schema gives the same answer, and the
ratio is printed. Times are not checked."""

from __future__ import annotations

import re

import pytest

from .runs import run_bench


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["mirror", "csv"])
def test_the_small_run_prints_both_costs_and_the_ratio(mode: str) -> None:
    run = run_bench("bench.dashboard_cpu", ["--students", "100", "--rounds", "2", "--mode", mode], 300)
    run.check_status()
    out = run.out
    assert re.search(rf"^dashboard: [1-9]\d* students of one teacher, 2 rounds, source {mode}$", out, re.M)
    assert re.search(r"^bare strawberry \(baseline\): +\d+\.\d ms CPU per answer$", out, re.M)
    assert re.search(r"^homeroom hub +: +\d+\.\d ms CPU per answer$", out, re.M)
    assert re.search(r"^ratio hub/baseline: \d+\.\d\d \(target <= 2\.00\)$", out, re.M)
