"""The ``edfi`` adapter: an Ed-Fi ODS/API read live (Data Standard 4 or 5).

Registered under the ``homeroom.adapters`` entry point as ``edfi``::

    [[sources]]
    name = "ods"
    kind = "edfi"
    base_url = "https://ods.example.org/api"
    data_standard = "5"          # "4": ODS/API 5.x/6.x; "5": ODS/API 7.x
    key_env = "EDFI_KEY"
    secret_env = "EDFI_SECRET"

Vendor ids are built from Ed-Fi natural keys (see ``adapters.edfi._keys``).
The adapter is a ``hub.sdk.ChangeFeed`` over the ODS's Change Queries
(``availableChangeVersions``, ``minChangeVersion``/``maxChangeVersion``,
``/deletes``, ``/keyChanges``), so a mirrored source reads only what changed.
``adapters.edfi.simulator`` serves a generated district in the same API, for
the demo and the tests.
"""

from adapters.edfi.adapter import EdFiAdapter, capabilities
from adapters.edfi.config import EdFiConfig
from hub.sdk import AdapterSpec

__all__ = ["SPEC", "EdFiAdapter", "EdFiConfig", "capabilities"]

SPEC: AdapterSpec[EdFiConfig] = AdapterSpec(
    kind="edfi",
    config=EdFiConfig,
    create=EdFiAdapter,
    summary=(
        "Ed-Fi ODS/API 5.x-7.x (Data Standard 4 or 5), read live; natural-key ids, search push-down, "
        "change queries"
    ),
)
