"""Benchmark: teachers' dashboards under load, measured the way a district runs Homeroom.

A synthetic district (generated once per size, seed and day, then reused from
the system temp folder), the OneRoster REST simulator in a process of its own
(``homeroom simulate oneroster-rest``, adding ``--latency`` to every request),
and the hub in a process of its own (``homeroom serve``) over it, with
development tokens of distinct teachers who teach classes today.

This tree's hub is measured once per ``--modes`` (default all three):
``mirror`` (answered from the read model, kept by the simulator's change
feed), ``csv`` (the same files read by the CSV source: the hub with no
vendor at all, the bar the mirror is held to) and ``live`` (the vendor asked
per query). The teacher dashboard query (``bench.dashboard.QUERY``) is posted
once (the first dashboard after start), then by one teacher ``--rounds``
times, then by each ``--users`` count of teachers at once (``20,200``),
``--rounds`` times. Per phase: p50, p95 and max
latency of the requests that succeeded, the failures by kind (with how long
they took and the hub's message), and the requests the simulator itself
counted, in all and per dashboard. It also prints what one request to the
simulator costs without the added latency (the transport's share of every
upstream request), the sources' health after the load and, when requests
failed, the hub log's warnings.

With ``--baseline-tree PATH`` (or ``--hub-tree PATH``, repeatable) the hub is
started again from that checkout's code, over the same simulator, and the
ratios (this tree / that tree) of p95 and of upstream requests per dashboard
are printed. The trees are measured one after another, so a change in the
machine's load between them shows in the ratios: run twice to see the noise.
``make bench BASELINE=PATH`` passes ``--baseline-tree PATH``.

Every number printed is measured in this run; nothing is asserted about times.

The targets of the read model are printed from this run's numbers: p95 of
the mirror at most 1.5x the CSV source's, upstream requests during the load
independent of the number of dashboards, the live path at most 20 upstream
requests per dashboard, no errors.

    python -m bench.dashboard_load [--students 2000] [--users 20,200] [--rounds 10]
        [--modes mirror,csv,live] [--latency 0.02] [--timeout 120]
        [--baseline-tree /tmp/base] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import datetime as dt
import json
import math
import os
import re
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
import tomllib
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.dashboard import QUERY as DASHBOARD_QUERY
from bench.processes import (
    ProcessFailed,
    check_imports_from,
    cli_command,
    running,
    tree_environment,
    wait_until,
)
from hub.auth import DevSigner, load_or_create_key
from hub.model import Entity
from hub.personas import Persona
from hub.settings import load_settings
from hub.sources_cli import sources_toml
from hub.testing import DistrictSpec, generate_district, read_generated_spec
from hub.testing.server import free_port

THIS_TREE = Path(__file__).resolve().parents[1]
SEED = 11
CLIENT_ID = "homeroom-bench"
SECRET_ENV = "HOMEROOM_SIMULATE_CLIENT_SECRET"
MODES = ("mirror", "csv", "live")
CSV_MODE = "csv"
START_TIMEOUT = 180.0  # seconds a process may take to answer its /healthz (a large district loads)
ATTENDANCE_DAYS_BACK = 8  # the dashboard's attendance window, as bench.dashboard has it


# --- the district and its teachers ---------------------------------------------------------


def cached_district(students: int, today: dt.date) -> Path:
    """The generated district of this size for ``today``, from the temp folder when
    an earlier run left it there (it is only read), else generated now."""
    spec = DistrictSpec(students=students, seed=SEED, today=today)
    cache = Path(tempfile.gettempdir()) / "homeroom-bench-districts"
    folder = cache / f"{students}-seed{SEED}-{today}"
    with contextlib.suppress(ValueError):
        if read_generated_spec(folder) == spec:
            return folder
    # The hub's clock is real, so a district of another day has other current classes.
    for stale in cache.glob(f"{students}-seed{SEED}-*"):
        if stale.name != folder.name and ".partial-" not in stale.name:
            shutil.rmtree(stale, ignore_errors=True)
    # Written beside it and renamed, so a run started at the same time never reads half a set.
    partial = folder.with_name(f"{folder.name}.partial-{os.getpid()}")
    try:
        generate_district(partial, spec)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    shutil.rmtree(folder, ignore_errors=True)
    try:
        partial.rename(folder)
    except OSError:  # another run renamed its copy first: use that one
        shutil.rmtree(partial, ignore_errors=True)
    return folder


def _current(row: Mapping[str, str], today: str) -> bool:
    if row.get("status", "active") not in ("active", ""):
        return False
    begins, ends = row.get("beginDate") or today, row.get("endDate") or today
    return begins <= today <= ends


def current_teachers(data_dir: Path, today: dt.date) -> list[str]:
    """sourcedIds of the teachers of a class that has students enrolled today, in order."""
    day = today.isoformat()
    classes_of: dict[str, set[str]] = {}
    with_students: set[str] = set()
    with (data_dir / "enrollments.csv").open(newline="", encoding="utf-8") as file:
        for row in csv.DictReader(file):
            if not _current(row, day):
                continue
            if row["role"] == "teacher":
                classes_of.setdefault(row["userSourcedId"], set()).add(row["classSourcedId"])
            elif row["role"] == "student":
                with_students.add(row["classSourcedId"])
    return sorted(teacher for teacher, classes in classes_of.items() if classes & with_students)


def spread(items: Sequence[str], count: int) -> list[str]:
    """``count`` distinct items evenly spaced over ``items`` (so, over the schools)."""
    if count > len(items):
        raise SystemExit(f"--users {count}: the district has only {len(items)} teachers with classes today")
    return [items[i * len(items) // count] for i in range(count)]


def dashboard_query(today: dt.date) -> str:
    """``bench.dashboard.QUERY`` with its attendance window ending today (the hub's clock is real)."""
    start = (today - dt.timedelta(days=ATTENDANCE_DAYS_BACK)).isoformat()
    query, replaced = re.subn(r'from: "\d{4}-\d\d-\d\d"', f'from: "{start}"', DASHBOARD_QUERY)
    if replaced != 1:
        raise RuntimeError("bench.dashboard.QUERY no longer has one attendance(from: ...) argument")
    return query


# --- the simulator and the hub, each in its own process ----------------------------------------


@dataclass(frozen=True)
class Simulator:
    """The running simulator: its sources table (as TOML and parsed) and credentials."""

    sources_toml: str
    table: Mapping[str, Any]
    environment: Mapping[str, str]  # the client id and secret variables the table names

    def data_requests(self) -> int:
        """Data requests the simulator answered so far, by its own count."""
        answer = httpx.get(f"{self.table['base_url']}/healthz", timeout=10)
        answer.raise_for_status()
        count: int = answer.json()["dataRequests"]
        return count

    def settled_requests(self, quiet: float = 0.5, timeout: float = 30.0) -> int:
        """The count once it has not moved for ``quiet`` seconds (at most ``timeout``):
        a dashboard the client gave up on may still be asking, and counts for its phase."""
        deadline = time.monotonic() + timeout
        count = self.data_requests()
        while time.monotonic() < deadline:
            time.sleep(quiet)
            if (latest := self.data_requests()) == count:
                break
            count = latest
        return count


def _sources_table(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    sources = tomllib.loads(path.read_text(encoding="utf-8")).get("sources") or [None]
    table: dict[str, Any] | None = sources[0]
    return table


def round_trip_ms(url: str, times: int = 20) -> float:
    """Median time of a GET of ``url`` on a kept-alive connection: what the transport
    adds to every upstream request, beyond the simulator's configured latency."""
    timings = []
    with httpx.Client(timeout=10) as client:
        client.get(url)
        for _ in range(times):
            started = time.perf_counter()
            client.get(url).raise_for_status()
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


@contextlib.contextmanager
def simulator_process(data_dir: Path, latency: float, work: Path) -> Iterator[Simulator]:
    """``homeroom simulate oneroster-rest`` over ``data_dir`` on a free loopback port."""
    config_out, log = work / "simulator-sources.toml", work / "simulator.log"
    secret = secrets.token_urlsafe(18)
    command = cli_command(
        *("simulate", "oneroster-rest", "--data-dir", str(data_dir), "--port", "0"),
        *("--client-id", CLIENT_ID, "--config-out", str(config_out), "--option", f"latency={latency:g}"),
    )
    env = tree_environment(THIS_TREE, {SECRET_ENV: secret})
    with running(command, env=env, cwd=work, log=log) as process:

        def ready() -> bool:
            table = _sources_table(config_out)
            return table is not None and httpx.get(f"{table['base_url']}/healthz", timeout=2).is_success

        seconds = wait_until(ready, process, what="the simulator", log=log, timeout=START_TIMEOUT)
        table = _sources_table(config_out)
        assert table is not None  # ready() saw it
        print(
            f"simulator: {table['base_url']}, ready in {seconds:.1f} s; a request to its /healthz "
            f"(no added latency) takes {round_trip_ms(table['base_url'] + '/healthz'):.1f} ms (median)",
            flush=True,
        )
        yield Simulator(
            sources_toml=config_out.read_text(encoding="utf-8"),
            table=table,
            environment={table["client_id_env"]: CLIENT_ID, table["client_secret_env"]: secret},
        )


def write_hub_config(
    folder: Path,
    port: int,
    simulator: Simulator,
    mode: str | None = "live",
    data_dir: Path | None = None,
    extra: Mapping[str, Any] | None = None,
    store_url: str | None = None,
) -> Path:
    """A homeroom.toml as a district writes it: the simulator's sources table
    (answered live, or from the read model: ``mode``; ``None`` writes no
    ``mode`` key, for a baseline tree older than it; ``"csv"`` reads the
    simulator's files, ``data_dir``, instead; ``extra`` keys are added to the
    simulator's table, e.g. ``mirror_gradebook_seconds``), development
    sign-in, an SQLite store of its own (or ``store_url``)."""
    store = json.dumps(store_url or f"sqlite+aiosqlite:///{folder / 'homeroom.db'}")  # a JSON string is TOML
    tables = tomllib.loads(simulator.sources_toml).get("sources", [])
    if mode == CSV_MODE:
        if data_dir is None:
            raise ValueError("the csv mode reads the district's files: give data_dir")
        # The same district read from its files: what the hub costs with no vendor at all.
        tables = [{"name": table["name"], "kind": "oneroster-csv", "path": str(data_dir)} for table in tables]
    elif mode is not None:
        tables = [{**table, "mode": mode, **(extra or {})} for table in tables]
    config = folder / "homeroom.toml"
    config.write_text(
        "# Written by bench.dashboard_load.\n"
        f'[server]\nhost = "127.0.0.1"\nport = {port}\n\n'
        '[auth]\ndev_key_file = "dev.key"\n\n'
        f"[store]\nurl = {store}\n\n" + "\n".join(sources_toml(table) for table in tables),
        encoding="utf-8",
    )
    return config


def dev_signer(config: Path) -> DevSigner:
    """The development signer whose tokens the hub of ``config`` accepts."""
    settings = load_settings(config)
    assert settings.auth.dev_key_file is not None  # write_hub_config sets it
    return DevSigner(
        load_or_create_key(settings.resolve(settings.auth.dev_key_file)),
        issuer=settings.auth.dev_issuer,
        audience=settings.auth.audience,
    )


def teacher_tokens(config: Path, source: str, teachers: Sequence[str]) -> list[str]:
    """Development tokens the hub of ``config`` accepts, one per teacher."""
    signer = dev_signer(config)
    return [Persona("teacher", ("teacher",), Entity.TEACHER, source, t).token(signer) for t in teachers]


# --- the load ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """One dashboard request: how long it took, and why it failed (``None``: it did not)."""

    seconds: float
    failure: str | None
    students: int = 0  # students on the dashboard, over all its sections
    message: str = ""  # the hub's first error message, printable and cut short


@dataclass(frozen=True)
class Phase:
    """The requests of one phase on one hub, and the upstream requests they caused."""

    hub: str
    name: str
    outcomes: tuple[Outcome, ...]
    upstream: int

    @property
    def latencies_ms(self) -> list[float]:
        return sorted(o.seconds * 1000 for o in self.outcomes if o.failure is None)

    def percentile(self, share: float) -> float | None:
        """Nearest-rank percentile of the successful requests' latency, in ms."""
        values = self.latencies_ms
        return values[max(0, math.ceil(share * len(values)) - 1)] if values else None

    @property
    def failures(self) -> Counter[str]:
        return Counter(o.failure for o in self.outcomes if o.failure is not None)

    @property
    def upstream_per_dashboard(self) -> float:
        return self.upstream / len(self.outcomes)


def _printable(text: object, limit: int = 160) -> str:
    return re.sub(r"[\x00-\x1f\x7f]", "?", str(text))[:limit]


def _outcome(response: httpx.Response, seconds: float) -> Outcome:
    if response.status_code != 200:
        return Outcome(seconds, f"HTTP {response.status_code}", message=_printable(response.text))
    try:
        body = response.json()
    except ValueError:
        return Outcome(seconds, "not JSON", message=_printable(response.text))
    if body.get("errors"):
        codes = {str((e.get("extensions") or {}).get("code", "error")) for e in body["errors"]}
        message = _printable(body["errors"][0].get("message", ""))
        return Outcome(seconds, "200 " + "+".join(sorted(codes)), message=message)
    sections = ((body.get("data") or {}).get("viewer") or {}).get("sections")
    if sections is None:
        return Outcome(seconds, "no data")
    return Outcome(seconds, None, sum(len(edge["node"]["students"]["edges"]) for edge in sections["edges"]))


async def dashboard(client: httpx.AsyncClient, url: str, query: str, token: str, timeout: float) -> Outcome:
    """Post the dashboard query; never raises for a failed request."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):  # httpx's timeout bounds each read, not the request
            response = await client.post(
                url, json={"query": query}, headers={"Authorization": f"Bearer {token}"}
            )
    except TimeoutError:
        return Outcome(time.perf_counter() - started, "timeout")
    except httpx.HTTPError as exc:
        return Outcome(time.perf_counter() - started, type(exc).__name__)
    return _outcome(response, time.perf_counter() - started)


async def run_phases(
    base_url: str, query: str, tokens: Sequence[str], args: argparse.Namespace, simulator: Simulator, hub: str
) -> list[Phase]:
    """The first dashboard, one teacher's rounds, then all teachers' rounds at once."""
    plan = [
        ("first dashboard", tokens[:1], 1),
        ("1 teacher", tokens[:1], args.rounds),
        *((f"{users} teachers", tokens[:users], args.rounds) for users in args.users),
    ]
    phases = []
    limits = httpx.Limits(max_connections=len(tokens) + 2, max_keepalive_connections=len(tokens) + 2)
    async with httpx.AsyncClient(limits=limits, timeout=args.timeout) as client:
        count = await asyncio.to_thread(simulator.settled_requests)
        for name, callers, rounds in plan:
            started = time.monotonic()
            outcomes: list[Outcome] = []
            for _ in range(rounds):
                outcomes += await asyncio.gather(
                    *(dashboard(client, f"{base_url}/graphql", query, t, args.timeout) for t in callers)
                )
            before, count = count, await asyncio.to_thread(simulator.settled_requests)
            phases.append(Phase(hub, name, tuple(outcomes), count - before))
            print(
                f"  {hub}, {name}: {len(outcomes)} dashboards in {time.monotonic() - started:.0f} s",
                flush=True,
            )
    return phases


def measure_hub(
    tree: Path,
    label: str,
    simulator: Simulator,
    teachers: Sequence[str],
    query: str,
    args: argparse.Namespace,
    folder: Path,
    mode: str | None,
) -> list[Phase]:
    """Start ``homeroom serve`` from ``tree`` in ``folder`` over the simulator
    (answering in ``mode``), load it, stop it."""
    folder.mkdir()
    port = free_port()
    config = write_hub_config(folder, port, simulator, mode, args.data_dir)
    env = tree_environment(tree, simulator.environment)
    check_imports_from(tree, env, folder)
    log = folder / "hub.log"
    base_url = f"http://127.0.0.1:{port}"
    before = simulator.data_requests()
    with running(cli_command("serve", "--config", str(config)), env=env, cwd=folder, log=log) as process:
        seconds = wait_until(
            lambda: httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200,
            process,
            what=f"the hub from {tree}",
            log=log,
            timeout=START_TIMEOUT,
        )
        print(
            f"hub ({label}, code from {tree}) on {base_url}: /healthz 200 after {seconds:.1f} s, "
            f"{simulator.settled_requests() - before} upstream requests while starting",
            flush=True,
        )
        tokens = teacher_tokens(config, str(simulator.table["name"]), teachers)
        phases = asyncio.run(run_phases(base_url, query, tokens, args, simulator, label))
        health = httpx.get(f"{base_url}/healthz", timeout=10).json().get("sources", {})
    states = ", ".join(f"{name} {state.get('state')}" for name, state in sorted(health.items()))
    print(f"  {label}: sources after the load: {states}", flush=True)
    if any(phase.failures for phase in phases):
        print("\n".join(f"  {label} log: {line}" for line in log_summary(log)), flush=True)
    return phases


def log_summary(log: Path, lines: int = 5) -> list[str]:
    """The hub log's warnings and errors, most frequent first (the hub keeps personal
    data out of its log; the lines are cut short all the same)."""
    levels = (" WARNING ", " ERROR ", " CRITICAL ")
    text = log.read_text(encoding="utf-8", errors="replace").splitlines()
    # The benchmark turns development sign-in on itself: its warning says nothing about the load.
    noted = [line for line in text if any(x in line for x in levels) and "development sign-in" not in line]
    # Without the timestamp, repeats of one message count together.
    found = Counter(_printable(line.split(" ", 2)[-1], 200) for line in noted)
    if not found:
        return [f"{len(text)} lines, none at WARNING or above"]
    return [f"{count} x {message}" for message, count in found.most_common(lines)]


# --- the report --------------------------------------------------------------------------------

HEADER = ("hub", "phase", "dashboards", "p50 ms", "p95 ms", "max ms", "upstream", "per dash", "students")


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def table(phases: Sequence[Phase]) -> str:
    """The phases as an aligned table; failures after the columns, by kind."""
    rows = []
    for phase in phases:
        students = sorted(o.students for o in phase.outcomes if o.failure is None)
        failures = phase.failures
        errors = sum(failures.values())
        detail = ", ".join(f"{kind} x{n}" for kind, n in sorted(failures.items()))
        rows.append(
            (
                phase.hub,
                phase.name,
                str(len(phase.outcomes)),
                _ms(phase.percentile(0.5)),
                _ms(phase.percentile(0.95)),
                _ms(phase.latencies_ms[-1] if phase.latencies_ms else None),
                str(phase.upstream),
                f"{phase.upstream_per_dashboard:.1f}",
                str(students[len(students) // 2]) if students else "-",
                f"{errors} errors" + (f" ({detail})" if detail else ""),
            )
        )
    head = (*HEADER, "errors")
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(HEADER))]
    lines = []
    for row in [head, *rows]:
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1])]
        cells += [cell.rjust(width) for cell, width in zip(row[2:-1], widths[2:], strict=True)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


def failure_lines(phases: Sequence[Phase]) -> list[str]:
    """Each kind of failure of each phase: how many, after how long, and one message."""
    lines = []
    for phase in phases:
        for kind, count in sorted(phase.failures.items()):
            failed = [o for o in phase.outcomes if o.failure == kind]
            low, high = min(o.seconds for o in failed), max(o.seconds for o in failed)
            example = next((o.message for o in failed if o.message), "")
            lines.append(
                f"{phase.hub}, {phase.name}: {kind} x{count} after {low:.1f}-{high:.1f} s"
                + (f'; e.g. "{example}"' if example else "")
            )
    return lines


def ratios(this: Sequence[Phase], other: Sequence[Phase]) -> list[str]:
    """p95 and upstream requests per dashboard of ``this`` over ``other``, per phase."""

    def ratio(a: float | None, b: float | None) -> str:
        return f"{a / b:.2f}" if a is not None and b else "-"

    lines = []
    for mine, theirs in zip(this, other, strict=True):
        p95 = ratio(mine.percentile(0.95), theirs.percentile(0.95))
        upstream = ratio(mine.upstream_per_dashboard, theirs.upstream_per_dashboard)
        lines.append(f"{mine.hub} / {theirs.hub}, {mine.name}: p95 {p95}, upstream per dashboard {upstream}")
    return lines


def targets(by_hub: Mapping[str, Sequence[Phase]]) -> list[str]:
    """The read model's targets, from this run's numbers: p95 of the mirror at
    most 1.5x the CSV source's, per phase; the live path at most 20 upstream
    requests per dashboard; no errors anywhere."""
    lines = []
    mirror, files, live = by_hub.get("mirror"), by_hub.get(CSV_MODE), by_hub.get("live")
    if mirror and files:
        for mine, theirs in zip(mirror, files, strict=True):
            a, b = mine.percentile(0.95), theirs.percentile(0.95)
            if a is not None and b:
                verdict = "met" if a / b <= 1.5 else "MISSED"
                lines.append(f"mirror / csv, {mine.name}: p95 {a / b:.2f} (target <= 1.50: {verdict})")
        during_load = sum(phase.upstream for phase in mirror[1:])
        lines.append(
            f"mirror: {during_load} upstream requests during the load "
            f"({sum(len(p.outcomes) for p in mirror[1:])} dashboards; sync traffic only)"
        )
    if live:
        worst = max(phase.upstream_per_dashboard for phase in live)
        verdict = "met" if worst <= 20 else "MISSED"
        lines.append(f"live: at most {worst:.1f} upstream requests per dashboard (target <= 20: {verdict})")
    errors = sum(sum(phase.failures.values()) for phases in by_hub.values() for phase in phases)
    if by_hub:
        lines.append(f"errors: {errors} (target 0: {'met' if errors == 0 else 'MISSED'})")
    return lines


# --- main --------------------------------------------------------------------------------------


def machine_load() -> str:
    """The load average and core count, printed beside every measurement."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def exit_on_signal(signum: int, frame: object) -> None:
    """A signal handler that unwinds like Ctrl+C, so the processes started are stopped."""
    raise SystemExit(128 + signum)


def _counts(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of counts: {text!r}") from None
    return counts


def _modes(text: str) -> tuple[str, ...]:
    modes = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = sorted(set(modes) - set(MODES))
    if unknown or not modes:
        raise argparse.ArgumentTypeError(f"modes are {', '.join(MODES)} (got {text!r})")
    return modes


def mirrored_district_arguments(parser: argparse.ArgumentParser) -> None:
    """``--students``, ``--interval`` and ``--latency``: the district, its mirror's gradebook
    interval and the simulator's latency, as the subscription and worker benchmarks take them."""
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument(
        "--interval", type=float, default=5.0, help="the mirror's gradebook sync interval (s)"
    )
    parser.add_argument("--latency", type=float, default=0.02, help="the simulator's latency per request (s)")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=2000, help="size of the synthetic district")
    parser.add_argument(
        "--users",
        type=_counts,
        default=(20,),
        help="teachers loading their dashboards at once, one phase per count: 20 or 20,200 (default 20)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="dashboards per teacher in each phase")
    parser.add_argument(
        "--latency", type=float, help="simulator latency per request, seconds (default 0.02; --quick 0.005)"
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds allowed per dashboard request")
    parser.add_argument(
        "--hub-tree",
        "--baseline-tree",
        dest="trees",
        type=Path,
        action="append",
        default=[],
        help="also measure the hub started from this checkout (repeatable); ratios are this tree / it",
    )
    parser.add_argument(
        "--quick", action="store_true", help="300 students, 5 teachers, 1 round, 5 ms latency (smoke test)"
    )
    parser.add_argument(
        "--modes",
        type=_modes,
        default=MODES,
        help="how this tree's hub answers, one hub per mode (default mirror,csv,live): mirror (the "
        "read model; /healthz answers 200 once its first sync is done), csv (the simulator's files "
        "read directly: no vendor at all), live (the vendor per query); other trees run live",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.students, args.users, args.rounds = 300, (5,), 1
    if args.latency is None:
        # A dashboard waits for many upstream requests one after another: the
        # smoke test keeps each short to finish well under a minute.
        args.latency = 0.005 if args.quick else 0.02
    if min(args.users) < 1 or args.rounds < 1 or args.timeout <= 0 or args.latency < 0:
        parser.error("--users and --rounds must be 1 or more, --timeout above 0, --latency 0 or more")
    for tree in args.trees:
        if not (tree / "hub" / "cli.py").is_file():
            parser.error(f"--hub-tree {tree}: no hub/cli.py there")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 1 when any dashboard request failed, else 0."""
    args = parse_args(argv)
    # SIGTERM (a test's timeout, Ctrl+C's cousin) unwinds like Ctrl+C, so the processes are stopped.
    signal.signal(signal.SIGTERM, exit_on_signal)
    today = dt.date.today()
    print(f"machine: {machine_load()}", flush=True)
    started = time.monotonic()
    data_dir = cached_district(args.students, today)
    args.data_dir = data_dir
    teachers = spread(current_teachers(data_dir, today), max(args.users))
    print(
        f"district: {args.students} students (seed {SEED}, {today}) in {data_dir}, "
        f"ready in {time.monotonic() - started:.1f} s; {max(args.users)} teachers with classes today; "
        f"simulator latency {args.latency * 1000:.0f} ms per request",
        flush=True,
    )
    query = dashboard_query(today)
    # This tree once per mode; other trees live, with no mode key (they may predate it).
    hubs: list[tuple[str, Path, str | None]] = [(mode, THIS_TREE, mode) for mode in args.modes]
    hubs += [(str(tree), tree.resolve(), None) for tree in args.trees]
    results: list[list[Phase]] = []
    try:
        with (
            tempfile.TemporaryDirectory(prefix="homeroom-bench-load-") as tmp,
            simulator_process(data_dir, args.latency, Path(tmp)) as simulator,
        ):
            for n, (label, tree, mode) in enumerate(hubs):
                folder = Path(tmp) / f"hub-{n}"
                results.append(measure_hub(tree, label, simulator, teachers, query, args, folder, mode))
    except ProcessFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print()
    every_phase = [phase for phases in results for phase in phases]
    print(table(every_phase))
    if failures := failure_lines(every_phase):
        print("\nfailures:\n" + "\n".join(failures))
    by_hub = {phases[0].hub: phases for phases in results if phases}
    if lines := targets(by_hub):
        print("\ntargets (issue #10):\n" + "\n".join(lines))
    first = results[0]
    for other in results[len(args.modes) :]:
        print()
        print("\n".join(ratios(first, other)))
    outcomes = [o for phases in results for phase in phases for o in phase.outcomes]
    failed = sum(1 for o in outcomes if o.failure is not None)
    print(f"\nrequests: {len(outcomes)} sent, {len(outcomes) - failed} ok, {failed} failed")
    print(f"machine: {machine_load()}; {time.monotonic() - started:.0f} s in all")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
