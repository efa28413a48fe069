"""The Ed-Fi simulator as ``homeroom simulate edfi`` finds it.

Registered under the ``homeroom.simulators`` entry point as ``edfi``; wraps
:func:`adapters.edfi.simulator.create_simulator`. The table it writes::

    [[sources]]
    name = "ods"
    kind = "edfi"
    base_url = "http://127.0.0.1:8100"
    data_standard = "5"
    key_env = "ODS_KEY"
    secret_env = "ODS_SECRET"
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from adapters.edfi.simulator import SimulatorConfig, create_simulator
from hub.sdk import SimulatorOptions, SimulatorSpec, env_prefix

__all__ = ["SIMULATOR"]

DEFAULT_NAME = "ods"
_STANDARDS = ("4", "5")


def _data_standard(options: SimulatorOptions) -> str:
    standard = options.extra.get("data_standard", "5").strip()
    if standard not in _STANDARDS:
        raise ValueError(f"data_standard must be 4 or 5, not {standard!r}")
    return standard


def _seconds(options: SimulatorOptions, name: str) -> float:
    text = options.extra.get(name, "0")
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {text!r}") from None
    if not 0 <= value <= 60:
        raise ValueError(f"{name} must be between 0 and 60 seconds")
    return value


def _share(options: SimulatorOptions, name: str) -> float:
    text = options.extra.get(name, "0")
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a share between 0 and 1, not {text!r}") from None
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must be a share between 0 and 1")
    return value


def create(data_dir: Path, options: SimulatorOptions) -> Starlette:
    """The simulated ODS/API over the OneRoster CSV set in ``data_dir``."""
    config = SimulatorConfig(
        data_standard=_data_standard(options),
        key=options.client_id,
        secret=options.client_secret,
        latency=_seconds(options, "latency"),
        error_rate=_share(options, "error_rate"),
    )
    return create_simulator(data_dir, config)


def _names(options: SimulatorOptions) -> tuple[str, str, str]:
    name = options.name_or(DEFAULT_NAME)
    prefix = env_prefix(name)
    return name, f"{prefix}_KEY", f"{prefix}_SECRET"


def source_table(base_url: str, options: SimulatorOptions) -> dict[str, Any]:
    """A ``[[sources]]`` table of kind ``edfi`` for the simulator on ``base_url``."""
    name, key_env, secret_env = _names(options)
    return {
        "name": name,
        "kind": "edfi",
        "base_url": base_url,
        "data_standard": _data_standard(options),
        "key_env": key_env,
        "secret_env": secret_env,
    }


def environment(options: SimulatorOptions) -> Mapping[str, str]:
    """The key and secret variables the table names, with the accepted values."""
    _, key_env, secret_env = _names(options)
    return {key_env: options.client_id, secret_env: options.client_secret}


SIMULATOR = SimulatorSpec(
    kind="edfi",
    create=create,
    source_table=source_table,
    environment=environment,
    summary=(
        "Ed-Fi ODS/API (Data Standard 4 or 5): OAuth key/secret, offset paging, search by example, "
        "change queries over the folder as it changes"
    ),
    options={
        "data_standard": "4 (ODS/API 5.x-6.x) or 5 (ODS/API 7.x, the default)",
        "latency": "seconds added to every data request (default 0)",
        "error_rate": "share of data requests answered 503 (default 0)",
    },
)
"""The ``homeroom.simulators`` entry point ``edfi``."""
