"""Authentication: bearer tokens in, :class:`Principal` out."""

from hub.auth.config import OidcOptions, OidcSettings
from hub.auth.jwks import IdentityProviderUnavailable, JwksCache
from hub.auth.oidc import OidcVerifier, Verifier, authenticate
from hub.auth.principal import Principal
from hub.auth.tokens import DevSigner, TokenRejected, load_or_create_key

__all__ = [
    "DevSigner",
    "IdentityProviderUnavailable",
    "JwksCache",
    "OidcOptions",
    "OidcSettings",
    "OidcVerifier",
    "Principal",
    "TokenRejected",
    "Verifier",
    "authenticate",
    "load_or_create_key",
]
