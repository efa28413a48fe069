"""Authentication: bearer tokens in, :class:`Principal` out."""

from hub.auth.principal import Principal
from hub.auth.tokens import DevSigner, TokenRejected, load_or_create_key

__all__ = ["DevSigner", "Principal", "TokenRejected", "load_or_create_key"]
