"""The reports' SQL: stored attendance days with the names a report shows, read as a stream.

Reads `attendance_days` (attendance/days_models.py, written by the recompute) joined to the
person, their team and the day's shift. One statement, ordered by person name, person and
date, read in partitions (`yield_per`: a server-side cursor on PostgreSQL, `fetchmany` on
SQLite), so a whole org's month is never in memory at once.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, and_, case, cast, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from fieldpunch.attendance.days_models import AttendanceDay
from fieldpunch.attendance.models import Shift
from fieldpunch.db.session import plan_for_values
from fieldpunch.orgs.models import Org
from fieldpunch.places.models import Place
from fieldpunch.reports.aggregate import FULL_DAY_MIN, Totals
from fieldpunch.reports.columns import LEAVE_TYPES
from fieldpunch.reports.rows import DayRow
from fieldpunch.teams.models import Team
from fieldpunch.users.models import User

CHUNK = 2000  # rows per partition: large enough to amortise a round trip, small in memory

D = AttendanceDay
_COLUMNS = (
    D.user_id,
    D.day,
    User.name,
    User.employee_no,
    User.team_id,
    Team.name,
    Shift.name,
    D.kind,
    D.holiday_name,
    D.statuses,
    D.scheduled_min,
    D.worked_min,
    D.late_min,
    D.early_leave_min,
    D.overtime_workday_min,
    D.overtime_rest_day_min,
    D.overtime_holiday_min,
    D.leave_min,
    D.leave_by_type,
    D.trip_min,
    D.out_min,
    D.field_day,
    D.complete,
    D.result,
)


def _count(when: ColumnElement[bool] | InstrumentedAttribute[bool]) -> ColumnElement[Any]:
    return func.sum(case((when, 1), else_=0))


def _sum_if(
    when: ColumnElement[bool] | InstrumentedAttribute[bool], value: Any
) -> ColumnElement[Any]:
    return func.sum(case((when, value), else_=0))


_SCHEDULE = case((D.scheduled_min > 0, D.scheduled_min), else_=FULL_DAY_MIN)
_NAMED_LEAVE = [key for key, _, _ in LEAVE_TYPES if key != "other"]
# A month's summary as SQL sums over the days' tally columns (aggregate.Totals' fields, in
# order); "other" leave is what the named types leave of the day's total.
_TOTALS: tuple[ColumnElement[Any], ...] = (
    _count(and_(D.kind == "workday", D.scheduled_min > 0)),
    _count(D.attended),
    _count(D.kind != "workday"),
    func.sum(D.worked_min),
    _count(D.late),
    _sum_if(D.late, D.late_min),
    _count(D.serious_late),
    _sum_if(D.serious_late, D.late_min),
    _count(D.early_leave),
    _sum_if(D.early_leave, D.early_leave_min),
    func.sum(D.missing_punches),
    _count(D.absent),
    _count(D.field_day),
    # A day's share of its schedule (a half-day leave is 0.5), never more than one day.
    func.sum(
        case(
            (D.leave_min <= 0, 0.0),
            (D.leave_min >= _SCHEDULE, 1.0),
            else_=cast(D.leave_min, Float) / _SCHEDULE,
        )
    ),
    func.sum(D.leave_min),
    *(func.sum(func.coalesce(D.leave_by_type[key].as_integer(), 0)) for key in _NAMED_LEAVE),
    _count(D.trip_min > 0),
    func.sum(D.out_min),
    func.sum(D.overtime_workday_min),
    func.sum(D.overtime_rest_day_min),
    func.sum(D.overtime_holiday_min),
    func.sum(D.corrections),
)


def _totals(r: Sequence[Any]) -> Totals:
    """`_TOTALS`' values (in order, from `r[0]`) as Totals."""
    n = [v or 0 for v in r]
    named = dict(zip(_NAMED_LEAVE, n[15 : 15 + len(_NAMED_LEAVE)], strict=True))
    rest = n[15 + len(_NAMED_LEAVE) :]
    leave = {k: int(v) for k, v in named.items() if v}
    if other := int(n[14]) - sum(leave.values()):
        leave["other"] = other
    return Totals(
        scheduled_days=int(n[0]),
        attended_days=int(n[1]),
        rest_days=int(n[2]),
        worked_min=int(n[3]),
        late_count=int(n[4]),
        late_min=int(n[5]),
        serious_late_count=int(n[6]),
        serious_late_min=int(n[7]),
        early_leave_count=int(n[8]),
        early_leave_min=int(n[9]),
        missing_punches=int(n[10]),
        absent_days=int(n[11]),
        field_days=int(n[12]),
        leave_days=float(n[13]),
        leave_min=leave,
        trip_days=int(rest[0]),
        out_min=int(rest[1]),
        overtime_workday_min=int(rest[2]),
        overtime_rest_day_min=int(rest[3]),
        overtime_holiday_min=int(rest[4]),
        corrections=int(rest[5]),
    )


