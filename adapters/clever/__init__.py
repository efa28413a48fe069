"""The ``clever`` adapter: a district's Clever Data API (v3.0 or v3.1), read live.

Registered under the ``homeroom.adapters`` entry point as ``clever``::

    [[sources]]
    name = "clever"
    kind = "clever"
    api_version = "v3.1"
    token_env = "CLEVER_DISTRICT_TOKEN"

Vendor ids are Clever's 24-hex ids (stable, unlike ``sis_id`` or e-mail);
an enrollment's is ``<section id>:<role>:<user id>``. A person's
``identifier`` is the SIS id (``sis_id``; ``identifier = "state_id"`` for
the state id), the key the identity map matches a OneRoster ``sourcedId``
on. It is also a ``hub.sdk.ChangeFeed`` over Clever's Events API, so a
mirrored source follows ``/events`` between full reads.
``adapters.clever.simulator`` serves a generated district in the same API,
events included, for the demo and the tests (``homeroom simulate clever``).
"""

from adapters.clever.adapter import CleverAdapter, capabilities
from adapters.clever.config import CleverConfig
from hub.sdk import AdapterSpec

__all__ = ["SPEC", "CleverAdapter", "CleverConfig", "capabilities"]

SPEC: AdapterSpec[CleverConfig] = AdapterSpec(
    kind="clever",
    config=CleverConfig,
    create=CleverAdapter,
    summary="Clever Data API v3.0/v3.1 (district-app token), read live; rosters, contacts as guardians",
)
