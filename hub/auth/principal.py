"""Who is calling: the result of authentication, the input of the policy gate."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Principal:
    """A signed-in caller.

    ``subject`` is the token's ``sub``; ``roles`` are policy roles (already
    mapped from identity-provider groups); ``person_id`` is the hub id of the
    roster person the caller is, and ``sourced_id`` the vendor id when only that
    is known; ``client`` names the application that presented the token.
    """

    subject: str
    roles: tuple[str, ...]
    person_id: str | None = None
    sourced_id: str | None = None
    client: str | None = None
    person_email: str | None = None  # lower-cased email when [auth] binds callers by email
