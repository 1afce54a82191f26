"""Monthly and department totals summed in SQL over the stored days' tallies, on both
databases: a week with every kind of day, two people of a team, a person of another team and
one without a team."""

from __future__ import annotations

from datetime import date, timedelta

from fieldpunch.attendance.values import DayKind, DayResult, GroupRule, LeaveUnit, Method
from fieldpunch.attendance.values import RequestKind as K
from fieldpunch.db.engine import Database
from fieldpunch.reports.aggregate import person_row, team_row
from fieldpunch.reports.columns import DEPARTMENT, MONTHLY
from fieldpunch.reports.repository import DayFilter, ReportsRepo
from tests.api.reports.world import store
from tests.factories import OrgKit
from tests.unit.attendance.kit import i, o, req
from tests.unit.reports.kit import computed

MON = date(2026, 11, 30)
SUN = MON + timedelta(days=6)


def week() -> list[DayResult]:
    """Mon late 12, Tue serious late 40 + early 30, Wed missing out, Thu absent, Fri half-day
    annual leave (morning) with a corrected clock-out, Sat rest, Sun rest with approved
    overtime 10:00-14:00."""
    d = [MON + timedelta(days=n) for n in range(7)]
    return [
        computed([i("09:12", d=d[0]), o("18:00", d=d[0])], d[0]),
        computed([i("09:40", d=d[1]), o("17:30", d=d[1])], d[1]),
        computed([i("08:50", d=d[2])], d[2]),
        computed([], d[3]),
        computed(
            [i("12:00", d=d[4]), o("18:00", Method.correction, d=d[4])],
            d[4],
            requests=(req(K.leave, "00:00", "12:00", "annual", LeaveUnit.half_day, d=d[4]),),
        ),
        computed([], d[5], kind=DayKind.rest),
        computed(
            [i("10:00", d=d[6]), o("14:00", d=d[6])],
            d[6],
            kind=DayKind.rest,
            requests=(req(K.overtime, "10:00", "14:00", d=d[6]),),
            rule=GroupRule(),
        ),
    ]


async def test_monthly_and_department_totals(org: OrgKit, db: Database) -> None:
    sales, east = await org.team("销售一部"), await org.team("华东区")
    people = [
        await org.person("staff", sales, name="张三"),
        await org.person("staff", sales, name="李四"),
        await org.person("staff", east, name="王五"),
        await org.person("staff", None, name="赵六"),
    ]
    ids = [str(p.user_id) for p in people]
    for user_id in ids:
        await store(db, org.org_id, user_id, week(), None)
    month = DayFilter(org_id=org.org_id, start=MON, end=SUN)
    async with db.transaction(write=False) as session:
        repo = ReportsRepo(session)
        found = await repo.person_totals(month, [ids[1], ids[0]])
        teams = await repo.team_totals(month)
        part = await repo.person_totals(DayFilter(org.org_id, MON, MON + timedelta(days=1)), ids)

    assert [t.user_id for t in found] == [ids[1], ids[0]]  # in the order asked
    t = found[1]
    row = person_row(t.user_id, t.name, t.employee_no, t.team_name, t.totals)
    assert set(row) == {c.key for c in MONTHLY}
    assert (row["name"], row["team"]) == ("张三", "销售一部")
    assert row["scheduled_days"] == 5
    assert row["rest_days"] == 2
    assert row["attended_days"] == 4 + 1  # Mon, Tue, Wed, Fri and Sunday's overtime
    assert row["late_count"] == 2 and row["late_min"] == 12 + 40
    assert row["serious_late_count"] == 1 and row["serious_late_min"] == 40
    assert row["early_leave_count"] == 1 and row["early_leave_min"] == 30
    assert row["missing_punches"] == 1  # Wednesday's clock-out; Thursday is one absence
    assert row["absent_days"] == 1
    assert row["corrections"] == 1
    assert row["leave_annual_hours"] == 3.0 and row["leave_other_hours"] == 0.0
    assert row["leave_days"] == 0.33  # 09:00-12:00 of a nine-hour schedule
    assert row["overtime_rest_day_hours"] == 4.0
    assert row["overtime_workday_hours"] == 0.0
    assert isinstance(row["worked_hours"], float) and row["worked_hours"] > 0
    # Only the days in range: Monday and Tuesday.
    assert [(p.totals.scheduled_days, p.totals.late_count) for p in part] == [(2, 2)] * 4

    by_team = {x.team_name: x for x in teams}
    assert {k: v.people for k, v in by_team.items()} == {"销售一部": 2, "华东区": 1, None: 1}
    sales_row = team_row(sales, "销售一部", 2, by_team["销售一部"].totals)
    assert set(sales_row) == {c.key for c in DEPARTMENT}
    assert sales_row["late_min"] == 2 * row["late_min"]
    assert sales_row["absent_days"] == 2 * row["absent_days"]
    assert sales_row["overtime_rest_day_hours"] == 2 * row["overtime_rest_day_hours"]
    assert sales_row["leave_days"] == 0.67
