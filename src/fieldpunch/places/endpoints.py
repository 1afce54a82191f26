from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from fieldpunch.auth.principal import Principal, need
from fieldpunch.auth.scopes import Scope
from fieldpunch.db.scoped import get_scoped
from fieldpunch.db.session import Session, TxRoute
from fieldpunch.geo.crs import CRS
from fieldpunch.geo.schemas import response_crs
from fieldpunch.kit.pagination import Page, PageParams
from fieldpunch.places import service
from fieldpunch.places.models import Place
from fieldpunch.places.schemas import PlaceCreate, PlaceOut, PlaceUpdate

router = APIRouter(prefix="/places", tags=["places"], route_class=TxRoute)
Reader = Annotated[Principal, need(Scope.places_read)]
Writer = Annotated[Principal, need(Scope.places_write)]
CrsQuery = Annotated[
    CRS | None, Query(description="CRS of the answer (and of a polygon sent without a location)")
]


@router.get("", response_model=Page[PlaceOut])
async def list_places(
    session: Session,
    p: Reader,
    page: Annotated[PageParams, Depends()],
    crs: CrsQuery = None,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    q: Annotated[str | None, Query(max_length=100, description="name contains")] = None,
) -> dict[str, object]:
    """The organization's places (offices, sites); coordinates in `?crs=` (default WGS-84)."""
    return await service.list_(session, p, page, crs or CRS.wgs84, kind=kind, q=q)


@router.post("", status_code=201)
async def create_place(
    session: Session, p: Writer, body: PlaceCreate, crs: CrsQuery = None
) -> PlaceOut:
    """Add a place: a circle (`location`, `radius_m`) or a `polygon`. The answer's coordinates are
    in `?crs=`, else in the CRS sent."""
    place = await service.create(session, p, body, crs or body.location.crs)
    return service.to_out(place, response_crs(crs, body.location))


@router.get("/{place_id}")
async def get_place(session: Session, p: Reader, place_id: str, crs: CrsQuery = None) -> PlaceOut:
    """One place; coordinates in `?crs=` (default WGS-84)."""
    return service.to_out(
        await get_scoped(session, Place, p.org_id, place_id, what="place"), crs or CRS.wgs84
    )


@router.patch("/{place_id}")
async def update_place(
    session: Session, p: Writer, place_id: str, body: PlaceUpdate, crs: CrsQuery = None
) -> PlaceOut:
    """Change a place; the answer's coordinates are in `?crs=` (default WGS-84)."""
    place = await service.update(session, p, place_id, body, crs or CRS.wgs84)
    return service.to_out(place, response_crs(crs, body.location))


@router.delete("/{place_id}", status_code=204, response_class=Response)
async def delete_place(session: Session, p: Writer, place_id: str) -> None:
    """Delete a place; punches already matched to it keep their record."""
    await service.delete(session, p, place_id)
