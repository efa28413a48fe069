"""Configuration of one ``[[sources]]`` table, and secrets from env or files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.sdk._errors import ConfigError


class SourceConfig(BaseModel):
    """Keys every ``[[sources]]`` table has. Adapters subclass it for their own keys.

    Unknown keys are rejected so a typo is a start-up error, not a silent
    default. Secrets are never values here: a config names an environment
    variable (``*_env``) or a file (``*_file``) and the adapter reads it with
    :func:`read_secret`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    kind: str = Field(min_length=1)
    # How the hub answers from this source (docs/mirror.md): "live" asks the
    # vendor for every query (the default here, for sources that read local
    # files or memory; HttpSourceConfig makes "mirror" the default of every
    # vendor over HTTP); "mirror" answers from the hub's own database,
    # kept fresh by re-reads every mirror_rosters_seconds (organisations,
    # sessions, courses, sections, people, enrollments) and
    # mirror_gradebook_seconds (assignments, scores, course grades, attendance);
    # with a change feed, a full re-read every mirror_reconcile_seconds.
    mode: Literal["live", "mirror"] = "live"
    mirror_rosters_seconds: float = Field(default=900, ge=1)
    mirror_gradebook_seconds: float = Field(default=60, ge=1)
    mirror_reconcile_seconds: float = Field(default=86_400, ge=60)
    # The most one read of the mirror's sync (a whole entity) may take: no one
    # waits for it, unlike a query held to total_timeout.
    mirror_read_seconds: float = Field(default=3_600, ge=1)
    # Each hub process also holds the mirrored rows in memory and answers from
    # them (the database stays the shared, durable copy): a dashboard then
    # costs no database round trip. Off for a district whose mirror does not
    # fit the hub's memory (docs/mirror.md, "Sizing").
    mirror_in_memory: bool = True


def read_secret(source: str, *, env: str | None = None, file: str | None = None, key: str = "secret") -> str:
    """Read a secret from the environment variable ``env`` or the file ``file``.

    Raises :class:`ConfigError` naming the source and the variable or file,
    never the value. Surrounding whitespace of a file is stripped.
    """
    if env:
        value = os.environ.get(env)
        if value:
            return value
        raise ConfigError(source, key, f"environment variable {env} is not set")
    if file:
        path = Path(file)
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(source, key, f"cannot read secret file {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            # Never quote the offending bytes: they are part of the secret.
            raise ConfigError(source, key, f"secret file {path} is not UTF-8 text") from None
        if value:
            return value
        raise ConfigError(source, key, f"secret file {path} is empty")
    raise ConfigError(source, key, "name an environment variable (_env) or a file (_file)")
