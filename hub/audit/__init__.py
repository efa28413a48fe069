"""The disclosure audit log: who was shown which fields of which students, when, and why.

Append-only and hash-chained (``homeroom audit verify`` names an edited,
deleted or re-ordered event); committed before a response leaves the hub (fail
closed: :class:`AuditUnavailable`); field *names* and student *ids* only, never
a value. See docs/audit.md.
"""

from __future__ import annotations

from hub.audit.collect import Disclosures, purpose_from
from hub.audit.events import GENESIS_HASH, AuditEvent, EventKind, hash_query
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
from hub.audit.retention import run_retention

__all__ = [
    "GENESIS_HASH",
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
    "StoredEvent",
    "VerifyReport",
    "hash_query",
    "purpose_from",
    "run_retention",
]
