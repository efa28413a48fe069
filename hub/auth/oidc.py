"""Sign-in with an OpenID Connect identity provider.

:class:`OidcVerifier` checks a bearer JWT against the provider's published keys
(PyJWT does the cryptography and the registered-claim checks) and turns its
claims into a :class:`~hub.auth.principal.Principal`:

- the signature algorithm must be one of ``[auth] algorithms`` (``none`` and
  HMAC are refused at configuration time) *and* fit the key the ``kid`` names
  (an RSA key verifies only ``RS*``/``PS*``, an EC key only its curve's ``ES*``);
- ``iss``, ``aud``, ``exp``, ``iat`` and ``sub`` are required; ``exp``, ``nbf``
  and ``iat`` are checked with ``clock_skew_seconds`` of leeway;
- roles come from ``roles_claim`` through ``role_map`` (unmapped groups give
  nothing) and, for service clients, from ``client_roles``;
- ``person_claim`` binds the caller to a roster person.

Every refusal is a :class:`~hub.auth.tokens.TokenRejected` whose message is a
fixed, short phrase: no claim value is ever echoed.

:func:`authenticate` runs a token past several verifiers (the development
signer is synchronous, this one is not), choosing by the token's issuer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any, Protocol

import httpx
import jwt

from hub.auth.config import OidcSettings
from hub.auth.jwks import IdentityProviderUnavailable, JwksCache
from hub.auth.principal import Principal
from hub.auth.tokens import TokenRejected, rejection

__all__ = ["IdentityProviderUnavailable", "OidcVerifier", "Verifier", "authenticate", "claim_at"]

MAX_TOKEN_CHARS = 16_384
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]

_PRINCIPAL_FIELDS = frozenset(f.name for f in dataclasses.fields(Principal))


class Verifier(Protocol):
    """Anything that turns a bearer token into a principal.

    ``verify`` may be synchronous (:class:`~hub.auth.tokens.DevSigner`) or a
    coroutine (:class:`OidcVerifier`); :func:`authenticate` handles both.
    """

    @property
    def issuer(self) -> str:
        """The ``iss`` of the tokens this verifier checks."""
        ...

    def verify(self, token: str) -> Principal | Awaitable[Principal]:
        """The token's principal, or :class:`TokenRejected`."""
        ...


def claim_at(claims: Mapping[str, Any], path: str) -> Any:
    """The claim named ``path``: a top-level claim of that exact name first
    (names such as ``https://district.org/roles`` contain dots), otherwise a
    dotted path into nested objects (``realm_access.roles``). ``None`` if absent."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _strings(value: Any) -> list[str]:
    """A claim's values as strings: a list keeps its string items, a string is one value."""
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list | tuple):
        return [item for item in value if isinstance(item, str) and item]
    return []


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int):
        return str(value)
    return None


