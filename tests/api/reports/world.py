"""A small company for the report tests: two teams, a manager of A, stored December days.

Days are stored through the days model (attendance/days_models.py) with results computed by the
real day function, as the recompute stores them; test_real_path.py goes through punches instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from fieldpunch.attendance.days_models import AttendanceDay
from fieldpunch.attendance.values import DayKind, DayResult, Method
from fieldpunch.db.engine import Database
from fieldpunch.kit.clock import utcnow
from tests.api.attendance.harness import DAY_SHIFT
from tests.factories import Api, OrgKit
from tests.unit.attendance.kit import i, o
from tests.unit.reports.kit import computed, fields

DEC1 = date(2026, 12, 1)  # a Tuesday
WEEK = [DEC1 + timedelta(days=n) for n in range(7)]  # Tue 1 .. Mon 7 (5, 6: the weekend)


@dataclass
class World:
    org: OrgKit
    team_a: str
    team_b: str
    manager_a: Api
    late: Api  # in team A: 12 minutes late on Dec 1, on time after
    fine: Api  # in team B: on time every day
    shift_id: str


def _week(late_first: bool) -> list[DayResult]:
    out = []
    for d in WEEK:
        if d.isoweekday() >= 6:
            out.append(computed([], d, kind=DayKind.rest))
            continue
        start = "09:12" if late_first and d == DEC1 else "08:55"
        method = Method.wifi if d == DEC1 else Method.gps
        out.append(computed([i(start, method, d=d), o("18:05", d=d)], d))
    return out


async def store(
    db: Database, org_id: str, user_id: str, results: list[DayResult], shift_id: str | None
) -> None:
    async with db.transaction() as session:
        for r in results:
            session.add(
                AttendanceDay(
                    org_id=org_id,
                    user_id=user_id,
                    shift_id=shift_id if r.kind is DayKind.workday else None,
                    group_id=None,
                    computed_at=utcnow(),
                    **fields(r),
                )
            )


async def build(org: OrgKit, db: Database) -> World:
    team_a = await org.team("销售一部")
    team_b = await org.team("华东区")
    manager_a = await org.person("manager", team_a, managed_team_ids=[team_a])
    late = await org.person("staff", team_a, name="张三", employee_no="E001")
    fine = await org.person("staff", team_b, name="李四", employee_no="E002")
    shift = await org.admin.ok("post", "/shifts", 201, json={**DAY_SHIFT, "name": "白班"})
    await store(db, org.org_id, str(late.user_id), _week(True), shift["id"])
    await store(db, org.org_id, str(fine.user_id), _week(False), shift["id"])
    return World(org, team_a, team_b, manager_a, late, fine, shift["id"])
