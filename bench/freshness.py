"""Benchmark: how soon a score changed at the vendor is served to a teacher (issue #10).

The target: a score changed in a simulator's folder is served within the
mirror's gradebook interval plus 5 s.

A COPY of the cached synthetic district (this run rewrites it), the OneRoster
REST simulator over it in a process of its own, and ``homeroom serve`` in a
process of its own with that source in ``mode = "mirror"`` and
``mirror_gradebook_seconds = --interval``. Once the hub's ``/healthz``
answers 200 (its first sync is done), a score on a teacher's dashboard is
picked (the first score of the first student with one, over a few teachers
with classes today). Then ``--changes`` times: that result's score is
rewritten in ``results.csv`` (atomically, its modification time moved on),
and the hub's GraphQL is asked for that score every 100 ms until it serves the
new value. It prints the data requests the simulator counted over two
intervals with nothing changed (the change feed's idle cost), then per change
the lag and the data requests counted during the wait (the deltas: they stay
few), then the largest lag against the target. Each change after the first is
written just after the previous one was served, so just after a sync: its lag
is close to the worst case, a whole interval plus the sync's own time.

Exit status: 0 when every change arrived (whatever the lag: the verdict says
whether the target was met), 1 when one was not served within ``--interval``
x 3 + 30 s, 2 when nothing could be measured (the simulator or the hub did not
start, or no teacher's dashboard had a score).

    python -m bench.freshness [--students 300] [--interval 5] [--changes 3] [--latency 0.02]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.dashboard_load import (
    SEED,
    START_TIMEOUT,
    THIS_TREE,
    Simulator,
    cached_district,
    current_teachers,
    exit_on_signal,
    log_summary,
    machine_load,
    simulator_process,
    spread,
    teacher_tokens,
    write_hub_config,
)
from bench.processes import ProcessFailed, cli_command, running, tree_environment, wait_until
from hub.testing.server import free_port

MARGIN = 5.0  # seconds beyond the sync interval the target allows (issue #10)
POLL = 0.1  # seconds between two asks of the hub for the changed score
IDLE_INTERVALS = 2  # sync intervals over which the feed's cost with nothing changed is counted
TEACHERS_TRIED = 5  # teachers whose dashboards are searched for a score to change
REQUEST_TIMEOUT = 30.0  # seconds allowed per GraphQL request

# The dashboard's shape, cut to what picking a score needs: the first score of
# each student of each section the teacher teaches now, with its vendor id.
PICK_QUERY = """query FreshnessPick {
  viewer { sections { edges { node {
    students { edges { node {
      scores(first: 1) { edges { node { id score sources { source vendorId } } } } } } }
  } } } }
}"""
# Polled every 100 ms: one score by its hub id, so the poll itself stays cheap
# and the lag measured is the mirror's, not the time of a whole dashboard.
SCORE_QUERY = "query FreshnessScore($id: ID!) { node(id: $id) { ... on Score { score } } }"


class BenchFailed(RuntimeError):
    """The hub answered something the benchmark cannot go on from."""


@dataclass(frozen=True)
class Watched:
    """The score whose changes are timed: its hub id, its result's sourcedId,
    the token of a teacher who sees it, and the value served at the start."""

    hub_id: str
    vendor_id: str
    token: str
    score: float


@dataclass(frozen=True)
class Arrival:
    """One change: the score written, when it was served (``None``: never,
    within the timeout), and what it cost upstream."""

    before: float
    after: float
    lag: float | None
    upstream: int
    polls: int
    last_answer: str  # what the hub served last while waiting (a score, or the kind of failure)


# --- the hub's answers ------------------------------------------------------------------------


def graphql(client: httpx.Client, url: str, token: str, query: str, **variables: str) -> dict[str, Any]:
    """The ``data`` of a GraphQL answer; :class:`BenchFailed` on an HTTP or GraphQL error
    (its message names the kind of error only: the hub's messages may name people)."""
    answer = client.post(
        url, json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {token}"}
    )
    if answer.status_code != 200:
        raise BenchFailed(f"HTTP {answer.status_code}")
    body = answer.json()
    if body.get("errors"):
        codes = sorted({str((e.get("extensions") or {}).get("code", "error")) for e in body["errors"]})
        raise BenchFailed(f"GraphQL errors ({', '.join(codes)})")
    data: dict[str, Any] = body["data"]
    return data


def _nodes(connection: dict[str, Any] | None) -> Iterator[dict[str, Any]]:
    for edge in (connection or {}).get("edges") or ():
        yield edge["node"]


def pick_score(client: httpx.Client, url: str, tokens: Sequence[str], source: str) -> Watched:
    """The first score with a value on the first of ``tokens``' dashboards that has one."""
    for token in tokens:
        viewer = graphql(client, url, token, PICK_QUERY)["viewer"]
        for section in _nodes(viewer["sections"]):
            for student in _nodes(section["students"]):
                for score in _nodes(student["scores"]):
                    vendor_ids = [ref["vendorId"] for ref in score["sources"] if ref["source"] == source]
                    if score["score"] is not None and vendor_ids:
                        return Watched(score["id"], vendor_ids[0], token, float(score["score"]))
    raise BenchFailed(f"no score with a value on the dashboards of {len(tokens)} teachers")


def served_score(client: httpx.Client, url: str, watched: Watched) -> float | None:
    """The score the hub serves now for ``watched``."""
    node = graphql(client, url, watched.token, SCORE_QUERY, id=watched.hub_id)["node"]
    if node is None:
        raise BenchFailed("the score is no longer served")
    value = node.get("score")
    return None if value is None else float(value)


# --- the vendor's side: the simulator's folder ------------------------------------------------


def write_score(folder: Path, vendor_id: str, score: float) -> None:
    """Set the score of the result ``vendor_id`` in ``folder/results.csv``.

    Written beside the file and renamed over it, so the simulator never reads
    half a file (it would take the missing rows for deletions). The file's
    modification time moves on by at least a second: a file system's clock may
    be coarser than two changes are apart, and the simulator compares times."""
    path = folder / "results.csv"
    with path.open(encoding="utf-8", newline="") as stream:
        reader = csv.DictReader(stream)
        header, rows = list(reader.fieldnames or ()), list(reader)
    matching = [row for row in rows if row["sourcedId"] == vendor_id]
    if len(matching) != 1:
        raise BenchFailed(f"{len(matching)} rows of results.csv have the watched sourcedId")
    matching[0]["score"] = f"{score:g}"
    out = io.StringIO()
    writer = csv.DictWriter(out, header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    before = path.stat().st_mtime_ns
    partial = path.with_name(f".{path.name}.partial")  # not *.csv: the simulator does not watch it
    partial.write_text(out.getvalue(), encoding="utf-8")
    moment = max(partial.stat().st_mtime_ns, before + 1_000_000_000)
    os.utime(partial, ns=(moment, moment))
    os.replace(partial, path)


def next_score(score: float) -> float:
    """A value other than ``score`` that a result may hold (down one point, or up from 0)."""
    return score - 1 if score >= 1 else score + 1


def idle_requests(simulator: Simulator, seconds: float) -> int:
    """Data requests the simulator counts over ``seconds`` while nothing changes."""
    before = simulator.data_requests()
    time.sleep(seconds)
    return simulator.data_requests() - before


# --- one change -------------------------------------------------------------------------------


def time_change(
    client: httpx.Client,
    url: str,
    watched: Watched,
    before: float,
    simulator: Simulator,
    data_dir: Path,
    timeout: float,
) -> Arrival:
    """Write a new score for ``watched`` and poll the hub until it serves it (at most ``timeout``)."""
    after = next_score(before)
    requests_before = simulator.data_requests()
    write_score(data_dir, watched.vendor_id, after)
    changed = time.monotonic()
    polls, lag, last = 0, None, f"{before:g}"
    while time.monotonic() - changed < timeout:
        polls += 1
        try:
            value = served_score(client, url, watched)
        except (BenchFailed, httpx.HTTPError) as exc:
            last = str(exc) if isinstance(exc, BenchFailed) else type(exc).__name__
        else:
            last = "null" if value is None else f"{value:g}"
            if value == after:
                lag = time.monotonic() - changed
                break
        time.sleep(POLL)
    upstream = simulator.data_requests() - requests_before
    return Arrival(before, after, lag, upstream, polls, last)


def arrival_line(number: int, count: int, arrival: Arrival, timeout: float) -> str:
    """One change as printed."""
    head = f"change {number}/{count}: score {arrival.before:g} -> {arrival.after:g}"
    cost = f"{arrival.polls} polls, {arrival.upstream} upstream requests while waiting"
    if arrival.lag is None:
        return f"{head}: NOT served within {timeout:g} s ({cost}; the hub served {arrival.last_answer})"
    return f"{head}: served after {arrival.lag:.2f} s ({cost})"


def verdict_lines(arrivals: Sequence[Arrival], changes: int, interval: float) -> list[str]:
    """The lags against the target, and the upstream cost of the waits."""
    target = interval + MARGIN
    lags = [a.lag for a in arrivals if a.lag is not None]
    lines = []
    if lags:
        worst = max(lags)
        met = len(lags) == changes and worst <= target
        lines.append(
            f"lag: max {worst:.2f} s, median {statistics.median(lags):.2f} s over {len(lags)} of "
            f"{changes} changes (target <= {target:g} s, the interval plus {MARGIN:g} s: "
            f"{'met' if met else 'MISSED'})"
        )
    else:
        lines.append(f"lag: no change arrived (target <= {target:g} s: MISSED)")
    upstream = sum(a.upstream for a in arrivals)
    lines.append(
        f"upstream: {upstream} requests during {len(arrivals)} waits "
        f"({upstream / len(arrivals):.1f} per change)"
        if arrivals
        else "upstream: no wait"
    )
    return lines


# --- the hub ----------------------------------------------------------------------------------


def measure(args: argparse.Namespace, simulator: Simulator, data_dir: Path, teachers: Sequence[str]) -> int:
    """Start the hub over the simulator, time ``args.changes`` changes; the exit status."""
    folder = data_dir.parent / "hub"
    folder.mkdir()
    port = free_port()
    config = write_hub_config(
        folder, port, simulator, "mirror", extra={"mirror_gradebook_seconds": args.interval}
    )
    env = tree_environment(THIS_TREE, simulator.environment)
    log = folder / "hub.log"
    base_url = f"http://127.0.0.1:{port}"
    url = f"{base_url}/graphql"
    timeout = args.interval * 3 + 30
    source = str(simulator.table["name"])
    with running(cli_command("serve", "--config", str(config)), env=env, cwd=folder, log=log) as process:
        seconds = wait_until(
            lambda: httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200,
            process,
            what="the hub",
            log=log,
            timeout=START_TIMEOUT,
        )
        print(
            f"hub (mirror, gradebook every {args.interval:g} s) on {base_url}: "
            f"/healthz 200 after {seconds:.1f} s",
            flush=True,
        )
        tokens = teacher_tokens(config, source, teachers)
        arrivals: list[Arrival] = []
        with httpx.Client(timeout=REQUEST_TIMEOUT) as client:
            watched = pick_score(client, url, tokens, source)
            print(
                f"watching: a score on the dashboard of teacher {tokens.index(watched.token) + 1} "
                f"of {len(tokens)} (served as {watched.score:g})",
                flush=True,
            )
            idle = idle_requests(simulator, args.interval * IDLE_INTERVALS)
            print(
                f"idle: {idle} upstream requests in {args.interval * IDLE_INTERVALS:g} s with nothing "
                f"changed ({idle / IDLE_INTERVALS:.1f} per sync interval)",
                flush=True,
            )
            score = watched.score
            for number in range(1, args.changes + 1):
                arrival = time_change(client, url, watched, score, simulator, data_dir, timeout)
                arrivals.append(arrival)
                print(arrival_line(number, args.changes, arrival, timeout), flush=True)
                if arrival.lag is None:
                    break  # the feed is stuck: later changes would time out the same way
                score = arrival.after
    print("\n".join(verdict_lines(arrivals, args.changes, args.interval)))
    if len(arrivals) < args.changes or arrivals[-1].lag is None:
        print("\n".join(f"hub log: {line}" for line in log_summary(log)))
        return 1
    return 0


# --- main -------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=300, help="size of the synthetic district")
    parser.add_argument(
        "--interval", type=float, default=5.0, help="mirror_gradebook_seconds of the source (1 or more)"
    )
    parser.add_argument("--changes", type=int, default=3, help="score changes to time, one after another")
    parser.add_argument(
        "--latency", type=float, default=0.02, help="simulator latency per request, seconds (default 0.02)"
    )
    args = parser.parse_args(argv)
    if args.students < 1 or args.interval < 1 or args.changes < 1 or args.latency < 0:
        parser.error(
            "--students and --changes must be 1 or more, --interval 1 s or more, --latency 0 or more"
        )
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; the exit status (module docstring)."""
    args = parse_args(argv)
    # SIGTERM unwinds like Ctrl+C, so the simulator and the hub are stopped.
    signal.signal(signal.SIGTERM, exit_on_signal)
    today = dt.date.today()
    print(f"machine: {machine_load()}", flush=True)
    cached = cached_district(args.students, today)
    try:
        with tempfile.TemporaryDirectory(prefix="homeroom-bench-freshness-") as tmp:
            # A copy: the cached district is shared by runs and only ever read.
            data_dir = Path(tmp) / "district"
            shutil.copytree(cached, data_dir)
            teachers = current_teachers(data_dir, today)
            teachers = spread(teachers, min(TEACHERS_TRIED, len(teachers)))
            print(
                f"district: {args.students} students (seed {SEED}, {today}), copied to {data_dir}; "
                f"simulator latency {args.latency * 1000:.0f} ms per request",
                flush=True,
            )
            with simulator_process(data_dir, args.latency, Path(tmp)) as simulator:
                return measure(args, simulator, data_dir, teachers)
    except ProcessFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BenchFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
