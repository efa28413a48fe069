"""Tests of the ``homeroom`` command line.

The helpers below run ``homeroom`` as a real process on a loopback port, wait
(bounded) until it answers ``/healthz``, and always stop it again, whatever
the test does in between.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.testing.server import free_port

HOMEROOM = Path(sys.executable).parent / "homeroom"
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0

needs_console_script = pytest.mark.skipif(
    not HOMEROOM.exists(), reason=f"{HOMEROOM} is not installed (pip install -e .)"
)


@dataclass
class Process:
    """A running ``homeroom`` process and what it wrote so far."""

    proc: subprocess.Popen[bytes]
    base_url: str
    port: int
    stdout_path: Path
    stderr_path: Path
    ready_after: float

    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def post(self, query: str, token: str | None = None, **variables: Any) -> httpx.Response:
        """POST one GraphQL operation, with ``token`` as the bearer when given."""
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return httpx.post(
            f"{self.base_url}/graphql",
            json={"query": query, "variables": variables or None},
            headers=headers,
            timeout=30,
        )

    def query(self, query: str, token: str, **variables: Any) -> dict[str, Any]:
        """POST and return the body, failing on any GraphQL error."""
        response = self.post(query, token, **variables)
        body: dict[str, Any] = response.json()
        assert response.status_code == 200, body
        assert "errors" not in body, json.dumps(body["errors"], indent=1)[:2000]
        return body["data"]  # type: ignore[no-any-return]


def homeroom_env() -> dict[str, str]:
    """The environment for a child ``homeroom``: ours, minus settings that would change it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMEROOM_")}
    env["HOMEROOM_LOG_LEVEL"] = "INFO"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate ``proc`` (and only it); kill it when it does not stop in time."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT)


def _wait_ready(process: Process, timeout: float, started: float) -> None:
    deadline = started + timeout
    url = f"{process.base_url}/healthz"
    while True:
        if process.proc.poll() is not None:
            pytest.fail(
                f"homeroom exited with {process.proc.returncode} before it was ready:\n"
                f"{process.stdout()[-2000:]}\n{process.stderr()[-4000:]}"
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1.0).status_code == 200:
                process.ready_after = time.perf_counter() - started
                return
        if time.perf_counter() > deadline:
            pytest.fail(f"homeroom was not ready on {url} within {timeout:.0f}s:\n{process.stderr()[-4000:]}")
        time.sleep(0.05)


@contextlib.contextmanager
def running(
    args: Sequence[str], *, cwd: Path, port: int | None = None, timeout: float = READY_TIMEOUT
) -> Iterator[Process]:
    """Run ``homeroom ARGS`` until the block ends. ARGS must make it serve on
    ``port`` (a free one when not given; ``{port}`` in ARGS is replaced by it)."""
    port = port or free_port()
    args = [arg.replace("{port}", str(port)) for arg in args]
    logs = cwd / f"homeroom-{port}"
    stdout_path, stderr_path = logs.with_suffix(".out"), logs.with_suffix(".err")
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [str(HOMEROOM), *args],
            cwd=cwd,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=homeroom_env(),
        )
        try:
            process = Process(proc, f"http://127.0.0.1:{port}", port, stdout_path, stderr_path, 0.0)
            _wait_ready(process, timeout, started)
            yield process
        finally:
            stop(proc)


def run_to_exit(args: Sequence[str], *, cwd: Path, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run ``homeroom ARGS`` that is expected to exit by itself (errors, tokens)."""
    return subprocess.run(
        [str(HOMEROOM), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env=homeroom_env(),
        check=False,
    )


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file of ``folder`` with its modification time and size."""
    return {
        str(path.relative_to(folder)): (path.stat().st_mtime_ns, path.stat().st_size)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
