"""The ``[[sources]]`` table of kind ``oneroster-rest``."""

from __future__ import annotations

from typing import Literal, Self

import httpx
from pydantic import Field, field_validator, model_validator

from hub.sdk import read_secret
from hub.sdk.http import HttpSourceConfig

__all__ = ["OneRosterRestConfig"]

_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


class OneRosterRestConfig(HttpSourceConfig):
    """A OneRoster 1.1 or 1.2 REST provider::

        [[sources]]
        name = "sis"
        kind = "oneroster-rest"
        base_url = "https://sis.example.org/api"   # the part before /ims/oneroster
        version = "1.2"
        token_url = "https://sis.example.org/oauth/token"
        client_id_env = "SIS_CLIENT_ID"
        client_secret_env = "SIS_CLIENT_SECRET"

    - ``version``: ``"1.1"`` (``/ims/oneroster/v1p1``) or ``"1.2"``
      (``/ims/oneroster/rostering/v1p2`` and ``/gradebook/v1p2``).
    - ``auth``: ``"oauth2"`` (client credentials at ``token_url``, the
      default) or ``"oauth1"`` (signed requests, some 1.1 providers; the
      client id and secret are the consumer key and secret, signed with
      ``oauth1_signature_method``).
    - ``client_id_env``/``client_id_file`` and ``client_secret_env``/
      ``client_secret_file``: where the credentials are (one of each pair).
    - ``scope``: OAuth 2 scopes to ask for, space-separated (none by default).
    - ``token_auth_method``: how the secret goes to the token endpoint.
    - ``filter_predicates``: predicates per ``filter=`` expression; 2 is the
      portable limit, raise it when the provider accepts longer filters (a
      teacher's 150 students are then a couple of requests, not 75). A
      provider refusing a longer filter with 400 brings it back to 2.
    - ``filter_length``: the longest ``filter=`` value sent, in URL-encoded
      characters (an id predicate takes some 40); longer chunks are split. The
      default leaves room under the 8 KiB request line most servers accept;
      a provider answering 414 (URI too long) halves it for the adapter's life.
    - ``page_size`` (shared key): the provider's largest page, when it allows
      more than the default 100, saves requests on every large read.
    - ``homeroom_extensions``: read course grades and attendance from
      Homeroom's extension endpoints (``/ims/oneroster/x-homeroom/v1``); a
      provider without them simply has none.

    ``base_url`` may also be given with the ``/ims/oneroster/...`` path: the
    adapter cuts it there and adds the version's paths itself.
    """

    version: Literal["1.1", "1.2"] = "1.2"
    auth: Literal["oauth2", "oauth1"] = "oauth2"
    token_url: str | None = None
    client_id_env: str | None = None
    client_id_file: str | None = None
    client_secret_env: str | None = None
    client_secret_file: str | None = None
    scope: str | None = None
    token_auth_method: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic"
    oauth1_signature_method: Literal["HMAC-SHA1", "HMAC-SHA256"] = "HMAC-SHA1"
    filter_predicates: int = Field(default=2, ge=1, le=100)
    filter_length: int = Field(default=4000, ge=100, le=60_000)
    homeroom_extensions: bool = True

    @field_validator("base_url")
    @classmethod
    def _server_root(cls, value: str) -> str:
        cut = value.find("/ims/oneroster")
        return value[:cut] if cut >= 0 else value

    @model_validator(mode="after")
    def _credentials_named(self) -> Self:
        for what in ("client_id", "client_secret"):
            env, file = getattr(self, f"{what}_env"), getattr(self, f"{what}_file")
            if bool(env) == bool(file):
                raise ValueError(f"give exactly one of {what}_env and {what}_file")
        if self.auth == "oauth2" and not self.token_url:
            raise ValueError("token_url is required with auth = 'oauth2'")
        url = httpx.URL(self.base_url)
        if self.auth == "oauth1" and url.scheme != "https" and url.host not in _LOOPBACK:
            raise ValueError("OAuth 1 signatures travel in clear text over http: use an https base_url")
        return self

    def client_id(self) -> str:
        """The client id (OAuth 1: consumer key), read now; ``ConfigError`` names the key."""
        return read_secret(self.name, env=self.client_id_env, file=self.client_id_file, key="client_id")

    def client_secret(self) -> str:
        """The client secret, read now; ``ConfigError`` names the key, never the value."""
        return read_secret(
            self.name, env=self.client_secret_env, file=self.client_secret_file, key="client_secret"
        )

    def secret_names(self) -> str:
        """Where the credentials come from, for error messages ("SIS_CLIENT_ID / SIS_CLIENT_SECRET")."""
        names = [self.client_id_env or self.client_id_file, self.client_secret_env or self.client_secret_file]
        return " / ".join(name for name in names if name)
