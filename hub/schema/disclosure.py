"""Auditing an answer before it leaves: one rule for HTTP answers and subscription events.

What an answer discloses is taken from the scope that admitted its rows, so
the events name exactly the people whose rows leave, each with the fields
that leave about them. A disclosure that cannot be written is not sent
(fail closed); a refusal carries no data and stays a refusal.
"""

from __future__ import annotations

from hub.audit import AuditUnavailable, EventKind
from hub.schema.context import HubContext

__all__ = ["audit_answer", "note_answer"]


def note_answer(context: HubContext) -> None:
    """Collect, for the audit, what the answer being built discloses."""
    scope = context.data.scope if context.data is not None else None
    if scope is not None:
        for type_name, names in scope.disclosed_fields.items():
            if names:
                context.disclosures.fields(type_name, names)
        context.disclosures.people(scope.disclosed_people())


async def audit_answer(
    context: HubContext, *, operation: str | None, query: str, purpose: str | None, partial: bool
) -> bool:
    """Write the answer's audit events; ``False`` when a disclosure could not be
    written (the answer must then not be sent). ``True`` without an audit log."""
    audit = context.hub.audit
    if audit is None:
        return True
    note_answer(context)
    principal = context.principal
    events = context.disclosures.events(
        subject=principal.subject,
        roles=principal.roles,
        client=principal.client,
        operation=context.operation or operation,
        query=query,
        purpose=purpose,
        outcome="partial" if partial else "ok",
    )
    for event in events:
        try:
            await audit.record(event)
        except AuditUnavailable:
            if event.kind is EventKind.DISCLOSURE:
                return False
    return True
