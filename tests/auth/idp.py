"""A fake OpenID Connect identity provider for the sign-in tests.

It holds keys the test generated, publishes them as a JWKS (plus a discovery
document), signs tokens, and counts requests. It answers either in process
(:meth:`FakeIdP.transport`, an ``httpx.MockTransport``) or over real HTTP on
127.0.0.1 (:meth:`FakeIdP.asgi_app` served by ``hub.testing.server.serving``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

ISSUER = "https://idp.district.test/realms/homeroom"
AUDIENCE = "api://homeroom"

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class KeyPair:
    """A generated key pair and the algorithm it signs with."""

    kid: str
    alg: str
    private: PrivateKey

    def public_jwk(self, *, with_alg: bool = True) -> dict[str, Any]:
        public = self.private.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
        else:
            jwk = ECAlgorithm.to_jwk(public, as_dict=True)
        jwk.update({"kid": self.kid, "use": "sig"})
        if with_alg:
            jwk["alg"] = self.alg
        return jwk

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def rsa_key(kid: str, alg: str = "RS256") -> KeyPair:
    return KeyPair(kid, alg, rsa.generate_private_key(public_exponent=65537, key_size=2048))


def ec_key(kid: str, alg: str = "ES256") -> KeyPair:
    curve = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}[alg]
    return KeyPair(kid, alg, ec.generate_private_key(curve))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw_token(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """A JWT assembled by hand (for what PyJWT refuses to sign)."""
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}.{b64(signature)}"


def hmac_token(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    """An HS256 token signed with ``secret`` (e.g. a public key's PEM: algorithm confusion)."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


@dataclass
class FakeIdP:
    """Publishes ``keys``; counts ``jwks_requests`` and ``discovery_requests``.

    ``down`` makes every request fail to connect; ``status`` makes every
    answer that HTTP status; ``jwks_body`` replaces the JWKS response body.
    """

    keys: list[KeyPair]
    issuer: str = ISSUER
    audience: str = AUDIENCE
    extra_jwks: list[dict[str, Any]] = field(default_factory=list)
    discovery_issuer: str | None = None
    down: bool = False
    status: int = 200
    jwks_body: bytes | None = None
    jwks_requests: int = 0
    discovery_requests: int = 0

    # -- tokens ------------------------------------------------------------

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": "00u-teacher-1",
            "iat": now,
            "nbf": now,
            "exp": now + 600,
            "email": "Ms.Rivera@District.Test",
            "groups": ["Teachers"],
            "azp": "homeroom-web",
        }
        for name, value in overrides.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims

    def token(self, key: KeyPair | None = None, *, kid: str | None = "", **overrides: Any) -> str:
        """A token signed by ``key`` (the first key); ``kid=None`` leaves it out of the header."""
        key = key or self.keys[0]
        headers: dict[str, Any] = {}
        if kid is not None:
            headers["kid"] = kid or key.kid
        return jwt.encode(self.claims(**overrides), key.private, algorithm=key.alg, headers=headers)

    # -- publishing --------------------------------------------------------

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.public_jwk() for k in self.keys] + self.extra_jwks}

    def discovery(self, issuer: str) -> dict[str, Any]:
        return {
            "issuer": self.discovery_issuer or issuer,
            "jwks_uri": issuer.rstrip("/") + "/protocol/openid-connect/certs",
            "authorization_endpoint": issuer + "/auth",
        }

    def _answer(self, path: str, issuer: str) -> tuple[int, bytes]:
        if path.endswith("/.well-known/openid-configuration"):
            self.discovery_requests += 1
            return self.status, json.dumps(self.discovery(issuer)).encode()
        if path.endswith("/certs") or path.endswith("/jwks"):
            self.jwks_requests += 1
            return self.status, self.jwks_body if self.jwks_body is not None else json.dumps(
                self.jwks()
            ).encode()
        return 404, b"{}"

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        status, body = self._answer(request.url.path, self.issuer)
        return httpx.Response(status, content=body, headers={"content-type": "application/json"})

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handler))

    def asgi_app(self) -> Starlette:
        """The provider as a web app; its issuer is the base URL it is served on."""

        async def anything(request: Request) -> Response:
            base = str(request.base_url).rstrip("/")
            status, body = self._answer(request.url.path, base)
            return Response(body, status_code=status, media_type="application/json")

        async def healthz(request: Request) -> Response:
            return PlainTextResponse("ok")

        return Starlette(
            routes=[
                Route("/healthz", healthz),
                Route("/.well-known/openid-configuration", anything),
                Route("/protocol/openid-connect/certs", anything),
                Route("/jwks", anything),
            ]
        )


def random_kid() -> str:
    return uuid.uuid4().hex
