"""``homeroom``: serve, demo, token, policy and simulate commands."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn

from hub.auth import DevSigner, OidcVerifier, Verifier, load_or_create_key
from hub.settings import Settings, SettingsError, load_settings

app = typer.Typer(
    help="Homeroom: a school district's own GraphQL hub over its SIS and LMS vendors.",
    no_args_is_help=True,
    add_completion=False,
)
log = logging.getLogger("homeroom")

DEMO_ISSUER = "homeroom-demo"


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=2)


def _logging(fmt: str | None = None) -> None:
    """The hub's log, as ``fmt`` says (else ``$HOMEROOM_LOG_FORMAT``, else text)."""
    from hub.logs import configure_logging

    chosen = fmt or os.environ.get(LOG_FORMAT_ENV) or "text"
    configure_logging("json" if chosen == "json" else "text")


LOG_FORMAT_ENV = "HOMEROOM_LOG_FORMAT"


def _load(config: Path | None, **overrides: Any) -> Settings:
    try:
        return load_settings(config, **overrides)
    except SettingsError as exc:
        raise _fail(str(exc)) from None


def _dev_signer(settings: Settings) -> DevSigner | None:
    if not settings.auth.dev_key_file:
        return None
    key_path = settings.resolve(settings.auth.dev_key_file)
    try:
        key = load_or_create_key(key_path)
    except (OSError, ValueError) as exc:
        raise _fail(f"[auth] dev_key_file: {exc}") from None
    return DevSigner(
        key,
        issuer=settings.auth.dev_issuer,
        audience=settings.auth.audience,
        leeway=settings.auth.clock_skew_seconds,
    )


SWITCH_INTERVAL = 0.0005
"""Seconds a thread holds the GIL before another may take it (Python's default: 0.005).

The SQLite driver runs each query in a thread of its own; with the default,
under load, every answer handed back to the event loop can wait 5 ms for the
GIL, and a dashboard makes dozens of queries. Measured by bench.dashboard_load."""


WEBSOCKET_OPTIONS: dict[str, Any] = {"ws_per_message_deflate": False}
"""Subscription events are a few hundred bytes: compressing each cost CPU at
every send and a compressor per socket (measured by bench.realtime)."""


def _run(app_: Any, host: str, port: int, **workers: Any) -> None:
    """Serve ``app_`` (an app, or with ``workers`` the import string of its factory)."""
    sys.setswitchinterval(SWITCH_INTERVAL)
    uvicorn.run(
        app_,
        host=host,
        port=port,
        log_level="warning",
        log_config=None,  # the hub's own handler (text or JSON, with request ids)
        access_log=False,  # the hub writes its own, without query strings
        lifespan="on",
        **WEBSOCKET_OPTIONS,
        **workers,
    )


async def _prepare_store(url: str, config: Path) -> None:
    """A new SQLite file is created on the spot (the default needs no set-up);
    any other database that is behind is refused with the command to run."""
    from hub.store import current_revision, ensure_up_to_date, upgrade
    from hub.store.engine import sqlite_path

    if sqlite_path(url) is not None and await current_revision(url) is None:
        await upgrade(url)
        log.info("created the hub's SQLite database")
    await ensure_up_to_date(url, config)


WORKER_CONFIG_ENV = "HOMEROOM_SERVE_CONFIG"
"""Set by ``serve --workers N`` for its workers: the config each of them serves."""


