"""Development and demo sign-in: HS256 tokens signed with a local secret key.

Real identity providers (OIDC/JWKS) are verified elsewhere; these tokens exist so
a district can try Homeroom before wiring its IdP. ``serve`` accepts them only
when the configuration names the key file.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from hub.auth.principal import Principal

__all__ = ["DevSigner", "TokenRejected", "load_or_create_key"]

_ALGORITHM = "HS256"
_MIN_KEY_BYTES = 32


class TokenRejected(Exception):
    """A bearer token was refused; the message is safe to show the caller."""


_REASONS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "token expired"),
    (jwt.ImmatureSignatureError, "token not yet valid"),
    (jwt.InvalidAudienceError, "token has the wrong audience"),
    (jwt.InvalidIssuerError, "token has the wrong issuer"),
    (jwt.InvalidAlgorithmError, "token algorithm not allowed"),
    (jwt.InvalidSignatureError, "token signature is invalid"),
    (jwt.InvalidKeyError, "signing key not accepted"),
)


def rejection(error: jwt.PyJWTError) -> TokenRejected:
    """The caller-safe refusal for a verification failure (never echoes the token)."""
    if isinstance(error, jwt.MissingRequiredClaimError):
        # The claim name is Homeroom's requirement, not the caller's data.
        return TokenRejected(f"token lacks the '{error.claim}' claim")
    for kind, reason in _REASONS:
        if isinstance(error, kind):
            return TokenRejected(reason)
    return TokenRejected("token is malformed")


def load_or_create_key(path: Path) -> bytes:
    """Read the dev key at ``path``, creating it (mode 0600) with a fresh random key."""
    if path.exists():
        try:
            key = path.read_text(encoding="utf-8").strip().encode()
        except UnicodeDecodeError:
            raise ValueError(f"{path}: dev key is not UTF-8 text") from None
        if len(key) < _MIN_KEY_BYTES:
            raise ValueError(f"{path}: dev key is shorter than {_MIN_KEY_BYTES} characters")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key_text = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key_text + "\n")
    return key_text.encode()


@dataclass(frozen=True, slots=True)
class DevSigner:
    """Signs and verifies development tokens with one symmetric key."""

    key: bytes
    issuer: str = "homeroom-dev"
    audience: str = "homeroom"
    leeway: int = 30

    def issue(
        self,
        *,
        subject: str,
        roles: list[str],
        person_id: str | None = None,
        sourced_id: str | None = None,
        ttl_seconds: int = 12 * 3600,
    ) -> str:
        """A signed token for ``subject`` with ``roles`` (and a roster person)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "roles": roles,
            "iat": now,
            "nbf": now - 1,
            "exp": now + ttl_seconds,
        }
        if person_id:
            claims["hid"] = person_id
        if sourced_id:
            claims["sid"] = sourced_id
        return jwt.encode(claims, self.key, algorithm=_ALGORITHM)

    def verify(self, token: str) -> Principal:
        """The principal of a valid token; :class:`TokenRejected` otherwise."""
        try:
            claims = jwt.decode(
                token,
                self.key,
                algorithms=[_ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as error:
            raise rejection(error) from None
        roles = claims.get("roles")
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise TokenRejected("token has no valid roles claim")
        return Principal(
            subject=str(claims["sub"]),
            roles=tuple(roles),
            person_id=claims.get("hid") if isinstance(claims.get("hid"), str) else None,
            sourced_id=claims.get("sid") if isinstance(claims.get("sid"), str) else None,
            client=claims.get("azp") if isinstance(claims.get("azp"), str) else None,
        )
