"""The Clever simulator as ``homeroom simulate clever`` finds it.

Registered under the ``homeroom.simulators`` entry point as ``clever``; wraps
:func:`adapters.clever.simulator.create_simulator`. Clever data access needs
one secret, the district-app token: the simulator accepts the client secret
``homeroom simulate`` chose as that token (the client id plays no part). The
table it writes::

    [[sources]]
    name = "clever"
    kind = "clever"
    base_url = "http://127.0.0.1:8100"
    api_version = "v3.0"
    token_env = "CLEVER_TOKEN"
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from adapters.clever.simulator import SimulatorConfig, create_simulator
from hub.sdk import SimulatorOptions, SimulatorSpec, env_prefix

__all__ = ["SIMULATOR"]

DEFAULT_NAME = "clever"
_VERSIONS = ("v3.0", "v3.1")


def _version(options: SimulatorOptions) -> str:
    version = options.extra.get("api_version", "v3.0").strip()
    if version not in _VERSIONS:
        raise ValueError(f"api_version must be v3.0 or v3.1, not {version!r}")
    return version


def _number(options: SimulatorOptions, name: str, high: float) -> float:
    text = options.extra.get(name, "0")
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {text!r}") from None
    if not 0 <= value <= high:
        raise ValueError(f"{name} must be between 0 and {high:g}")
    return value


def create(data_dir: Path, options: SimulatorOptions) -> Starlette:
    """The simulated Clever over the OneRoster CSV set in ``data_dir``."""
    per_minute = int(_number(options, "rate_limit", 100_000))
    config = SimulatorConfig(
        api_version=_version(options),
        token=options.client_secret,
        latency=_number(options, "latency", 60),
        error_rate=_number(options, "error_rate", 1),
        rate_limit=per_minute or None,
    )
    return create_simulator(data_dir, config)


def _names(options: SimulatorOptions) -> tuple[str, str]:
    name = options.name_or(DEFAULT_NAME)
    return name, f"{env_prefix(name)}_TOKEN"


def source_table(base_url: str, options: SimulatorOptions) -> dict[str, Any]:
    """A ``[[sources]]`` table of kind ``clever`` for the simulator on ``base_url``."""
    name, token_env = _names(options)
    return {
        "name": name,
        "kind": "clever",
        "base_url": base_url,
        "api_version": _version(options),
        "token_env": token_env,
    }


def environment(options: SimulatorOptions) -> Mapping[str, str]:
    """The token variable the table names, with the token the simulator accepts."""
    _, token_env = _names(options)
    return {token_env: options.client_secret}


SIMULATOR = SimulatorSpec(
    kind="clever",
    create=create,
    source_table=source_table,
    environment=environment,
    summary=(
        "Clever Data API v3.0/v3.1: district-app bearer token, links rel=next paging, 429 with reset, "
        "/events of the folder's changes"
    ),
    options={
        "api_version": "v3.0 (the default) or v3.1 (adds IEP/504/FRL flags and preferred names)",
        "latency": "seconds added to every data request (default 0)",
        "error_rate": "share of data requests answered 503 (default 0)",
        "rate_limit": "requests per minute before 429 with X-RateLimit-Reset (default 0: none; Clever: 1200)",
    },
)
"""The ``homeroom.simulators`` entry point ``clever``."""
