"""The visits' SQL: every statement the visit services and jobs run, and nowhere else.

The one dialect difference (`INSERT … ON CONFLICT DO NOTHING`) is behind `upsert_insert`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.customers.models import Customer
from fieldpunch.jobs.queue import upsert_insert
from fieldpunch.orgs.models import Org
from fieldpunch.punches.models import Punch
from fieldpunch.users.models import User
from fieldpunch.visits.models import Visit, VisitField, VisitOutcome, VisitPunch

# A check-in starts a visit this long at most: one left open longer pairs with no check-out.
OPEN_VISIT = timedelta(hours=24)


class VisitRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def org_tz(self, org_id: str) -> ZoneInfo:
        name = (await self.session.execute(select(Org.timezone).where(Org.id == org_id))).scalar()
        return ZoneInfo(name or "UTC")

    # -- references ------------------------------------------------------------------------------

    async def visible_people(
        self, org_id: str, ids: Iterable[str], visible: ColumnElement[bool] | None
    ) -> set[str]:
        """Which of `ids` are active people of the org the caller may see (`visible`)."""
        stmt = select(User.id).where(User.org_id == org_id, User.id.in_(list(set(ids))))
        if visible is not None:
            stmt = stmt.where(visible)
        return set((await self.session.execute(stmt)).scalars())

    async def customers(self, org_id: str, ids: Iterable[str]) -> set[str]:
        """Which of `ids` are customers of the org (not deleted)."""
        stmt = select(Customer.id).where(
            Customer.org_id == org_id,
            Customer.id.in_(list(set(ids))),
            Customer.deleted_at.is_(None),
        )
        return set((await self.session.execute(stmt)).scalars())

    # -- reads -----------------------------------------------------------------------------------

    @staticmethod
    def visible(org_id: str, visible: ColumnElement[bool] | None) -> Select[Any]:
        """The org's visits of people the caller may see (joined to their person)."""
        stmt = select(Visit).join(User, User.id == Visit.user_id).where(Visit.org_id == org_id)
        return stmt if visible is None else stmt.where(visible)

    @staticmethod
    def filtered(
        stmt: Select[Any],
        *,
        user_id: str | None = None,
        customer_id: str | None = None,
        teams: frozenset[str] | None = None,
        state: str | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> Select[Any]:
        """`visible()` narrowed: `teams` a set of team ids (a team and its sub-teams), `start`
        and `end` local dates inclusive (undated plans fall outside any range)."""
        for column, value in (
            (Visit.user_id, user_id),
            (Visit.customer_id, customer_id),
            (Visit.state, state),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        if teams is not None:
            stmt = stmt.where(User.team_id.in_(teams))
        if start is not None:
            stmt = stmt.where(Visit.day >= start)
        if end is not None:
            stmt = stmt.where(Visit.day <= end)
        return stmt

    async def outcome_keys(self, org_id: str) -> set[str]:
        stmt = select(VisitOutcome.key).where(VisitOutcome.org_id == org_id)
        return set((await self.session.execute(stmt)).scalars())

    async def outcomes(self, org_id: str) -> list[VisitOutcome]:
        stmt = (
            select(VisitOutcome)
            .where(VisitOutcome.org_id == org_id)
            .order_by(VisitOutcome.position)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def fields(self, org_id: str) -> list[VisitField]:
        stmt = select(VisitField).where(VisitField.org_id == org_id).order_by(VisitField.position)
        return list((await self.session.execute(stmt)).scalars())

    # -- configuration -----------------------------------------------------------------------------

    async def replace(
        self,
        model: type[VisitOutcome] | type[VisitField],
        org_id: str,
        rows: Sequence[dict[str, Any]],
    ) -> None:
        """Replace the org's outcome list or form (visits keep the keys they hold)."""
        await self.session.execute(delete(model).where(model.org_id == org_id))
        if rows:
            values = [{"org_id": org_id, "position": i, **r} for i, r in enumerate(rows)]
            await self.session.execute(upsert_insert(self.session, model).values(values))

    # -- the punch follower ------------------------------------------------------------------------

    async def punches(self, ids: Sequence[str]) -> list[Any]:
        """The visit punches among `ids`, with what applying them needs."""
        stmt = select(
            Punch.id,
            Punch.org_id,
            Punch.user_id,
            Punch.kind,
            Punch.status,
            Punch.trusted_time,
            Punch.customer_id,
            Punch.visit_id,
            Punch.note,
            Punch.photo_id,
        ).where(Punch.id.in_(list(ids)), Punch.kind.in_(("visit_in", "visit_out")))
        return list((await self.session.execute(stmt)).all())

    async def claim(self, row: dict[str, Any]) -> bool:
        """Record a punch as applied; False when it was already (nothing to do again)."""
        stmt = upsert_insert(self.session, VisitPunch).values(row)
        stmt = stmt.on_conflict_do_nothing(index_elements=["punch_id"]).returning(
            VisitPunch.punch_id
        )
        return (await self.session.execute(stmt)).first() is not None

    async def settle(self, punch_id: str, visit_id: str | None, effect: str) -> None:
        await self.session.execute(
            update(VisitPunch)
            .where(VisitPunch.punch_id == punch_id)
            .values(visit_id=visit_id, effect=effect)
        )

    async def named(self, org_id: str, user_id: str, visit_id: str) -> Visit | None:
        """The visit a punch names, if it is this person's."""
        stmt = select(Visit).where(
            Visit.org_id == org_id, Visit.user_id == user_id, Visit.id == visit_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def at_customer(
        self, org_id: str, user_id: str, customer_id: str, day: date
    ) -> list[Visit]:
        """The person's visits at the customer that a punch of `day` may belong to: that day's,
        the day before (a visit across midnight), and the undated plans."""
        stmt = select(Visit).where(
            Visit.org_id == org_id,
            Visit.user_id == user_id,
            Visit.customer_id == customer_id,
            or_(Visit.day.between(day - timedelta(days=1), day), Visit.day.is_(None)),
        )
        return list((await self.session.execute(stmt.order_by(Visit.id))).scalars())

    async def waiting_out(
        self, org_id: str, user_id: str, customer_id: str, after: datetime
    ) -> Any | None:
        """The earliest check-out at the customer after `after` (within a visit's length) that
        found no visit: a check-in that arrives late (offline) pairs with it."""
        stmt = (
            select(VisitPunch.punch_id, VisitPunch.at)
            .where(
                VisitPunch.org_id == org_id,
                VisitPunch.user_id == user_id,
                VisitPunch.customer_id == customer_id,
                VisitPunch.at > after,
                VisitPunch.at <= after + OPEN_VISIT,
                VisitPunch.kind == "visit_out",
                VisitPunch.effect == "unmatched",
            )
            .order_by(VisitPunch.at, VisitPunch.punch_id)
            .limit(1)
        )
        return (await self.session.execute(stmt)).first()

    # -- missed visits ----------------------------------------------------------------------------

    async def mark_missed(self, before: datetime, now: datetime) -> list[tuple[str, str]]:
        """Plans whose window closed before `before` become missed; their (org, id)."""
        stmt = (
            update(Visit)
            .where(Visit.state == "planned", Visit.due_by < before)
            .values(state="missed", updated_at=now)
            .returning(Visit.org_id, Visit.id)
        )
        return [(r[0], r[1]) for r in await self.session.execute(stmt)]

    # -- reminders --------------------------------------------------------------------------------

    async def planned_between(self, start: datetime, end: datetime) -> list[Any]:
        """Every org's still-planned visits starting in [start, end], with the customer's name."""
        stmt = (
            select(
                Visit.org_id,
                Visit.user_id,
                Visit.id,
                Visit.day,
                Visit.planned_start,
                Customer.name.label("customer"),
            )
            .join(Customer, Customer.id == Visit.customer_id)
            .where(Visit.state == "planned", Visit.planned_start.between(start, end))
        )
        return list(await self.session.execute(stmt))
