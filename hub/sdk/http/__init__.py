"""The HTTP toolkit every HTTP adapter uses: one client per source, auth,
paging, throttling and typed errors.

A typical adapter::

    from hub.sdk.http import HttpSourceConfig, OAuth2ClientCredentials, OffsetLimitPaging, VendorClient

    class MyConfig(HttpSourceConfig):
        token_url: str
        client_id_env: str
        client_secret_env: str

    auth = OAuth2ClientCredentials(config.token_url, client_id, client_secret,
                                   hint="check MY_CLIENT_SECRET")
    client = VendorClient(config, auth)
    paging = OffsetLimitPaging(items_of=lambda body: body["users"])
    async with client.deadline():
        async for page in paging.pages(client, "users", {"fields": "sourcedId,givenName"}):
            ...

Everything :class:`VendorClient` raises is one of the SDK's typed errors
(``SourceUnavailable``, ``SourceAuthFailed``, ``BadVendorData`` and its
:class:`RequestRejected`), with a reason an administrator can act on and no
record contents.
"""

from hub.sdk.http._auth import BearerToken, OAuth1Signer, SignatureMethod, SourceAuth
from hub.sdk.http._client import QueryParams, VendorClient
from hub.sdk.http._clock import provider_time
from hub.sdk.http._config import HttpSourceConfig
from hub.sdk.http._errors import RequestRejected, summarise_error_body
from hub.sdk.http._oauth2 import BasicTokenAuth, OAuth2ClientCredentials, TokenEndpointUnavailable
from hub.sdk.http._observe import RequestObserver, observe_requests
from hub.sdk.http._paging import (
    CursorPaging,
    ItemsOf,
    LinkHeaderPaging,
    OffsetLimitPaging,
    Page,
    PageTokenPaging,
    Paging,
    parse_link_header,
)
from hub.sdk.http._throttle import RetryBudget, Throttle, backoff_delay, requested_delay
from hub.sdk.http._timing import Timing

__all__ = [
    "BasicTokenAuth",
    "BearerToken",
    "CursorPaging",
    "HttpSourceConfig",
    "ItemsOf",
    "LinkHeaderPaging",
    "OAuth1Signer",
    "OAuth2ClientCredentials",
    "OffsetLimitPaging",
    "Page",
    "PageTokenPaging",
    "Paging",
    "QueryParams",
    "RequestObserver",
    "RequestRejected",
    "RetryBudget",
    "SignatureMethod",
    "SourceAuth",
    "Throttle",
    "Timing",
    "TokenEndpointUnavailable",
    "VendorClient",
    "backoff_delay",
    "observe_requests",
    "parse_link_header",
    "provider_time",
    "requested_delay",
    "summarise_error_body",
]
