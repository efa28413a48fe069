"""The Classroom simulator as ``homeroom simulate google-classroom`` finds it.

Registered under the ``homeroom.simulators`` entry point as
``google-classroom``; wraps :func:`adapters.google_classroom.simulator.create_simulator`.
The simulator hands out tokens at ``/token`` for the client id and secret
given to ``homeroom simulate`` (OAuth 2 client credentials), so the table it
writes is::

    [[sources]]
    name = "lms"
    kind = "google-classroom"
    base_url = "http://127.0.0.1:8100"
    token_url = "http://127.0.0.1:8100/token"
    client_id_env = "LMS_CLIENT_ID"
    client_secret_env = "LMS_CLIENT_SECRET"

Knobs (``--option KEY=VALUE``): ``latency``, ``error_rate``,
``rate_limit`` (requests per second before 429 ``RESOURCE_EXHAUSTED``) and
``api_disabled_user`` (a student's e-mail whose guardians answer 403
``ClassroomApiDisabled``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from adapters.google_classroom.simulator import SimulatorConfig, create_simulator
from hub.sdk import SimulatorOptions, SimulatorSpec, env_prefix

__all__ = ["SIMULATOR"]

DEFAULT_NAME = "lms"


def _number(options: SimulatorOptions, name: str, low: float, high: float, what: str) -> float:
    text = options.extra.get(name, "0")
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} must be {what}, not {text!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{name} must be {what} between {low:g} and {high:g}")
    return value


def create(data_dir: Path, options: SimulatorOptions) -> Starlette:
    """The simulated Classroom over the OneRoster CSV set in ``data_dir``."""
    rate = _number(options, "rate_limit", 0, 100_000, "requests per second")
    config = SimulatorConfig(
        token=None,  # only tokens from /token: the credentials given are the only ones
        client_id=options.client_id,
        client_secret=options.client_secret,
        latency=_number(options, "latency", 0, 60, "a number of seconds"),
        error_rate=_number(options, "error_rate", 0, 1, "a share"),
        rate_limit_per_second=rate or None,
        api_disabled_user=options.extra.get("api_disabled_user") or None,
    )
    return create_simulator(data_dir, config)


def _names(options: SimulatorOptions) -> tuple[str, str, str]:
    name = options.name_or(DEFAULT_NAME)
    prefix = env_prefix(name)
    return name, f"{prefix}_CLIENT_ID", f"{prefix}_CLIENT_SECRET"


def source_table(base_url: str, options: SimulatorOptions) -> dict[str, Any]:
    """A ``[[sources]]`` table of kind ``google-classroom`` for the simulator on ``base_url``."""
    name, id_env, secret_env = _names(options)
    return {
        "name": name,
        "kind": "google-classroom",
        "base_url": base_url,
        "token_url": f"{base_url.rstrip('/')}/token",
        "client_id_env": id_env,
        "client_secret_env": secret_env,
    }


def environment(options: SimulatorOptions) -> Mapping[str, str]:
    """The client id and secret variables the table names, with the accepted values."""
    _, id_env, secret_env = _names(options)
    return {id_env: options.client_id, secret_env: options.client_secret}


SIMULATOR = SimulatorSpec(
    kind="google-classroom",
    create=create,
    source_table=source_table,
    environment=environment,
    summary="Google Classroom API v1: bearer tokens, pageToken paging, partial responses, 429 quotas",
    options={
        "latency": "seconds added to every data request (default 0)",
        "error_rate": "share of data requests answered 503 (default 0)",
        "rate_limit": "requests per second before 429 RESOURCE_EXHAUSTED (default: none)",
        "api_disabled_user": "a student's e-mail whose guardians answer 403 ClassroomApiDisabled",
    },
)
"""The ``homeroom.simulators`` entry point ``google-classroom``."""
