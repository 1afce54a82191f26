from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from fieldpunch.auth.principal import Principal, need
from fieldpunch.auth.scopes import Scope
from fieldpunch.customers import service
from fieldpunch.customers.models import Customer
from fieldpunch.customers.schemas import CustomerCreate, CustomerOut, CustomerUpdate
from fieldpunch.db.scoped import get_scoped
from fieldpunch.db.session import Session, TxRoute
from fieldpunch.geo.crs import CRS
from fieldpunch.geo.schemas import response_crs
from fieldpunch.kit.pagination import Page, PageParams

router = APIRouter(prefix="/customers", tags=["customers"], route_class=TxRoute)
Reader = Annotated[Principal, need(Scope.customers_read)]
Writer = Annotated[Principal, need(Scope.customers_write)]
CrsQuery = Annotated[
    CRS | None, Query(description="CRS of the answer (and of a polygon sent without a location)")
]
Short = Annotated[str | None, Query(max_length=100)]


@router.get("", response_model=Page[CustomerOut])
async def list_customers(
    session: Session,
    p: Reader,
    page: Annotated[PageParams, Depends()],
    crs: CrsQuery = None,
    status: Short = None,
    owner_id: Short = None,
    tag: Short = None,
    q: Annotated[str | None, Query(max_length=100, description="name or address contains")] = None,
) -> dict[str, object]:
    """The organization's customers; coordinates in `?crs=` (default WGS-84)."""
    return await service.list_(
        session, p, page, crs or CRS.wgs84, status=status, owner_id=owner_id, tag=tag, q=q
    )


@router.post("", status_code=201)
async def create_customer(
    session: Session, p: Writer, body: CustomerCreate, crs: CrsQuery = None
) -> CustomerOut:
    """Add a customer. The answer's coordinates are in `?crs=`, else in the CRS sent."""
    customer = await service.create(session, p, body, crs or CRS.wgs84)
    return service.to_out(customer, response_crs(crs, body.location))


@router.get("/{customer_id}")
async def get_customer(
    session: Session, p: Reader, customer_id: str, crs: CrsQuery = None
) -> CustomerOut:
    """One customer; coordinates in `?crs=` (default WGS-84)."""
    customer = await get_scoped(session, Customer, p.org_id, customer_id, what="customer")
    return service.to_out(customer, crs or CRS.wgs84)


@router.patch("/{customer_id}")
async def update_customer(
    session: Session, p: Writer, customer_id: str, body: CustomerUpdate, crs: CrsQuery = None
) -> CustomerOut:
    """Change a customer. The answer's coordinates are in `?crs=`, else in the CRS sent (WGS-84
    when none is sent)."""
    customer = await service.update(session, p, customer_id, body, crs or CRS.wgs84)
    return service.to_out(customer, response_crs(crs, body.location))


@router.delete("/{customer_id}", status_code=204, response_class=Response)
async def delete_customer(session: Session, p: Writer, customer_id: str) -> None:
    """Delete a customer; visits and punches already recorded keep their record."""
    await service.delete(session, p, customer_id)
