"""Configuration of sign-in with an OpenID Connect identity provider.

These are the OIDC keys of the ``[auth]`` table in ``homeroom.toml``::

    [auth]
    issuer = "https://login.microsoftonline.com/<tenant id>/v2.0"
    audience = "api://homeroom"
    roles_claim = "roles"
    person_claim = "preferred_username"

    [auth.role_map]
    "Homeroom.Teacher" = ["teacher"]

    [auth.client_roles]
    "<dashboard client id>" = ["district_reporting"]

:class:`OidcOptions` holds them as they appear in the table (``issuer`` unset
means "no identity provider"); ``hub.settings.AuthSettings`` extends it with
the development sign-in keys. :meth:`OidcOptions.oidc` turns a table with an
issuer into :class:`OidcSettings`, what :class:`hub.auth.oidc.OidcVerifier`
is built from.

Everything that could weaken verification is refused here, at start-up, with
a message that names the key: ``alg: none`` and HMAC algorithms, plain-HTTP
URLs outside loopback, an issuer without an audience.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["ALLOWED_ALGORITHMS", "DEFAULT_ALGORITHMS", "OidcOptions", "OidcSettings", "check_url"]

#: Asymmetric JWS algorithms an identity provider may sign with.
ALLOWED_ALGORITHMS: frozenset[str] = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
DEFAULT_ALGORITHMS: tuple[str, ...] = ("RS256", "ES256")

_ROLE = re.compile(r"^[^\s,]+$")
_LOOPBACK_NAMES = {"localhost"}
# Keys that mean nothing without an issuer: setting one alone is a mistake.
_OIDC_ONLY = frozenset(
    {
        "jwks_url",
        "issuer_aliases",
        "algorithms",
        "roles_claim",
        "role_map",
        "person_claim",
        "person_claim_kind",
        "require_verified_email",
        "client_claims",
        "client_roles",
        "required_claims",
        "discovery_timeout_seconds",
        "jwks_refresh_seconds",
        "jwks_max_age_seconds",
    }
)


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(value: str, *, what: str) -> str:
    """``value`` if it is an absolute https URL (plain http only on loopback)."""
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"{what} must be an absolute https:// URL")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ValueError(f"{what} must use https:// (plain http is allowed only on localhost)")
    if parts.fragment or parts.username or parts.password:
        raise ValueError(f"{what} must not carry a #fragment or user:password@")
    return value


def _check_algorithms(value: Any) -> tuple[str, ...]:
    names = [value] if isinstance(value, str) else list(value)
    if not names:
        raise ValueError("name at least one algorithm, e.g. ['RS256', 'ES256']")
    out: list[str] = []
    for name in names:
        if not isinstance(name, str):
            raise ValueError("algorithms must be strings such as 'RS256'")
        if name.strip().lower() == "none":
            raise ValueError("'none' means unsigned tokens and is never accepted")
        if name.upper().startswith("HS"):
            raise ValueError(
                f"{name}: HMAC algorithms need a shared secret, and accepting them next to public "
                "keys allows algorithm confusion; identity providers sign with RS256 or ES256"
            )
        if name not in ALLOWED_ALGORITHMS:
            raise ValueError(
                f"{name}: unknown algorithm; choose from {', '.join(sorted(ALLOWED_ALGORITHMS))}"
            )
        if name not in out:
            out.append(name)
    return tuple(out)


def _check_role_table(value: Any, *, what: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a table of name = [roles]")
    out: dict[str, tuple[str, ...]] = {}
    for key, roles in value.items():
        if not isinstance(key, str) or not key.strip():
            raise ValueError(f"{what}: names must be non-empty strings")
        items = [roles] if isinstance(roles, str) else roles
        if not isinstance(items, list | tuple) or not items:
            raise ValueError(f"{what}.{key}: give a list of policy roles")
        for role in items:
            if not isinstance(role, str) or not _ROLE.match(role):
                raise ValueError(f"{what}.{key}: {role!r} is not a role name (no spaces or commas)")
        out[key] = tuple(dict.fromkeys(items))
    return out


class _OidcFields(BaseModel):
    """The keys shared by :class:`OidcOptions` and :class:`OidcSettings`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    audience: str = Field(default="homeroom", min_length=1)
    """The ``aud`` Homeroom's tokens carry (Entra: the API's client id or App ID URI)."""
    jwks_url: str | None = None
    """Where the signing keys are; unset: ``jwks_uri`` from OIDC discovery."""
    issuer_aliases: tuple[str, ...] = ()
    """Other spellings of ``iss`` to accept (Google also uses ``accounts.google.com``)."""
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    """Accepted signing algorithms; never ``none`` nor HMAC (``HS*``)."""
    clock_skew_seconds: int = Field(default=30, ge=0, le=600)
    """Leeway for ``exp``, ``nbf`` and ``iat``."""
    roles_claim: str = Field(default="groups", min_length=1)
    """Claim holding the caller's groups; a dotted path reaches nested claims."""
    role_map: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Identity-provider group -> policy roles. Unmapped groups give no role."""
    person_claim: str = Field(default="email", min_length=1)
    """Claim binding the caller to a roster person."""
    person_claim_kind: Literal["email", "sourcedId"] = "email"
    """What ``person_claim`` holds: an email address or a roster sourcedId."""
    require_verified_email: bool = True
    """Refuse tokens whose ``email_verified`` is false when binding by email."""
    client_claims: tuple[str, ...] = ("azp", "client_id", "appid", "cid")
    """Claims naming the client application, first present wins."""
    client_roles: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Service-client id -> policy roles, for tokens without a person."""
    required_claims: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Claim (dotted path allowed) -> accepted values: tokens whose claim holds none
    of them are refused. Pins a provider shared by many districts (Google ``hd``,
    Clever ``district``, a ClassLink tenant) to this district."""
    discovery_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    """Timeout of each request to the identity provider."""
    jwks_refresh_seconds: float = Field(default=30.0, ge=1, le=3600)
    """At most one key refetch per this interval (unknown ``kid`` or failure)."""
    jwks_max_age_seconds: float = Field(default=3600.0, ge=60, le=86400)
    """Refetch the keys when they are older than this."""

    @field_validator("jwks_url")
    @classmethod
    def _jwks_url(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value, what="jwks_url")

    @field_validator("issuer_aliases", mode="before")
    @classmethod
    def _aliases(cls, value: Any) -> Any:
        items = [value] if isinstance(value, str) else value
        if isinstance(items, list | tuple) and not all(isinstance(i, str) and i.strip() for i in items):
            raise ValueError("issuer_aliases must be non-empty strings")
        return items

    @field_validator("algorithms", mode="before")
    @classmethod
    def _algorithms(cls, value: Any) -> tuple[str, ...]:
        return _check_algorithms(value)

    @field_validator("roles_claim", "person_claim")
    @classmethod
    def _claim_name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("name a claim")
        return value

    @field_validator("client_claims", mode="before")
    @classmethod
    def _client_claims(cls, value: Any) -> Any:
        items = [value] if isinstance(value, str) else value
        if (
            not isinstance(items, list | tuple)
            or not items
            or not all(isinstance(i, str) and i for i in items)
        ):
            raise ValueError("client_claims must list claim names, e.g. ['azp', 'client_id']")
        return items

    @field_validator("role_map", mode="before")
    @classmethod
    def _role_map(cls, value: Any) -> dict[str, tuple[str, ...]]:
        return _check_role_table(value, what="role_map")

    @field_validator("required_claims", mode="before")
    @classmethod
    def _required_claims(cls, value: Any) -> dict[str, tuple[str, ...]]:
        if not isinstance(value, dict):
            raise ValueError("required_claims must be a table of claim = [accepted values]")
        out: dict[str, tuple[str, ...]] = {}
        for claim, accepted in value.items():
            items = [accepted] if isinstance(accepted, str | int) else accepted
            if not isinstance(claim, str) or not claim.strip():
                raise ValueError("required_claims: claim names must be non-empty strings")
            if (
                not isinstance(items, list | tuple)
                or not items
                or not all(isinstance(i, str | int) and not isinstance(i, bool) and str(i) for i in items)
            ):
                raise ValueError(f"required_claims.{claim}: give the accepted values as strings")
            out[claim.strip()] = tuple(str(i) for i in items)
        return out

    @field_validator("client_roles", mode="before")
    @classmethod
    def _client_roles(cls, value: Any) -> dict[str, tuple[str, ...]]:
        return _check_role_table(value, what="client_roles")


class OidcOptions(_OidcFields):
    """The OIDC keys of ``[auth]``; without ``issuer`` no identity provider is used."""

    issuer: str | None = None
    """The identity provider's issuer URL, exactly as tokens carry it in ``iss``."""

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value, what="issuer")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        given = self.model_fields_set
        if self.issuer is None:
            stray = sorted(given & _OIDC_ONLY)
            if stray:
                raise ValueError(f"{', '.join(stray)} configure an identity provider: set issuer as well")
        elif "audience" not in given:
            raise ValueError(
                "issuer is set but audience is not: set audience to the 'aud' your identity "
                "provider puts in Homeroom's tokens"
            )
        return self

    def oidc(self) -> OidcSettings | None:
        """The identity-provider settings, or ``None`` when ``issuer`` is unset."""
        if self.issuer is None:
            return None
        names = set(OidcSettings.model_fields)
        return OidcSettings.model_validate({name: value for name, value in self if name in names})


class OidcSettings(_OidcFields):
    """A configured identity provider: what :class:`~hub.auth.oidc.OidcVerifier` needs."""

    issuer: str
    """The identity provider's issuer URL, exactly as tokens carry it in ``iss``."""

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, value: str) -> str:
        return check_url(value, what="issuer")

    @model_validator(mode="after")
    def _audience_given(self) -> Self:
        if "audience" not in self.model_fields_set:
            raise ValueError("set audience to the 'aud' your identity provider puts in Homeroom's tokens")
        return self

    @property
    def issuers(self) -> tuple[str, ...]:
        """Every ``iss`` value accepted: the issuer and its aliases."""
        return (self.issuer, *(a for a in self.issuer_aliases if a != self.issuer))
