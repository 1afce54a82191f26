"""Reading punches back: scoped to what the caller may see."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.auth.principal import Principal, visible_rows
from fieldpunch.customers.models import Customer
from fieldpunch.db.scoped import get_among
from fieldpunch.geo.crs import CRS
from fieldpunch.kit.pagination import PageParams, page_of, paginate
from fieldpunch.places.models import Place
from fieldpunch.punches.models import Punch
from fieldpunch.punches.schemas import PunchKind, PunchOut, PunchStatus
from fieldpunch.punches.views import to_out


async def names_of(session: AsyncSession, org_id: str, rows: list[Punch]) -> dict[str, str]:
    place_ids = {r.place_id for r in rows if r.place_id}
    customer_ids = {r.customer_id for r in rows if r.customer_id}
    names: dict[str, str] = {}
    if place_ids:
        names.update(
            (
                await session.execute(
                    select(Place.id, Place.name).where(
                        Place.org_id == org_id, Place.id.in_(place_ids)
                    )
                )
            ).all()
        )
    if customer_ids:
        stmt = select(Customer.id, Customer.name).where(
            Customer.org_id == org_id, Customer.id.in_(customer_ids)
        )
        names.update((await session.execute(stmt)).all())
    return names


async def get(session: AsyncSession, p: Principal, punch_id: str, crs: CRS) -> PunchOut:
    row = await get_among(session, visible_rows(Punch, p), Punch, punch_id)
    return to_out(row, crs, await names_of(session, p.org_id, [row]))


async def list_(
    session: AsyncSession,
    p: Principal,
    page: PageParams,
    crs: CRS,
    *,
    user_id: str | None,
    start: datetime | None,
    end: datetime | None,
    kind: PunchKind | None,
    status: PunchStatus | None,
) -> dict[str, Any]:
    stmt = visible_rows(Punch, p)
    if user_id is not None:
        stmt = stmt.where(Punch.user_id == user_id)
    if start is not None:
        stmt = stmt.where(Punch.trusted_time >= start)
    if end is not None:
        stmt = stmt.where(Punch.trusted_time < end)
    if kind is not None:
        stmt = stmt.where(Punch.kind == kind.value)
    if status is not None:
        stmt = stmt.where(Punch.status == status.value)
    rows = list((await session.execute(paginate(stmt, Punch.id, page))).scalars())
    names = await names_of(session, p.org_id, rows[: page.limit])
    return page_of(rows, page, lambda r: to_out(r, crs, names))
