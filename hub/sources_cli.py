"""``homeroom sources check`` and ``homeroom simulate``: try sources without a vendor.

``simulate`` serves a vendor simulator (found through the
``homeroom.simulators`` entry points, never by name) over a district's
OneRoster CSV set on 127.0.0.1, prints what a source needs to reach it and can
write the ready ``[[sources]]`` table. ``sources check`` opens every
configured source, reads one small page of each entity it declares and prints
what worked, with timings and the reason of every failure: counts only, never
a record's contents.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import math
import re
import secrets
import shlex
import socket
import sys
import time
import tomllib
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn

from hub.model import Entity
from hub.sdk._report import LoadReport, render_report
from hub.sdk._simulator import SIMULATOR_ENTRY_POINT_GROUP, SimulatorOptions, SimulatorSpec
from hub.settings import Settings, SettingsError, load_settings

__all__ = [
    "CheckRow",
    "check_sources",
    "installed_simulators",
    "render_details",
    "render_json",
    "render_rows",
    "simulate",
    "sources_app",
    "sources_toml",
]

sources_app = typer.Typer(
    help="Check the configured sources: connect, authenticate, read a page of each entity.",
    no_args_is_help=True,
)

LOOPBACK = "127.0.0.1"
OPEN = "(open)"
CONFIG = "(config)"


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=2)


# -- simulators ----------------------------------------------------------------


def _simulator_points() -> dict[str, Any]:
    return {point.name: point for point in entry_points(group=SIMULATOR_ENTRY_POINT_GROUP)}


def installed_simulators(kind: str | None = None) -> dict[str, SimulatorSpec]:
    """Simulators registered under the ``homeroom.simulators`` entry points, by kind.

    With ``kind``, only that entry point is loaded (a broken third-party
    simulator does not stop the others). Raises ``TypeError`` when an entry
    point does not hold a :class:`SimulatorSpec` of the kind it is named
    after; import errors of the simulator's module propagate.
    """
    specs: dict[str, SimulatorSpec] = {}
    for name, point in _simulator_points().items():
        if kind is not None and name != kind:
            continue
        spec = point.load()
        if not isinstance(spec, SimulatorSpec):
            raise TypeError(f"entry point {name} = {point.value} is not a SimulatorSpec")
        if spec.kind != name:
            raise TypeError(f"entry point {name} = {point.value} is a simulator of kind '{spec.kind}'")
        specs[name] = spec
    return specs


def _prepare_district(data_dir: Path, students: int, seed: int) -> str:
    """Use the OneRoster set in ``data_dir``, or generate one there when it holds none."""
    from hub.testing import DistrictSpec, generate_district, is_generated, is_oneroster_set

    if is_oneroster_set(data_dir):
        origin = "synthetic district" if is_generated(data_dir) else "OneRoster CSV set"
        return f"the {origin} in {data_dir}"
    if data_dir.exists() and any(data_dir.iterdir()):
        raise ValueError(
            f"{data_dir} holds files but no OneRoster set (manifest.csv, users.csv, ...); "
            "choose an empty folder (a district is generated there) or a OneRoster CSV set"
        )
    generate_district(data_dir, DistrictSpec(students=students, seed=seed, today=dt.date.today()))
    return f"a synthetic district of {students} students (seed {seed}) generated in {data_dir}"


def _extra(values: Sequence[str]) -> dict[str, str]:
    extra: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--option {item!r}: write KEY=VALUE (e.g. data_standard=4)")
        extra[key.strip()] = value.strip()
    return extra


def _bind(port: int) -> socket.socket:
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted connections only
    # for a socket it sees as TCP; without it every answer waits ~40 ms (Nagle).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((LOOPBACK, port))
    except OSError as exc:
        sock.close()
        raise ValueError(
            f"cannot listen on {LOOPBACK}:{port} ({exc.strerror}); choose another --port"
        ) from None
    # Listening now, before "Serving until" is printed: a client that connects at
    # once waits in the backlog for the server to start, rather than being refused.
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _serve(app: Any, sock: socket.socket) -> None:
    """Serve ``app`` on the bound ``sock`` until interrupted (Ctrl+C, SIGTERM)."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    server.run(sockets=[sock])


