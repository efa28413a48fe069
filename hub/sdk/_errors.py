"""Typed errors an adapter raises; the hub turns them into GraphQL errors
that name the source, never into a failed request for the whole hub."""

from __future__ import annotations


class SourceError(Exception):
    """Base of every error an adapter reports.

    ``source`` is the configured source name; ``reason`` is a short, data-free
    explanation an administrator can act on (it must never contain a student's
    field values). ``code`` is the GraphQL ``extensions.code`` the hub uses.
    """

    code = "SOURCE_ERROR"

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"source '{source}': {reason}")
        self.source = source
        self.reason = reason


class SourceUnavailable(SourceError):
    """The vendor could not be reached, timed out or answered 5xx."""

    code = "SOURCE_UNAVAILABLE"


class SourceAuthFailed(SourceError):
    """The vendor refused the configured credentials."""

    code = "SOURCE_AUTH_FAILED"


class BadVendorData(SourceError):
    """The vendor answered, but with data the adapter cannot map."""

    code = "BAD_VENDOR_DATA"


class UnsupportedRequest(SourceError):
    """The hub asked for an entity, field or filter the adapter did not declare."""

    code = "UNSUPPORTED_REQUEST"


class ConfigError(Exception):
    """A source's configuration is wrong; raised at start-up, names source and key."""

    def __init__(self, source: str, key: str, reason: str) -> None:
        super().__init__(f"source '{source}': key '{key}': {reason}")
        self.source = source
        self.key = key
        self.reason = reason