@app.command()
def serve(
    config: Annotated[Path, typer.Option(help="homeroom.toml")] = Path("homeroom.toml"),
    host: Annotated[str | None, typer.Option(help="interface to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port")] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="worker processes (more than one needs a PostgreSQL [store])")
    ] = 1,
    log_format: Annotated[
        str | None, typer.Option(help="text or json (default: [server] log_format)", case_sensitive=False)
    ] = None,
) -> None:
    """Serve /graphql and /healthz for the sources in CONFIG."""
    if log_format is not None and log_format.lower() not in ("text", "json"):
        raise _fail("--log-format must be text or json")
    _logging(log_format)
    settings = _load(config)
    fmt = (log_format or settings.server.log_format).lower()
    _logging(fmt)
    from sqlalchemy.engine import make_url

    from hub.store import StoreError, redact_url, store_url

    url = store_url(settings)
    # By backend, whatever the form (a file, :memory:, a file: URI): one process each.
    if workers > 1 and make_url(url).get_backend_name() == "sqlite":
        raise _fail(
            f"serve --workers {workers}: SQLite is a one-process store; set [store] url to a "
            "PostgreSQL database (postgresql+asyncpg://...) to run several workers, or serve one"
        )
    try:
        asyncio.run(_prepare_store(url, config))
    except StoreError as exc:
        raise _fail(str(exc)) from None
    log.info("audit log and identity links in %s", redact_url(url))
    host = host if host is not None else settings.server.host
    port = port if port is not None else settings.server.port
    if workers == 1:
        _run(_serving_app(settings), host, port)
        return
    # The development key made once, here: workers creating it at once would race.
    _dev_signer(settings)
    os.environ[WORKER_CONFIG_ENV] = str(config.resolve())
    os.environ[LOG_FORMAT_ENV] = fmt
    # Each worker's counters, summed by every scrape of /metrics (docs/operations.md);
    # a folder left by an earlier run is emptied, or its counts would be added again.
    given = os.environ.get(METRICS_DIR_ENV)
    metrics_dir = Path(given) if given else Path(tempfile.mkdtemp(prefix="homeroom-metrics-"))
    metrics_dir.mkdir(parents=True, exist_ok=True)
    for stale in metrics_dir.glob("*.db"):
        stale.unlink()
    os.environ[METRICS_DIR_ENV] = str(metrics_dir)
    log.info("serving with %d worker processes", workers)
    try:
        _run("hub.cli:worker_app", host, port, factory=True, workers=workers)
    finally:
        if not given:
            shutil.rmtree(metrics_dir, ignore_errors=True)


METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


def worker_app() -> Any:
    """The app one worker of ``serve --workers N`` serves (uvicorn imports it in each process)."""
    _logging()
    sys.setswitchinterval(SWITCH_INTERVAL)
    # No progress bars: several workers would draw over each other.
    return _serving_app(_load(Path(os.environ[WORKER_CONFIG_ENV])), progress=False)


def _serving_app(settings: Settings, *, progress: bool = True) -> Any:
    """The hub of ``settings`` and its app, with the sign-in it configures
    (``progress``: draw the first sync's progress on a terminal)."""
    from hub.app import create_app
    from hub.assemble import ConfigurationProblem, assemble
    from hub.store import store_url

    signers: list[Verifier] = []
    oidc = settings.auth.oidc()
    if oidc is not None:
        if settings.auth.dev_key_file and settings.auth.dev_issuer in oidc.issuers:
            raise _fail("[auth] dev_issuer must differ from issuer and issuer_aliases")
        log.info("sign-in: identity provider %s, audience %s", oidc.issuer, oidc.audience)
        signers.append(OidcVerifier(oidc))
    dev = _dev_signer(settings)
    if dev is not None:
        log.warning(
            "development sign-in is ON ([auth] dev_key_file): tokens from `homeroom token` "
            "are accepted; turn it off before real use"
        )
        signers.append(dev)
    try:
        hub = assemble(settings, signers)
    except ConfigurationProblem as exc:
        raise _fail(str(exc)) from None
    if settings.server.tracing:
        from hub.tracing import TracingUnavailable, start_tracing

        try:
            start_tracing()
        except TracingUnavailable as exc:
            raise _fail(str(exc)) from None
    if not signers:
        log.warning("no sign-in method is configured: every request will be refused (401)")
    return create_app(hub, store_url=store_url(settings), sync_progress=progress and sys.stderr.isatty())


