"""Homeroom commands in processes of their own, for benchmarks that measure the
hub the way a district runs it: started, waited for (bounded) and always stopped.

Each process leads a process group of its own, so stopping it stops whatever
it started; its output goes to a log file, of which the tail is shown when it
fails to come up.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import httpx

__all__ = [
    "ProcessFailed",
    "check_imports_from",
    "cli_command",
    "running",
    "tree_environment",
    "wait_until",
]

# What the ``homeroom`` console script runs. Written out because ``python -m
# hub.cli`` would only define the commands: hub/cli.py has no __main__ guard.
_CLI = "import sys; from hub.cli import main; sys.exit(main())"
STOP_GRACE = 10.0  # seconds a process has to exit after SIGTERM before it is killed


class ProcessFailed(RuntimeError):
    """A process exited, or did not become ready in time; the message has its log's tail."""


def cli_command(*args: str) -> list[str]:
    """``homeroom ARGS`` with this interpreter (its tree comes from PYTHONPATH and the cwd)."""
    return [sys.executable, "-c", _CLI, *args]


def tree_environment(tree: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment with the code of ``tree`` first on the import path."""
    return {**os.environ, **(extra or {}), "PYTHONPATH": str(tree)}


def check_imports_from(tree: Path, env: Mapping[str, str], cwd: Path) -> None:
    """Fail unless ``hub`` and ``adapters`` import from ``tree`` with ``env`` in ``cwd``.

    The project is installed editable from one checkout; this proves that a
    process started for another checkout really runs that checkout's code.
    """
    probe = "import json, hub, adapters; print(json.dumps([hub.__file__, adapters.__file__]))"
    done = subprocess.run(
        [sys.executable, "-c", probe], env=dict(env), cwd=cwd, capture_output=True, text=True, timeout=60
    )
    if done.returncode != 0:
        raise ProcessFailed(f"cannot import the hub from {tree}: {done.stderr.strip()[-500:]}")
    root = tree.resolve()
    for name, file in zip(("hub", "adapters"), json.loads(done.stdout), strict=True):
        if file is None or not Path(file).resolve().is_relative_to(root):
            raise ProcessFailed(f"{name} imports from {file}, not from {root}")


def _tail(log: Path, lines: int = 15) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _stop(process: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, STOP_GRACE), (signal.SIGKILL, 5.0)):
        if process.poll() is not None:
            break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=wait)
    # The leader may be gone while something it started still runs in its group.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


@contextlib.contextmanager
def running(
    command: Sequence[str], *, env: Mapping[str, str], cwd: Path, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` until the block ends, then stop its whole process group."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(command),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        _stop(process)


def wait_until(
    ready: Callable[[], bool], process: subprocess.Popen[bytes], *, what: str, log: Path, timeout: float
) -> float:
    """Poll ``ready`` until it holds; the seconds it took. Fails when the process
    exits first or ``timeout`` passes."""
    started = time.monotonic()
    while True:
        if process.poll() is not None:
            raise ProcessFailed(f"{what} exited with status {process.returncode}:\n{_tail(log)}")
        try:
            if ready():
                return time.monotonic() - started
        except (httpx.HTTPError, OSError, ValueError):
            pass  # not listening yet, or a file half written
        if time.monotonic() - started > timeout:
            raise ProcessFailed(f"{what} was not ready within {timeout:g} s:\n{_tail(log)}")
        time.sleep(0.1)
