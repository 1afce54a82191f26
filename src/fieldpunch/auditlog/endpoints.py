from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from fieldpunch.auditlog.models import AuditEvent
from fieldpunch.auth.principal import Principal, need
from fieldpunch.auth.scopes import Scope
from fieldpunch.db.session import Session, TxRoute
from fieldpunch.kit.pagination import Page, PageParams, page_of, paginate
from fieldpunch.kit.schemas import Out

router = APIRouter(prefix="/audit-log", tags=["audit log"], route_class=TxRoute)
Short = Annotated[str | None, Query(max_length=48)]


class AuditEventOut(Out):
    id: str
    at: datetime
    actor: str
    action: str
    subject_type: str
    subject_id: str
    detail: dict[str, Any]


@router.get("", response_model=Page[AuditEventOut])
async def list_audit_events(
    session: Session,
    p: Annotated[Principal, need(Scope.audit_read)],
    page: Annotated[PageParams, Depends()],
    subject_type: Short = None,
    subject_id: Short = None,
    actor: Short = None,
    action: Short = None,
) -> dict[str, Any]:
    """Who did what to which record, when and why (policy changes, reviews, corrections)."""
    stmt = select(AuditEvent).where(AuditEvent.org_id == p.org_id)
    for column, value in (
        (AuditEvent.subject_type, subject_type),
        (AuditEvent.subject_id, subject_id),
        (AuditEvent.actor, actor),
        (AuditEvent.action, action),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    rows = list((await session.execute(paginate(stmt, AuditEvent.id, page))).scalars())
    return page_of(rows, page, AuditEventOut.model_validate)
