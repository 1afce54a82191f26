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
from fieldpunch.attendance.schemas_days import RequestCreate
from fieldpunch.auth.principal import Principal
from fieldpunch.auth.scopes import ROLE_SCOPES, Role
from fieldpunch.customers.models import Customer
from fieldpunch.demo import data
from fieldpunch.demo.history import TZ
from fieldpunch.kit.errors import Invalid
from fieldpunch.places.models import Place
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


def _staff_principal(org_id: str, user_id: str, team_id: str) -> Principal:
    return Principal(
        org_id=org_id,
        user_id=user_id,
        role=Role.staff,
        team_id=team_id,
        scopes=ROLE_SCOPES[Role.staff],
        visible_teams=frozenset(),
    )


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
    team_ids: Mapping[str, str],
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
    await _leave(session, p, rng, team_ids, staff, today)
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


async def _leave(
    session: AsyncSession,
    p: Principal,
    rng: random.Random,
    team_ids: Mapping[str, str],
    staff: Mapping[str, Sequence[str]],
    today: date,
) -> None:
    """Annual leave next week (approved) and a sick day tomorrow (waiting for review)."""
    # Not a sales rep next week: their visits are planned (reps on leave re-plan theirs).
    office = [(t, u) for t, ids in staff.items() if t not in SALES_TEAMS for u in ids]
    anyone = [(t, u) for t, ids in staff.items() for u in ids]
    if not office or len(anyone) < 2:
        return
    t1, approved = rng.choice(office)
    t2, waiting = rng.choice([(t, u) for t, u in anyone if u != approved])
    next_monday = today + timedelta(days=7 - today.weekday())
    annual = RequestCreate(
        kind="leave",
        leave_type="annual",
        unit="day",
        start=_local(next_monday, time(0)),
        end=_local(next_monday + timedelta(days=2), time(0)),
        reason="回老家探亲",
    )
    made = await requests.create(
        session, _staff_principal(p.org_id, approved, team_ids[t1]), annual
    )
    await requests.decide(session, p, made.id, True, "已批准，注意交接工作")
    tomorrow = _workdays(today + timedelta(days=1), 1)[0]
    sick = RequestCreate(
        kind="leave",
        leave_type="sick",
        unit="day",
        start=_local(tomorrow, time(0)),
        end=_local(tomorrow + timedelta(days=1), time(0)),
        reason="发烧，需要去医院",
    )
    await requests.create(session, _staff_principal(p.org_id, waiting, team_ids[t2]), sick)
