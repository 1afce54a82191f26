"""Monthly and department totals of stored days (no I/O)."""

from __future__ import annotations

from datetime import date, timedelta

from fieldpunch.attendance.values import DayKind, GroupRule, LeaveUnit, Method, RequestKind
from fieldpunch.reports.aggregate import MonthlyFolder, department_rows, monthly_rows
from fieldpunch.reports.columns import DEPARTMENT, MONTHLY
from tests.unit.attendance.kit import i, o, req
from tests.unit.reports.kit import computed, stored

MON = date(2026, 11, 30)


def week(user_id: str = "u1", team: tuple[str | None, str | None] = ("t1", "销售一部")):  # type: ignore[no-untyped-def]
    """Mon late 12, Tue serious late 40 + early 30, Wed missing out, Thu absent, Fri half-day
    annual leave (morning), Sat rest, Sun rest with approved overtime 10:00-14:00."""
    d = [MON + timedelta(days=n) for n in range(7)]
    sunday_ot = req(RequestKind.overtime, "10:00", "14:00", d=d[6])
    days = [
        computed([i("09:12", d=d[0]), o("18:00", d=d[0])], d[0]),
        computed([i("09:40", d=d[1]), o("17:30", d=d[1])], d[1]),
        computed([i("08:50", d=d[2])], d[2]),
        computed([], d[3]),
        computed(
            [i("12:00", d=d[4]), o("18:00", Method.correction, d=d[4])],
            d[4],
            requests=(
                req(RequestKind.leave, "00:00", "12:00", "annual", LeaveUnit.half_day, d=d[4]),
            ),
        ),
        computed([], d[5], kind=DayKind.rest),
        computed(
            [i("10:00", d=d[6]), o("14:00", d=d[6])],
            d[6],
            kind=DayKind.rest,
            requests=(sunday_ot,),
            rule=GroupRule(),
        ),
    ]
    return [stored(r, user_id=user_id, team=team) for r in days]


def test_monthly_totals_of_a_week() -> None:
    [row] = list(monthly_rows(week()))
    assert set(row) == {c.key for c in MONTHLY}
    assert row["scheduled_days"] == 5
    assert row["rest_days"] == 2
    assert row["attended_days"] == 4 + 1  # Mon, Tue, Wed, Fri and Sunday's overtime
    assert row["late_count"] == 2 and row["late_min"] == 12 + 40
    assert row["serious_late_count"] == 1 and row["serious_late_min"] == 40
    assert row["early_leave_count"] == 1 and row["early_leave_min"] == 30
    assert row["missing_punches"] == 1
    assert row["absent_days"] == 1
    assert row["corrections"] == 1
    assert row["leave_annual_hours"] > 0
    assert 0 < row["leave_days"] <= 0.6
    assert row["overtime_rest_day_hours"] == 4.0
    assert row["overtime_workday_hours"] == 0.0
    assert isinstance(row["worked_hours"], float)


def test_monthly_one_row_per_person_across_chunks() -> None:
    days = week("u1") + week("u2")
    folder = MonthlyFolder()
    out = []
    for n in range(0, len(days), 3):  # chunks that split a person's days
        out += folder.feed(days[n : n + 3])
    out += folder.finish()
    assert [r["user_id"] for r in out] == ["u1", "u2"]
    assert out == list(monthly_rows(days))


def test_department_sums_people_per_team() -> None:
    days = week("u1") + week("u2") + week("u3", ("t2", "华东区")) + week("u4", (None, None))
    rows = department_rows(days, "未分配部门")
    assert set(rows[0]) == {c.key for c in DEPARTMENT}
    assert [(r["team"], r["people"]) for r in rows] == [
        ("华东区", 1),
        ("销售一部", 2),
        ("未分配部门", 1),
    ]
    one = next(iter(monthly_rows(week())))
    sales = rows[1]
    assert sales["late_min"] == 2 * one["late_min"]
    assert sales["absent_days"] == 2 * one["absent_days"]
    assert sales["overtime_rest_day_hours"] == 2 * one["overtime_rest_day_hours"]
