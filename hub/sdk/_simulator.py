"""How an adapter package offers a simulator of its vendor: ``homeroom simulate``.

A simulator is an ASGI app that speaks a vendor's API over a district's data
(usually the synthetic district of ``hub.testing``), so administrators can try
a ``[[sources]]`` table and integrators can test an adapter without a vendor.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

__all__ = ["SIMULATOR_ENTRY_POINT_GROUP", "SimulatorOptions", "SimulatorSpec", "env_prefix"]

SIMULATOR_ENTRY_POINT_GROUP = "homeroom.simulators"
"""The entry point group a :class:`SimulatorSpec` is registered under."""

ASGIApp = Any
"""An ASGI application (a Starlette app, typically)."""


@dataclass(frozen=True, slots=True)
class SimulatorOptions:
    """How one simulator run behaves; ``homeroom simulate`` fills it from its options.

    - ``client_id`` / ``client_secret``: the only credentials the simulator
      accepts (OAuth client id and secret, an Ed-Fi key and secret, ...).
    - ``source_name``: the ``name`` of the ``[[sources]]`` table pointing at
      the simulator; ``None`` lets the spec choose (``"sis"``, ``"ods"``, ...).
      The environment variable names of the table derive from it
      (see :func:`env_prefix`).
    - ``extra``: vendor knobs by name, as strings (``data_standard = "4"``,
      ``version = "1.1"``); the spec lists the names it understands in
      :attr:`SimulatorSpec.options` and refuses others.
    """

    client_id: str = "homeroom-sim"
    client_secret: str = "homeroom-sim-secret"
    source_name: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A read-only copy: options are shared by the app and the table.
        object.__setattr__(self, "extra", MappingProxyType(dict(self.extra)))

    def __repr__(self) -> str:
        # Never show the secret, even of a simulator, in logs and tracebacks.
        return (
            f"SimulatorOptions(client_id={self.client_id!r}, client_secret='***', "
            f"source_name={self.source_name!r}, extra={dict(self.extra)!r})"
        )

    def name_or(self, default: str) -> str:
        """``source_name``, or ``default`` when none was chosen."""
        return self.source_name or default


def env_prefix(source_name: str) -> str:
    """The prefix of a source's environment variables: ``"sis-2"`` -> ``"SIS_2"``."""
    return re.sub(r"[^A-Za-z0-9]+", "_", source_name).strip("_").upper() or "SOURCE"


@dataclass(frozen=True, slots=True)
class SimulatorSpec:
    """What an adapter package registers under the ``homeroom.simulators`` entry point.

    - ``kind``: the adapter kind the simulator imitates (the ``kind`` of the
      ``[[sources]]`` table it answers), e.g. ``"edfi"``.
    - ``create(data_dir, options)``: the ASGI app serving the district in
      ``data_dir`` (a OneRoster CSV set) and accepting only
      ``options.client_id``/``client_secret``; raises ``ValueError`` for a
      bad ``options.extra`` value.
    - ``source_table(base_url, options)``: the ready ``[[sources]]`` table
      pointing at the simulator served on ``base_url``. Secrets appear as
      the NAMES of environment variables (``secret_env = "ODS_SECRET"``),
      never as values.
    - ``environment(options)``: the environment variables that table names,
      with the values the simulator accepts (``{"ODS_SECRET": "..."}``);
      ``homeroom simulate`` prints them as ``export`` lines.
    - ``summary``: one line for ``homeroom simulate --help`` and listings.
    - ``options``: the ``extra`` names ``create`` understands, each with a
      short description (``{"data_standard": "4 or 5 (default 5)"}``).
    - ``ready_path``: a path answering ``GET`` once the app serves (health check).

    Example ``pyproject.toml`` of a third party::

        [project.entry-points."homeroom.simulators"]
        my-sis = "my_sis_adapter.simulator:SIMULATOR"
    """

    kind: str
    create: Callable[[Path, SimulatorOptions], ASGIApp]
    source_table: Callable[[str, SimulatorOptions], dict[str, Any]]
    environment: Callable[[SimulatorOptions], Mapping[str, str]]
    summary: str = ""
    options: Mapping[str, str] = field(default_factory=dict)
    ready_path: str = "/healthz"

    def check_options(self, options: SimulatorOptions) -> None:
        """Raise ``ValueError`` naming any ``extra`` knob this simulator does not know."""
        unknown = sorted(set(options.extra) - set(self.options))
        if unknown:
            known = ", ".join(sorted(self.options)) or "none"
            raise ValueError(
                f"simulator '{self.kind}' has no option {', '.join(unknown)} (its options: {known})"
            )
