"""Smoke test of ``python -m bench.dashboard_cpu``: the hub answers the teacher
dashboard from the mirror, the bare schema gives the same answer, and the
ratio is printed. Times are not checked."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["mirror", "csv"])
def test_the_small_run_prints_both_costs_and_the_ratio(mode: str) -> None:
    command = [
        sys.executable,
        "-m",
        "bench.dashboard_cpu",
        "--students",
        "100",
        "--rounds",
        "2",
        "--mode",
        mode,
    ]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(
        rf"^dashboard: [1-9]\d* students of one teacher, 2 rounds, source {mode}$", run.stdout, re.M
    )
    assert re.search(r"^bare strawberry \(baseline\): +\d+\.\d ms CPU per answer$", run.stdout, re.M)
    assert re.search(r"^homeroom hub +: +\d+\.\d ms CPU per answer$", run.stdout, re.M)
    assert re.search(r"^ratio hub/baseline: \d+\.\d\d \(target <= 2\.00\)$", run.stdout, re.M)
