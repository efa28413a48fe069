"""Running a benchmark as a user does (``python -m bench.NAME ...``) from a test:
its exit status and output, and never a process left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Run:
    """What one run of a benchmark left: its exit status and output."""

    status: int
    out: str
    err: str

    def check_status(self) -> None:
        assert self.status == 0, f"{self.out[-2000:]}\n{self.err[-2000:]}"


def run_bench(module: str, args: Sequence[str], timeout: float) -> Run:
    """``python -m module args`` from the repository root; fails the test past ``timeout`` s."""
    process = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        out, err = _stop(process)
        pytest.fail(f"the run took more than {timeout} s:\n{out[-2000:]}\n{err[-2000:]}")
    except BaseException:  # Ctrl+C of the test run: the benchmark must not outlive it
        _stop(process)
        raise
    return Run(process.returncode, out, err)


def _stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    # SIGTERM lets the benchmark stop the simulator and the hub it started.
    os.killpg(process.pid, signal.SIGTERM)
    try:
        return process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        return process.communicate()
