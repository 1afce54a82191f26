"""What places and customers (the org's fenced entities) share: update and soft delete.

Either changes which punches count as on site, so each is audited and bumps the org's
`geo_version` (the geofence caches rebuild).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.auditlog.service import record, record_changes
from fieldpunch.auth.principal import Principal
from fieldpunch.db.scoped import get_scoped
from fieldpunch.geo.crs import CRS
from fieldpunch.geo.schemas import fence_columns
from fieldpunch.kit.clock import utcnow
from fieldpunch.kit.errors import Invalid
from fieldpunch.kit.schemas import apply
from fieldpunch.places.fences import bump

M = TypeVar("M")


async def update(
    session: AsyncSession,
    p: Principal,
    model: type[M],
    id_: str,
    body: Any,
    crs: CRS,
    *,
    what: str,
    not_null: tuple[str, ...],
    check: Callable[[M, dict[str, Any]], Awaitable[None]] | None = None,
) -> M:
    """PATCH a place or customer: only the fields sent; `not_null` ones may not be null;
    `check` sees the row and the changes before they apply."""
    row = await get_scoped(session, model, p.org_id, id_, what=what)
    changes = body.model_dump(exclude_unset=True)
    for key in not_null:
        if key in changes and changes[key] is None:
            raise Invalid(["body", key], "may not be null")
    if check is not None:
        await check(row, changes)
    columns = fence_columns(changes, body.location, body.polygon, crs)
    # A moved or widened geofence changes which punches count as on site: who did it matters.
    record_changes(session, p.org_id, p.actor, f"{what}.updated", what, row, columns)
    apply(row, columns)
    await bump(session, p.org_id)
    await session.flush()
    return row


async def delete(
    session: AsyncSession, p: Principal, model: type[Any], id_: str, *, what: str
) -> None:
    """Soft delete: past punches (and visits) keep pointing at what they matched."""
    row = await get_scoped(session, model, p.org_id, id_, what=what)
    row.deleted_at = utcnow()
    record(session, p.org_id, p.actor, f"{what}.deleted", what, row.id, name=row.name)
    await bump(session, p.org_id)