# -- TOML --------------------------------------------------------------------------

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _toml_string(text: str) -> str:
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _toml_string(key)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_toml_key(str(k))} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write a {type(value).__name__} as TOML")


def sources_toml(table: Mapping[str, Any]) -> str:
    """One ``[[sources]]`` table as TOML text (``tomli_w`` when installed)."""
    try:
        import tomli_w  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        lines = ["[[sources]]"]
        lines += [f"{_toml_key(str(key))} = {_toml_value(value)}" for key, value in table.items()]
        return "\n".join(lines) + "\n"
    text: str = tomli_w.dumps({"sources": [dict(table)]})
    return text


def _write_table(path: Path, table: Mapping[str, Any], kind: str) -> str:
    """Write (or append) the table; refuse a second source of the same name."""
    text = sources_toml(table)
    if not path.exists():
        header = (
            f"# Written by `homeroom simulate {kind}`. Export the variables it printed,\n"
            "# then: homeroom sources check --config " + shlex.quote(path.name) + "\n\n"
        )
        path.write_text(header + text, encoding="utf-8")
        return "written to"
    existing = path.read_text(encoding="utf-8")
    try:
        names = {str(source.get("name")) for source in tomllib.loads(existing).get("sources", [])}
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path} is not valid TOML ({exc}); choose another --config-out") from None
    if table.get("name") in names:
        raise ValueError(
            f"{path} already has a source named '{table.get('name')}'; choose --name or another --config-out"
        )
    separator = "" if existing.endswith("\n\n") else ("\n" if existing.endswith("\n") else "\n\n")
    path.write_text(existing + separator + text, encoding="utf-8")
    return "appended to"


