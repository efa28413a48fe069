"""The ``clever`` adapter: a district's Clever Data API (v3.0 or v3.1), read live.

Registered under the ``homeroom.adapters`` entry point as ``clever``::

    [[sources]]
    name = "clever"
    kind = "clever"
    api_version = "v3.1"
    token_env = "CLEVER_DISTRICT_TOKEN"

Vendor ids are Clever's 24-hex ids (stable, unlike ``sis_id`` or e-mail);
an enrollment's is ``<section id>:<role>:<user id>``. ``identifier`` carries
``state_id`` or, with ``identifier = "sis_id"``, the SIS id the identity map
matches OneRoster ``sourcedId`` values on. ``adapters.clever.simulator``
serves a generated district in the same API, for the demo and the tests.
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
