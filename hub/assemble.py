"""Put a hub together from settings: sources, policy, schema and sign-in."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hub.auth import Verifier
from hub.federation.clock import Clock
from hub.federation.registry import build_registry
from hub.mirror.wiring import MirrorWiring, hub_attributes
from hub.policy import PolicyError, PolicyStore, catalogue_from_schema, default_policy_dir
from hub.realtime import ChangeBus
from hub.realtime.relay import relay_for
from hub.runtime import Hub
from hub.schema import build_schema
from hub.sdk import ConfigError
from hub.settings import Settings
from hub.store import store_url


class ConfigurationProblem(Exception):
    """The hub cannot start; the message names what to fix."""


def policy_dir(settings: Settings) -> Path:
    """The configured policy folder, or the one shipped with Homeroom."""
    return settings.resolve(settings.policy.dir) if settings.policy.dir else default_policy_dir()


def _with_resolved_paths(settings: Settings) -> list[dict[str, Any]]:
    """Source tables with relative ``path``/``*_file`` values made relative to
    the config file, not to wherever the hub happens to be started."""
    tables = []
    for table in settings.sources:
        resolved = dict(table)
        for key, value in table.items():
            if (key == "path" or key.endswith("_file")) and isinstance(value, str) and value:
                resolved[key] = str(settings.resolve(value))
        tables.append(resolved)
    return tables


def _binds_by_email(settings: Settings) -> bool:
    """Whether sign-in finds the caller's roster person by e-mail (an OIDC
    provider binding by its default claim kind)."""
    return bool(getattr(settings.auth, "issuer", None)) and settings.auth.person_claim_kind == "email"


def assemble(settings: Settings, signers: Iterable[Verifier] = (), *, clock: Clock | None = None) -> Hub:
    """A ready-to-open hub for ``settings``."""
    catalogue = catalogue_from_schema(build_schema(gate=False)._schema)
    try:
        store = PolicyStore(policy_dir(settings), catalogue)
    except PolicyError as exc:
        raise ConfigurationProblem(f"policy: {exc}") from None
    except FileNotFoundError as exc:
        raise ConfigurationProblem(
            f"policy: {exc}; set [policy] dir in homeroom.toml or HOMEROOM_POLICY_DIR"
        ) from None
    # Mirrored sources keep what the policy in force can grant, in the hub's store.
    changes = ChangeBus()
    url = store_url(settings)
    try:
        relay = relay_for(settings.realtime.relay, url, settings.realtime.redis_url)
    except ValueError as exc:
        raise ConfigurationProblem(str(exc)) from None
    mirror = MirrorWiring(
        store_url=url,
        changes=changes,
        relay=relay,
        policy=lambda: store.current,
        extra=hub_attributes(settings.identity.match, bind_by_email=_binds_by_email(settings)),
    )
    try:
        registry = build_registry(_with_resolved_paths(settings), mirror)
    except ConfigError as exc:
        raise ConfigurationProblem(f"[[sources]] {exc}") from None
    return Hub(
        settings=settings,
        registry=registry,
        policy=store,
        catalogue=catalogue,
        signers=list(signers),
        clock=clock or Clock(),
        changes=changes,
        mirrors=mirror,
    )
