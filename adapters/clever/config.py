"""The ``[[sources]]`` table of kind ``clever``."""

from __future__ import annotations

import re
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from hub.sdk import read_secret
from hub.sdk.http import HttpSourceConfig

__all__ = ["MAX_LIMIT", "CleverConfig"]

MAX_LIMIT = 10_000  # Clever answers 413 to a larger ``limit``
_VERSIONED = re.compile(r"/v\d+(\.\d+)?$")


class CleverConfig(HttpSourceConfig):
    """A district's Clever Data API (v3.0 or v3.1), read with a district-app token::

        [[sources]]
        name = "clever"
        kind = "clever"
        api_version = "v3.1"
        token_env = "CLEVER_DISTRICT_TOKEN"

    - ``base_url``: the API server root, ``https://api.clever.com`` by default
      (the version is added from ``api_version``, never written here).
    - ``api_version``: ``"v3.0"`` or ``"v3.1"``. Same paths; v3.1 adds the
      students' ``iep_status``, ``frl_status``, ``section_504_status`` and
      ``preferred_name``, which the adapter then also serves.
    - ``token_env`` / ``token_file``: where the district-app bearer token is
      (one of the two). The token is long-lived; Clever lists an app's tokens
      at ``https://clever.com/oauth/tokens?owner_type=district``.
    - ``page_size``: records per page (Clever's ``limit``, at most 10,000).
      Large pages save requests against Clever's 1,200 requests per minute.
    - ``max_lookups``: a request naming at most this many ids (or scoping
      values: schools, sections, people) is answered by that many look-ups
      (``/users/{id}``, ``/schools/{id}/sections``, ...) sent in parallel,
      ``max_concurrency`` at a time; more are answered by reading the whole
      list once. Clever's lists cannot be filtered by id, so this trades
      requests against bytes; ``0`` always reads lists.
    - ``identifier``: which Clever key fills a person's ``identifier``, the
      key the hub's identity map matches people on: ``"sis_id"`` (the
      default: the SIS's own id, which is the OneRoster ``sourcedId`` when
      the district syncs Clever from a OneRoster SIS, and what the default
      ``[[identity.match]]`` rule ``vendor_id=identifier`` and the other
      LMS adapters' identifiers carry) or ``"state_id"`` (the state's
      student or teacher id, what OneRoster exports call ``identifier``).
      Staff have a ``staff_id`` instead of a ``sis_id``; contacts have no
      ``state_id``. Schools always carry their state (else NCES) id.
    - ``emergency_contacts_are_guardians``: whether a contact linked to a
      student only as an ``Emergency`` contact counts as that student's
      guardian (and so may see what the policy lets guardians see). Off by
      default: an emergency contact is not a legal guardian.
    - ``rate_limit_per_second``: 20 by default, Clever's 1,200 per minute
      per token; the hub also waits out a 429 until ``X-RateLimit-Reset``.
    """

    base_url: str = "https://api.clever.com"
    api_version: Literal["v3.0", "v3.1"] = "v3.0"
    token_env: str | None = None
    token_file: str | None = None
    page_size: int = Field(default=1000, ge=1, le=MAX_LIMIT)
    max_lookups: int = Field(default=20, ge=0, le=1000)
    identifier: Literal["sis_id", "state_id"] = "sis_id"
    emergency_contacts_are_guardians: bool = False
    rate_limit_per_second: float | None = Field(default=20.0, gt=0)

    @field_validator("base_url")
    @classmethod
    def _server_root(cls, value: str) -> str:
        if _VERSIONED.search(value.rstrip("/")):
            raise ValueError("give the server root (https://api.clever.com); the version goes in api_version")
        return value

    @model_validator(mode="after")
    def _token_named(self) -> Self:
        if bool(self.token_env) == bool(self.token_file):
            raise ValueError("give exactly one of token_env and token_file")
        return self

    @property
    def api_path(self) -> str:
        """The versioned path below ``base_url`` (``/v3.0``)."""
        return f"/{self.api_version}"

    def token(self) -> str:
        """The district-app token, read now; ``ConfigError`` names the key, never the value."""
        return read_secret(self.name, env=self.token_env, file=self.token_file, key="token")

    def token_name(self) -> str:
        """Where the token comes from, for error messages (``CLEVER_DISTRICT_TOKEN``)."""
        return self.token_env or self.token_file or "?"