@dataclass(frozen=True, slots=True)
class PersonTotals:
    user_id: str
    name: str
    employee_no: str | None
    team_name: str | None
    totals: Totals


@dataclass(frozen=True, slots=True)
class TeamTotals:
    team_id: str | None
    team_name: str | None
    people: int
    totals: Totals


@dataclass(frozen=True, slots=True)
class OrgInfo:
    name: str
    timezone: str
    settings: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DayFilter:
    """Which stored days a report reads. `after` is a keyset position (name, user id, date)."""

    org_id: str
    start: date
    end: date
    visible: ColumnElement[bool] | None = None  # Principal.user_filter over users
    user_id: str | None = None
    team_ids: Collection[str] | None = None  # a team with its sub-teams
    status: str | None = None  # the day's one-word status
    status_people: bool = False  # True: the status picks people (any such day), not days
    after: tuple[str, str, date] | None = None
    user_ids: Collection[str] | None = None  # one page's people (`people_page`)


def _row(r: Any) -> DayRow:
    return DayRow(
        user_id=r[0],
        day=r[1],
        user_name=r[2],
        employee_no=r[3],
        team_id=r[4],
        team_name=r[5],
        shift_name=r[6],
        kind=r[7],
        holiday_name=r[8] or "",
        statuses=tuple(r[9] or ()),
        scheduled_min=r[10],
        worked_min=r[11],
        late_min=r[12],
        early_leave_min=r[13],
        overtime_workday_min=r[14],
        overtime_rest_day_min=r[15],
        overtime_holiday_min=r[16],
        leave_min=r[17],
        leave_by_type=dict(r[18] or {}),
        trip_min=r[19],
        out_min=r[20],
        field_day=bool(r[21]),
        complete=bool(r[22]),
        result=r[23] or {},
    )


class ReportsRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def org(self, org_id: str) -> OrgInfo:
        row = (
            await self.session.execute(
                select(Org.name, Org.timezone, Org.settings).where(Org.id == org_id)
            )
        ).one()
        return OrgInfo(row[0], row[1], dict(row[2] or {}))

    async def place_names(self, org_id: str) -> dict[str, str]:
        """Place id → name, removed places too (a past day still names where it was punched)."""
        rows = await self.session.execute(
            select(Place.id, Place.name).where(Place.org_id == org_id)
        )
        return {i: n for i, n in rows}

    async def visible_user(
        self, org_id: str, user_id: str, visible: ColumnElement[bool] | None
    ) -> bool:
        stmt = select(User.id).where(User.org_id == org_id, User.id == user_id)
        if visible is not None:
            stmt = stmt.where(visible)
        return (await self.session.execute(stmt)).first() is not None

    def _days(self, f: DayFilter, *columns: Any) -> Select[Any]:
        """`columns` of the filter's days joined to their person (and team)."""
        stmt = (
            select(*columns)
            .select_from(D)
            .join(User, and_(User.id == D.user_id, User.org_id == D.org_id))
            .outerjoin(Team, Team.id == User.team_id)
            .where(D.org_id == f.org_id, D.day >= f.start, D.day <= f.end)
        )
        if f.visible is not None:
            stmt = stmt.where(f.visible)
        if f.user_id is not None:
            stmt = stmt.where(D.user_id == f.user_id)
        if f.user_ids is not None:
            stmt = stmt.where(D.user_id.in_(list(f.user_ids)))
        if f.team_ids is not None:
            stmt = stmt.where(User.team_id.in_(list(f.team_ids)))
        if f.status is not None and not f.status_people:
            stmt = stmt.where(D.status == f.status)
        if f.status is not None and f.status_people:
            d2 = aliased(D)
            stmt = stmt.where(
                D.user_id.in_(
                    select(d2.user_id).where(
                        d2.org_id == f.org_id,
                        d2.day >= f.start,
                        d2.day <= f.end,
                        d2.status == f.status,
                    )
                )
            )
        if f.after is not None:
            stmt = stmt.where(tuple_(User.name, D.user_id, D.day) > tuple_(*f.after))
        return stmt

    def days_stmt(self, f: DayFilter) -> Select[Any]:
        stmt = self._days(f, *_COLUMNS).outerjoin(
            Shift, and_(Shift.id == D.shift_id, Shift.org_id == D.org_id)
        )
        return stmt.order_by(User.name, D.user_id, D.day)

    async def people_page(self, f: DayFilter, limit: int) -> list[tuple[str, str]]:
        """Up to `limit` people (name, id) with a day in the filter, by name and id, after
        `f.after`'s person: a summary's page, found without sorting the month's days."""
        has_day = select(D.user_id).where(
            D.org_id == f.org_id, D.user_id == User.id, D.day >= f.start, D.day <= f.end
        )
        if f.status is not None:
            has_day = has_day.where(D.status == f.status)
        stmt = select(User.name, User.id).where(User.org_id == f.org_id, has_day.exists())
        if f.visible is not None:
            stmt = stmt.where(f.visible)
        if f.user_id is not None:
            stmt = stmt.where(User.id == f.user_id)
        if f.team_ids is not None:
            stmt = stmt.where(User.team_id.in_(list(f.team_ids)))
        if f.after is not None:
            stmt = stmt.where(tuple_(User.name, User.id) > tuple_(f.after[0], f.after[1]))
        rows = await self.session.execute(stmt.order_by(User.name, User.id).limit(limit))
        return [(name, user_id) for name, user_id in rows]

    async def person_totals(self, f: DayFilter, user_ids: Sequence[str]) -> list[PersonTotals]:
        """月度汇总 of these people (a page), summed in SQL, in the order of `user_ids`."""
        await plan_for_values(self.session)
        whole = replace(f, user_ids=user_ids, status=None, after=None)
        stmt = self._days(whole, D.user_id, User.name, User.employee_no, Team.name, *_TOTALS)
        stmt = stmt.group_by(D.user_id, User.name, User.employee_no, Team.name)
        found = {
            r[0]: PersonTotals(r[0], r[1], r[2], r[3], _totals(r[4:]))
            for r in await self.session.execute(stmt)
        }
        return [found[u] for u in user_ids if u in found]

    async def team_totals(self, f: DayFilter) -> list[TeamTotals]:
        """部门考勤汇总: the filter's days summed per person's team (None: no team)."""
        people = func.count(D.user_id.distinct())
        stmt = self._days(f, User.team_id, Team.name, people, *_TOTALS)
        stmt = stmt.group_by(User.team_id, Team.name)
        return [
            TeamTotals(r[0], r[1], int(r[2]), _totals(r[3:]))
            for r in await self.session.execute(stmt)
        ]

    async def stream_days(
        self, f: DayFilter, chunk: int = CHUNK
    ) -> AsyncGenerator[list[DayRow], None]:
        """The filter's days in partitions of up to `chunk`, by person name, person, date."""
        stmt = self.days_stmt(f).execution_options(yield_per=chunk)
        result = await self.session.stream(stmt)
        try:
            async for part in result.partitions(chunk):
                yield [_row(r) for r in part]
        finally:
            await result.close()
