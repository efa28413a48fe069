"""``homeroom audit ...``: verify the chain, export a student's record, purge by retention.

Each command checks first that the database is migrated, and exits 2 with the
command to run when it is not. Output names event numbers and counts; only
``export`` writes subjects and field names, and only where it is told to.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from hub.audit.log import AuditIntegrityError, AuditLog, ExportFormat
from hub.store.cli import ConfigOption, UrlOption, fail, url_from_options
from hub.store.engine import StoreError, create_engine, redact_url
from hub.store.migrate import ensure_up_to_date

__all__ = ["DEFAULT_RETENTION_DAYS", "audit_app", "retention_days"]

DEFAULT_RETENTION_DAYS = 1825

audit_app = typer.Typer(
    help="The disclosure audit log: verify the hash chain, export a student's record, purge old events.",
    no_args_is_help=True,
)

T = TypeVar("T")


def retention_days(settings: object) -> int:
    """``[audit] retention_days`` of ``settings`` (five years when unset)."""
    days = getattr(getattr(settings, "audit", None), "retention_days", None)
    return int(days) if days else DEFAULT_RETENTION_DAYS


def _with_log(config: Path, url: str | None, work: Callable[[AuditLog], Awaitable[T]]) -> T:
    target = url_from_options(config, url)
    hint: Path | str = config if not url else "FILE"

    async def run() -> T:
        await ensure_up_to_date(target, hint)
        engine = create_engine(target)
        try:
            return await work(AuditLog(engine))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except (StoreError, AuditIntegrityError) as exc:
        raise fail(str(exc)) from None
    except (ValueError, OSError) as exc:
        raise fail(str(exc)) from None
    except typer.Exit:
        raise
    except Exception as exc:
        # A driver's message may quote values or the URL's password: name the kind only.
        raise fail(f"the audit log at {redact_url(target)} cannot be read: {type(exc).__name__}") from None


def _anchors(values: list[str] | None) -> dict[int, str]:
    anchors: dict[int, str] = {}
    for value in values or ():
        seq, sep, digest = value.partition(":")
        if not sep or not seq.isdigit() or len(digest) != 64:
            raise fail(f"--anchor {value!r}: expected SEQ:HASH as printed by `homeroom audit verify`")
        anchors[int(seq)] = digest.lower()
    return anchors


@audit_app.command()
def verify(
    config: ConfigOption = Path("homeroom.toml"),
    url: UrlOption = None,
    anchor: Annotated[
        list[str] | None,
        typer.Option(help="SEQ:HASH from an earlier run (kept elsewhere) that must still hold; repeatable."),
    ] = None,
) -> None:
    """Check every event's hash and link; name each edited, deleted or re-ordered event. Exit 1 if damaged."""
    anchors = _anchors(anchor)
    report = _with_log(config, url, lambda audit: audit.verify(anchors))
    typer.echo(report.describe())
    if not report.ok:
        raise typer.Exit(code=1)


@audit_app.command()
def export(
    student: Annotated[
        str,
        typer.Option(
            help="hub id of the student, as the hub returns it (a guardian's or teacher's works too)"
        ),
    ],
    format: Annotated[ExportFormat, typer.Option("--format", help="csv or json")] = ExportFormat.JSON,
    out: Annotated[Path | None, typer.Option(help="write here (mode 600) instead of standard output")] = None,
    config: ConfigOption = Path("homeroom.toml"),
    url: UrlOption = None,
) -> None:
    """Export the record of requests and disclosures about one student (a parent's inspection request):
    per event, only the fields disclosed about that student."""
    document = _with_log(config, url, lambda audit: audit.export(student, format))
    if out is None:
        typer.echo(document, nl=False)
        return
    # The file names the people who saw this student's records: readable by its owner only.
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(document)
    typer.echo(f"written to {out}", err=True)


@audit_app.command()
def purge(
    days: Annotated[
        int | None, typer.Option(min=1, help="keep this many days (default: [audit] retention_days, 1825)")
    ] = None,
    config: ConfigOption = Path("homeroom.toml"),
    url: UrlOption = None,
) -> None:
    """Delete events older than the retention period, keeping the rest of the chain verifiable."""
    if days is None:
        days = DEFAULT_RETENTION_DAYS
        if not url or config.exists():
            from hub.settings import SettingsError, load_settings

            try:
                days = retention_days(load_settings(config))
            except SettingsError as exc:
                raise fail(str(exc)) from None
    keep = days
    result = _with_log(config, url, lambda audit: audit.purge_older_than(keep))
    if result.removed:
        typer.echo(f"removed {result.removed} events, through seq {result.through_seq} (> {keep} days old)")
    else:
        typer.echo(f"nothing older than {keep} days")
