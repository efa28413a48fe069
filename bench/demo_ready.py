"""Benchmark: how long `homeroom demo --students N` takes to be ready.

Starts the demo as a real process in an empty folder (so it generates the
district) and times it to the first 200 from /healthz, for the single-source
mode (the foundation's target: under 15 s for 5,000 students) and the default
two-source mode (SIS and LMS simulators started and matched). The baseline
measured in the same run is the time the bare `homeroom --help` takes to start
(imports), printed for scale.

    python -m bench.demo_ready [--students 5000]
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HOMEROOM = Path(sys.executable).parent / "homeroom"


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def time_to_ready(students: int, sources: str, folder: Path) -> float:
    port = _port()
    args = [
        str(HOMEROOM),
        "demo",
        "--port",
        str(port),
        "--students",
        str(students),
        "--data-dir",
        str(folder / f"district-{sources}"),
        "--sources",
        sources,
        "--store-url",
        f"sqlite+aiosqlite:///{folder / (sources + '.db')}",
    ]
    started = time.perf_counter()
    process = subprocess.Popen(args, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if process.poll() is not None:
                raise SystemExit(f"homeroom demo exited with {process.returncode}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    return time.perf_counter() - started
            except httpx.HTTPError:
                pass
            if time.perf_counter() - started > 300:
                raise SystemExit("not ready within 300 s")
            time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=5000)
    args = parser.parse_args()
    started = time.perf_counter()
    subprocess.run([str(HOMEROOM), "--help"], stdout=subprocess.DEVNULL, check=True)
    baseline = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        csv = time_to_ready(args.students, "csv", Path(tmp))
        both = time_to_ready(args.students, "sis+lms", Path(tmp))
    print(f"baseline: `homeroom --help` starts in {baseline:.1f} s")
    print(f"homeroom demo --students {args.students} --sources csv     : ready in {csv:.1f} s (target 15 s)")
    print(f"homeroom demo --students {args.students} (SIS + LMS)       : ready in {both:.1f} s")
    print(f"ratio to the 15 s target (csv): {csv / 15:.2f}")


if __name__ == "__main__":
    main()
