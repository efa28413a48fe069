"""The disclosure audit log: who was shown which fields of which people, when, and why.

Every person's record counts (students', guardians', staff's), each event
saying which fields were disclosed about whom. Append-only and hash-chained
(``homeroom audit verify`` names an edited, deleted or re-ordered event);
committed before a response leaves the hub (fail closed:
:class:`AuditUnavailable`); field *names* and hub *ids* only, never a value.
Rejected tokens are counted per client and minute. See docs/audit.md.
"""

from __future__ import annotations

from hub.audit.collect import Disclosures, purpose_from
from hub.audit.events import GENESIS_HASH, HASH_VERSION, AuditEvent, EventKind, hash_query
from hub.audit.log import (
    AuditIntegrityError,
    AuditLog,
    AuditUnavailable,
    ChainHead,
    DisclosurePage,
    ExportFormat,
    Problem,
    ProblemKind,
    PurgeResult,
    StoredEvent,
    VerifyReport,
)
from hub.audit.rejections import RejectedTokenCounter
from hub.audit.retention import run_retention

__all__ = [
    "GENESIS_HASH",
    "HASH_VERSION",
    "AuditEvent",
    "AuditIntegrityError",
    "AuditLog",
    "AuditUnavailable",
    "ChainHead",
    "DisclosurePage",
    "Disclosures",
    "EventKind",
    "ExportFormat",
    "Problem",
    "ProblemKind",
    "PurgeResult",
    "RejectedTokenCounter",
    "StoredEvent",
    "VerifyReport",
    "hash_query",
    "purpose_from",
    "run_retention",
]
