"""The Canvas simulator as ``homeroom simulate canvas`` finds it.

Registered under the ``homeroom.simulators`` entry point as ``canvas``; wraps
:func:`adapters.canvas.simulator.create_simulator`. Canvas needs one secret,
an access token: the simulator accepts the client secret ``homeroom
simulate`` chose as that token (the client id plays no part). The table it
writes::

    [[sources]]
    name = "lms"
    kind = "canvas"
    base_url = "http://127.0.0.1:8100"
    account_id = "self"
    token_env = "LMS_TOKEN"
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from adapters.canvas.simulator import SimulatorConfig, create_simulator
from hub.sdk import SimulatorOptions, SimulatorSpec, env_prefix

__all__ = ["SIMULATOR"]

DEFAULT_NAME = "lms"


def _number(options: SimulatorOptions, name: str, high: float, default: str = "0") -> float:
    text = options.extra.get(name, default)
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {text!r}") from None
    if not 0 <= value <= high:
        raise ValueError(f"{name} must be between 0 and {high:g}")
    return value


def create(data_dir: Path, options: SimulatorOptions) -> Starlette:
    """The simulated Canvas over the OneRoster CSV set in ``data_dir``."""
    rate = _number(options, "rate_limit", 10_000)
    config = SimulatorConfig(
        token=options.client_secret,
        latency=_number(options, "latency", 60),
        error_rate=_number(options, "error_rate", 1),
        rate_limit_per_second=rate or None,
        rate_limit_burst=int(_number(options, "rate_limit_burst", 10_000, "30")) or 1,
    )
    return create_simulator(data_dir, config)


def _names(options: SimulatorOptions) -> tuple[str, str]:
    name = options.name_or(DEFAULT_NAME)
    return name, f"{env_prefix(name)}_TOKEN"


def source_table(base_url: str, options: SimulatorOptions) -> dict[str, Any]:
    """A ``[[sources]]`` table of kind ``canvas`` for the simulator on ``base_url``.

    With a rate limit, the table tells the adapter the simulator's leak rate,
    so it slows down as much as the simulated bucket needs.
    """
    name, token_env = _names(options)
    table: dict[str, Any] = {
        "name": name,
        "kind": "canvas",
        "base_url": base_url,
        "account_id": "self",
        "token_env": token_env,
    }
    rate = _number(options, "rate_limit", 10_000)
    if rate:
        burst = int(_number(options, "rate_limit_burst", 10_000, "30")) or 1
        table["throttle_refill_per_second"] = 600.0 / burst * rate
    return table


def environment(options: SimulatorOptions) -> Mapping[str, str]:
    """The token variable the table names, with the token the simulator accepts."""
    _, token_env = _names(options)
    return {token_env: options.client_secret}


SIMULATOR = SimulatorSpec(
    kind="canvas",
    create=create,
    source_table=source_table,
    environment=environment,
    summary="Canvas LMS REST API: bearer token, Link-header paging, 403 Rate Limit Exceeded past its bucket",
    options={
        "latency": "seconds added to every data request (default 0)",
        "error_rate": "share of data requests answered 500 (default 0)",
        "rate_limit": "requests per second the throttling bucket drains (default 0: never throttles)",
        "rate_limit_burst": "requests the bucket holds before 403 Rate Limit Exceeded (default 30)",
    },
)
"""The ``homeroom.simulators`` entry point ``canvas``."""
