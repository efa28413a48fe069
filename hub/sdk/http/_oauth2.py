"""OAuth 2 client credentials: a cached token, renewed before it expires and
once more when the vendor answers 401. The token request itself is authlib's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any, Literal

import httpx

from hub.sdk._errors import BadVendorData, SourceAuthFailed, SourceUnavailable
from hub.sdk.http._auth import SourceAuth
from hub.sdk.http._authlib import AsyncOAuth2Client, AuthlibBaseError
from hub.sdk.http._timing import Timing

__all__ = ["BasicTokenAuth", "OAuth2ClientCredentials", "TokenEndpointUnavailable"]

ClientAuthMethod = Literal["client_secret_basic", "client_secret_post"]


class TokenEndpointUnavailable(SourceUnavailable):
    """The token endpoint timed out or answered 5xx: worth retrying later."""


class _ThroughSourceClient(httpx.AsyncBaseTransport):
    """Sends authlib's token requests through the source's own client.

    So token requests share the source's connection pool, limits and
    timeouts (one ``httpx.AsyncClient`` per source), without its auth.
    """

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._client.send(request, auth=None, stream=True)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=response.stream,
            extensions=response.extensions,
        )


class OAuth2ClientCredentials(SourceAuth):
    """OAuth 2 client-credentials grant (OneRoster 1.2, PowerSchool, Ed-Fi).

    The token is requested with authlib's ``AsyncOAuth2Client`` (client
    secret in HTTP Basic by default, or in the form with
    ``auth_method="client_secret_post"``) and cached for the source. It is
    renewed ``leeway`` seconds before ``expires_in`` runs out (at most half
    its lifetime before), and once more when the vendor answers 401 to a
    token we still thought valid (revoked, or the vendor's clock differs);
    a second 401 is the vendor's answer. Concurrent requests share one
    renewal. A token without ``expires_in`` is kept until a 401.

    Errors: the token endpoint refusing the client (400/401/403 or an OAuth
    ``error``) is ``SourceAuthFailed`` ending with ``hint``; a timeout or 5xx
    is :class:`TokenEndpointUnavailable` (retried by :class:`VendorClient`);
    a body that is no token is ``BadVendorData``.
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        scope: str | None = None,
        auth_method: ClientAuthMethod = "client_secret_basic",
        leeway: float = 60.0,
        hint: str = "",
    ) -> None:
        if not token_url or not client_id or not client_secret:
            raise ValueError("client credentials need a token URL, a client id and a secret")
        self.token_url = token_url
        self.hint = hint
        self._client_id = client_id
        self._client_secret = client_secret
        self._scope = scope
        self._auth_method = auth_method
        self._leeway = leeway
        self._source = "?"
        self._timing = Timing()
        self._oauth: Any = None
        self._lock = asyncio.Lock()
        self._access_token: str | None = None
        self._renew_at: float | None = None
        self.tokens_fetched = 0

    def bind(self, client: httpx.AsyncClient, source: str, timing: Timing) -> None:
        """Create authlib's token client over the source's client."""
        self._source = source
        self._timing = timing
        self._oauth = AsyncOAuth2Client(
            client_id=self._client_id,
            client_secret=self._client_secret,
            scope=self._scope,
            token_endpoint_auth_method=self._auth_method,
            transport=_ThroughSourceClient(client),
            timeout=client.timeout,
        )

    async def aclose(self) -> None:
        """Forget the token and close authlib's client (not the source's)."""
        self._access_token = None
        if self._oauth is not None:
            await self._oauth.aclose()

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Send with the cached token; on 401 renew it once and send again."""
        token = await self._token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            await response.aread()
            self._forget(token)
            token = await self._token()
            request.headers["Authorization"] = f"Bearer {token}"
            yield request

    def sync_auth_flow(self, request: httpx.Request) -> Any:
        """Not supported: the toolkit's client is asynchronous."""
        raise RuntimeError("OAuth2ClientCredentials works with httpx.AsyncClient only")

    def _forget(self, token: str) -> None:
        # Only the token that failed: a concurrent request may have renewed it already.
        if self._access_token == token:
            self._access_token = None

    async def _token(self) -> str:
        async with self._lock:
            token = self._access_token
            if token is not None and (self._renew_at is None or self._timing.monotonic() < self._renew_at):
                return token
            return await self._fetch()

    async def _fetch(self) -> str:
        if self._oauth is None:
            raise RuntimeError("OAuth2ClientCredentials used before bind()")
        where = "token endpoint"
        try:
            token = await self._oauth.fetch_token(self.token_url, grant_type="client_credentials")
        except httpx.TimeoutException:
            raise TokenEndpointUnavailable(self._source, f"{where} timed out") from None
        except httpx.HTTPStatusError as exc:
            raise self._status_error(exc.response.status_code) from None
        except httpx.TransportError as exc:
            raise TokenEndpointUnavailable(
                self._source, f"{where} unreachable ({type(exc).__name__})"
            ) from None
        except AuthlibBaseError as exc:
            code = getattr(exc, "error", None) or type(exc).__name__
            reason = self._with_hint(f"{where} refused the client ({code})")
            raise SourceAuthFailed(self._source, reason) from None
        except ValueError:
            raise BadVendorData(self._source, f"{where} answered something that is not a token") from None
        access_token = token.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise BadVendorData(self._source, f"{where} answered without an access_token")
        self.tokens_fetched += 1
        self._access_token = access_token
        self._renew_at = self._renewal_time(token.get("expires_in"))
        return access_token

    def _renewal_time(self, expires_in: Any) -> float | None:
        try:
            lifetime = float(expires_in)
        except (TypeError, ValueError):
            return None
        if lifetime != lifetime or lifetime <= 0:
            return None
        return self._timing.monotonic() + lifetime - min(self._leeway, lifetime / 2)

    def _status_error(self, status: int) -> Exception:
        where = "token endpoint"
        if status >= 500 or status == 429:
            return TokenEndpointUnavailable(self._source, f"{where} answered {status}")
        return SourceAuthFailed(self._source, self._with_hint(f"{where} answered {status}"))

    def _with_hint(self, reason: str) -> str:
        return f"{reason}; {self.hint}" if self.hint else reason

    def __repr__(self) -> str:
        return f"OAuth2ClientCredentials({self.token_url!r}, <hidden>)"


class BasicTokenAuth(OAuth2ClientCredentials):
    """Ed-Fi ODS/API style: ``POST token_url`` with HTTP Basic ``key:secret``
    and ``grant_type=client_credentials``; the answer's bearer token is then
    cached and renewed exactly as by :class:`OAuth2ClientCredentials`."""

    def __init__(
        self, token_url: str, key: str, secret: str, *, leeway: float = 60.0, hint: str = ""
    ) -> None:
        super().__init__(
            token_url, key, secret, scope=None, auth_method="client_secret_basic", leeway=leeway, hint=hint
        )
