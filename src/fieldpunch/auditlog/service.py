from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.auditlog.models import AuditEvent
from fieldpunch.kit.clock import utcnow
from fieldpunch.kit.ids import new_id


def record(
    session: AsyncSession,
    org_id: str,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    **detail: Any,
) -> None:
    """Add an audit event to the caller's transaction (it stands or falls with the change)."""
    session.add(
        AuditEvent(
            id=new_id("aud"),
            org_id=org_id,
            at=utcnow(),
            actor=actor,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            detail=detail,
        )
    )


def record_changes(
    session: AsyncSession,
    org_id: str,
    actor: str,
    action: str,
    subject_type: str,
    row: Any,
    changes: dict[str, Any],
) -> None:
    """Record the columns of `row` that `changes` (about to be applied) really changes.

    Call before applying. Nothing is recorded when nothing changes.
    """
    before = {k: getattr(row, k) for k in changes if getattr(row, k) != changes[k]}
    if before:
        after = {k: changes[k] for k in before}
        record(session, org_id, actor, action, subject_type, row.id, before=before, after=after)
