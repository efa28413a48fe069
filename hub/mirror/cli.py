"""``homeroom mirror ...``: how fresh each mirrored source is, and asking for a full re-read.

Output names sources, entities, counts, times and data-free sync errors;
never a record's values.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import select

from hub.mirror.control import request_resync, syncer_seen
from hub.mirror.store import EntityState, MirrorStore
from hub.mirror.tables import MIRROR_STATE
from hub.model import Entity
from hub.store.cli import ConfigOption, fail
from hub.store.engine import StoreError, create_engine, store_url
from hub.store.migrate import ensure_up_to_date

__all__ = ["SYNCER_STALE_SECONDS", "mirror_app"]

SYNCER_STALE_SECONDS = 60.0
"""A hub not seen syncing a source for this long is taken to be stopped."""

mirror_app = typer.Typer(
    help="The read model: how fresh each mirrored source is; ask for a full re-read.",
    no_args_is_help=True,
)

_COLUMNS = ("source", "entity", "rows", "last full sync", "last delta", "lag", "last error")


def _settings(config: Path) -> Any:
    from hub.settings import SettingsError, load_settings

    try:
        return load_settings(config)
    except SettingsError as exc:
        raise fail(str(exc)) from None


def _mirrored(settings: Any) -> list[str]:
    """The names of the sources whose validated ``mode`` is ``"mirror"`` (HTTP sources' default)."""
    from hub.federation.registry import installed_kinds, validate_source
    from hub.sdk import ConfigError

    kinds = installed_kinds()
    names = []
    for table in settings.sources:
        try:
            _, config = validate_source(table, kinds)
        except ConfigError as exc:
            # Another source's table (a CSV path not mounted here) must not stop this command.
            typer.echo(f"warning: [[sources]] {exc}; left out", err=True)
            continue
        if config.mode == "mirror":
            names.append(config.name)
    return names


def _when(moment: dt.datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%SZ") if moment is not None else "-"


def _lag(state: EntityState, now: dt.datetime) -> str:
    last = state.last_sync
    return "-" if last is None else f"{max((now - last).total_seconds(), 0.0):.0f}s"


async def _states(url: str) -> list[tuple[str, EntityState]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            sources = sorted(set((await conn.execute(select(MIRROR_STATE.c.source))).scalars()))
        store = MirrorStore(engine)
        out: list[tuple[str, EntityState]] = []
        for source in sources:
            held = await store.state(source)
            out.extend((source, held[entity]) for entity in sorted(held, key=lambda e: e.value))
        return out
    finally:
        await engine.dispose()


@mirror_app.command("status")
def status_command(config: ConfigOption = Path("homeroom.toml")) -> None:
    """Per mirrored source and entity: rows, last full and delta sync, lag and last error."""
    settings = _settings(config)
    url = store_url(settings)

    async def run() -> list[tuple[str, EntityState]]:
        await ensure_up_to_date(url, config)
        return await _states(url)

    try:
        held = asyncio.run(run())
    except StoreError as exc:
        raise fail(str(exc)) from None
    now = dt.datetime.now(dt.UTC)
    rows = [
        (
            source,
            state.entity.value,
            str(state.rows if state.rows is not None else "-"),
            _when(state.last_full_sync),
            _when(state.last_delta_sync),
            _lag(state, now),
            (state.last_error or "") + (" (resync requested)" if state.resync_requested else ""),
        )
        for source, state in held
    ]
    synced = {row[0] for row in rows}
    for name in _mirrored(settings):
        if name not in synced:
            rows.append((name, "-", "-", "never", "-", "-", "not synced yet"))
    if not rows:
        typer.echo('no mirrored source (set mode = "mirror" on a [[sources]] table)')
        return
    widths = [max(len(str(row[i])) for row in (_COLUMNS, *rows)) for i in range(len(_COLUMNS))]
    for row in (_COLUMNS, *rows):
        typer.echo(
            "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def _entity(name: str) -> Entity:
    for entity in Entity:
        if name.lower() in (entity.value.lower(), entity.name.lower()):
            return entity
    raise fail(f"unknown entity {name!r} (one of: {', '.join(e.value for e in Entity)})")


@mirror_app.command("resync")
def resync_command(
    source: Annotated[str, typer.Argument(help="the [[sources]] name")],
    entity: Annotated[str | None, typer.Argument(help="one entity (e.g. Score); all when left out")] = None,
    config: ConfigOption = Path("homeroom.toml"),
) -> None:
    """Mark SOURCE (or one ENTITY of it) for a full re-read: the hub syncing it
    reads it at its next tick; when no hub is syncing it, read it here and now."""
    settings = _settings(config)
    if source not in _mirrored(settings):
        raise fail(f'{source!r} is not a mirrored source of {config} (mode = "mirror")')
    url = store_url(settings)
    asked = [_entity(entity)] if entity is not None else list(Entity)

    async def mark() -> tuple[list[Entity], tuple[str, dt.datetime] | None]:
        await ensure_up_to_date(url, config)
        engine = create_engine(url)
        try:
            now = dt.datetime.now(dt.UTC)
            return await request_resync(engine, source, asked, now), await syncer_seen(engine, source)
        finally:
            await engine.dispose()

    try:
        marked, seen = asyncio.run(mark())
    except StoreError as exc:
        raise fail(str(exc)) from None
    now = dt.datetime.now(dt.UTC)
    if seen is not None and (now - seen[1]).total_seconds() < SYNCER_STALE_SECONDS:
        names = ", ".join(e.value for e in marked) or "nothing held yet"
        typer.echo(
            f"{source}: marked for a full re-read ({names}); {seen[0]} syncs it and reads it at its next tick"
        )
        return
    _read_here(settings, source, asked)


def _read_here(settings: Any, source: str, entities: list[Entity]) -> None:
    from hub.assemble import ConfigurationProblem, assemble
    from hub.mirror.adapter import MirroredAdapter
    from hub.sdk import SourceError

    try:
        hub = assemble(settings)
    except ConfigurationProblem as exc:
        raise fail(str(exc)) from None
    adapter = hub.registry.adapters[source]
    assert isinstance(adapter, MirroredAdapter)
    typer.echo(f"{source}: no hub is syncing it; reading it in full here")
    try:
        counts = asyncio.run(adapter.read_in_full(entities))
    except SourceError as exc:
        raise fail(f"{source}: {exc.reason}") from None
    if counts is None:
        typer.echo(f"{source}: a hub process started syncing it meanwhile; it reads what was marked")
        return
    for name, rows in counts.items():
        typer.echo(f"{source}: {name} read in full: {rows} rows")
