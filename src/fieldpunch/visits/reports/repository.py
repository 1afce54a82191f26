"""The visit reports' SQL: aggregates per person, customer and person-day, in keyset partitions.

Every statement groups in the database (`SUM(CASE …)`, `COUNT(DISTINCT …)`), so what comes back
is one row per person or customer of a partition, never the visits themselves: a whole org's
month (350,000 visits) is a few thousand rows. Partitions are keyed by the grouped id
(`WHERE id > :after ORDER BY id LIMIT n`), which pages the JSON and bounds the downloads'
memory. No dialect branch: plain aggregates and CASE run alike on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from fieldpunch.anomalies.models import Anomaly
from fieldpunch.customers.models import Customer
from fieldpunch.punches.models import Punch
from fieldpunch.tasks.models import Task
from fieldpunch.teams.models import Team
from fieldpunch.users.models import User
from fieldpunch.visits.models import Visit as V
from fieldpunch.visits.reports.shape import Tally


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose visits, over which local dates (and the same range in UTC for punches, tasks)."""

    org_id: str
    start: date
    end: date
    since: datetime  # UTC: the local midnight starting `start`
    until: datetime  # UTC: the local midnight after `end`
    visible: ColumnElement[bool] | None  # over User (the visiting person)
    user_id: str | None = None
    team_ids: Collection[str] | None = None


