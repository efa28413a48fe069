"""The adapter protocol and how an adapter package registers itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar, runtime_checkable

from hub.sdk._capabilities import Capabilities
from hub.sdk._config import SourceConfig
from hub.sdk._report import LoadReport
from hub.sdk._request import FetchRequest, FetchResult


@runtime_checkable
class Adapter(Protocol):
    """One configured source. Knows one vendor; knows nothing about GraphQL.

    The hub calls ``open`` once at start-up (load files, check credentials),
    ``fetch`` for every question, concurrently, and ``aclose`` on shutdown.
    ``fetch`` raises the SDK's typed errors (``SourceUnavailable``,
    ``SourceAuthFailed``, ``BadVendorData``); anything else is treated as
    ``SourceUnavailable`` with no detail, so adapters should map their errors.
    """

    name: str

    def capabilities(self) -> Capabilities:
        """The entities, fields and filters this source can serve."""
        ...

    async def open(self) -> LoadReport:
        """Prepare the source; return what was loaded and any rows it rejected."""
        ...

    async def fetch(self, request: FetchRequest) -> FetchResult:
        """Answer one request with unified records (only the fields asked for)."""
        ...

    async def aclose(self) -> None:
        """Release connections and files."""
        ...


ConfigT = TypeVar("ConfigT", bound=SourceConfig)


@dataclass(frozen=True, slots=True)
class AdapterSpec(Generic[ConfigT]):
    """What an adapter package exposes under the ``homeroom.adapters`` entry point.

    ``kind`` is the value of ``kind`` in a ``[[sources]]`` table; ``config`` is
    the pydantic model validating that table; ``create`` builds the adapter
    from a validated config. Example ``pyproject.toml`` of a third party::

        [project.entry-points."homeroom.adapters"]
        my-sis = "my_sis_adapter:SPEC"
    """

    kind: str
    config: type[ConfigT]
    create: Callable[[ConfigT], Adapter]
    summary: str = ""
