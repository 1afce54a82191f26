"""Reading and changing detector policy overrides (org, team, person); every change audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.anomalies import policies
from fieldpunch.anomalies.models import PolicyOverride
from fieldpunch.anomalies.policy import PolicyError, validate_override
from fieldpunch.anomalies.schemas import PolicyDoc
from fieldpunch.auditlog.service import record
from fieldpunch.auth.principal import Principal
from fieldpunch.kit.clock import utcnow
from fieldpunch.kit.errors import Invalid
from fieldpunch.kit.ids import new_id
from fieldpunch.users.models import User


async def _row(
    session: AsyncSession, org_id: str, scope: str, scope_id: str
) -> PolicyOverride | None:
    stmt = select(PolicyOverride).where(
        PolicyOverride.org_id == org_id,
        PolicyOverride.scope == scope,
        PolicyOverride.scope_id == scope_id,
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def read(session: AsyncSession, p: Principal, scope: str, scope_id: str) -> PolicyDoc:
    row = await _row(session, p.org_id, scope, scope_id)
    book = await policies.load(session, p.org_id)
    effective: dict[str, Any] | None = None
    if scope == "org":
        effective = book.for_person("", None).model_dump()
    elif scope == "user":
        user = await session.get(User, scope_id)
        effective = book.for_person(scope_id, user.team_id if user else None).model_dump()
    return PolicyDoc(
        scope=scope,  # type: ignore[arg-type]
        scope_id=scope_id,
        override=row.settings if row else {},
        effective=effective,
        updated_at=row.updated_at if row else None,
        updated_by=row.updated_by if row else None,
    )


async def write(
    session: AsyncSession, p: Principal, scope: str, scope_id: str, override: dict[str, Any]
) -> PolicyDoc:
    """Replace the override of one scope ({} removes it)."""
    try:
        clean = validate_override(override)
    except PolicyError as exc:
        raise Invalid.many([(["body", *loc], msg) for loc, msg in exc.errors]) from None
    row = await _row(session, p.org_id, scope, scope_id)
    before = row.settings if row else {}
    if clean == before:  # nothing changes: no row to create, nothing to audit
        return await read(session, p, scope, scope_id)
    now = utcnow()
    if row is None:
        row = PolicyOverride(id=new_id("pol"), org_id=p.org_id, scope=scope, scope_id=scope_id)
        session.add(row)
    row.settings, row.updated_at, row.updated_by = clean, now, p.actor
    policies.invalidate(p.org_id)
    record(
        session,
        p.org_id,
        p.actor,
        "policy.changed",
        f"policy.{scope}",
        scope_id,
        before=before,
        after=clean,
    )
    await session.flush()
    return await read(session, p, scope, scope_id)
