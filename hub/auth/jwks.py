"""The identity provider's signing keys: fetched, cached by ``kid``, refreshed.

:class:`JwksCache` reads the JSON Web Key Set from ``jwks_url`` or, when that
is not configured, from the ``jwks_uri`` of the issuer's OpenID Connect
discovery document (``<issuer>/.well-known/openid-configuration``).

Keys are refetched when they are older than ``max_age`` and when a token names
a ``kid`` the cache does not know (the provider rotated its keys). Refetches
are rate-limited: at most one attempt per ``refresh_interval``, whatever
triggered it, so a flood of tokens with made-up ``kid`` values costs the
identity provider one request per interval. A failed refetch keeps the keys
already known.

Callers see two reasons only, never a URL, status or body: ``unknown signing
key`` and ``identity provider unreachable``. Details go to the log.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt

from hub.auth.config import check_url
from hub.auth.tokens import TokenRejected

__all__ = [
    "UNKNOWN_KEY",
    "UNREACHABLE",
    "IdentityProviderUnavailable",
    "JwksCache",
    "SigningKey",
    "parse_jwks",
]

log = logging.getLogger("homeroom.auth")

UNKNOWN_KEY = "unknown signing key"
UNREACHABLE = "identity provider unreachable"
KEY_MISMATCH = "token algorithm does not match its signing key"

MAX_DOCUMENT_BYTES = 512_000
MAX_KEYS = 100

# Key type (and curve) each accepted algorithm needs: the defence against
# algorithm confusion, together with never accepting HMAC at all.
_KTY_FOR_PREFIX = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
_CURVES = {"ES256": ("P-256",), "ES384": ("P-384",), "ES512": ("P-521",), "EdDSA": ("Ed25519", "Ed448")}
_USABLE_KTY = frozenset(_KTY_FOR_PREFIX.values())


class IdentityProviderUnavailable(TokenRejected):
    """The signing keys could not be fetched: the token cannot be checked now.

    A :class:`TokenRejected`, so callers that only know that class still answer
    401; the hub may prefer 503 since the caller is not at fault.
    """


class _FetchFailed(Exception):
    """Internal: why a fetch failed (logged, never shown to a caller)."""


@dataclass(frozen=True)
class SigningKey:
    """One public key from the JWKS, as published (``jwk``) plus its usable form."""

    kid: str | None
    kty: str
    jwk: Mapping[str, Any]
    _by_alg: dict[str, jwt.PyJWK] = field(default_factory=dict, compare=False, repr=False)

    @property
    def crv(self) -> str | None:
        """The curve of an EC or OKP key."""
        crv = self.jwk.get("crv")
        return crv if isinstance(crv, str) else None

    @property
    def alg(self) -> str | None:
        """The algorithm the provider pinned to this key, if it did."""
        alg = self.jwk.get("alg")
        return alg if isinstance(alg, str) else None

    def accepts(self, alg: str) -> bool:
        """Whether a token signed with ``alg`` may be checked with this key."""
        if self.alg is not None and self.alg != alg:
            return False
        if _KTY_FOR_PREFIX.get(alg[:2]) != self.kty:
            return False
        curves = _CURVES.get(alg)
        return curves is None or self.crv in curves

    def for_algorithm(self, alg: str) -> jwt.PyJWK:
        """This key bound to ``alg``; :class:`TokenRejected` when they do not fit."""
        if not self.accepts(alg):
            raise TokenRejected(KEY_MISMATCH)
        key = self._by_alg.get(alg)
        if key is None:
            try:
                key = jwt.PyJWK(dict(self.jwk), algorithm=alg)
            except jwt.PyJWTError:
                raise TokenRejected(KEY_MISMATCH) from None
            self._by_alg[alg] = key
        return key


def parse_jwks(document: Any) -> dict[str | None, list[SigningKey]]:
    """The usable signature keys of a JWKS document, grouped by ``kid``.

    Keys for encryption, symmetric (``oct``) keys and keys the JOSE library
    cannot load are skipped; :class:`ValueError` when none is left.
    """
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWK set (no 'keys' list)")
    out: dict[str | None, list[SigningKey]] = {}
    count = 0
    for entry in document["keys"][: MAX_KEYS * 2]:
        if not isinstance(entry, dict):
            continue
        kty = entry.get("kty")
        kid = entry.get("kid")
        use = entry.get("use")
        ops = entry.get("key_ops")
        if kty not in _USABLE_KTY or (kid is not None and not isinstance(kid, str)):
            continue
        if use not in (None, "sig") or (isinstance(ops, list) and "verify" not in ops):
            continue
        if any(name in entry for name in ("d", "p", "q", "k")):
            log.warning("the identity provider publishes a private key (kid %r); ignoring it", kid)
            continue
        try:
            jwt.PyJWK(dict(entry))
        except jwt.PyJWTError as exc:
            log.info("skipping unusable JWK %r: %s", kid, exc)
            continue
        out.setdefault(kid, []).append(SigningKey(kid=kid, kty=str(kty), jwk=dict(entry)))
        count += 1
        if count >= MAX_KEYS:
            break
    if not out:
        raise ValueError("the JWK set holds no usable signature key")
    return out


class JwksCache:
    """Signing keys of one issuer, fetched with ``httpx`` and cached by ``kid``.

    ``client`` is used as given (and left open); without one the cache makes
    its own, closed by :meth:`aclose`. ``clock`` is monotonic seconds.
    """

    def __init__(
        self,
        *,
        issuer: str,
        jwks_url: str | None = None,
        client: httpx.AsyncClient | None = None,
        timeout: float = 5.0,
        refresh_interval: float = 30.0,
        max_age: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer = issuer
        self.jwks_url = jwks_url
        self._client = client
        self._owns_client = client is None
        self._timeout = timeout
        self._refresh_interval = refresh_interval
        self._max_age = max_age
        self._clock = clock
        self._lock = asyncio.Lock()
        self._keys: dict[str | None, list[SigningKey]] | None = None
        self._discovered_url: str | None = None
        self._loaded_at = 0.0
        self._attempted_at: float | None = None
        self._last_failed = False
        self.fetches = 0
        """How many times the JWKS was requested (discovery not counted)."""

    @property
    def kids(self) -> frozenset[str | None]:
        """The key ids currently known."""
        return frozenset(self._keys or ())

    async def get(self, kid: str | None) -> list[SigningKey]:
        """The keys published under ``kid`` (``None``: the token names none).

        Raises :class:`TokenRejected` ("unknown signing key") or
        :class:`IdentityProviderUnavailable`.
        """
        if self._keys is None or self._clock() - self._loaded_at >= self._max_age:
            await self._refresh()
        found = self._lookup(kid)
        if not found and kid is not None:
            await self._refresh()  # a rotation, or a made-up kid: rate-limited either way
            found = self._lookup(kid)
        if found:
            return found
        if self._last_failed:
            raise IdentityProviderUnavailable(UNREACHABLE)
        raise TokenRejected(UNKNOWN_KEY)

    async def refresh(self) -> None:
        """Fetch the keys now unless a fetch was tried within the refresh interval.

        Raises :class:`IdentityProviderUnavailable` when no key could ever be loaded.
        """
        await self._refresh()

    async def aclose(self) -> None:
        """Close the HTTP client if this cache made it."""
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    def _lookup(self, kid: str | None) -> list[SigningKey]:
        keys = self._keys or {}
        if kid is not None:
            return keys.get(kid, [])
        # A token without a kid is checked only when the set holds one key.
        every = [key for group in keys.values() for key in group]
        return every if len(every) == 1 else []

    def _due(self) -> bool:
        return self._attempted_at is None or self._clock() - self._attempted_at >= self._refresh_interval

    async def _refresh(self) -> None:
        """Fetch if due, or wait for a fetch in flight. Raises only with no keys at all."""
        if self._due() or self._lock.locked():
            async with self._lock:
                if self._due():  # nobody refreshed while this task waited
                    await self._fetch_now()
        if self._keys is None:
            raise IdentityProviderUnavailable(UNREACHABLE)

    async def _fetch_now(self) -> None:
        self._attempted_at = self._clock()
        try:
            keys = await self._fetch()
        except _FetchFailed as exc:
            self._last_failed = True
            log.warning("cannot fetch signing keys for issuer %s: %s", self.issuer, exc)
            return
        self._last_failed = False
        self._keys = keys
        self._loaded_at = self._clock()

    async def _fetch(self) -> dict[str | None, list[SigningKey]]:
        url = self.jwks_url or self._discovered_url or await self._discover()
        self.fetches += 1
        try:
            return parse_jwks(await self._get_json(url))
        except (_FetchFailed, ValueError) as exc:
            self._discovered_url = None  # discover again next time: the provider may have moved it
            raise _FetchFailed(f"{url}: {exc}") from None

    async def _discover(self) -> str:
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        document = await self._get_json(url)
        if not isinstance(document, dict):
            raise _FetchFailed(f"{url}: not a discovery document")
        if document.get("issuer") != self.issuer:
            raise _FetchFailed(f"{url}: the document names another issuer; check [auth] issuer")
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise _FetchFailed(f"{url}: no jwks_uri")
        try:
            self._discovered_url = check_url(jwks_uri, what="jwks_uri")
        except ValueError as exc:
            raise _FetchFailed(f"{url}: {exc}") from None
        return self._discovered_url

    async def _get_json(self, url: str) -> Any:
        if self._client is None:
            self._client = httpx.AsyncClient(follow_redirects=False)
        try:
            async with self._client.stream(
                "GET", url, headers={"Accept": "application/json"}, timeout=self._timeout
            ) as response:
                if response.status_code != 200:
                    raise _FetchFailed(f"HTTP {response.status_code}")
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body.extend(chunk)
                    if len(body) > MAX_DOCUMENT_BYTES:
                        raise _FetchFailed("response too large")
        except httpx.TimeoutException:
            raise _FetchFailed("timed out") from None
        except httpx.HTTPError as exc:
            raise _FetchFailed(type(exc).__name__) from None
        try:
            return json.loads(body)
        except ValueError:
            raise _FetchFailed("response is not JSON") from None
