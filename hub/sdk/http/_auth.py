"""How requests to a vendor are authorised: the base class, static bearer
tokens and OAuth 1.0a request signing. Token endpoints live in ``_oauth2``."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Generator
from typing import Any, ClassVar, Literal

import httpx

from hub.sdk._errors import SourceAuthFailed
from hub.sdk.http._authlib import AuthlibBaseError, OAuth1Auth, escape, generate_signature_base_string
from hub.sdk.http._timing import Timing

__all__ = ["BearerToken", "OAuth1Signer", "SourceAuth"]


class SourceAuth(httpx.Auth):
    """Base of the toolkit's auth helpers: an ``httpx.Auth`` that knows its source.

    :class:`VendorClient` calls :meth:`bind` once, when it creates the
    source's client, and :meth:`aclose` when it closes. ``hint`` is what an
    administrator should check when the vendor refuses the credentials
    ("check SIS_CLIENT_SECRET"); it ends the ``SourceAuthFailed`` message.
    """

    hint: str = ""

    def bind(self, client: httpx.AsyncClient, source: str, timing: Timing) -> None:
        """Attach to the source's client (for token requests), name and clock."""

    async def aclose(self) -> None:
        """Release what :meth:`bind` set up."""


class BearerToken(SourceAuth):
    """A fixed token sent as ``Authorization: Bearer <token>`` (Canvas, Clever).

    A 401 is not retried: the token will not change by itself.
    """

    def __init__(self, token: str, *, hint: str = "") -> None:
        if not token:
            raise ValueError("empty bearer token")
        self._header = f"Bearer {token}"
        self.hint = hint

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the header; nothing else."""
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return "BearerToken(<hidden>)"


SignatureMethod = Literal["HMAC-SHA1", "HMAC-SHA256"]
"""OAuth 1.0a signature methods :class:`OAuth1Signer` supports."""


def _sign_hmac_sha256(client: Any, request: Any) -> str:
    # RFC 5849 section 3.4.2 with SHA-256 in place of SHA-1, as the OneRoster 1.1
    # providers that use it (and Moodle's client) do.
    base_string = generate_signature_base_string(request)
    key = f"{escape(client.client_secret or '')}&{escape(client.token_secret or '')}"
    digest = hmac.new(key.encode(), base_string.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


class _OAuth1Auth(OAuth1Auth):  # type: ignore[misc]
    # A copy, so registering HMAC-SHA256 does not change authlib for everyone.
    SIGNATURE_METHODS: ClassVar[dict[str, Any]] = {
        **OAuth1Auth.SIGNATURE_METHODS,
        "HMAC-SHA256": _sign_hmac_sha256,
    }


class OAuth1Signer(SourceAuth):
    """Signs every request with two-legged OAuth 1.0a (some OneRoster 1.1 providers).

    Uses authlib's ``OAuth1Auth`` for httpx: the consumer key and secret, no
    token, the signature in the ``Authorization`` header. Providers disagree
    on the method, so it is a setting: ``HMAC-SHA1`` (RFC 5849) or
    ``HMAC-SHA256``. Each request gets a fresh nonce and timestamp, so a
    retried request is signed again.
    """

    requires_request_body = True

    def __init__(
        self,
        consumer_key: str,
        consumer_secret: str,
        *,
        signature_method: SignatureMethod = "HMAC-SHA1",
        hint: str = "",
    ) -> None:
        if not consumer_key or not consumer_secret:
            raise ValueError("OAuth 1 needs a consumer key and secret")
        if signature_method not in ("HMAC-SHA1", "HMAC-SHA256"):
            raise ValueError(f"unsupported OAuth 1 signature method {signature_method!r}")
        self.signature_method = signature_method
        self.hint = hint
        self._source = "?"
        self._signer = _OAuth1Auth(
            client_id=consumer_key, client_secret=consumer_secret, signature_method=signature_method
        )

    def bind(self, client: httpx.AsyncClient, source: str, timing: Timing) -> None:
        """Remember the source's name for error messages."""
        self._source = source

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Sign ``request`` (authlib builds the signed copy that is sent).

        authlib refuses to sign for plain http except on loopback (the
        signature would travel in clear text): that is ``SourceAuthFailed``.
        """
        try:
            signed: Generator[httpx.Request, httpx.Response, None] = self._signer.auth_flow(request)
            yield from signed
        except AuthlibBaseError as exc:
            code = getattr(exc, "error", None) or type(exc).__name__
            advice = "; OAuth 1 needs an https base_url" if code == "insecure_transport" else ""
            raise SourceAuthFailed(self._source, f"cannot sign the request ({code}){advice}") from None

    def __repr__(self) -> str:
        return f"OAuth1Signer({self.signature_method}, <hidden>)"
