"""The route's and heat map's SQL: a person's punches of a day, the day's visits, and visits or
punches counted per place (grouped in the database, so the heat map reads a row per customer
or per ~10 m grid point, never a row per visit)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Numeric, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.customers.models import Customer
from fieldpunch.punches.models import Punch
from fieldpunch.users.models import User
from fieldpunch.visits.models import Visit
from fieldpunch.visits.reports.repository import Scope, people_where
from fieldpunch.visits.reports.route import RoutePunch, Stop

GRID_DECIMALS = 4  # punches are pre-grouped on a ~11 m grid: finer than the finest cell allowed


class GeoRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def day_punches(
        self, org_id: str, user_id: str, since: datetime, until: datetime
    ) -> list[RoutePunch]:
        stmt = (
            select(
                Punch.id,
                Punch.kind,
                Punch.status,
                Punch.trusted_time,
                Punch.lat,
                Punch.lon,
                Punch.accuracy_m,
                Punch.customer_id,
                Customer.name,
            )
            .outerjoin(Customer, Customer.id == Punch.customer_id)
            .where(
                Punch.org_id == org_id,
                Punch.user_id == user_id,
                Punch.trusted_time >= since,
                Punch.trusted_time < until,
            )
            .order_by(Punch.trusted_time, Punch.id)
        )
        return [RoutePunch(*r) for r in await self.session.execute(stmt)]

    async def day_stops(self, org_id: str, user_id: str, day: date) -> list[Stop]:
        stmt = (
            select(
                Visit.id,
                Visit.customer_id,
                Customer.name,
                Visit.started_at,
                Visit.ended_at,
                Visit.duration_s,
            )
            .join(Customer, Customer.id == Visit.customer_id)
            .where(
                Visit.org_id == org_id,
                Visit.user_id == user_id,
                Visit.day == day,
                Visit.started_at.is_not(None),
            )
            .order_by(Visit.started_at, Visit.id)
        )
        return [
            Stop(v, c, n, s, e, None if d is None else round(d / 60, 1))  # type: ignore[arg-type]
            for v, c, n, s, e, d in await self.session.execute(stmt)
        ]

    async def visit_points(self, scope: Scope) -> list[tuple[float, float, int]]:
        """Visits started in range (done or in progress), counted at their customer."""
        stmt = (
            select(Customer.lat, Customer.lon, func.count(Visit.id))
            .join(Customer, Customer.id == Visit.customer_id)
            .join(User, User.id == Visit.user_id)
            .where(
                Visit.org_id == scope.org_id,
                Visit.day >= scope.start,
                Visit.day <= scope.end,
                Visit.started_at.is_not(None),
                Customer.lat.is_not(None),
                *people_where(scope),
            )
            .group_by(Customer.id, Customer.lat, Customer.lon)
        )
        rows = await self.session.execute(stmt)
        return [(float(a or 0), float(b or 0), int(n)) for a, b, n in rows]

    async def punch_points(self, scope: Scope) -> list[tuple[float, float, int]]:
        """Punches in range (not rejected), counted per grid point."""
        lat = func.round(cast(Punch.lat, Numeric), GRID_DECIMALS)
        lon = func.round(cast(Punch.lon, Numeric), GRID_DECIMALS)
        stmt = (
            select(lat, lon, func.count())
            .join(User, User.id == Punch.user_id)
            .where(
                Punch.org_id == scope.org_id,
                Punch.trusted_time >= scope.since,
                Punch.trusted_time < scope.until,
                Punch.status != "rejected",
                *people_where(scope),
            )
            .group_by(lat, lon)
        )
        return [(float(a), float(b), int(n)) for a, b, n in await self.session.execute(stmt)]


__all__ = ["GeoRepo"]
