"""The ``[[sources]]`` table of kind ``edfi``."""

from __future__ import annotations

import datetime as dt
from typing import Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from hub.sdk import read_secret
from hub.sdk.http import HttpSourceConfig

__all__ = ["EdFiConfig", "change_queries_path"]

MAX_PAGE_SIZE = 500  # the published Ed-Fi resource APIs (DS 4.0 and 5.0) refuse larger limits


def change_queries_path(data_path: str) -> str:
    """Where the Change Queries API lives beside the data API ``data_path``.

    ``/data/v3/ed-fi`` -> ``/changeQueries/v1``; a year-specific route
    (``/data/v3/2025/ed-fi``, ODS/API 5.x) -> ``/changeQueries/v1/2025``; a
    prefix before ``/data/`` (a tenant, an instance) is kept.
    """
    head, sep, rest = data_path.partition("/data/")
    if not sep:  # no /data/ segment: the change queries sit at the API root
        head, rest = "", data_path.strip("/")
    inner = rest.strip("/").split("/")[1:-1]  # between the version and the schema
    year = next((part for part in inner if len(part) == 4 and part.isascii() and part.isdigit()), None)
    return f"{head.rstrip('/')}/changeQueries/v1" + (f"/{year}" if year else "")


class EdFiConfig(HttpSourceConfig):
    """An Ed-Fi ODS/API: 5.x/6.x with Data Standard 4, or 7.x with Data Standard 5::

        [[sources]]
        name = "ods"
        kind = "edfi"
        base_url = "https://ods.example.org/api"   # the API base, before /data/v3
        data_standard = "5"
        key_env = "EDFI_KEY"
        secret_env = "EDFI_SECRET"

    - ``data_standard``: ``"4"`` (guardians are ``parents`` and
      ``studentParentAssociations``) or ``"5"`` (``contacts`` and
      ``studentContactAssociations``).
    - ``key_env``/``key_file`` and ``secret_env``/``secret_file``: where the
      client key and secret are (one of each pair); sent as HTTP Basic to
      ``token_url``.
    - ``token_url``: default ``base_url`` + ``/oauth/token``.
    - ``api_path``: the data API below ``base_url``, default ``/data/v3/ed-fi``;
      ``school_year`` inserts a year-specific route segment
      (``/data/v3/2025/ed-fi``) as ODS/API 5.x deployments use.
    - ``timezone``: the district's IANA time zone; Ed-Fi dates and times
      (due dates, fulfilment times) are local, and become UTC datetimes.
    - ``catalogue_ttl``: seconds the course catalogue and calendar
      (courses, course offerings, sessions; no personal data) are kept
      between reads, so a section's course and subjects cost no request per
      row. ``0`` reads them for every request.
    - ``directory_opt_out_indicator``: the ``studentIndicators`` name under
      which the district records a FERPA directory opt-out on the student's
      education organization association (Ed-Fi has no standard field).
      Students with an association but no such indicator are not opted out;
      set it to ``""`` when the district does not record opt-outs: every
      student is then unknown, which the hub treats as opted out.
    - ``page_size``: at most 500, Ed-Fi's limit.
    """

    data_standard: Literal["4", "5"] = "5"
    key_env: str | None = None
    key_file: str | None = None
    secret_env: str | None = None
    secret_file: str | None = None
    token_url: str | None = None
    api_path: str = "/data/v3/ed-fi"
    school_year: int | None = Field(default=None, ge=1900, le=2200)
    timezone: str = "UTC"
    catalogue_ttl: float = Field(default=300.0, ge=0, le=86_400)
    directory_opt_out_indicator: str = "Directory Opt Out"
    page_size: int = Field(default=MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)

    @field_validator("api_path")
    @classmethod
    def _path(cls, value: str) -> str:
        value = value.strip()
        if not value.startswith("/") or "?" in value or "#" in value:
            raise ValueError("must be a path starting with / (e.g. /data/v3/ed-fi)")
        return value.rstrip("/")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("not an IANA time zone (e.g. America/Chicago)") from None
        return value

    @model_validator(mode="after")
    def _credentials_named(self) -> Self:
        for what in ("key", "secret"):
            env, file = getattr(self, f"{what}_env"), getattr(self, f"{what}_file")
            if bool(env) == bool(file):
                raise ValueError(f"give exactly one of {what}_env and {what}_file")
        return self

    @property
    def resolved_token_url(self) -> str:
        """``token_url``, or the ODS/API default beside the data API."""
        return self.token_url or f"{self.base_url}/oauth/token"

    @property
    def data_path(self) -> str:
        """The resources' path below ``base_url``, with the school-year segment if any."""
        if self.school_year is None:
            return self.api_path
        head, sep, tail = self.api_path.rpartition("/")
        return f"{head}/{self.school_year}/{tail}" if sep and head else f"/{self.school_year}{self.api_path}"

    @property
    def change_queries_path(self) -> str:
        """The Change Queries API below ``base_url`` (see :func:`change_queries_path`)."""
        return change_queries_path(self.data_path)

    @property
    def zone(self) -> dt.tzinfo:
        """The district's time zone."""
        return ZoneInfo(self.timezone)

    def key(self) -> str:
        """The client key, read now; ``ConfigError`` names the key, never the value."""
        return read_secret(self.name, env=self.key_env, file=self.key_file, key="key")

    def secret(self) -> str:
        """The client secret, read now; ``ConfigError`` names the key, never the value."""
        return read_secret(self.name, env=self.secret_env, file=self.secret_file, key="secret")

    def secret_names(self) -> str:
        """Where the credentials come from, for error messages ("EDFI_KEY / EDFI_SECRET")."""
        names = [self.key_env or self.key_file, self.secret_env or self.secret_file]
        return " / ".join(name for name in names if name)
