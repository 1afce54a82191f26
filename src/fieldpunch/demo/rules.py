"""The demo company's attendance rules, leave and visit plans, made through the domain services.

Rules go in before the punch history, so its days are judged against them: China's statutory
calendar for the years the demo spans, one shift (标准班 09:00–18:00, lunch 12:00–13:00 unpaid,
5 minutes' grace) and one fixed Monday-to-Friday attendance group for every team at both
offices, field punches counting (sales reps often clock out at their last customer).

After the history: the days it covers are computed at once (the console's month grid is full
when the demo opens, not after the first job run), a few leave requests (one approved next week,
one waiting for its manager), and each sales rep's visit plans for today and the next four
workdays at customers they own: the field app's 今日拜访 and the console's plan calendar.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.attendance import calendars, groups, requests, shifts
from fieldpunch.attendance.recompute import recompute_people
from fieldpunch.attendance.schemas import GroupCreate, ShiftCreate
from fieldpunch.attendance.schemas_days import LeaveType, RequestCreate
from fieldpunch.auth.principal import Principal, principal_for_user
from fieldpunch.customers.models import Customer
from fieldpunch.demo import data
from fieldpunch.demo.history import TZ
from fieldpunch.kit.errors import Invalid
from fieldpunch.places.models import Place
from fieldpunch.users.models import User
from fieldpunch.visits import service as visits
from fieldpunch.visits.schemas import VisitBulk, VisitCreate

SALES_TEAMS = ("sales_pd", "sales_px")
PLAN_DAYS = 5  # workdays planned, today first
PLAN_HOURS = (time(10, 0), time(14, 30))  # a rep's two planned visits a day
PURPOSES = (
    "季度回访",
    "新品演示",
    "合同续签洽谈",
    "收集设备使用反馈",
    "催收应收账款",
    "售后问题跟进",
)


@dataclass(frozen=True)
class Rules:
    group_id: str
    shift_id: str


async def seed_rules(
    session: AsyncSession,
    p: Principal,
    team_ids: Mapping[str, str],
    places: Sequence[Place],
    first: date,
    last: date,
) -> Rules:
    """The calendar of every year from `first` to `last`, the shift and the group."""
    for year in range(first.year, last.year + 1):
        # A year with no verified notice yet (2027 today): its days follow the weekdays.
        with contextlib.suppress(Invalid):
            await calendars.load_china(session, p, year)
    shift = await shifts.create(
        session,
        p,
        ShiftCreate.model_validate(
            {
                "name": "标准班",
                "periods": [{"start": "09:00", "end": "18:00"}],
                "breaks": [{"start": "12:00", "end": "13:00"}],
                "grace_late_min": 5,
                "serious_late_min": 30,
                "absent_late_min": 240,
            }
        ),
    )
    group = await groups.create(
        session,
        p,
        GroupCreate.model_validate(
            {
                "name": "上海办公室考勤组",
                "schedule": "fixed",
                "shift_id": shift.id,
                "workdays": [1, 2, 3, 4, 5],
                "team_ids": [team_ids[t.key] for t in data.TEAMS if t.parent is None],
                "place_ids": [pl.id for pl in places],
                "field_punch": "counts",
            }
        ),
    )
    return Rules(group_id=group.id, shift_id=shift.id)


def _workdays(start: date, n: int) -> list[date]:
    days: list[date] = []
    d = start
    while len(days) < n:
        if d.weekday() < 5:
            days.append(d)
        d += timedelta(days=1)
    return days


def _local(d: date, t: time) -> datetime:
    return datetime.combine(d, t, TZ)


async def seed_days_and_plans(
    session: AsyncSession,
    p: Principal,
    *,
    rng: random.Random,
    staff: Mapping[str, Sequence[str]],
    customers: Sequence[Customer],
    first: date,
    today: date,
    now: datetime,
) -> None:
    everyone = [u for ids in staff.values() for u in ids]
    if not everyone:
        return
    days = [first + timedelta(days=i) for i in range((today - first).days + 1)]
    await recompute_people(session, p.org_id, {u: days for u in everyone}, now=now)
    await _leave(session, p, rng, staff, today)
    owned: dict[str, list[Customer]] = {}
    for c in customers:
        if c.owner_id is not None and c.lat is not None and c.status != "inactive":
            owned.setdefault(c.owner_id, []).append(c)
    for team in SALES_TEAMS:
        for user_id in staff.get(team, ()):
            mine = owned.get(user_id, [])
            if len(mine) < len(PLAN_HOURS):
                continue
            plans: list[VisitCreate] = []
            for d in _workdays(today, PLAN_DAYS):
                for at, c in zip(PLAN_HOURS, rng.sample(mine, len(PLAN_HOURS)), strict=True):
                    start = _local(d, at)
                    plans.append(
                        VisitCreate(
                            customer_id=c.id,
                            user_id=user_id,
                            planned_start=start,
                            planned_end=start + timedelta(hours=1),
                            expected_min=45,
                            purpose=rng.choice(PURPOSES),
                        )
                    )
            await visits.bulk(session, p, VisitBulk(visits=plans))


async def _file_leave(
    session: AsyncSession, user_id: str, kind: LeaveType, first: date, days: int, reason: str
) -> str:
    """`user_id` files `days` whole days of leave from `first`, as they would; the request's id."""
    user = await session.get(User, user_id)
    assert user is not None
    body = RequestCreate(
        kind="leave",
        leave_type=kind,
        unit="day",
        start=_local(first, time(0)),
        end=_local(first + timedelta(days=days), time(0)),
        reason=reason,
    )
    return (await requests.create(session, await principal_for_user(session, user), body)).id


async def _leave(
    session: AsyncSession,
    p: Principal,
    rng: random.Random,
    staff: Mapping[str, Sequence[str]],
    today: date,
) -> None:
    """Annual leave next week (approved) and a sick day tomorrow (waiting for review)."""
    # Not a sales rep next week: their visits are planned (reps on leave re-plan theirs).
    office = [u for t, ids in staff.items() if t not in SALES_TEAMS for u in ids]
    anyone = [u for ids in staff.values() for u in ids]
    if not office or len(anyone) < 2:
        return
    approved = rng.choice(office)
    waiting = rng.choice([u for u in anyone if u != approved])
    next_monday = today + timedelta(days=7 - today.weekday())
    annual = await _file_leave(session, approved, "annual", next_monday, 2, "回老家探亲")
    await requests.decide(session, p, annual, True, "已批准，注意交接工作")
    tomorrow = _workdays(today + timedelta(days=1), 1)[0]
    await _file_leave(session, waiting, "sick", tomorrow, 1, "发烧，需要去医院")