def simulate(
    kind: Annotated[str, typer.Argument(help="adapter kind to imitate, e.g. edfi or oneroster-rest")],
    data_dir: Annotated[
        Path,
        typer.Option("--data-dir", help="OneRoster CSV set to serve; generated when the folder is empty"),
    ],
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port on 127.0.0.1 (0: any free)")] = 8100,
    client_id: Annotated[
        str, typer.Option(help="the client id (key) the simulator accepts")
    ] = "homeroom-sim",
    client_secret: Annotated[
        str | None,
        typer.Option(
            envvar="HOMEROOM_SIMULATE_CLIENT_SECRET",
            show_envvar=True,
            help="the client secret it accepts (default: a random one, printed)",
        ),
    ] = None,
    config_out: Annotated[
        Path | None, typer.Option(help="write (or append) a sources table pointing at it to this TOML file")
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="source name in the table (default: the simulator's)")
    ] = None,
    option: Annotated[
        list[str] | None, typer.Option(help="vendor knob KEY=VALUE (e.g. data_standard=4); repeatable")
    ] = None,
    students: Annotated[int, typer.Option(min=50, max=50_000, help="size of a generated district")] = 500,
    seed: Annotated[int, typer.Option(help="seed of a generated district")] = 7,
) -> None:
    """Serve a vendor simulator over a district on 127.0.0.1, for trying a source without a vendor.

    Prints the base URL, the credentials it accepts, the environment variables
    the source's table names and the table itself (written with --config-out).
    """
    points = _simulator_points()
    if kind not in points:
        installed = ", ".join(sorted(points)) or "none"
        raise _fail(f"no simulator for kind '{kind}' (installed simulators: {installed})")
    try:
        spec = installed_simulators(kind)[kind]
    except Exception as exc:  # a third party's module: report it, no traceback
        raise _fail(f"simulator '{kind}' ({points[kind].value}) cannot be loaded: {exc}") from None
    try:
        options = SimulatorOptions(
            client_id=client_id,
            client_secret=client_secret or secrets.token_urlsafe(18),
            source_name=name,
            extra=_extra(option or ()),
        )
        spec.check_options(options)
        origin = _prepare_district(data_dir.resolve(), students, seed)
        app = spec.create(data_dir.resolve(), options)
    except (TypeError, ValueError, OSError) as exc:
        raise _fail(str(exc)) from None
    try:
        sock = _bind(port)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    with contextlib.closing(sock):
        base_url = f"http://{LOOPBACK}:{sock.getsockname()[1]}"
        table = spec.source_table(base_url, options)
        environment = dict(spec.environment(options))
        if options.client_secret in {str(value) for value in table.values()}:
            raise _fail(f"simulator '{kind}' put the secret into its table; report this to its author")
        written = ""
        if config_out is not None:
            try:
                written = _write_table(config_out, table, kind)
            except (OSError, ValueError) as exc:
                raise _fail(
                    str(exc) if isinstance(exc, ValueError) else f"{config_out}: {exc.strerror}"
                ) from None
        typer.echo(f"Simulating {kind} ({spec.summary or 'no summary'})")
        typer.echo(f"  over {origin}")
        typer.echo(f"  base URL       {base_url}")
        typer.echo(f"  client id      {options.client_id}")
        typer.echo(f"  client secret  {options.client_secret}")
        typer.echo("\nThe [[sources]] table reads these variables; export them where the hub runs:")
        for variable, value in environment.items():
            typer.echo(f"  export {variable}={shlex.quote(value)}")
        where = f" ({written} {config_out})" if written else " (add it to homeroom.toml, or use --config-out)"
        typer.echo(f"\n[[sources]] table{where}:")
        typer.echo("  " + sources_toml(table).rstrip("\n").replace("\n", "\n  "))
        typer.echo("\nServing until Ctrl+C.")
        sys.stdout.flush()
        _serve(app, sock)


# -- sources check -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckRow:
    """One line of ``sources check``: a source's opening, or one entity's first page.

    ``entity`` is an entity name, ``(open)`` or ``(config)``; ``records`` is
    ``None`` where nothing was read; ``reason`` says why it failed (or that a
    source opened degraded). Never a record's contents.
    """

    source: str
    entity: str
    ok: bool
    records: int | None = None
    ms: float | None = None
    reason: str = ""


@contextlib.contextmanager
def _stopwatch() -> Iterator[list[float]]:
    elapsed = [0.0]
    started = time.perf_counter()
    try:
        yield elapsed
    finally:
        elapsed[0] = (time.perf_counter() - started) * 1000


async def _check_one(
    table: Mapping[str, Any], limit: int, timeout: float, reports: dict[str, LoadReport] | None = None
) -> list[CheckRow]:
    from hub.federation.registry import build_registry
    from hub.sdk import ConfigError, FetchRequest, SourceError

    name = str(table.get("name") or "?")
    try:
        registry = build_registry([table])
    except ConfigError as exc:
        return [CheckRow(name, CONFIG, False, reason=f"key '{exc.key}': {exc.reason}")]
    rows: list[CheckRow] = []
    try:
        with _stopwatch() as elapsed:
            try:
                async with asyncio.timeout(timeout):
                    opened = await registry.open()
            except TimeoutError:
                opened = False
                registry.states[name].last_error = f"no answer within {timeout:g} s (--timeout)"
        state = registry.states[name]
        if not opened:
            return [CheckRow(name, OPEN, False, ms=elapsed[0], reason=state.last_error or "did not open")]
        if state.report is not None and reports is not None:
            reports[name] = state.report
        rejected = len(state.report.rejected) if state.report else 0
        note = (
            f"degraded: {rejected} rows rejected while loading (--details: file and line)" if rejected else ""
        )
        rows.append(CheckRow(name, OPEN, True, ms=elapsed[0], reason=note))
        entities = registry.capabilities[name].entities
        for entity in Entity:
            support = entities.get(entity)
            if support is None:
                continue
            request = FetchRequest(entity=entity, fields=support.fields, limit=limit)
            failure: str | None
            with _stopwatch() as elapsed:
                try:
                    async with asyncio.timeout(timeout):
                        result = await registry.fetch(name, request)
                except SourceError as exc:
                    failure = exc.reason
                except TimeoutError:
                    failure = f"no answer within {timeout:g} s (--timeout)"
                else:
                    failure = None
            if failure is None:
                rows.append(CheckRow(name, entity.value, True, len(result.records), elapsed[0]))
            else:
                rows.append(CheckRow(name, entity.value, False, ms=elapsed[0], reason=failure))
        return rows
    finally:
        await registry.aclose()


