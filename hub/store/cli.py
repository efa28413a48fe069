"""``homeroom db ...``: apply migrations and show where the database stands."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from hub.store.engine import StoreError, redact_url, store_url
from hub.store.migrate import current_revision, head_revision, upgrade

__all__ = ["ConfigOption", "UrlOption", "db_app", "fail", "url_from_options"]

db_app = typer.Typer(
    help="The hub's database (identity links, audit log, policy reloads): migrate and check.",
    no_args_is_help=True,
)

ConfigOption = Annotated[Path, typer.Option("--config", help="homeroom.toml ([store] url)")]
UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        help="Database URL instead of the one in CONFIG (a password is better kept in "
        "$HOMEROOM_STORE_URL or PGPASSWORD).",
    ),
]


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: MESSAGE`` to stderr; the Exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=code)


def url_from_options(config: Path, url: str | None) -> str:
    """The store URL: ``--url``, else from CONFIG (see :func:`hub.store.store_url`)."""
    if url:
        return url
    from hub.settings import SettingsError, load_settings

    try:
        settings = load_settings(config)
    except SettingsError as exc:
        raise fail(str(exc)) from None
    return store_url(settings)


@db_app.command("upgrade")
def upgrade_command(config: ConfigOption = Path("homeroom.toml"), url: UrlOption = None) -> None:
    """Apply every pending migration to the database."""
    target = url_from_options(config, url)
    try:
        before, after = asyncio.run(upgrade(target))
    except StoreError as exc:
        raise fail(str(exc)) from None
    except Exception as exc:
        # Driver messages may quote the URL with its password: show only the kind.
        raise fail(f"could not migrate {redact_url(target)}: {type(exc).__name__}") from None
    if before == after:
        typer.echo(f"{redact_url(target)}: already at revision {after}")
    else:
        typer.echo(f"{redact_url(target)}: upgraded from {before or 'empty'} to revision {after}")


@db_app.command("status")
def status_command(config: ConfigOption = Path("homeroom.toml"), url: UrlOption = None) -> None:
    """Show the database's revision against this version's; exit 1 when behind."""
    target = url_from_options(config, url)
    head = head_revision()
    try:
        current = asyncio.run(current_revision(target))
    except StoreError as exc:
        raise fail(str(exc)) from None
    except Exception as exc:
        raise fail(f"could not read {redact_url(target)}: {type(exc).__name__}") from None
    typer.echo(f"database: {redact_url(target)}")
    typer.echo(f"revision: {current or 'none (empty)'}")
    typer.echo(f"needed:   {head}")
    if current != head:
        where = f"--url {redact_url(target)}" if url else f"--config {config}"
        typer.echo(f"behind: run `homeroom db upgrade {where}`")
        raise typer.Exit(code=1)
    typer.echo("up to date")
