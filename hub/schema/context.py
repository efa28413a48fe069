"""The per-request context every resolver reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError

from hub.audit import Disclosures
from hub.auth import Principal
from hub.federation.access import DataAccess
from hub.federation.relations import CallerPerson, Relationships

if TYPE_CHECKING:
    from hub.runtime import Hub


@dataclass
class HubContext:
    """One request: who asks, what the gate decided, and what went wrong.

    ``data`` and ``plan`` are set by the policy gate before execution starts;
    resolvers never run without them.
    """

    hub: Hub
    principal: Principal
    caller: CallerPerson | None
    relationships: Relationships
    data: DataAccess | None = None
    plan: Any = None
    withheld: list[GraphQLError] = field(default_factory=list)
    disclosures: Disclosures = field(default_factory=Disclosures)
    operation: str | None = None  # the executed operation's name, for the audit
    # Set by the gate with ``data``: a new DataAccess under the same plan, with
    # the relations given or the caller's read again (each event of a subscription).
    renew_access: Callable[..., DataAccess] | None = None