async def check_sources(
    settings: Settings,
    *,
    only: Sequence[str] = (),
    limit: int = 5,
    timeout: float = 30.0,
    reports: dict[str, LoadReport] | None = None,
) -> list[CheckRow]:
    """Open each configured source (or those named in ``only``) and read one page
    (``limit`` records, every declared field) of each entity it declares.

    Sources are checked concurrently, the entities of one source one after
    another. Relative ``path``/``*_file`` values are resolved as ``serve`` does.
    ``reports``, when given, receives each opened source's load report by name.
    """
    from hub.assemble import _with_resolved_paths

    tables = _with_resolved_paths(settings)
    rows_of: dict[int, list[CheckRow]] = {}
    seen: set[str] = set()
    pending: list[tuple[int, Mapping[str, Any]]] = []
    for index, table in enumerate(tables):
        name = str(table.get("name") or "?")
        if only and name not in only:
            continue
        if name in seen:
            rows_of[index] = [CheckRow(name, CONFIG, False, reason="key 'name': two sources have this name")]
            continue
        seen.add(name)
        pending.append((index, table))
    results = await asyncio.gather(*(_check_one(table, limit, timeout, reports) for _, table in pending))
    for (index, _), rows in zip(pending, results, strict=True):
        rows_of[index] = rows
    return [row for index in sorted(rows_of) for row in rows_of[index]]


async def identity_report(settings: Settings) -> list[str]:
    """Match the sources as ``serve`` would (``[identity]``) and describe the
    outcome: links made, and every pair of look-alikes kept apart and why."""
    from hub.assemble import _with_resolved_paths
    from hub.federation.identity import build_identity_map
    from hub.federation.registry import build_registry

    registry = build_registry(_with_resolved_paths(settings))
    try:
        await registry.open()
        identity = await build_identity_map(registry, settings.identity)
    finally:
        await registry.aclose()
    links = Counter(
        f"{entity.value} {secondary[0]}->{primary[0]}" for entity, secondary, primary, _ in identity.links()
    )
    lines = [f"identity: {n} {what} merged" for what, n in sorted(links.items())] or [
        "identity: nothing merged"
    ]
    lines += [f"identity: {ambiguity}" for ambiguity in identity.ambiguities]
    return lines


def render_rows(rows: Sequence[CheckRow]) -> str:
    """The rows as an aligned text table with a header and a summary line."""
    header = ("SOURCE", "ENTITY", "RESULT", "RECORDS", "MS", "REASON")
    cells = [
        (
            row.source,
            row.entity,
            "ok" if row.ok else "FAILED",
            "-" if row.records is None else str(row.records),
            "-" if row.ms is None else (f"{row.ms:.1f}" if row.ms < 10 else f"{row.ms:.0f}"),
            row.reason,
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in [header, *cells]) for i in range(5)]
    right = (False, False, False, True, True)

    def line(values: Sequence[str]) -> str:
        parts = [
            value.rjust(width) if align else value.ljust(width)
            for value, width, align in zip(values[:5], widths, right, strict=True)
        ]
        return ("  ".join(parts) + "  " + values[5]).rstrip()

    failed = sum(1 for row in rows if not row.ok)
    sources = len(dict.fromkeys(row.source for row in rows))
    summary = f"{sources} source(s), {len(rows)} check(s): {len(rows) - failed} ok, {failed} failed"
    return "\n".join([line(header), *(line(values) for values in cells), "", summary])


