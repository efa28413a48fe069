"""The sources a hub serves: discovered through entry points, configured in
``homeroom.toml``, opened at start-up and called through one door."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from hub.logsafe import safe_exception
from hub.mirror.adapter import MirroredAdapter
from hub.model import Entity
from hub.sdk import (
    Adapter,
    AdapterSpec,
    Capabilities,
    ConfigError,
    FetchRequest,
    FetchResult,
    LoadReport,
    SourceConfig,
    SourceError,
    SourceUnavailable,
    UnsupportedRequest,
)
from hub.sdk.http import RequestRejected

if TYPE_CHECKING:
    from hub.mirror.wiring import MirrorWiring

__all__ = ["SourceRegistry", "SourceState", "build_registry", "installed_kinds", "validate_source"]

ENTRY_POINT_GROUP = "homeroom.adapters"
log = logging.getLogger("homeroom.sources")

# Refusals of the request itself (an undeclared filter, a cursor the adapter
# never issued, a vendor's 400 or 404 for this request): the caller's or the
# hub's doing, which says nothing about the vendor. Everything else (outages,
# timeouts, 5xx, refused credentials, unreadable answers, adapter bugs) does.
_REQUEST_REFUSALS: tuple[type[SourceError], ...] = (UnsupportedRequest, RequestRejected)


def installed_kinds() -> dict[str, AdapterSpec[Any]]:
    """Every adapter kind registered under the ``homeroom.adapters`` entry point."""
    kinds: dict[str, AdapterSpec[Any]] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        spec = point.load()
        if not isinstance(spec, AdapterSpec):
            raise ConfigError(point.name, "kind", f"entry point {point.value} is not an AdapterSpec")
        kinds[spec.kind] = spec
    return kinds


def _config_error(name: str, error: ValidationError, kinds: Iterable[str]) -> ConfigError:
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "?"
    reason = first["msg"]
    if first["type"] == "extra_forbidden":
        reason = "unknown key"
    return ConfigError(name, key, f"{reason} (installed kinds: {', '.join(sorted(kinds))})")


def configure_source(table: Mapping[str, Any], kinds: Mapping[str, AdapterSpec[Any]]) -> Adapter:
    """Validate one ``[[sources]]`` table and build its adapter."""
    spec, config = validate_source(table, kinds)
    return spec.create(config)


def validate_source(
    table: Mapping[str, Any], kinds: Mapping[str, AdapterSpec[Any]]
) -> tuple[AdapterSpec[Any], SourceConfig]:
    """One ``[[sources]]`` table checked against its kind's config: the spec and the validated config."""
    name = str(table.get("name") or "?")
    installed = ", ".join(sorted(kinds)) or "none"
    if "name" not in table:
        raise ConfigError(name, "name", f"missing (installed kinds: {installed})")
    if "kind" not in table:
        raise ConfigError(name, "kind", f"missing (installed kinds: {installed})")
    spec = kinds.get(str(table["kind"]))
    if spec is None:
        raise ConfigError(name, "kind", f"unknown kind '{table['kind']}' (installed kinds: {installed})")
    try:
        config: SourceConfig = spec.config.model_validate(dict(table))
    except ValidationError as exc:
        raise _config_error(name, exc, kinds) from None
    return spec, config


@dataclass(slots=True)
class SourceState:
    """Health of one source as the hub last saw it; no personal data."""

    name: str
    kind: str
    state: str = "DOWN"  # UP | DEGRADED | DOWN
    last_error: str | None = None
    latency_ms: float | None = None
    report: LoadReport | None = None
    mode: str = "live"  # live | mirror
    # Mirror only: when the last sync finished, and the age of the oldest data served.
    last_sync_at: dt.datetime | None = None
    lag_seconds: float | None = None

    def answered(self) -> None:
        """The vendor just answered: healthy again, unless its load rejected
        rows, which stays visible (DEGRADED) until the next load."""
        self.state = "DEGRADED" if self.report is not None and self.report.rejected else "UP"
        self.last_error = None

    def failed(self, reason: str) -> None:
        """The vendor failed a call (``reason`` is data-free)."""
        self.state, self.last_error = "DEGRADED", reason