class OidcVerifier:
    """Verifies the bearer tokens of one identity provider.

    ``keys`` (mainly for tests) replaces the JWKS cache built from ``settings``;
    ``client`` is the ``httpx.AsyncClient`` that cache uses (made on first use
    when not given).
    """

    def __init__(
        self,
        settings: OidcSettings,
        *,
        keys: JwksCache | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.settings = settings
        self.keys = keys or JwksCache(
            issuer=settings.issuer,
            jwks_url=settings.jwks_url,
            client=client,
            timeout=settings.discovery_timeout_seconds,
            refresh_interval=settings.jwks_refresh_seconds,
            max_age=settings.jwks_max_age_seconds,
        )
        self._algorithms = frozenset(settings.algorithms)

    @property
    def issuer(self) -> str:
        """The configured issuer."""
        return self.settings.issuer

    @property
    def issuers(self) -> tuple[str, ...]:
        """Every ``iss`` this verifier accepts (the issuer and its aliases)."""
        return self.settings.issuers

    async def prefetch(self) -> None:
        """Load the signing keys now (at start-up), so configuration mistakes show
        in the log before the first caller. Raises :class:`IdentityProviderUnavailable`."""
        await self.keys.refresh()

    async def aclose(self) -> None:
        """Release the HTTP client."""
        await self.keys.aclose()

    async def verify(self, token: str) -> Principal:
        """The principal of a valid token; :class:`TokenRejected` otherwise."""
        token = token.strip()
        if not token:
            raise TokenRejected("missing bearer token")
        if len(token) > MAX_TOKEN_CHARS:
            raise TokenRejected("token is malformed")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenRejected("token is malformed") from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._algorithms:
            raise TokenRejected("token algorithm not allowed")
        kid = header.get("kid")
        candidates = await self.keys.get(kid if isinstance(kid, str) else None)
        fitting = [key for key in candidates if key.accepts(alg)]
        if not fitting:
            raise TokenRejected("token algorithm does not match its signing key")
        claims = self._decode(token, alg, [key.for_algorithm(alg) for key in fitting])
        for path, accepted in self.settings.required_claims.items():
            value = claim_at(claims, path)
            held = _strings(value) or [s for s in (_scalar(value),) if s is not None]
            if not set(held) & set(accepted):
                raise TokenRejected("token is not for this district")
        return self._principal(claims)

    def _decode(self, token: str, alg: str, keys: list[jwt.PyJWK]) -> dict[str, Any]:
        settings = self.settings
        bad_signature: TokenRejected | None = None
        for key in keys:  # one key per kid, except when a provider reuses a kid
            try:
                return jwt.decode(
                    token,
                    key,
                    algorithms=[alg],
                    audience=settings.audience,
                    issuer=settings.issuers,
                    leeway=settings.clock_skew_seconds,
                    options={"require": REQUIRED_CLAIMS, "enforce_minimum_key_length": True},
                )
            except jwt.InvalidSignatureError as error:
                bad_signature = rejection(error)  # another key of the same kid may verify it
            except jwt.PyJWTError as error:
                raise rejection(error) from None
        raise bad_signature or TokenRejected("token signature is invalid")

    def _principal(self, claims: dict[str, Any]) -> Principal:
        settings = self.settings
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise TokenRejected("token lacks the 'sub' claim")
        client = next(
            (value for name in settings.client_claims if (value := _scalar(claims.get(name))) is not None),
            None,
        )
        roles: dict[str, None] = {}
        for group in _strings(claim_at(claims, settings.roles_claim)):
            roles.update(dict.fromkeys(settings.role_map.get(group, ())))
        person = _scalar(claim_at(claims, settings.person_claim))
        # A service client: a listed client id, and no person (or the client is its own subject).
        client_roles = settings.client_roles.get(client) if client is not None else None
        sourced_id: str | None = None
        email: str | None = None
        if client_roles is not None and (person is None or subject == client):
            roles.update(dict.fromkeys(client_roles))
        elif person is not None:
            if settings.person_claim_kind == "sourcedId":
                sourced_id = person
            else:
                if settings.require_verified_email and claims.get("email_verified") is False:
                    raise TokenRejected("token email is not verified")
                email = person.lower()
        if not roles:
            raise TokenRejected("token grants no Homeroom role")
        extra: dict[str, Any] = {}
        if email is not None and "person_email" in _PRINCIPAL_FIELDS:
            extra["person_email"] = email
        return Principal(subject=subject, roles=tuple(roles), sourced_id=sourced_id, client=client, **extra)


def _issuers_of(verifier: Verifier) -> tuple[str, ...]:
    issuers = getattr(verifier, "issuers", None)
    if isinstance(issuers, tuple) and all(isinstance(i, str) for i in issuers):
        return issuers
    return (verifier.issuer,)


async def authenticate(verifiers: Sequence[Verifier], token: str) -> Principal:
    """The principal of ``token`` according to the verifier for its issuer.

    With one verifier, that verifier decides (and gives the precise reason).
    With several, the token's unverified ``iss`` picks which one checks it (the
    chosen verifier checks ``iss`` again, with the signature); a token naming
    none of them is refused as having the wrong issuer. Synchronous and
    asynchronous ``verify`` methods are both fine.
    """
    token = token.strip()
    if not token:
        raise TokenRejected("missing bearer token")
    if not verifiers:
        raise TokenRejected("no sign-in method is configured")
    chosen: Sequence[Verifier] = verifiers
    if len(verifiers) > 1:
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise TokenRejected("token is malformed") from None
        issuer = unverified.get("iss")
        chosen = [v for v in verifiers if isinstance(issuer, str) and issuer in _issuers_of(v)]
        if not chosen:
            raise TokenRejected("token has the wrong issuer")
    last: TokenRejected | None = None
    for verifier in chosen:
        try:
            result = verifier.verify(token)
            if isinstance(result, Principal):
                return result
            return await result
        except TokenRejected as exc:
            last = exc
    raise last or TokenRejected("no sign-in method is configured")
