"""The OneRoster REST simulator as ``homeroom simulate oneroster-rest`` finds it.

Registered under the ``homeroom.simulators`` entry point as ``oneroster-rest``;
wraps :func:`adapters.oneroster_rest.simulator.create_simulator`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from adapters.oneroster_rest.simulator import SimulatorConfig, create_simulator
from hub.sdk import SimulatorOptions, SimulatorSpec, env_prefix

__all__ = ["SIMULATOR"]

DEFAULT_NAME = "sis"
_MAX_PAGE_SIZE = 10_000  # the largest page_size a source table takes
_MAX_PREDICATES = 100  # the largest filter_predicates a source table takes


def _choice(options: SimulatorOptions, name: str, allowed: tuple[str, ...]) -> str:
    value = options.extra.get(name, allowed[0]).strip()
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _number(options: SimulatorOptions, name: str, high: float) -> float:
    text = options.extra.get(name, "0")
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {text!r}") from None
    if not 0 <= value <= high:
        raise ValueError(f"{name} must be between 0 and {high:g}")
    return value


def _count(options: SimulatorOptions, name: str, default: int | None, high: int) -> int | None:
    text = options.extra.get(name, "").strip()
    if not text:
        return default
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= high:
        raise ValueError(f"{name} must be a whole number from 1 to {high}, not {text!r}")
    return int(text)


def _limits(options: SimulatorOptions) -> tuple[int, int | None]:
    """(largest page, most predicates per filter, ``None``: any) the simulator accepts."""
    page = _count(options, "max_page_size", SimulatorConfig.max_page_size, _MAX_PAGE_SIZE)
    assert page is not None  # it has a default
    return page, _count(options, "max_filter_predicates", None, _MAX_PREDICATES)


def create(data_dir: Path, options: SimulatorOptions) -> Starlette:
    """The simulated OneRoster provider over the OneRoster CSV set in ``data_dir``."""
    page, predicates = _limits(options)
    config = SimulatorConfig(
        version=_choice(options, "version", ("1.2", "1.1")),
        auth=_choice(options, "auth", ("oauth2", "oauth1")),
        client_id=options.client_id,
        client_secret=options.client_secret,
        latency=_number(options, "latency", 60),
        error_rate=_number(options, "error_rate", 1),
        max_page_size=page,
        max_filter_predicates=predicates,
    )
    return create_simulator(data_dir, config)


def _names(options: SimulatorOptions) -> tuple[str, str, str]:
    name = options.name_or(DEFAULT_NAME)
    prefix = env_prefix(name)
    return name, f"{prefix}_CLIENT_ID", f"{prefix}_CLIENT_SECRET"


def source_table(base_url: str, options: SimulatorOptions) -> dict[str, Any]:
    """A ``[[sources]]`` table of kind ``oneroster-rest`` for the simulator on ``base_url``."""
    name, id_env, secret_env = _names(options)
    auth = _choice(options, "auth", ("oauth2", "oauth1"))
    table: dict[str, Any] = {
        "name": name,
        "kind": "oneroster-rest",
        "base_url": base_url,
        "version": _choice(options, "version", ("1.2", "1.1")),
    }
    if auth == "oauth2":
        table["token_url"] = f"{base_url}/token"
    else:
        table["auth"] = "oauth1"
    table["client_id_env"] = id_env
    table["client_secret_env"] = secret_env
    # What this provider accepts, as a district writes it from its vendor's
    # documentation: its largest page and its longest filter (the adapter's
    # defaults are the portable 100 and 2, which make a dashboard dozens of
    # requests).
    page, predicates = _limits(options)
    table["page_size"] = page
    table["filter_predicates"] = min(predicates or _MAX_PREDICATES, _MAX_PREDICATES)
    return table


def environment(options: SimulatorOptions) -> Mapping[str, str]:
    """The client id and secret variables the table names, with the accepted values."""
    _, id_env, secret_env = _names(options)
    return {id_env: options.client_id, secret_env: options.client_secret}


SIMULATOR = SimulatorSpec(
    kind="oneroster-rest",
    create=create,
    source_table=source_table,
    environment=environment,
    summary="OneRoster 1.1/1.2 REST provider: OAuth 2 (or OAuth 1), limit/offset paging, filter=, fields=",
    options={
        "version": "1.2 (the default) or 1.1",
        "auth": "oauth2 (client credentials at /token, the default) or oauth1 (signed requests)",
        "latency": "seconds added to every data request (default 0)",
        "error_rate": "share of data requests answered 503 (default 0)",
        "max_page_size": "largest page served (default 1000); the table's page_size",
        "max_filter_predicates": "longest filter= accepted, in predicates (default any); the table's "
        "filter_predicates (at most 100)",
    },
)
"""The ``homeroom.simulators`` entry point ``oneroster-rest``."""
