"""Places: offices, warehouses and sites with a geofence (circle or polygon) and Wi-Fi."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.auditlog.service import record
from fieldpunch.auth.principal import Principal
from fieldpunch.db.scoped import scoped
from fieldpunch.geo.crs import CRS
from fieldpunch.geo.schemas import fence_columns, fence_out
from fieldpunch.kit.ids import new_id
from fieldpunch.kit.pagination import PageParams, page_of, paginate
from fieldpunch.places import fenced
from fieldpunch.places.fences import bump
from fieldpunch.places.models import Place
from fieldpunch.places.schemas import PlaceCreate, PlaceOut, PlaceUpdate

_NOT_NULL = ("name", "location", "radius_m", "wifi_bssids", "kind", "address")


def to_out(place: Place, crs: CRS) -> PlaceOut:
    fields = {
        k: getattr(place, k) for k in PlaceOut.model_fields if k not in ("location", "polygon")
    }
    return PlaceOut(**fields, **fence_out(place, crs))


async def create(session: AsyncSession, p: Principal, body: PlaceCreate, crs: CRS) -> Place:
    data = fence_columns(body.model_dump(), body.location, body.polygon, crs)
    place = Place(id=new_id("plc"), org_id=p.org_id, **data)
    session.add(place)
    await bump(session, p.org_id)
    await session.flush()
    record(session, p.org_id, p.actor, "place.created", "place", place.id, **_fence(place))
    return place


async def list_(
    session: AsyncSession,
    p: Principal,
    page: PageParams,
    crs: CRS,
    *,
    kind: str | None,
    q: str | None,
) -> dict[str, Any]:
    stmt = scoped(Place, p.org_id)
    if kind is not None:
        stmt = stmt.where(Place.kind == kind)
    if q:
        stmt = stmt.where(func.lower(Place.name).like(f"%{q.lower()}%"))
    rows = list((await session.execute(paginate(stmt, Place.id, page))).scalars())
    return page_of(rows, page, lambda r: to_out(r, crs))


async def update(
    session: AsyncSession, p: Principal, place_id: str, body: PlaceUpdate, crs: CRS
) -> Place:
    return await fenced.update(
        session, p, Place, place_id, body, crs, what="place", not_null=_NOT_NULL
    )


async def delete(session: AsyncSession, p: Principal, place_id: str) -> None:
    """Soft delete: past punches keep pointing at the place they matched."""
    await fenced.delete(session, p, Place, place_id, what="place")


def _fence(place: Place) -> dict[str, Any]:
    """What an auditor needs of a geofence: where, how wide, which Wi-Fi proves presence."""
    keys = ("name", "lat", "lon", "radius_m", "polygon", "wifi_bssids")
    return {k: getattr(place, k) for k in keys}