@app.command()
def token(
    role: Annotated[str, typer.Option(help="policy role, e.g. teacher")],
    config: Annotated[Path, typer.Option(help="homeroom.toml with [auth] dev_key_file")] = Path(
        "homeroom.toml"
    ),
    person: Annotated[str | None, typer.Option(help="sourcedId of the roster person")] = None,
    subject: Annotated[str | None, typer.Option(help="token subject")] = None,
    hours: Annotated[int, typer.Option(help="validity in hours")] = 12,
) -> None:
    """Print a development bearer token that `serve` accepts with this CONFIG."""
    settings = _load(config)
    signer = _dev_signer(settings)
    if signer is None:
        raise _fail(f"{config}: development sign-in is off; set [auth] dev_key_file")
    subject = subject or (f"dev:{person}" if person else f"dev:{role}")
    typer.echo(signer.issue(subject=subject, roles=[role], sourced_id=person, ttl_seconds=hours * 3600))


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="TCP port on 127.0.0.1")] = 8000,
    students: Annotated[int, typer.Option(min=50, max=50_000, help="size of the synthetic district")] = 500,
    data_dir: Annotated[Path, typer.Option(help="OneRoster CSV folder (generated when empty)")] = Path(
        "homeroom-demo"
    ),
    tokens_out: Annotated[Path | None, typer.Option(help="also write the persona tokens as JSON")] = None,
    seed: Annotated[int, typer.Option(help="generator seed")] = 7,
    store_url: Annotated[
        str, typer.Option(help="database of the demo's audit log")
    ] = "sqlite+aiosqlite:///homeroom-demo.db",
    sources: Annotated[
        str,
        typer.Option(
            help="sis+lms: a OneRoster REST SIS and a Canvas LMS, simulated on loopback and merged; "
            "csv: the OneRoster CSV files alone"
        ),
    ] = "sis+lms",
    changes: Annotated[
        bool,
        typer.Option(
            help="change a few scores and attendance marks of the simulated vendors every minute "
            "(subscriptions then show them); sis+lms over generated data only"
        ),
    ] = True,
    changes_every: Annotated[
        float, typer.Option(min=1, help="seconds between two rounds of --changes")
    ] = 60.0,
) -> None:
    """Generate (or reuse) a district, serve it on 127.0.0.1 and print persona tokens."""
    if sources not in ("sis+lms", "csv"):
        raise _fail("--sources must be sis+lms or csv")
    from hub.demo import DEMO_HOST, prepare_demo
    from hub.store import StoreError

    _logging()
    signer = DevSigner(secrets.token_bytes(32), issuer=DEMO_ISSUER)

    async def run_demo() -> None:
        # One event loop from start to finish: HTTP sources opened while
        # preparing keep their connections for serving.
        started = time.perf_counter()
        try:
            prepared = await prepare_demo(
                data_dir,
                students=students,
                seed=seed,
                signer=signer,
                store_url=store_url,
                sources=sources,
                port=port,
            )
        except (ValueError, OSError, StoreError) as exc:
            raise _fail(str(exc)) from None
        from hub.demo_changes import DemoChanges

        ticker = None
        if changes and sources == "sis+lms" and prepared.generated:
            ticker = DemoChanges(data_dir, interval=changes_every).start()
        try:
            _announce(prepared, tokens_out, port, time.perf_counter() - started)
            if ticker is not None:
                typer.echo(
                    f"Every {changes_every:g} s a few scores and attendance marks change (--no-changes: off)."
                )
            config = uvicorn.Config(
                prepared.app, host=DEMO_HOST, port=port, log_level="warning", **WEBSOCKET_OPTIONS
            )
            await uvicorn.Server(config).serve()
        finally:
            if ticker is not None:
                ticker.stop()
            prepared.close()

    asyncio.run(run_demo())


def _announce(prepared: Any, tokens_out: Path | None, port: int, seconds: float) -> None:
    typer.echo(prepared.describe())
    tokens = prepared.tokens
    if tokens_out is not None:
        # Created 0600 (never readable by others, not even for a moment).
        fd = os.open(tokens_out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(json.dumps(tokens, indent=2) + "\n")
        typer.echo(f"tokens written to {tokens_out}")
    typer.echo("\nBearer tokens (valid 12 hours, only for this demo run):")
    for name, entry in tokens.items():
        typer.echo(f"  {name:15s} {entry['token']}")
    typer.echo(f"\nGraphiQL: http://127.0.0.1:{port}/graphql   (ready in {seconds:.1f}s)")
    typer.echo(
        f"Try:  curl -s http://127.0.0.1:{port}/graphql -H 'Authorization: Bearer <token>' "
        "-H 'Content-Type: application/json' -d '{\"query\":\"{ viewer { subject roles } }\"}'"
    )
    sys.stdout.flush()


def _mount_subcommands() -> None:
    from hub.audit.cli import audit_app
    from hub.config_cli import config_app
    from hub.mirror.cli import mirror_app
    from hub.policy.cli import policy_app
    from hub.sources_cli import simulate, sources_app
    from hub.store.cli import db_app

    app.add_typer(policy_app, name="policy", help="Check, test, explain and compare policy files.")
    app.add_typer(db_app, name="db", help="Migrate and check the hub's database.")
    app.add_typer(config_app, name="config", help="Show the settings in effect, secrets masked.")
    app.add_typer(audit_app, name="audit", help="Verify, export and purge the disclosure audit log.")
    app.add_typer(mirror_app, name="mirror", help="Mirrored sources: sync status, full re-reads.")
    app.add_typer(
        sources_app,
        name="sources",
        help="Check the configured sources: connect, authenticate, read a page of each entity.",
    )
    app.command("simulate")(simulate)


_mount_subcommands()


def main() -> None:
    """Console-script entry point."""
    app()