def _n(cond: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


_DONE = V.state == "done"
_PLANNED = V.planned.is_(True)
_DATED_DONE = and_(_PLANNED, _DONE, V.due_by.is_not(None), V.started_at.is_not(None))
COUNTS = (
    func.count(V.id).label("total"),
    _n(_PLANNED).label("planned"),
    _n(_DONE).label("done"),
    _n(and_(_PLANNED, _DONE)).label("planned_done"),
    _n(V.planned.is_(False)).label("unplanned"),
    _n(V.state == "missed").label("missed"),
    _n(V.state == "cancelled").label("cancelled"),
    _n(V.state == "in_progress").label("in_progress"),
    _n(and_(_DONE, V.ended_at.is_(None))).label("unclosed"),
    _n(and_(_DATED_DONE, V.started_at <= V.due_by)).label("on_time"),
    _n(_DATED_DONE).label("on_time_of"),
    func.coalesce(func.sum(V.duration_s), 0).label("duration_s"),
    func.count(V.duration_s).label("durations"),
)


def tally(row: Any) -> Tally:
    return Tally(*(int(getattr(row, c.name) or 0) for c in COUNTS))


def people_where(scope: Scope) -> list[ColumnElement[bool]]:
    """Conditions on User: the org, whom the caller sees, the person or team asked for."""
    where: list[ColumnElement[bool]] = [User.org_id == scope.org_id]
    if scope.visible is not None:
        where.append(scope.visible)
    if scope.user_id is not None:
        where.append(User.id == scope.user_id)
    if scope.team_ids is not None:
        where.append(User.team_id.in_(scope.team_ids))
    return where


Span = tuple[str, str]  # (after, last]: a partition of people as a range of ids


def _span(column: Any, span: Span) -> list[ColumnElement[bool]]:
    """A range of person ids: an index range scan, where a list of 1,000 ids in `IN` made
    PostgreSQL's plans worse than reading the range (rows of people outside the partition's
    filter are read and dropped by the caller)."""
    return [column > span[0], column <= span[1]]


def _in_range(scope: Scope) -> ColumnElement[bool]:
    return and_(V.org_id == scope.org_id, V.day >= scope.start, V.day <= scope.end)


class VisitReportsRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def person_partition(self, scope: Scope, after: str | None, n: int) -> list[Any]:
        """Active people in scope (with or without visits), by id: names and their counts."""
        stmt = (
            select(
                User.id,
                User.name,
                User.employee_no,
                Team.name.label("team"),
                *COUNTS,
                func.count(func.distinct(case((_DONE, V.customer_id)))).label("customers"),
            )
            .outerjoin(Team, Team.id == User.team_id)
            .outerjoin(V, and_(V.user_id == User.id, _in_range(scope)))
            .where(*people_where(scope), or_(User.active.is_(True), V.id.is_not(None)))
            .group_by(User.id, User.name, User.employee_no, Team.name)
            .order_by(User.id)
            .limit(n)
        )
        if after is not None:
            stmt = stmt.where(User.id > after)
        return list((await self.session.execute(stmt)).all())

    async def customer_ids(self, org_id: str, after: str | None, n: int) -> list[str]:
        """The next `n` customer ids of the org (deleted ones too: their visits stay)."""
        stmt = select(Customer.id).where(Customer.org_id == org_id).order_by(Customer.id).limit(n)
        if after is not None:
            stmt = stmt.where(Customer.id > after)
        return list((await self.session.execute(stmt)).scalars())

    async def customer_partition(self, scope: Scope, ids: Sequence[str]) -> list[Any]:
        """Of these customers, those visited in range by people in scope: names and counts.
        A chunk of customer ids first, then their visits by the customer index: a partition
        reads its own visits, not the whole range again."""
        owner = aliased(User)
        stmt = (
            select(
                Customer.id,
                Customer.name,
                Customer.status,
                owner.name.label("owner"),
                *COUNTS,
                func.count(func.distinct(V.user_id)).label("people"),
                func.max(V.started_at).label("last_visit_at"),
            )
            .join(V, V.customer_id == Customer.id)
            .join(User, User.id == V.user_id)
            .outerjoin(owner, owner.id == Customer.owner_id)
            .where(_in_range(scope), *people_where(scope), V.customer_id.in_(ids))
            .group_by(Customer.id, Customer.name, Customer.status, owner.name)
            .order_by(Customer.id)
        )
        return list((await self.session.execute(stmt)).all())

    async def outcomes(
        self, scope: Scope, key: str, ids: Sequence[str]
    ) -> dict[str, dict[str, int]]:
        """Per person (`key` "user") or customer ("customer"): outcome → visits, in range."""
        column = V.user_id if key == "user" else V.customer_id
        stmt = (
            select(column, V.outcome, func.count())
            .join(User, User.id == V.user_id)
            .where(_in_range(scope), *people_where(scope), column.in_(ids), V.outcome.is_not(None))
            .group_by(column, V.outcome)
        )
        out: dict[str, dict[str, int]] = {}
        for owner_id, outcome, count in await self.session.execute(stmt):
            out.setdefault(owner_id, {})[str(outcome)] = int(count)
        return out

    async def not_visited(
        self,
        org_id: str,
        owners: ColumnElement[bool] | None,
        before: datetime,
        status: str | None,
        after: str | None,
        n: int,
    ) -> list[Any]:
        """Customers whose last visit (a check-in, by anyone) is before `before`, or who were
        never visited; `owners` a condition on their owner (aliased as the User table)."""
        last = func.max(V.started_at)
        team = aliased(Team)
        stmt = (
            select(
                Customer.id,
                Customer.name,
                Customer.address,
                Customer.status,
                User.name.label("owner"),
                team.name.label("owner_team"),
                last.label("last_visit_at"),
            )
            .outerjoin(V, and_(V.customer_id == Customer.id, V.started_at.is_not(None)))
            .outerjoin(User, User.id == Customer.owner_id)
            .outerjoin(team, team.id == User.team_id)
            .where(Customer.org_id == org_id, Customer.deleted_at.is_(None))
            .group_by(
                Customer.id,
                Customer.name,
                Customer.address,
                Customer.status,
                User.name,
                team.name,
            )
            .having(or_(last.is_(None), last < before))
            .order_by(Customer.id)
            .limit(n)
        )
        if owners is not None:
            stmt = stmt.where(owners)
        if status is not None:
            stmt = stmt.where(Customer.status == status)
        if after is not None:
            stmt = stmt.where(Customer.id > after)
        return list((await self.session.execute(stmt)).all())

    # -- performance -------------------------------------------------------------------------------

    async def people(self, scope: Scope, after: str | None, n: int) -> list[Any]:
        stmt = (
            select(User.id, User.name, User.employee_no, User.team_id, Team.name.label("team"))
            .outerjoin(Team, Team.id == User.team_id)
            .where(*people_where(scope), User.active.is_(True))
            .order_by(User.id)
            .limit(n)
        )
        if after is not None:
            stmt = stmt.where(User.id > after)
        return list((await self.session.execute(stmt)).all())

    async def visit_counts(self, scope: Scope, ids: Span) -> dict[str, Any]:
        stmt = (
            select(
                V.user_id,
                *COUNTS,
                func.count(func.distinct(case((_DONE, V.customer_id)))).label("customers"),
            )
            .where(_in_range(scope), *_span(V.user_id, ids))
            .group_by(V.user_id)
        )
        return {r.user_id: r for r in await self.session.execute(stmt)}

    async def person_days(self, scope: Scope, ids: Span) -> list[Any]:
        """Per person and day of checked-out visits: first check-in, last check-out, time
        at customers (the rest of that span is travel)."""
        stmt = (
            select(
                V.user_id,
                V.day,
                func.min(V.started_at),
                func.max(V.ended_at),
                func.sum(V.duration_s),
            )
            .where(_in_range(scope), *_span(V.user_id, ids), _DONE, V.ended_at.is_not(None))
            .group_by(V.user_id, V.day)
        )
        return list((await self.session.execute(stmt)).all())

    async def tasks_done(self, scope: Scope, ids: Span) -> dict[str, int]:
        stmt = (
            select(Task.assignee_id, func.count())
            .where(
                Task.org_id == scope.org_id,
                *_span(Task.assignee_id, ids),
                Task.status == "done",
                Task.completed_at >= scope.since,
                Task.completed_at < scope.until,
            )
            .group_by(Task.assignee_id)
        )
        return {str(k): int(v) for k, v in await self.session.execute(stmt)}

    async def punches(self, scope: Scope, ids: Span) -> dict[str, int]:
        stmt = (
            select(Punch.user_id, func.count())
            .where(
                Punch.org_id == scope.org_id,
                *_span(Punch.user_id, ids),
                Punch.trusted_time >= scope.since,
                Punch.trusted_time < scope.until,
            )
            .group_by(Punch.user_id)
        )
        return {k: int(v) for k, v in await self.session.execute(stmt)}

    async def flagged(self, scope: Scope, ids: Span) -> dict[str, int]:
        """Punches with at least one anomaly that later data did not explain away."""
        stmt = (
            select(Anomaly.user_id, func.count(func.distinct(Anomaly.punch_id)))
            .where(
                Anomaly.org_id == scope.org_id,
                *_span(Anomaly.user_id, ids),
                Anomaly.punch_time >= scope.since,
                Anomaly.punch_time < scope.until,
                Anomaly.status != "superseded",
            )
            .group_by(Anomaly.user_id)
        )
        return {k: int(v) for k, v in await self.session.execute(stmt)}