class SourceRegistry:
    """The configured adapters and the single door every fetch goes through.

    Counting calls here lets tests prove that a query's upstream calls do not
    grow with the number of rows.
    """

    def __init__(self, adapters: Iterable[Adapter], kinds: Mapping[str, str] | None = None) -> None:
        self.adapters: dict[str, Adapter] = {}
        for adapter in adapters:
            if adapter.name in self.adapters:
                raise ConfigError(adapter.name, "name", "two sources have this name")
            self.adapters[adapter.name] = adapter
        self.capabilities: dict[str, Capabilities] = {
            name: adapter.capabilities() for name, adapter in self.adapters.items()
        }
        kinds = kinds or {}
        self.states = {name: SourceState(name, kinds.get(name, "?")) for name in self.adapters}
        for name, adapter in self.adapters.items():
            if isinstance(adapter, MirroredAdapter):
                self.states[name].mode = "mirror"
        self.calls = 0
        self.requests: list[tuple[str, FetchRequest]] = []
        self.record_requests = False

    def sources_for(self, entity: Entity) -> list[str]:
        """Names of the sources that serve ``entity``, in configuration order."""
        return [name for name, caps in self.capabilities.items() if caps.supports(entity)]

    def supported_fields(self, source: str, entity: Entity) -> frozenset[str]:
        """The attributes ``source`` can fill for ``entity``."""
        support = self.capabilities[source].entities.get(entity)
        return support.fields if support else frozenset()

    def supported_filters(self, source: str, entity: Entity) -> frozenset[str]:
        """The filters ``source`` accepts for ``entity``."""
        support = self.capabilities[source].entities.get(entity)
        return support.filters if support else frozenset()

    async def open(self) -> bool:
        """Open every source; return whether all of them came up."""
        results = await asyncio.gather(
            *(self._open_one(name, adapter) for name, adapter in self.adapters.items())
        )
        return all(results)

    async def _open_one(self, name: str, adapter: Adapter) -> bool:
        state = self.states[name]
        started = time.perf_counter()
        try:
            state.report = await adapter.open()
        except SourceError as exc:
            state.state, state.last_error = "DOWN", exc.reason
            log.error("source %s failed to open: %s", name, exc.reason)
            return False
        except Exception as exc:
            # An adapter bug must cost its own source, not the whole hub.
            state.state, state.last_error = "DOWN", f"adapter error ({type(exc).__name__})"
            log.error("source %s: unexpected error while opening: %s", name, safe_exception(exc))
            return False
        state.latency_ms = (time.perf_counter() - started) * 1000
        state.answered()
        self._observe(name)
        if state.report.problems:
            log.warning("source %s: %d row problems while loading", name, len(state.report.problems))
        return True

    async def fetch(self, source: str, request: FetchRequest) -> FetchResult:
        """Ask one source; any failure comes back as a typed ``SourceError``.

        Only the vendor's failures change the source's health; the next call
        it answers makes it healthy again."""
        adapter = self.adapters[source]
        self.calls += 1
        if self.record_requests:
            self.requests.append((source, request))
        state = self.states[source]
        started = time.perf_counter()
        try:
            result = await adapter.fetch(request)
        except SourceError as exc:
            if not isinstance(exc, _REQUEST_REFUSALS):
                state.failed(exc.reason)
            raise
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # An adapter bug must not become a 500 for the whole hub, nor leak
            # vendor data through a message: report the type of failure only.
            state.failed(f"adapter error ({type(exc).__name__})")
            log.error("source %s: unexpected adapter error: %s", source, safe_exception(exc))
            raise SourceUnavailable(source, f"adapter error ({type(exc).__name__})") from None
        state.latency_ms = (time.perf_counter() - started) * 1000
        self._take_report(source)
        state.answered()
        if state.mode == "mirror":
            self._observe(source)
        return result

    def _take_report(self, name: str) -> None:
        """A source that reads its data again by itself (the CSV source when its
        files change) keeps its latest load report as ``last_report``: the
        source's health follows it (rows a new export lost make it DEGRADED)."""
        report = getattr(self.adapters[name], "last_report", None)
        state = self.states[name]
        if isinstance(report, LoadReport) and report is not state.report:
            if report.rejected and not (state.report and state.report.rejected):
                log.warning("source %s: %d row problems in the data read again", name, len(report.rejected))
            state.report = report
            if state.last_error is None and state.state != "DOWN":
                state.answered()  # UP or DEGRADED as the new report says

    def _observe(self, name: str) -> None:
        """Copy a mirrored source's sync status into its state: a vendor failing
        its syncs leaves the source DEGRADED (still answering, with its age)."""
        adapter = self.adapters[name]
        if not isinstance(adapter, MirroredAdapter):
            return
        state, freshness = self.states[name], adapter.freshness
        state.last_sync_at = freshness.last_sync_at
        state.lag_seconds = freshness.lag_seconds(dt.datetime.now(dt.UTC))
        if freshness.last_error is not None:
            if state.state == "UP":
                state.failed(f"{_SYNC_FAILED}{freshness.last_error}")
        elif state.last_error is not None and state.last_error.startswith(_SYNC_FAILED):
            # The sync recovered: healthy again now, not at the next query that reads the source.
            state.answered()

    def observe_mirrors(self) -> None:
        """Bring every source's state up to date (for ``sources`` and ``/healthz``):
        mirrored sources' sync status, and the load report of a source that read
        its data again."""
        for name, state in self.states.items():
            self._take_report(name)
            if state.mode == "mirror":
                self._observe(name)

    def mirrors_syncing(self) -> list[str]:
        """Mirrored sources whose first full sync has not finished."""
        return [
            name
            for name, adapter in self.adapters.items()
            if isinstance(adapter, MirroredAdapter) and not adapter.freshness.first_sync_done
        ]

    def freshness_of(self, names: Iterable[str]) -> dict[str, str]:
        """``{source: ISO time}`` of the oldest data each mirrored source among ``names`` serves."""
        out: dict[str, str] = {}
        for name in sorted(names):
            adapter = self.adapters.get(name)
            if isinstance(adapter, MirroredAdapter) and adapter.freshness.oldest_sync_at is not None:
                out[name] = adapter.freshness.oldest_sync_at.isoformat().replace("+00:00", "Z")
        return out

    def refresh_capabilities(self, name: str) -> None:
        """Read ``name``'s capabilities again (a mirror follows the policy in force)."""
        self.capabilities[name] = self.adapters[name].capabilities()

    async def aclose(self) -> None:
        """Close every adapter, even when one of them fails to."""
        for name, adapter in self.adapters.items():
            try:
                await adapter.aclose()
            except Exception:
                log.exception("source %s: error while closing", name)


_SYNC_FAILED = "serving the mirror; the last sync failed: "


def build_registry(tables: Iterable[Mapping[str, Any]], mirror: MirrorWiring | None = None) -> SourceRegistry:
    """Configure every ``[[sources]]`` table; errors name the source and key.

    With ``mirror`` (the hub's store and policy), a source whose validated
    ``mode`` is ``"mirror"`` (the default of HTTP sources) is wrapped in a
    mirrored adapter; without it (``homeroom sources check``) every source is
    built live.
    """
    kinds = installed_kinds()
    adapters: list[Adapter] = []
    kind_of: dict[str, str] = {}
    for table in tables:
        spec, config = validate_source(table, kinds)
        adapter = spec.create(config)
        if mirror is not None and config.mode == "mirror":
            adapter = mirror.wrap(adapter, config.model_dump())
        adapters.append(adapter)
        kind_of[adapter.name] = str(table["kind"])
    return SourceRegistry(adapters, kind_of)
