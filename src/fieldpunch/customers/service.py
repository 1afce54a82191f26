"""Customers: who field staff visit, where, and who owns the relationship."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.auditlog.service import record
from fieldpunch.auth.principal import Principal
from fieldpunch.customers.models import Customer
from fieldpunch.customers.schemas import CustomerCreate, CustomerOut, CustomerUpdate
from fieldpunch.db.scoped import ref_scoped, scoped
from fieldpunch.geo.crs import CRS
from fieldpunch.geo.schemas import fence_columns, fence_out
from fieldpunch.kit.errors import Invalid
from fieldpunch.kit.ids import new_id
from fieldpunch.kit.pagination import PageParams, page_of, paginate
from fieldpunch.places import fenced
from fieldpunch.places.fences import bump
from fieldpunch.users.models import User

_NOT_NULL = ("name", "address", "radius_m", "tags", "status", "contacts")


def to_out(c: Customer, crs: CRS) -> CustomerOut:
    fields = {
        k: getattr(c, k) for k in CustomerOut.model_fields if k not in ("location", "polygon")
    }
    return CustomerOut(**fields, **fence_out(c, crs))


def _check(polygon: Any, has_location: bool) -> None:
    if polygon is not None and not has_location:
        raise Invalid(["body", "polygon"], "a customer with a polygon needs a location too")


async def create(session: AsyncSession, p: Principal, body: CustomerCreate, crs: CRS) -> Customer:
    await ref_scoped(session, User, p.org_id, body.owner_id, ["body", "owner_id"])
    _check(body.polygon, body.location is not None)
    data = fence_columns(body.model_dump(), body.location, body.polygon, crs)
    customer = Customer(id=new_id("cus"), org_id=p.org_id, **data)
    session.add(customer)
    await bump(session, p.org_id)
    await session.flush()
    record(
        session,
        p.org_id,
        p.actor,
        "customer.created",
        "customer",
        customer.id,
        name=customer.name,
        lat=customer.lat,
        lon=customer.lon,
        radius_m=customer.radius_m,
    )
    return customer


async def list_(
    session: AsyncSession,
    p: Principal,
    page: PageParams,
    crs: CRS,
    *,
    status: str | None,
    owner_id: str | None,
    tag: str | None,
    q: str | None,
) -> dict[str, Any]:
    stmt = scoped(Customer, p.org_id)
    if status is not None:
        stmt = stmt.where(Customer.status == status)
    if owner_id is not None:
        stmt = stmt.where(Customer.owner_id == owner_id)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            or_(func.lower(Customer.name).like(like), func.lower(Customer.address).like(like))
        )
    if tag is None:
        rows = list((await session.execute(paginate(stmt, Customer.id, page))).scalars())
        return page_of(rows, page, lambda r: to_out(r, crs))
    # Tags live in a JSON array; filter in Python over id-ordered chunks so paging stays exact.
    found: list[Customer] = []
    after = page.after
    while len(found) <= page.limit:
        chunk_stmt = stmt.order_by(Customer.id).limit(500)
        if after is not None:
            chunk_stmt = chunk_stmt.where(Customer.id > after)
        chunk = list((await session.execute(chunk_stmt)).scalars())
        found.extend(c for c in chunk if tag in (c.tags or []))
        if len(chunk) < 500:
            break
        after = chunk[-1].id
    return page_of(found[: page.limit + 1], page, lambda r: to_out(r, crs))


async def update(
    session: AsyncSession, p: Principal, customer_id: str, body: CustomerUpdate, crs: CRS
) -> Customer:
    async def check(customer: Customer, changes: dict[str, Any]) -> None:
        if "owner_id" in changes:
            await ref_scoped(session, User, p.org_id, changes["owner_id"], ["body", "owner_id"])
        located = body.location is not None if "location" in changes else customer.lat is not None
        _check(body.polygon if "polygon" in changes else customer.polygon, located)

    return await fenced.update(
        session,
        p,
        Customer,
        customer_id,
        body,
        crs,
        what="customer",
        not_null=_NOT_NULL,
        check=check,
    )


async def delete(session: AsyncSession, p: Principal, customer_id: str) -> None:
    """Soft delete: visits and punches at this customer keep their link."""
    await fenced.delete(session, p, Customer, customer_id, what="customer")