def render_details(rows: Sequence[CheckRow], reports: Mapping[str, LoadReport]) -> str:
    """The check table, then each source's data-quality report (files, grouped problems)."""
    lines = [render_rows(rows)]
    for name in dict.fromkeys(row.source for row in rows):
        report = reports.get(name)
        if report is None:
            continue
        lines += ["", f"source {name}: data quality"]
        lines += [f"  {line}" for line in render_report(report)]
    return "\n".join(lines)


def render_json(rows: Sequence[CheckRow], reports: Mapping[str, LoadReport]) -> str:
    """The checks and every source's full report as JSON: counts, files, grouped problems."""
    body = {
        "checks": [{**asdict(row), "ms": None if row.ms is None else round(row.ms, 1)} for row in rows],
        "sources": {name: report.as_json() for name, report in reports.items()},
        "ok": all(row.ok for row in rows),
    }
    return json.dumps(body, indent=2)


def _data_dir_settings(data_dir: Path) -> Settings:
    """Settings with one ``oneroster-csv`` source over ``data_dir`` (no config file needed)."""
    path = data_dir.expanduser().resolve()
    if not path.exists():
        raise SettingsError(f"{data_dir}: no such folder or zip")
    return load_settings(
        None, sources=({"name": "csv", "kind": "oneroster-csv", "path": str(path), "watch": False},)
    )


@sources_app.command("check")
def check(
    config: Annotated[Path, typer.Option(help="homeroom.toml")] = Path("homeroom.toml"),
    source: Annotated[
        list[str] | None, typer.Option(help="check only this source (by name); repeatable")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100, help="records to read per entity")] = 5,
    timeout: Annotated[float, typer.Option(min=0.1, help="seconds allowed per open and per read")] = 30.0,
    details: Annotated[
        bool,
        typer.Option(
            "--details", help="also print each source's data-quality report: file:line column: reason"
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="print the checks and full data-quality reports as JSON")
    ] = False,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir", help="check this OneRoster CSV folder or zip instead of --config's sources"
        ),
    ] = None,
) -> None:
    """Connect to each configured source, authenticate and read one page of each
    declared entity; print what worked, with timings and reasons. Exit 1 if anything failed.

    ``--details`` adds, per source that reads files, the rows read, accepted,
    accepted with warnings and rejected per file, and every problem as
    ``file:line column: reason (how to fix)``; never a value from the data."""
    try:
        settings = _data_dir_settings(data_dir) if data_dir is not None else load_settings(config)
    except SettingsError as exc:
        raise _fail(str(exc)) from None
    names = [str(table.get("name") or "?") for table in settings.sources]
    if not names:
        raise _fail(f"{config} has no [[sources]] table")
    unknown = sorted(set(source or ()) - set(names))
    if unknown:
        raise _fail(f"no source named {', '.join(unknown)} in {config} (sources: {', '.join(names)})")
    reports: dict[str, LoadReport] = {}
    rows = asyncio.run(
        check_sources(settings, only=source or (), limit=limit, timeout=timeout, reports=reports)
    )
    if as_json:
        typer.echo(render_json(rows, reports))
    elif details:
        typer.echo(render_details(rows, reports))
    else:
        typer.echo(render_rows(rows))
    if not all(row.ok for row in rows):
        raise typer.Exit(code=1)
    if settings.identity.match and not source and not as_json:
        # Ambiguities are reported, not failures: the records simply stay apart.
        typer.echo("")
        for line in asyncio.run(identity_report(settings)):
            typer.echo(line)
