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
