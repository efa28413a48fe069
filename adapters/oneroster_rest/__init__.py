"""The ``oneroster-rest`` adapter: a OneRoster 1.1 or 1.2 REST provider, read live.

Registered under the ``homeroom.adapters`` entry point as ``oneroster-rest``::

    [[sources]]
    name = "sis"
    kind = "oneroster-rest"
    base_url = "https://sis.example.org/api"
    version = "1.2"
    token_url = "https://sis.example.org/oauth/token"
    client_id_env = "SIS_CLIENT_ID"
    client_secret_env = "SIS_CLIENT_SECRET"

``adapters.oneroster_rest.simulator`` serves a generated district in the same
API, for the demo and the tests.
"""

from adapters.oneroster_rest.adapter import CAPABILITIES, CORE_CAPABILITIES, OneRosterRestAdapter
from adapters.oneroster_rest.config import OneRosterRestConfig
from hub.sdk import AdapterSpec

__all__ = ["CAPABILITIES", "CORE_CAPABILITIES", "SPEC", "OneRosterRestAdapter", "OneRosterRestConfig"]

SPEC: AdapterSpec[OneRosterRestConfig] = AdapterSpec(
    kind="oneroster-rest",
    config=OneRosterRestConfig,
    create=OneRosterRestAdapter,
    summary="OneRoster 1.1/1.2 REST provider (OAuth 2 or OAuth 1), read live with paging and push-down",
)
