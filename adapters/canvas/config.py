"""The ``[[sources]]`` table of kind ``canvas``."""

from __future__ import annotations

import re
from typing import Self

from pydantic import Field, field_validator, model_validator

from hub.sdk import read_secret
from hub.sdk.http import HttpSourceConfig

__all__ = ["API_PREFIX", "CanvasConfig"]

API_PREFIX = "api/v1"
"""The REST API's path under the Canvas host (``https://canvas.example/api/v1/...``)."""

# Canvas accepts its own numeric ids, "self", and SIS ids spelt "sis_account_id:X".
_ACCOUNT = re.compile(r"^(self|\d+|sis_account_id:[^/?#]+)$")
_TERM = re.compile(r"^(\d+|sis_term_id:[^/?#]+)$")


class CanvasConfig(HttpSourceConfig):
    """A Canvas LMS instance, read live through its REST API with an admin token::

        [[sources]]
        name = "lms"
        kind = "canvas"
        base_url = "https://district.instructure.com"   # /api/v1 is added
        token_env = "CANVAS_TOKEN"
        account_id = "self"        # the root account, or a sub-account id
        per_page = 100
        # term_id = "sis_term_id:SY2027"   # only the courses of this term

    - ``token_env`` / ``token_file``: where the access token is (exactly one);
      an administrator's token of the account, sent as ``Authorization: Bearer``.
    - ``account_id``: the account whose courses and users are served: its
      Canvas id, ``self`` (the root account of the token's domain) or
      ``sis_account_id:...``.
    - ``per_page``: records asked per page (Canvas caps it at 100). The
      inherited ``page_size`` is not used; set ``per_page`` instead.
    - ``term_id``: serve only the courses of this enrollment term (a Canvas
      term id or ``sis_term_id:...``), and what hangs off them.
    - ``id_lookup_max``: look-ups of up to this many ids read each record
      (or each course's members) directly; more ids read the whole list and
      keep the asked ones, which is cheaper past that point.
    - ``throttle_low_water`` / ``throttle_refill_per_second``: Canvas sends
      ``X-Rate-Limit-Remaining`` (its leaky bucket, 600 units by default) with
      every answer; below ``throttle_low_water`` the next requests wait for
      the bucket to refill to it at ``throttle_refill_per_second`` (Canvas's
      default leak rate is 10 units per second), instead of running into
      ``403 Forbidden (Rate Limit Exceeded)``.

    ``base_url`` may also be given with ``/api/v1``; the adapter adds it itself.
    """

    account_id: str = "self"
    token_env: str | None = None
    token_file: str | None = None
    per_page: int = Field(default=100, ge=1, le=100)
    term_id: str | None = None
    id_lookup_max: int = Field(default=20, ge=0, le=1000)
    throttle_low_water: float = Field(default=100.0, ge=0)
    throttle_refill_per_second: float = Field(default=10.0, gt=0)

    @field_validator("base_url")
    @classmethod
    def _instance_root(cls, value: str) -> str:
        cut = value.find("/" + API_PREFIX)
        return value[:cut] if cut >= 0 else value

    @field_validator("account_id")
    @classmethod
    def _account(cls, value: str) -> str:
        value = value.strip()
        if not _ACCOUNT.match(value):
            raise ValueError("must be a Canvas account id, 'self' or 'sis_account_id:...'")
        return value

    @field_validator("term_id")
    @classmethod
    def _term(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not _TERM.match(value):
            raise ValueError("must be a Canvas term id or 'sis_term_id:...'")
        return value

    @model_validator(mode="after")
    def _token_named(self) -> Self:
        if bool(self.token_env) == bool(self.token_file):
            raise ValueError("give exactly one of token_env and token_file")
        if "page_size" in self.model_fields_set:
            raise ValueError("Canvas pages by per_page (at most 100); set per_page instead of page_size")
        return self

    def token(self) -> str:
        """The access token, read now; ``ConfigError`` names the key, never the value."""
        return read_secret(self.name, env=self.token_env, file=self.token_file, key="token")

    def token_name(self) -> str:
        """Where the token comes from, for error messages ("CANVAS_TOKEN")."""
        return str(self.token_env or self.token_file)
