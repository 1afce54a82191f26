"""Builders for the report tests: a day computed by the real day function, as a stored row."""

from __future__ import annotations

from datetime import date
from typing import Any

from fieldpunch.attendance.day import compute_day
from fieldpunch.attendance.values import (
    CalendarDay,
    DayKind,
    DayResult,
    GroupRule,
    Punch,
    Request,
    Shift,
)
from fieldpunch.reports.rows import DayRow
from tests.unit.attendance.kit import SH, shift


def computed(
    punches: list[Punch],
    d: date,
    *,
    kind: DayKind = DayKind.workday,
    the_shift: Shift | None = None,
    requests: tuple[Request, ...] = (),
    rule: GroupRule | None = None,
) -> DayResult:
    """A finished day (no `now`): what the recompute stores."""
    s = the_shift or shift("09:00-18:00", grace_late_min=5, serious_late_min=30)
    return compute_day(rule or GroupRule(), s, CalendarDay(d, kind), punches, requests, SH)


def fields(r: DayResult) -> dict[str, Any]:
    """The `attendance_days` columns of a result, as the recompute fills them."""
    return {
        "day": r.date,
        "status": r.status.value if r.status else None,
        "statuses": [s.value for s in r.statuses],
        "kind": r.kind.value,
        "holiday_name": r.holiday_name,
        "schedule": r.schedule.value,
        "scheduled_min": r.scheduled_min,
        "worked_min": r.worked_min,
        "late_min": r.late_min,
        "early_leave_min": r.early_leave_min,
        "overtime_workday_min": r.overtime_min.get("workday", 0),
        "overtime_rest_day_min": r.overtime_min.get("rest_day", 0),
        "overtime_holiday_min": r.overtime_min.get("holiday", 0),
        "leave_min": sum(r.leave_min.values()),
        "leave_by_type": dict(r.leave_min),
        "trip_min": r.trip_min,
        "out_min": r.out_min,
        "field_day": r.field_day,
        "complete": r.complete,
        "result": r.to_json(),
    }


def stored(
    r: DayResult,
    user_id: str = "u1",
    name: str = "张三",
    team: tuple[str | None, str | None] = ("t1", "销售一部"),
    shift_name: str | None = "白班",
) -> DayRow:
    f = fields(r)
    f.pop("status")
    f.pop("schedule")
    f["statuses"] = tuple(f["statuses"])
    return DayRow(
        user_id=user_id,
        user_name=name,
        employee_no=f"E-{user_id}",
        team_id=team[0],
        team_name=team[1],
        shift_name=shift_name if r.kind is DayKind.workday else None,
        **f,
    )
